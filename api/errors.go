package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
	"teleconsult/wire"
)

// statusOf maps every domain error code to its HTTP status: the one table
// the REST layer uses.
var statusOf = map[string]int{
	models.EINVALID:      http.StatusBadRequest,
	models.EUNAUTHORIZED: http.StatusUnauthorized,
	models.EFORBIDDEN:    http.StatusForbidden,
	models.ENOTFOUND:     http.StatusNotFound,
	models.ECONFLICT:     http.StatusConflict,
	models.ESLOTTAKEN:    http.StatusConflict,
	models.EBUSY:         http.StatusConflict,
	models.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	models.ERATELIMITED:  http.StatusTooManyRequests,
	models.EUNAVAILABLE:  http.StatusServiceUnavailable,
	models.EINTERNAL:     http.StatusInternalServerError,
}

// malformedError marks a request the server could not decode (bad JSON,
// unknown field, wrong type): 400. Every other invalid_request, raised by a
// rule in models, is well-formed but unacceptable: 422.
type malformedError struct{ err *models.Error }

func (m *malformedError) Error() string { return m.err.Error() }
func (m *malformedError) Unwrap() error { return m.err }

// malformed returns a 400 invalid_request error.
func malformed(message string, details map[string]any) error {
	return &malformedError{err: &models.Error{Code: models.EINVALID, Message: message, Details: details}}
}

// fail answers with err in the contract's error shape. Internal errors are
// logged with the request id and shown only as "internal error".
func (s *Server) fail(c *gin.Context, err error) {
	e := models.AsError(err)
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	switch e.Code {
	case models.EINTERNAL:
		s.log.ErrorContext(c.Request.Context(), "request failed", "request_id", requestID(c), "path", c.FullPath(), "err", err)
	case models.EUNAVAILABLE:
		// The caller is told to retry; the operator is told why.
		s.log.WarnContext(c.Request.Context(), "dependency unavailable", "request_id", requestID(c), "path", c.FullPath(), "err", err)
		if e.RetryAfterSeconds <= 0 {
			c.Header("Retry-After", strconv.Itoa(models.UnavailableRetryAfter))
		}
	}
	var m *malformedError
	if e.Code == models.EINVALID && !errors.As(err, &m) {
		status = http.StatusUnprocessableEntity
	}
	if e.RetryAfterSeconds > 0 {
		c.Header("Retry-After", strconv.Itoa(e.RetryAfterSeconds))
	}
	c.AbortWithStatusJSON(status, wire.ErrorBody{Error: wire.Error{Code: e.Code, Message: e.Message, Details: e.Details}})
}

// reply encodes v before anything is written, so an encoding failure is a
// 500 in the error shape (and logged) rather than a half-written answer.
func (s *Server) reply(c *gin.Context, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.fail(c, fmt.Errorf("encode response: %w", err))
		return
	}
	c.Data(status, "application/json; charset=utf-8", b)
}
