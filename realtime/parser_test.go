package realtime

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// decodeWith runs a decoder over one text packet and returns what it emitted.
func decodeWith(t testing.TB, d parser.Decoder, text string) (*parser.Packet, error) {
	var got *parser.Packet
	_ = d.On("decoded", func(args ...any) { got, _ = args[0].(*parser.Packet) })
	err := d.Add(types.NewStringBufferString(text))
	return got, err
}

// plainArgs turns raw JSON arguments into what encoding/json decodes them to.
func plainArgs(t testing.TB, data any) any {
	args, ok := data.([]any)
	if !ok {
		return data
	}
	out := make([]any, len(args))
	for i, a := range args {
		if raw, ok := a.(json.RawMessage); ok {
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatalf("argument %d is not JSON: %q", i, raw)
			}
			out[i] = v
			continue
		}
		out[i] = a
	}
	return out
}

func TestParserDecodesEventsAsTheLibraryDoes(t *testing.T) {
	packets := []string{
		`2["rtc:ice",{"appointment_id":"a","candidate":{"candidate":"x y","sdpMid":"0"}}]`,
		`212["chat:send",{"text":"h\u00e9llo \"q\" \\ ]}","n":[1,2,{"a":[]}]}]`,
		`2/admin,7["x", 1 , true ,null, "s" ,[ ] ]`,
		`2[ "spaced" , { } ]`,
		`2["only"]`,
		`0{"token":"t"}`,
		`3["not an event"]`,
		`2[1,"numeric name"]`,
		`2["trailing"] garbage`,
		`2["disconnect",{}]`,
		`2{"not":"a list"}`,
		`2[]`,
		`2["unterminated",{]`,
		`2123456789012345678901["x"]`,
	}
	for _, text := range packets {
		want, wantErr := decodeWith(t, parser.NewDecoder(), text)
		got, gotErr := decodeWith(t, wireParser{}.NewDecoder(), text)
		if (wantErr != nil) != (gotErr != nil) {
			t.Errorf("%s: error %v, the library's %v", text, gotErr, wantErr)
			continue
		}
		if (want == nil) != (got == nil) {
			t.Errorf("%s: decoded %v, the library %v", text, got, want)
			continue
		}
		if want == nil {
			continue
		}
		if got.Type != want.Type || got.Nsp != want.Nsp || !reflect.DeepEqual(got.Id, want.Id) {
			t.Errorf("%s: header %v/%q/%v, the library's %v/%q/%v", text, got.Type, got.Nsp, got.Id, want.Type, want.Nsp, want.Id)
		}
		if g, w := plainArgs(t, got.Data), want.Data; !reflect.DeepEqual(g, w) {
			t.Errorf("%s: data %#v, the library's %#v", text, g, w)
		}
	}
}

func TestParserEncodesAsTheLibraryDoes(t *testing.T) {
	id := uint64(42)
	payload := map[string]any{"appointment_id": "a<b>&c", "text": "é \"quoted\" \n", "n": 1.5, "list": []any{true, nil}}
	cases := []*parser.Packet{
		{Type: parser.EVENT, Nsp: "/", Data: []any{"chat:message", payload}},
		{Type: parser.EVENT, Nsp: "/", Data: []any{"chat:message", payload, "offset-1"}},
		{Type: parser.ACK, Nsp: "/", Id: &id, Data: []any{map[string]any{"ok": true}}},
		{Type: parser.EVENT, Nsp: "/admin", Id: &id, Data: []any{"x<y>", payload}},
	}
	for _, p := range cases {
		want := parser.NewEncoder().Encode(p)
		raw := *p
		args := []any{}
		for _, a := range p.Data.([]any) {
			if m, ok := a.(map[string]any); ok {
				args = append(args, rawJSON(m))
			} else {
				args = append(args, a)
			}
		}
		raw.Data = args
		got := (&wireEncoder{fallback: parser.NewEncoder()}).Encode(&raw)
		if len(got) != 1 || len(want) != 1 || got[0].String() != want[0].String() {
			t.Errorf("encoded %q, the library %q", got[0].String(), want[0].String())
		}
		// Bytes that crossed nodes (MessagePack gives []byte) encode the same.
		for i, a := range args {
			if r, ok := a.(json.RawMessage); ok {
				args[i] = []byte(r)
			}
		}
		if again := (&wireEncoder{fallback: parser.NewEncoder()}).Encode(&raw); again[0].String() != want[0].String() {
			t.Errorf("encoded from bytes %q, the library %q", again[0].String(), want[0].String())
		}
	}
}

