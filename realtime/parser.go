package realtime

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// The Socket.IO parser is ours for the hot packets (the library's
// extension point is SetParser); the wire format is unchanged.
//
// Decoding: the library decodes every event's JSON into map[string]any,
// which the handlers then encode and decode again into typed structs. Our
// decoder hands an EVENT's arguments over as json.RawMessage (validated
// JSON, each argument's own bytes), so a handler decodes its payload once,
// straight into its type, and a relayed value (an ICE candidate, an SDP)
// is passed on byte for byte. Everything else (CONNECT, binary packets,
// anything unusual) goes to the library's decoder.
//
// Encoding: our events and acknowledgements carry JSON the server encoded
// once (json.RawMessage, see rawJSON), and an event to a room is encoded
// once for all of its members. Our encoder writes those bytes as they are
// instead of walking them through encoding/json again. Bytes that crossed
// nodes through the Redis adapter (MessagePack turns json.RawMessage into
// []byte) are the same JSON and are written the same way: the server never
// sends binary attachments. Packets with other values use the library's
// encoder.

type wireParser struct{}

func (wireParser) NewEncoder() parser.Encoder { return &wireEncoder{fallback: parser.NewEncoder()} }

func (wireParser) NewDecoder() parser.Decoder {
	d := &wireDecoder{EventEmitter: types.NewEventEmitter(), inner: parser.NewDecoder()}
	_ = d.inner.On("decoded", func(args ...any) {
		d.binary = false
		d.Emit("decoded", args...)
	})
	return d
}

// rawJSON encodes v once for the wire (see the encoder above).
func rawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

type wireEncoder struct{ fallback parser.Encoder }

// wireEnc encodes the server's own deliveries (it keeps no state).
var wireEnc = wireParser{}.NewEncoder()

func (e *wireEncoder) Encode(p *parser.Packet) []types.BufferInterface {
	if p.Type != parser.EVENT && p.Type != parser.ACK {
		return e.fallback.Encode(p)
	}
	args, ok := p.Data.([]any)
	if !ok {
		return e.fallback.Encode(p)
	}
	n := 24 + len(p.Nsp)
	for _, a := range args {
		switch v := a.(type) {
		case json.RawMessage:
			n += len(v) + 1
		case []byte:
			n += len(v) + 1
		case string:
			n += len(v) + 3
		default:
			return e.fallback.Encode(p)
		}
	}
	b := make([]byte, 0, n)
	b = append(b, byte(p.Type)+'0')
	if p.Nsp != "" && p.Nsp != "/" {
		b = append(b, p.Nsp...)
		b = append(b, ',')
	}
	if p.Id != nil {
		b = strconv.AppendUint(b, *p.Id, 10)
	}
	b = append(b, '[')
	for i, a := range args {
		if i > 0 {
			b = append(b, ',')
		}
		switch v := a.(type) {
		case json.RawMessage:
			b = append(b, v...)
		case []byte:
			b = append(b, v...)
		case string:
			b = appendJSONString(b, v)
		}
	}
	b = append(b, ']')
	return []types.BufferInterface{types.NewStringBuffer(b)}
}

