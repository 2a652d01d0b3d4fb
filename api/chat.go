package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
	"teleconsult/wire"
)

func (s *Server) chatRoutes(public, authed, admin *gin.RouterGroup) {
	authed.GET("/appointments/:id/messages", s.listMessages)
	authed.POST("/appointments/:id/attachments", s.uploadAttachment)
	authed.GET("/attachments/:id", s.downloadAttachment)
	// A multipart upload carries some framing besides the file itself.
	s.setBodyLimit("/api/v1/appointments/:id/attachments", s.cfg.AttachmentMaxBytes+64<<10)
}

func (s *Server) listMessages(c *gin.Context) {
	limit, err := queryInt(c, "limit")
	if err != nil {
		s.fail(c, err)
		return
	}
	before := c.Query("before_seq")
	if before == "" {
		before = c.Query("cursor")
	}
	var beforeSeq int64
	if before != "" {
		if beforeSeq, err = strconv.ParseInt(before, 10, 64); err != nil {
			s.fail(c, models.InvalidFields(map[string]any{"before_seq": "must be an integer"}))
			return
		}
	}
	p, err := s.svc.Chat.History(c.Request.Context(), actor(c), c.Param("id"), models.HistoryFilter{BeforeSeq: beforeSeq, Limit: limit, Reason: c.Query("reason")})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewList(p, wire.NewMessage))
}

// uploadAttachment takes multipart field "file" (and optional "text" and
// "client_msg_id") and posts it to the room as a message.
func (s *Server) uploadAttachment(c *gin.Context) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		s.fail(c, models.Errorf(models.EINVALID, "send the file as multipart/form-data in a field named \"file\""))
		return
	}
	in := models.AttachInput{AppointmentID: c.Param("id")}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.fail(c, uploadErr(&bodyError{err}, s.cfg.AttachmentMaxBytes))
			return
		}
		switch part.FormName() {
		case "text", "client_msg_id":
			b, err := io.ReadAll(io.LimitReader(bodyReader{part}, 16<<10))
			if err != nil {
				s.fail(c, uploadErr(err, s.cfg.AttachmentMaxBytes))
				return
			}
			if part.FormName() == "text" {
				in.Caption = string(b)
			} else {
				in.ClientMsgID = string(b)
			}
		case "file":
			in.FileName = part.FileName()
			in.Body = bodyReader{part}
			m, created, err := s.svc.Chat.Attach(c.Request.Context(), actor(c), in)
			if err != nil {
				s.fail(c, uploadErr(err, s.cfg.AttachmentMaxBytes))
				return
			}
			status := http.StatusCreated
			if !created {
				status = http.StatusOK
			}
			s.reply(c, status, wire.NewMessage(m))
			return
		}
	}
	s.fail(c, models.InvalidFields(map[string]any{"file": "is required"}))
}

// uploadErr maps what went wrong with an upload: a body cut off by the
// size limit is too_large, a broken or truncated multipart body is
// invalid_request (retrying the same bytes will not help), a domain error
// stays as it is, and anything else (storage, database) is the server's.
func uploadErr(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return models.Errorf(models.ETOOLARGE, "attachments are limited to %d bytes", limit)
	}
	var be *bodyError
	if errors.As(err, &be) {
		return models.Errorf(models.EINVALID, "the upload is not valid multipart/form-data")
	}
	return err
}

// bodyError marks a failure to read the request body.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "read upload: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// bodyReader marks the errors of reading an upload's part.
type bodyReader struct{ r io.Reader }

func (b bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		return n, &bodyError{err}
	}
	return n, err
}

func (s *Server) downloadAttachment(c *gin.Context) {
	att, rc, err := s.svc.Chat.OpenAttachment(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	defer rc.Close()
	disposition := "attachment"
	if att.ContentType != "application/pdf" {
		disposition = "inline"
	}
	h := c.Writer.Header()
	h.Set("Content-Type", att.ContentType)
	h.Set("Content-Length", fmt.Sprint(att.SizeBytes))
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": att.FileName}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=3600")
	c.Status(http.StatusOK)
	_, _ = io.Copy(c.Writer, rc)
}
