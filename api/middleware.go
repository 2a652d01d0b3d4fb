package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
	"teleconsult/wire"
)

const (
	ctxRequestID = "request_id"
	ctxPrincipal = "principal"
	headerReqID  = "X-Request-Id"
)

// requestID takes a sane incoming X-Request-Id or makes one.
func (s *Server) requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(headerReqID)
		if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(ctxRequestID, id)
		c.Header(headerReqID, id)
		c.Next()
	}
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// accessLog writes one structured line per request and records metrics.
func (s *Server) accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		s.metrics.observe(c.Request.Method, route, c.Writer.Status(), d)
		if strings.HasPrefix(c.Request.URL.Path, "/socket.io/") {
			return // the realtime layer logs its own connections
		}
		attrs := []any{
			"request_id", requestID(c), "method", c.Request.Method, "route", route,
			"status", c.Writer.Status(), "duration_ms", float64(d.Microseconds()) / 1000,
			"bytes", c.Writer.Size(), "ip", c.ClientIP(),
		}
		if p, ok := principal(c); ok {
			attrs = append(attrs, "user_id", p.User.ID)
		}
		level := slogLevelFor(c.Writer.Status())
		s.log.Log(c.Request.Context(), level, "http request", attrs...)
		if refusal(c.Writer.Status()) {
			// A security event: who was refused where, never what they sent.
			s.log.WarnContext(c.Request.Context(), "security: request refused", attrs...)
		}
	}
}

// recovery turns a panic into a 500 in the contract's shape and logs it.
func (s *Server) recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.ErrorContext(c.Request.Context(), "panic in handler", "request_id", requestID(c), "path", c.Request.URL.Path, "panic", r)
				if !c.Writer.Written() {
					c.AbortWithStatusJSON(http.StatusInternalServerError, wire.ErrorBody{Error: wire.Error{Code: models.EINTERNAL, Message: "internal error"}})
				} else {
					c.Abort()
				}
			}
		}()
		c.Next()
	}
}

// limitBody caps the request body: the route's own limit if it set one,
// otherwise the default. A declared length over the limit is refused at once.
func (s *Server) limitBody() gin.HandlerFunc {
	return func(c *gin.Context) {
		limit := s.cfg.BodyLimit
		if l, ok := s.bodyLimits[c.FullPath()]; ok {
			limit = l
		}
		if c.Request.ContentLength > limit {
			c.Header("Connection", "close")
			s.fail(c, tooLarge(limit))
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		}
		c.Next()
	}
}

// setBodyLimit gives one route its own body limit.
func (s *Server) setBodyLimit(route string, limit int64) { s.bodyLimits[route] = limit }

// cors answers browsers from the configured origins.
func (s *Server) cors() gin.HandlerFunc {
	return func(c *gin.Context) {
		origin := c.GetHeader("Origin")
		if origin == "" || !s.originAllowed(origin) {
			if c.Request.Method == http.MethodOptions && origin != "" {
				c.AbortWithStatus(http.StatusForbidden)
				return
			}
			c.Next()
			return
		}
		h := c.Writer.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After")
		if c.Request.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
			h.Set("Access-Control-Max-Age", "600")
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}

// OriginAllowed reports whether a browser page from origin may call us. The
// same rule guards Socket.IO connections.
func OriginAllowed(allowed []string, origin, host string) bool {
	if origin == "" {
		return true
	}
	if slices.Contains(allowed, "*") || slices.Contains(allowed, origin) {
		return true
	}
	// Same origin as the server itself.
	return strings.TrimPrefix(strings.TrimPrefix(origin, "http://"), "https://") == host
}

func (s *Server) originAllowed(origin string) bool {
	return slices.Contains(s.cfg.CORSOrigins, "*") || slices.Contains(s.cfg.CORSOrigins, origin)
}

// authenticate requires a valid access token of an enabled user.
func (s *Server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		raw, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok {
			s.fail(c, models.Errorf(models.EUNAUTHORIZED, "missing access token"))
			return
		}
		p, err := s.svc.Auth.Authenticate(c.Request.Context(), strings.TrimSpace(raw))
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Set(ctxPrincipal, p)
		c.Next()
	}
}

// requireRole refuses callers whose role is not one of roles.
func (s *Server) requireRole(roles ...models.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, _ := principal(c)
		if !slices.Contains(roles, p.User.Role) {
			s.fail(c, models.Errorf(models.EFORBIDDEN, "this action needs the %s role", joinRoles(roles)))
			return
		}
		c.Next()
	}
}

func joinRoles(rs []models.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, " or ")
}

func principal(c *gin.Context) (models.Principal, bool) {
	v, ok := c.Get(ctxPrincipal)
	if !ok {
		return models.Principal{}, false
	}
	p, ok := v.(models.Principal)
	return p, ok
}

// actor is the authenticated caller as a models.Actor.
func actor(c *gin.Context) models.Actor {
	p, _ := principal(c)
	return p.Actor(requestID(c))
}

// metricsAuth requires the configured bearer token on /metrics.
func (s *Server) metricsAuth() gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.cfg.MetricsToken == "" {
			c.Next()
			return
		}
		raw, _ := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(raw), []byte(s.cfg.MetricsToken)) != 1 {
			s.fail(c, models.Errorf(models.EUNAUTHORIZED, "metrics need the metrics token"))
			return
		}
		c.Next()
	}
}

// noStore keeps API answers out of every cache: they are personal.
func (s *Server) noStore() gin.HandlerFunc {
	return func(c *gin.Context) {
		if strings.HasPrefix(c.Request.URL.Path, "/api/") {
			c.Header("Cache-Control", "no-store")
		}
		c.Next()
	}
}

// rejectNUL refuses a NUL character in the path or query (Postgres cannot
// store it, and no legitimate client sends one).
func (s *Server) rejectNUL() gin.HandlerFunc {
	return func(c *gin.Context) {
		if strings.ContainsRune(c.Request.URL.Path, 0) || strings.ContainsRune(c.Request.URL.RawQuery, 0) ||
			strings.Contains(strings.ToLower(c.Request.URL.RawQuery), "%00") {
			s.fail(c, malformed("the request contains a NUL character", nil))
			return
		}
		c.Next()
	}
}

// readDeadline bounds how long reading a request's body may take, so a
// client trickling a body cannot hold a connection. Uploads get their own,
// longer deadline; WebSocket upgrades none (the connection outlives it).
func (s *Server) readDeadline() gin.HandlerFunc {
	return func(c *gin.Context) {
		d := s.cfg.RequestReadTimeout
		if strings.HasSuffix(c.Request.URL.Path, "/attachments") && c.Request.Method == http.MethodPost {
			d = s.cfg.UploadReadTimeout
		}
		// Only requests with a body: a long poll (GET) may legitimately wait.
		if d > 0 && c.Request.ContentLength != 0 && !strings.EqualFold(c.GetHeader("Upgrade"), "websocket") {
			_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(d))
		}
		c.Next()
	}
}

// throttle allows limit requests per window for each key (an IP, a user)
// of one action; beyond it the answer is 429 with Retry-After. Every
// request counts, refused ones too.
func (s *Server) throttle(action string, limit int, window time.Duration, key func(*gin.Context) string, message string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.limiter == nil || limit <= 0 {
			c.Next()
			return
		}
		n, err := s.limiter.Hit(c.Request.Context(), action+":"+key(c), window)
		if err != nil {
			s.fail(c, err)
			return
		}
		if n > int64(limit) {
			s.fail(c, models.RateLimited(window, message))
			return
		}
		c.Next()
	}
}