// appendJSONString appends s as a JSON string (as encoding/json would,
// HTML characters included).
func appendJSONString(b []byte, s string) []byte {
	simple := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			simple = false
			break
		}
	}
	if simple {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// wireDecoder decodes text EVENT packets itself and leaves the rest to the
// library's decoder (which emits on our behalf through the listener set in
// NewDecoder).
type wireDecoder struct {
	types.EventEmitter
	inner parser.Decoder
	// binary is set while the library's decoder assembles a binary packet:
	// until it is complete, every piece goes to it.
	binary bool
}

func (d *wireDecoder) Add(data any) error {
	if !d.binary {
		if sb, ok := data.(*types.StringBuffer); ok {
			if p, ok, err := decodeEvent(sb.Bytes()); ok || err != nil {
				if err != nil {
					return err
				}
				d.Emit("decoded", p)
				return nil
			}
			if b := sb.Bytes(); len(b) > 0 && (b[0] == '5' || b[0] == '6') {
				d.binary = true
			}
		}
	}
	return d.inner.Add(data)
}

func (d *wireDecoder) Destroy() { d.inner.Destroy() }

const (
	maxNamespaceLength = 512
	maxPacketIDLength  = 20
)

// decodeEvent decodes "2[/nsp,][id][name, args...]". ok is false when the
// packet is not a plain text event this decoder takes (the library's
// decoder gets it); err is set for an event that is malformed.
func decodeEvent(b []byte) (*parser.Packet, bool, error) {
	if len(b) < 2 || b[0] != '2' {
		return nil, false, nil
	}
	p := &parser.Packet{Type: parser.EVENT, Nsp: "/"}
	i := 1
	if b[i] == '/' {
		j := bytes.IndexByte(b[i:], ',')
		if j < 0 || j > maxNamespaceLength {
			return nil, false, nil
		}
		p.Nsp = string(b[i : i+j])
		i += j + 1
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i > start {
		if i-start > maxPacketIDLength {
			return nil, false, parser.ErrIllegalID
		}
		id, err := strconv.ParseUint(string(b[start:i]), 10, 64)
		if err != nil {
			return nil, false, parser.ErrIllegalID
		}
		p.Id = &id
	}
	body := b[i:]
	if len(body) == 0 || body[0] != '[' || !json.Valid(body) {
		return nil, false, nil
	}
	args := splitArray(body)
	if len(args) == 0 || args[0][0] != '"' {
		return nil, false, nil
	}
	var name string
	if q := args[0]; bytes.IndexByte(q, '\\') < 0 {
		name = string(q[1 : len(q)-1])
	} else if err := json.Unmarshal(q, &name); err != nil {
		return nil, false, nil
	}
	if parser.ReservedEvents.Has(name) {
		return nil, false, parser.ErrInvalidPayload
	}
	data := make([]any, len(args))
	data[0] = name
	for k := 1; k < len(args); k++ {
		data[k] = args[k]
	}
	p.Data = data
	return p, true, nil
}

// splitArray returns the elements of a valid JSON array, each as its own
// bytes (without surrounding white space).
func splitArray(b []byte) []json.RawMessage {
	out := make([]json.RawMessage, 0, 4)
	depth, inString, escaped := 0, false, false
	start := -1
	for i, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth == 1 {
				continue
			}
		case ']', '}':
			depth--
			if depth == 0 {
				if start >= 0 {
					out = append(out, trimJSON(b[start:i]))
				}
				return out
			}
		case ',':
			if depth == 1 {
				out = append(out, trimJSON(b[start:i]))
				start = -1
				continue
			}
		}
		if depth >= 1 && start < 0 {
			start = i
		}
	}
	return out
}

func trimJSON(b []byte) json.RawMessage {
	return json.RawMessage(bytes.TrimRight(b, " \t\n\r"))
}

// objectFields returns the values of the named top-level fields of a JSON
// object (nil when absent; the last one when repeated), without decoding
// the rest. ok is false when it cannot answer exactly as encoding/json
// would (an escaped key, a key matching only case-insensitively, not an
// object): decode those with encoding/json.
func objectFields(b []byte, keys ...string) (vals []json.RawMessage, ok bool) {
	b = bytes.TrimLeft(b, " \t\n\r")
	if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
		return nil, false
	}
	vals = make([]json.RawMessage, len(keys))
	i := 1
	for {
		i = skipSpace(b, i)
		if b[i] == '}' {
			return vals, true
		}
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
		end := stringEnd(b, i)
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return nil, false
		}
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // the colon
		vEnd := valueEnd(b, i)
		match := -1
		for k, want := range keys {
			if string(key) == want {
				match = k
				break
			}
			if bytes.EqualFold(key, []byte(want)) {
				return nil, false
			}
		}
		if match >= 0 {
			vals[match] = json.RawMessage(b[i:vEnd])
		}
		i = vEnd
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the closing quote of the string at i.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the index after the (valid) JSON value at i.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}