func FuzzParserDecode(f *testing.F) {
	for _, s := range []string{`2["a",{"b":1}]`, `21["a",[1,{"c":"]"}],"x"]`, `2/n,["a"]`, `2["a",`, `2[`, `5-["a",{"_placeholder":true,"num":0}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, gotErr := decodeWith(t, wireParser{}.NewDecoder(), text)
		want, wantErr := decodeWith(t, parser.NewDecoder(), text)
		if got == nil || want == nil || gotErr != nil || wantErr != nil {
			if (got == nil) != (want == nil) && gotErr == nil && wantErr == nil {
				t.Fatalf("%q: decoded %v, the library %v", text, got, want)
			}
			return
		}
		if g := plainArgs(t, got.Data); !reflect.DeepEqual(g, want.Data) {
			t.Fatalf("%q: data %#v, the library's %#v", text, g, want.Data)
		}
	})
}

func TestCheckRawMatchesPlain(t *testing.T) {
	deep := func(n int) string {
		s := `1`
		for range n {
			s = `{"a":` + s + `}`
		}
		return s
	}
	for _, text := range []string{`{}`, `{"a":"b"}`, `{"a":"\u0000"}`, `{"a\u0000":1}`, `{"a":"\\u0000"}`, `[1]`, `"s"`, deep(16), deep(17), deep(18), `{"a":[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}`} {
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		_, want := checkPayload(v)
		_, got := checkPayload(json.RawMessage(text))
		if (want == nil) != (got == nil) {
			t.Errorf("%s: raw check %v, decoded check %v", text, got, want)
		}
	}
}

func FuzzObjectFields(f *testing.F) {
	for _, s := range []string{`{"appointment_id":"a","candidate":{"c":"x"}}`, ` { "sdp" : [1, "]"] , "sdp": null } `, `{"Appointment_ID":"a"}`, `{"a\u005f":1}`, `[1]`, `{}`, `{"candidate":-1.5e3,"x":true}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		keys := []string{"appointment_id", "sdp", "candidate"}
		got, ok := objectFields([]byte(text), keys...)
		if !ok {
			return
		}
		var want struct {
			AppointmentID json.RawMessage `json:"appointment_id"`
			SDP           json.RawMessage `json:"sdp"`
			Candidate     json.RawMessage `json:"candidate"`
		}
		if err := json.Unmarshal([]byte(text), &want); err != nil {
			t.Fatalf("%q: fields %q, but encoding/json fails: %v", text, got, err)
		}
		for i, w := range []json.RawMessage{want.AppointmentID, want.SDP, want.Candidate} {
			if string(got[i]) != string(w) {
				t.Fatalf("%q: %s is %q, encoding/json says %q", text, keys[i], got[i], w)
			}
		}
	})
}

var benchEvent = `2["rtc:ice",{"appointment_id":"6f1c2b1e-8a4e-4c4b-9a57-0d8f0f7c9b21","candidate":{"candidate":"candidate:842163049 1 udp 1677729535 203.0.113.7 50123 typ srflx raddr 0.0.0.0 rport 0 generation 0","sdpMid":"0","sdpMLineIndex":0}}]`

// Decoding one event: ours against the library's.
func BenchmarkDecodeEvent(b *testing.B) {
	for _, c := range []struct {
		name string
		p    parser.Parser
	}{{"ours", wireParser{}}, {"library", parser.NewParser()}} {
		b.Run(c.name, func(b *testing.B) {
			d := c.p.NewDecoder()
			_ = d.On("decoded", func(...any) {})
			b.ReportAllocs()
			for b.Loop() {
				_ = d.Add(types.NewStringBufferString(benchEvent))
			}
		})
	}
}

// Encoding one broadcast (done once per room, not per member).
func BenchmarkEncodeBroadcast(b *testing.B) {
	payload := map[string]any{"appointment_id": "6f1c2b1e-8a4e-4c4b-9a57-0d8f0f7c9b21", "seq": 42, "text": "The rash is better since yesterday.", "sender_id": "0d8f0f7c-9b21-4c4b-9a57-6f1c2b1e8a4e"}
	raw := rawJSON(payload)
	b.Run("ours", func(b *testing.B) {
		e := wireParser{}.NewEncoder()
		b.ReportAllocs()
		for b.Loop() {
			e.Encode(&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"chat:message", raw}})
		}
	})
	b.Run("library", func(b *testing.B) {
		e := parser.NewEncoder()
		b.ReportAllocs()
		for b.Loop() {
			e.Encode(&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"chat:message", payload}})
		}
	})
}
