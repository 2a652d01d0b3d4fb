package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"teleconsult/models"
	"teleconsult/wire"
)

// maxPayloadDepth bounds the nesting of an event payload.
const maxPayloadDepth = 16

// handlerTimeout bounds the I/O of one event.
const handlerTimeout = 15 * time.Second

// knownEvents are the client→server events this server answers.
var knownEvents = map[string]bool{
	"consultation:join": true, "consultation:leave": true,
	"chat:send": true, "chat:typing": true, "chat:read": true, "chat:sync": true,
	"rtc:invite": true, "rtc:accept": true, "rtc:reject": true, "rtc:hangup": true,
	"rtc:offer": true, "rtc:answer": true, "rtc:ice": true,
}

func (s *Server) known(name string) bool { return knownEvents[name] }

// ack is the acknowledgement callback of an event, if the client asked for one.
type ack func(any)

// okAck is the acknowledgement of an event whose handler has nothing to add.
var okAck = wire.OKAck{OK: true}

// errReply is a failed acknowledgement, with the same codes as REST.
func errReply(err error) wire.Ack {
	e := models.AsError(err)
	if e == nil || e.Code == models.EINTERNAL {
		e = models.Errorf(models.EINTERNAL, "something went wrong; please retry")
	}
	return wire.Ack{OK: false, Error: &wire.Error{Code: e.Code, Message: e.Message, Details: e.Details}}
}

// handler is one typed event: it gets the decoded payload and returns the
// acknowledgement (a wire type; nil for a bare {ok: true}), or an error.
type handler func(ctx context.Context, sess *session, raw json.RawMessage) (any, error)

// on registers event name on a socket with everything every event needs:
// decoding guards, a timeout, panic recovery, metrics, and the drain of a
// stopping server. The rate budget was charged before (see budget).
func (s *Server) on(sock *socket.Socket, sess *session, name string, h handler) {
	listener := func(args ...any) {
		raw, reply := splitArgs(args)
		if !s.enter() {
			s.metrics.events.WithLabelValues(name, models.EUNAVAILABLE).Inc()
			reply(errReply(errDraining))
			return
		}
		// Leaves after the ack is handed to the connection (deferred first,
		// runs last): Shutdown waits for it.
		defer s.leave()
		start := time.Now()
		result := "ok"
		defer func() {
			if r := recover(); r != nil {
				result = "panic"
				s.log.Error("socket event handler panicked", "event", name, "user_id", sess.actor.UserID, "panic", r, "stack", string(debug.Stack()))
				reply(errReply(fmt.Errorf("panic")))
			}
			s.metrics.events.WithLabelValues(name, result).Inc()
			s.metrics.duration.WithLabelValues(name).Observe(time.Since(start).Seconds())
		}()
		payload, err := checkPayload(raw)
		if err != nil {
			result = models.EINVALID
			reply(errReply(err))
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), handlerTimeout)
		defer cancel()
		out, err := h(ctx, sess, payload)
		if err != nil {
			result = models.ErrorCode(err)
			if result == models.EINTERNAL {
				s.log.Error("socket event failed", "event", name, "user_id", sess.actor.UserID, "err", err)
			}
			reply(errReply(err))
			return
		}
		if out == nil {
			out = okAck
		}
		reply(out)
	}
	if sess.listeners == nil {
		sess.listeners = map[string]func(...any){}
	}
	sess.listeners[name] = listener
	_ = sock.On(name, listener)
}

// splitArgs separates the payload from the ack callback. An event without
// an ack gets a reply function that does nothing.
func splitArgs(args []any) (any, ack) {
	reply := ack(func(any) {})
	if n := len(args); n > 0 {
		if cb, ok := args[n-1].(socket.Ack); ok {
			args = args[:n-1]
			var once sync.Once
			reply = func(v any) { once.Do(func() { cb([]any{rawJSON(v)}, nil) }) }
		} else if cb, ok := args[n-1].(func([]any, error)); ok {
			args = args[:n-1]
			var once sync.Once
			reply = func(v any) { once.Do(func() { cb([]any{rawJSON(v)}, nil) }) }
		}
	}
	if len(args) == 0 {
		return nil, reply
	}
	return args[0], reply
}

var (
	errPayload = models.Errorf(models.EINVALID, "the event payload must be a JSON object")
	errNUL     = models.Errorf(models.EINVALID, "the event payload contains a NUL character")
	errDeep    = models.Errorf(models.EINVALID, "the event payload is nested too deeply")
)

// checkPayload accepts only a plain JSON object of bounded depth (no binary
// attachments) and returns it as JSON. Text events arrive as JSON already
// (see parser.go); others were decoded by the library.
func checkPayload(v any) (json.RawMessage, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return raw, checkRaw(raw)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errPayload
	}
	if err := plain(obj, 0); err != nil {
		return nil, err
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, errPayload
	}
	return b, nil
}

// checkRaw applies plain's rules to valid JSON without decoding it: an
// object, nesting bounded, no NUL character (only its \u0000 escape can
// appear in JSON text).
func checkRaw(b json.RawMessage) error {
	if len(b) == 0 || b[0] != '{' {
		return errPayload
	}
	depth, inString, escaped := 0, false, false
	for i, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
				if c == 'u' && bytes.HasPrefix(b[i+1:], []byte("0000")) {
					return errNUL
				}
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r', ',', ':':
			continue
		case '}', ']':
			depth--
			continue
		}
		// A value (or key) starts here, at plain's depth.
		if depth > maxPayloadDepth {
			return errDeep
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		}
	}
	return nil
}

// plain walks a decoded payload: JSON values only, nesting bounded.
func plain(v any, depth int) error {
	if depth > maxPayloadDepth {
		return errDeep
	}
	switch x := v.(type) {
	case string:
		if strings.ContainsRune(x, 0) {
			return errNUL
		}
		return nil
	case nil, bool, float64, json.Number, int, int64, uint64:
		return nil
	case map[string]any:
		for k, e := range x {
			if strings.ContainsRune(k, 0) {
				return errNUL
			}
			if err := plain(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case []any:
		for _, e := range x {
			if err := plain(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return models.Errorf(models.EINVALID, "the event payload may not carry binary data")
}

// decode reads a payload into a typed struct; wrong types are EINVALID
// naming the field. Unknown fields are allowed: payloads may gain fields.
func decode[T any](raw json.RawMessage) (T, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&v); err != nil {
		if te, ok := err.(*json.UnmarshalTypeError); ok && te.Field != "" {
			return v, models.InvalidFields(map[string]any{te.Field: "must be a " + jsonKind(te.Type.Kind().String())})
		}
		return v, errPayload
	}
	return v, nil
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "list"
	}
	return "number"
}
