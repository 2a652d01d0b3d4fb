package realtime

import (
	"encoding/json"
	"strings"
	"testing"

	"teleconsult/models"
	"teleconsult/wire"
)

// decodeAll runs a payload through every event's decoding and validation,
// as the handlers do before any I/O.
func decodeAll(v any) {
	raw, err := checkPayload(v)
	if err != nil {
		return
	}
	if in, err := decode[wire.RoomRequest](raw); err == nil {
		_ = checkRoom(in.AppointmentID)
	}
	if in, err := decode[wire.SendRequest](raw); err == nil {
		if models.Validate(models.SendInput(in)) == nil {
			_, _ = models.CleanText(in.Text, false)
		}
	}
	_, _ = decode[wire.TypingRequest](raw)
	_, _ = decode[wire.ReadRequest](raw)
	_, _ = decode[wire.SyncRequest](raw)
}

func FuzzEventPayload(f *testing.F) {
	for _, seed := range []string{
		`{"appointment_id":"a","client_msg_id":"b","text":"hi"}`,
		`"hello"`, `42`, `[1,2]`, `null`, `{}`, `true`,
		`{"appointment_id":5}`, `{"text":["x"]}`, `{"seq":-1}`, `{"after_seq":"0"}`,
		`{"typing":"yes"}`, `{"appointment_id":{"$ne":null}}`,
		`{"text":"` + strings.Repeat("é", 4001) + `"}`,
		strings.Repeat(`{"a":`, 64) + `1` + strings.Repeat(`}`, 64),
		strings.Repeat(`[`, 200) + strings.Repeat(`]`, 200),
		`{"text":"\ud800"}`, `{"seq":1e400}`, `{"seq":1.5}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		if json.Unmarshal(b, &v) != nil {
			return
		}
		decodeAll(v)
		// The binary-attachment shape the parser produces.
		decodeAll(map[string]any{"appointment_id": "a", "text": b})
		decodeAll([]any{v})
	})
}

func TestPayloadGuards(t *testing.T) {
	deep := any(1.0)
	for range maxPayloadDepth + 2 {
		deep = map[string]any{"a": deep}
	}
	for name, v := range map[string]any{
		"string": "x", "number": 1.0, "list": []any{1.0}, "nil": nil,
		"binary": map[string]any{"text": []byte{1, 2}}, "deep": deep,
	} {
		if _, err := checkPayload(v); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("%s: %v, want invalid_request", name, err)
		}
	}
	if _, err := checkPayload(map[string]any{"appointment_id": "a", "n": 1.0, "ok": true, "l": []any{"x"}}); err != nil {
		t.Errorf("a plain object was refused: %v", err)
	}
}
