package realtime

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

func newRecoveryAdapter(t *testing.T, window time.Duration, maxPackets int) *recoveryAdapter {
	so := socket.DefaultServerOptions()
	csr := &socket.ConnectionStateRecovery{}
	csr.SetMaxDisconnectionDuration(window.Milliseconds())
	so.SetConnectionStateRecovery(csr)
	so.SetAdapter(&recoveryBuilder{window: window, max: maxPackets})
	srv := socket.NewServer(nil, so)
	t.Cleanup(func() { srv.Close(nil) })
	a, ok := srv.Of("/", nil).Adapter().(*recoveryAdapter)
	if !ok {
		t.Fatalf("the namespace adapter is %T", srv.Of("/", nil).Adapter())
	}
	return a
}

// emit broadcasts event to room and returns the offset a member received.
func emit(a *recoveryAdapter, room socket.Room, event, text string) string {
	p := &parser.Packet{Type: parser.EVENT, Data: []any{event, rawJSON(map[string]string{"text": text})}}
	a.Broadcast(p, &socket.BroadcastOptions{Rooms: types.NewSet(room), Except: types.NewSet[socket.Room]()})
	data := p.Data.([]any)
	if len(data) < 3 {
		return ""
	}
	return data[len(data)-1].(string)
}

func missedTexts(t *testing.T, s *socket.Session) []string {
	t.Helper()
	var out []string
	for _, m := range s.MissedPackets {
		args := m.([]any)
		var v struct{ Text string }
		if err := json.Unmarshal(args[1].(json.RawMessage), &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(args[0], ":", v.Text))
	}
	return out
}

func TestRecoveryReplaysWhatARoomMissedOnly(t *testing.T) {
	a := newRecoveryAdapter(t, time.Minute, 100)
	last := emit(a, "appt:1", "chat:message", "seen")
	a.PersistSession(&socket.SessionToPersist{Sid: "s1", Pid: "p1", Rooms: types.NewSet[socket.Room]("s1", "appt:1", "user:u")})
	emit(a, "appt:2", "chat:message", "another room")
	emit(a, "appt:1", "chat:message", "missed")
	if off := emit(a, "appt:1", "rtc:ice", "candidate"); off != "" {
		t.Errorf("an ICE candidate was kept for recovery (offset %q)", off)
	}
	emit(a, "user:u", "notification", "for the user")

	s, err := a.RestoreSession("p1", last)
	if err != nil || s == nil {
		t.Fatalf("session not restored: %v %v", s, err)
	}
	got := missedTexts(t, s)
	want := []string{"chat:message:missed", "notification:for the user"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("missed %v, want %v", got, want)
	}
	if s, _ := a.RestoreSession("p1", last); s != nil {
		t.Error("a session was restored twice")
	}
}

func TestRecoveryForgetsBeyondItsBounds(t *testing.T) {
	a := newRecoveryAdapter(t, time.Minute, 8)
	old := emit(a, "appt:1", "chat:message", "0")
	recent := ""
	for i := range 20 {
		recent = emit(a, "appt:1", "chat:message", fmt.Sprint(i+1))
	}
	for _, pid := range []socket.PrivateSessionId{"old", "recent", "foreign"} {
		a.PersistSession(&socket.SessionToPersist{Sid: socket.SocketId(pid), Pid: pid, Rooms: types.NewSet[socket.Room]("appt:1")})
	}
	if s, _ := a.RestoreSession("old", old); s != nil {
		t.Error("an offset that left the ring was recovered (its missed events are gone)")
	}
	if s, _ := a.RestoreSession("foreign", "abc.1"); s != nil {
		t.Error("another process's offset was recovered")
	}
	s, _ := a.RestoreSession("recent", recent)
	if s == nil || len(s.MissedPackets) != 0 {
		t.Errorf("the newest offset: %v", s)
	}
	if a.n != 8 {
		t.Errorf("the ring holds %d packets, want at most 8", a.n)
	}
	if got := len(a.rooms["appt:1"]); got != 8 {
		t.Errorf("the room index holds %d positions, want 8", got)
	}

	// Older than the window: gone at the next sweep.
	a.mu.Lock()
	a.evictLocked(time.Now().Add(2 * time.Minute))
	n, rooms := a.n, len(a.rooms)
	a.mu.Unlock()
	if n != 0 || rooms != 0 {
		t.Errorf("after the window: %d packets, %d rooms kept", n, rooms)
	}
}

func BenchmarkRecoveryBroadcast(b *testing.B) {
	so := socket.DefaultServerOptions()
	so.SetAdapter(&recoveryBuilder{window: time.Minute, max: 65536})
	srv := socket.NewServer(nil, so)
	defer srv.Close(nil)
	a := srv.Of("/", nil).Adapter().(*recoveryAdapter)
	payload := rawJSON(map[string]string{"text": "hello"})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := &parser.Packet{Type: parser.EVENT, Data: []any{"chat:message", payload}}
		a.Broadcast(p, &socket.BroadcastOptions{Rooms: types.NewSet(socket.Room(fmt.Sprint("appt:", i%1000)))})
	}
}
