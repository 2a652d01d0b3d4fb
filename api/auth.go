package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
	"teleconsult/wire"
)

// refreshCookie carries the refresh token for browsers, out of scripts' reach.
const refreshCookie = "tc_refresh"

// deviceCookie marks a browser that signed in before (never throttled).
const deviceCookie = "tc_device"

func (s *Server) register(c *gin.Context) {
	var in wire.RegisterRequest
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.svc.Users.Register(c.Request.Context(), in.Input())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusCreated, wire.UserEnvelope{User: wire.NewUser(u)})
}

func (s *Server) login(c *gin.Context) {
	var in wire.LoginRequest
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	device, _ := c.Cookie(deviceCookie)
	sess, err := s.svc.Auth.Login(c.Request.Context(), in.Input(c.ClientIP(), device, c.Request.UserAgent()))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeSession(c, sess)
}

// refreshToken reads the token from the body or, failing that, the cookie.
func (s *Server) refreshToken(c *gin.Context) (string, error) {
	var in wire.RefreshRequest
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &in); err != nil {
			return "", err
		}
	}
	if in.RefreshToken == "" {
		in.RefreshToken, _ = c.Cookie(refreshCookie)
	}
	return in.RefreshToken, nil
}

func (s *Server) refresh(c *gin.Context) {
	raw, err := s.refreshToken(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	sess, err := s.svc.Auth.Refresh(c.Request.Context(), raw)
	if err != nil {
		s.clearRefreshCookie(c)
		s.fail(c, err)
		return
	}
	s.writeSession(c, sess)
}

func (s *Server) logout(c *gin.Context) {
	raw, err := s.refreshToken(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.svc.Auth.Logout(c.Request.Context(), raw); err != nil {
		s.fail(c, err)
		return
	}
	s.clearRefreshCookie(c)
	c.Status(http.StatusNoContent)
}

func (s *Server) writeSession(c *gin.Context, sess models.Session) {
	c.SetSameSite(http.SameSiteStrictMode)
	c.SetCookie(refreshCookie, sess.RefreshToken, int(s.cfg.RefreshTTL.Seconds()), "/api/v1/auth", "", s.cfg.SecureCookies, true)
	if sess.DeviceToken != "" {
		c.SetCookie(deviceCookie, sess.DeviceToken, 365*24*3600, "/api/v1/auth/login", "", s.cfg.SecureCookies, true)
	}
	c.Header("Cache-Control", "no-store")
	s.reply(c, http.StatusOK, wire.NewSession(sess))
}

func (s *Server) clearRefreshCookie(c *gin.Context) {
	c.SetSameSite(http.SameSiteStrictMode)
	c.SetCookie(refreshCookie, "", -1, "/api/v1/auth", "", s.cfg.SecureCookies, true)
}

func (s *Server) getMe(c *gin.Context) {
	p, _ := principal(c)
	s.reply(c, http.StatusOK, wire.UserEnvelope{User: wire.NewUser(p.User)})
}

func (s *Server) listSessions(c *gin.Context) {
	list, err := s.svc.Auth.Sessions(c.Request.Context(), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.ListOf(list, wire.NewSignInSession))
}

func (s *Server) endSession(c *gin.Context) {
	if err := s.svc.Auth.EndSession(c.Request.Context(), actor(c), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) patchMe(c *gin.Context) {
	var in wire.UpdateProfileRequest
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.svc.Users.UpdateProfile(c.Request.Context(), actor(c), in.Input())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.UserEnvelope{User: wire.NewUser(u)})
}

func (s *Server) adminListUsers(c *gin.Context) {
	limit, err := queryInt(c, "limit")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.svc.Users.List(c.Request.Context(), actor(c), models.UserFilter{
		Role: models.Role(c.Query("role")), Query: c.Query("q"), Status: c.Query("status"), Limit: limit, Cursor: c.Query("cursor"),
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewList(p, wire.NewUser))
}

func (s *Server) adminCreateUser(c *gin.Context) {
	var in wire.CreateUserRequest
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.svc.Users.Create(c.Request.Context(), actor(c), in.Input())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusCreated, wire.UserEnvelope{User: wire.NewUser(u)})
}

func (s *Server) adminGetUser(c *gin.Context) {
	u, err := s.svc.Users.AdminGet(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.UserEnvelope{User: wire.NewUser(u)})
}

func (s *Server) adminUpdateUser(c *gin.Context) {
	var in wire.AdminUpdateUserRequest
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.svc.Users.AdminUpdate(c.Request.Context(), actor(c), c.Param("id"), in.Input())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.UserEnvelope{User: wire.NewUser(u)})
}

func (s *Server) adminAuditLog(c *gin.Context) {
	limit, err := queryInt(c, "limit")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.svc.Audit.List(c.Request.Context(), actor(c), models.AuditFilter{
		ActorID: c.Query("actor_id"), TargetType: c.Query("target_type"), TargetID: c.Query("target_id"),
		Action: c.Query("action"), From: c.Query("from"), To: c.Query("to"),
		Limit: limit, Cursor: c.Query("cursor"),
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewList(p, wire.NewAuditEntry))
}

// queryInt parses an optional integer query parameter (0 when absent).
func queryInt(c *gin.Context, name string) (int, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, malformed("a query parameter is not a number", map[string]any{"fields": map[string]any{name: "must be an integer"}})
	}
	return n, nil
}

// forgotPassword mails a reset link; the answer is the same whether or not
// the address has an account.
func (s *Server) forgotPassword(c *gin.Context) {
	var in wire.ForgotPasswordRequest
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.svc.Resets.Forgot(c.Request.Context(), in.Email); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusAccepted)
}

// resetPassword sets a new password from a reset link; a used, expired or
// unknown token is a bad request.
func (s *Server) resetPassword(c *gin.Context) {
	var in wire.ResetPasswordRequest
	if err := decodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.svc.Resets.Reset(c.Request.Context(), in.Input()); err != nil {
		if errors.Is(err, models.ErrResetLink) {
			err = malformed(models.ErrResetLink.Message, models.ErrResetLink.Details)
		}
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// adminSendReset mails a user a reset link on an admin's behalf.
func (s *Server) adminSendReset(c *gin.Context) {
	if err := s.svc.Resets.SendReset(c.Request.Context(), actor(c), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusAccepted)
}

// exportMe answers everything stored about the caller, as a JSON download.
func (s *Server) exportMe(c *gin.Context) {
	x, err := s.svc.Accounts.Export(c.Request.Context(), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="teleconsult-my-data.json"`)
	s.reply(c, http.StatusOK, wire.NewExport(x))
}

// requestDeletion records a patient's request to delete their account.
func (s *Server) requestDeletion(c *gin.Context) {
	u, err := s.svc.Accounts.RequestDeletion(c.Request.Context(), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusAccepted, wire.UserEnvelope{User: wire.NewUser(u)})
}

// adminAnonymise deletes an account whose owner asked for it.
func (s *Server) adminAnonymise(c *gin.Context) {
	u, err := s.svc.Accounts.Anonymise(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.UserEnvelope{User: wire.NewUser(u)})
}
