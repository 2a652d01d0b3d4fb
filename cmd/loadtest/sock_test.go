package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeServer speaks just enough Engine.IO/Socket.IO: open, a ping before
// the namespace answer, connect (or refuse token "bad"), and acks
// {"ok":true} to consultation:join and {"ok":false,...} to anything else.
func fakeServer(t *testing.T) (*httptest.Server, chan error) {
	t.Helper()
	ended := make(chan error, 16)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/socket.io/" || r.URL.Query().Get("EIO") != "4" {
			http.Error(w, "bad path", 400)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.WriteMessage(websocket.TextMessage, []byte(`0{"sid":"x","pingInterval":10000,"pingTimeout":5000}`))
		_, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		_ = c.WriteMessage(websocket.TextMessage, []byte("2"))
		if _, pong, err := c.ReadMessage(); err != nil || string(pong) != "3" {
			return
		}
		if strings.Contains(string(msg), `"bad"`) {
			_ = c.WriteMessage(websocket.TextMessage, []byte(`44{"message":"unauthorized"}`))
			return
		}
		_ = c.WriteMessage(websocket.TextMessage, []byte(`40{"sid":"s1"}`))
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				ended <- err
				return
			}
			m := string(msg)
			body := strings.TrimPrefix(m, "42")
			id := body[:len(body)-len(strings.TrimLeft(body, "0123456789"))]
			if strings.Contains(m, "consultation:join") {
				_ = c.WriteMessage(websocket.TextMessage, []byte(`43`+id+`[{"ok":true,"last_seq":7}]`))
			} else {
				_ = c.WriteMessage(websocket.TextMessage, []byte(`43`+id+`[{"ok":false,"error":{"code":"not_found"}}]`))
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, ended
}

func TestSockHandshakeAckAndAbort(t *testing.T) {
	srv, ended := fakeServer(t)
	ep, err := wsURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if _, err := dialSock(ctx, ep, nil, "bad"); reason("handshake", err) != "handshake:connect_error_unauthorized" {
		t.Fatalf("refusal: %v → %s", err, reason("handshake", err))
	}

	s, err := dialSock(ctx, ep, net.ParseIP("127.0.0.2"), "good")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.conn.LocalAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.2" {
		t.Fatalf("source address %s, want 127.0.0.2", got)
	}
	raw, err := s.ack(ctx, "consultation:join", map[string]string{"appointment_id": "a"})
	if err != nil || !strings.Contains(string(raw), `"last_seq":7`) {
		t.Fatalf("join: %s %v", raw, err)
	}
	if _, err := s.ack(ctx, "chat:sync", map[string]any{"appointment_id": "a", "after_seq": 7}); reason("sync", err) != "sync:ack_not_found" {
		t.Fatalf("refused ack: %v", err)
	}
	s.abort()
	select {
	case err := <-ended:
		if classify(err) != "conn_reset" {
			t.Fatalf("server saw %v, want a connection reset", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not notice the abort")
	}
	<-s.closed
	if s.alive() {
		t.Fatal("alive after abort")
	}
}

func TestParseSrcIPs(t *testing.T) {
	ips, err := parseSrcIPs("127.0.0.1-127.0.0.3, 127.0.0.9")
	if err != nil || len(ips) != 4 || ips[2].String() != "127.0.0.3" || ips[3].String() != "127.0.0.9" {
		t.Fatalf("%v %v", ips, err)
	}
	for _, bad := range []string{"10.0.0.1", "127.0.0.5-127.0.0.1", "x"} {
		if _, err := parseSrcIPs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if ips, err := parseSrcIPs(""); err != nil || ips != nil || srcFor(ips, 3) != nil {
		t.Fatalf("empty: %v %v", ips, err)
	}
}

func TestDist(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	got := distOf(d)
	if got.N != 100 || got.P50ms != 50 || got.P99ms != 99 || got.MaxMs != 100 {
		t.Fatalf("%+v", got)
	}
	if (distOf(nil) != dist{}) {
		t.Fatal("empty dist")
	}
}
