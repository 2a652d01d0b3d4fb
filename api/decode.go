package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
)

// decodeJSON reads the request body strictly into dst: valid UTF-8, one JSON
// value, no unknown fields, no trailing data, right types. Problems come back
// as 400 invalid_request with details naming the field; an oversized body as
// 413 too_large.
func decodeJSON(c *gin.Context, dst any) error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(mbe.Limit)
		}
		return malformed("could not read the request body", nil)
	}
	return decodeStrict(body, dst)
}

func tooLarge(limit int64) error {
	return models.Errorf(models.ETOOLARGE, "the request body is larger than %d bytes", limit).
		WithDetails(map[string]any{"limit_bytes": limit})
}

// decodeStrict is decodeJSON on bytes.
func decodeStrict(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return malformed("the request body must be a JSON object", nil)
	}
	if !utf8.Valid(body) {
		return malformed("the request body is not valid UTF-8", nil)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed("the request body has data after the JSON value", nil)
	}
	if bytes.Contains(body, []byte(`\u0000`)) {
		var v any
		if json.Unmarshal(body, &v) == nil && hasNUL(v) {
			return malformed("the request contains a NUL character", nil)
		}
	}
	return nil
}

// hasNUL reports whether any string (or key) in a decoded JSON value holds U+0000.
func hasNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.ContainsRune(x, 0)
	case map[string]any:
		for k, e := range x {
			if strings.ContainsRune(k, 0) || hasNUL(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasNUL(e) {
				return true
			}
		}
	}
	return false
}

func jsonError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return malformed("the request body is not valid JSON", map[string]any{"offset": syn.Offset})
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return malformed("the request body must be a JSON object", nil)
		}
		return malformed("a field has the wrong type", map[string]any{"fields": map[string]any{field: "must be " + jsonKind(typ.Type.Kind().String())}})
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("the request body is not valid JSON", nil)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return malformed("the request has an unknown field", map[string]any{"fields": map[string]any{name: "is not a known field"}})
	}
	return malformed("the request body is not valid JSON", nil)
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "ptr":
		return "a value of another type"
	}
	return "a number"
}
