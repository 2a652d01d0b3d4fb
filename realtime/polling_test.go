package realtime_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/config"

	"teleconsult/modeltest"
	"teleconsult/realtime"
)

// The Engine.IO protocol over HTTP long-polling, as a client sees it
// (the official suite's checks, see docs/conformance.md and polling.go).

// pollClient speaks raw Engine.IO long-polling to a rig.
type pollClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func newPollClient(t *testing.T, r *rig) *pollClient {
	// A request that gets no answer within 5 s is one the server left hanging.
	return &pollClient{t: t, base: r.URL, http: &http.Client{Timeout: 5 * time.Second}}
}

func (c *pollClient) url(sid string) string {
	q := url.Values{"EIO": {"4"}, "transport": {"polling"}}
	if sid != "" {
		q.Set("sid", sid)
	}
	return c.base + "/socket.io/?" + q.Encode()
}

type pollReply struct {
	status int
	body   string
	err    error
	at     time.Time
}

func (c *pollClient) do(method, sid, body string) pollReply {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.url(sid), rd)
	if err != nil {
		return pollReply{err: err}
	}
	res, err := c.http.Do(req)
	if err != nil {
		return pollReply{err: err, at: time.Now()}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return pollReply{status: res.StatusCode, body: string(b), err: err, at: time.Now()}
}

// get polls in the background.
func (c *pollClient) get(sid string) <-chan pollReply {
	ch := make(chan pollReply, 1)
	go func() { ch <- c.do(http.MethodGet, sid, "") }()
	return ch
}

// open handshakes and returns the session id and when the open packet arrived.
func (c *pollClient) open() (string, time.Time) {
	c.t.Helper()
	r := c.do(http.MethodGet, "", "")
	if r.err != nil || r.status != http.StatusOK || !strings.HasPrefix(r.body, "0") {
		c.t.Fatalf("handshake: %d %q %v", r.status, r.body, r.err)
	}
	var open struct {
		Sid string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(r.body[1:]), &open); err != nil || open.Sid == "" {
		c.t.Fatalf("open packet %q: %v", r.body, err)
	}
	return open.Sid, r.at
}

func (c *pollClient) expect(r pollReply, what string, status int, body string) {
	c.t.Helper()
	if r.err != nil {
		c.t.Fatalf("%s: %v (the server left the request hanging)", what, r.err)
	}
	if r.status != status || (body != "" && r.body != body) {
		c.t.Fatalf("%s: %d %q, want %d %q", what, r.status, r.body, status, body)
	}
}

// waiting gives a GET sent in the background time to reach the server.
func waiting() { time.Sleep(100 * time.Millisecond) }

// A POST whose payload does not decode is refused and ends the session.
func TestPollingRefusesMalformedPayload(t *testing.T) {
	c := newPollClient(t, newRig(t, modeltest.NewPostgres(t)))
	sid, _ := c.open()
	c.expect(c.do(http.MethodPost, sid, "abc"), "POST of a malformed payload", http.StatusBadRequest, "")
	c.expect(c.do(http.MethodGet, sid, ""), "GET after it", http.StatusBadRequest, "")

	// Packets before the malformed one are delivered, then the session ends.
	sid, _ = c.open()
	c.expect(c.do(http.MethodPost, sid, "3\x1ebAQ=!"), "POST ending in a malformed packet", http.StatusBadRequest, "")
	c.expect(c.do(http.MethodGet, sid, ""), "GET after it", http.StatusBadRequest, "")
}

// A second GET while one waits closes the session: the waiting GET gets
// the close packet, the second is refused, and the session is gone.
func TestPollingDuplicateGETClosesSession(t *testing.T) {
	c := newPollClient(t, newRig(t, modeltest.NewPostgres(t)))
	sid, _ := c.open()
	first := c.get(sid)
	waiting()
	c.expect(c.do(http.MethodGet, sid, ""), "second GET", http.StatusBadRequest, "")
	c.expect(<-first, "first GET", http.StatusOK, "1")
	c.expect(c.do(http.MethodGet, sid, ""), "GET after the close", http.StatusBadRequest, "")
}

// A session the server closes (here: the client missed its ping) answers
// the GET that waits with the close packet.
func TestPollingServerCloseAnswersWaitingGET(t *testing.T) {
	c := newPollClient(t, newRig(t, modeltest.NewPostgres(t), func(o *realtime.Options) {
		o.PingInterval, o.PingTimeout = 200*time.Millisecond, 300*time.Millisecond
	}))
	sid, _ := c.open()
	c.expect(c.do(http.MethodGet, sid, ""), "GET carrying the ping", http.StatusOK, "2")
	// No PONG: the next GET waits until the session times out.
	c.expect(<-c.get(sid), "GET waiting at the timeout", http.StatusOK, "1")
	c.expect(c.do(http.MethodGet, sid, ""), "GET after the close", http.StatusBadRequest, "")
}

// The client's close packet answers the GET that waits with a noop; a GET
// the client sent before its close but that arrives after it (requests on
// two connections reach the server in either order) gets the same noop.
func TestPollingClientCloseAnswersGET(t *testing.T) {
	c := newPollClient(t, newRig(t, modeltest.NewPostgres(t)))

	sid, _ := c.open()
	get := c.get(sid)
	waiting()
	c.expect(c.do(http.MethodPost, sid, "1"), "POST of the close packet", http.StatusOK, "ok")
	c.expect(<-get, "GET waiting at the close", http.StatusOK, "6")
	c.expect(c.do(http.MethodGet, sid, ""), "GET after the close", http.StatusBadRequest, "")

	sid, _ = c.open()
	c.expect(c.do(http.MethodPost, sid, "1"), "POST of the close packet", http.StatusOK, "ok")
	c.expect(c.do(http.MethodGet, sid, ""), "GET arriving just after the close", http.StatusOK, "6")
	c.expect(c.do(http.MethodGet, sid, ""), "GET after the close", http.StatusBadRequest, "")
}

// A GET that waits when the upgrade to WebSocket completes (it overtook
// the client's upgrade packet on its way) is refused, after the probe's
// answer; the session goes on over WebSocket.
func TestPollingGETWaitingAtUpgradeIsRefused(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c := newPollClient(t, r)
	sid, _ := c.open()
	get := c.get(sid)
	waiting()

	u, _ := url.Parse(r.URL)
	u.Scheme, u.Path, u.RawQuery = "ws", "/socket.io/", url.Values{"EIO": {"4"}, "transport": {"websocket"}, "sid": {sid}}.Encode()
	ws, _, err := websocket.DefaultDialer.Dial(u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, m := range []string{"2probe", "5"} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, probe, err := ws.ReadMessage()
	probed := time.Now()
	if err != nil || string(probe) != "3probe" {
		t.Fatalf("probe answered %q, %v", probe, err)
	}
	g := <-get
	c.expect(g, "GET waiting at the upgrade", http.StatusBadRequest, "")
	if g.at.Before(probed) {
		t.Fatalf("the GET was refused %v before the probe was answered", probed.Sub(g.at))
	}
	c.expect(c.do(http.MethodGet, sid, ""), "GET after the upgrade", http.StatusBadRequest, "")
	// The session lives on over WebSocket: a Socket.IO CONNECT without a
	// token is answered (refused, as this server wants a token).
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		t.Fatal(err)
	}
	if _, m, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(m), "44") {
		t.Fatalf("CONNECT over the upgraded session: %q, %v", m, err)
	}
}

// A GET sent once the client let its first ping go unanswered for
// pingTimeout is refused, however late the engine's own timers run (a
// loaded machine delays them by tens of milliseconds; here the engine's
// ping is held up on purpose, on the production transport stack).
func TestPollingGETAfterMissedPingIsRefused(t *testing.T) {
	const interval, timeout, late = 200 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond
	stack := realtime.NewStack()
	eo := config.DefaultServerOptions()
	eo.SetPingInterval(interval)
	eo.SetPingTimeout(timeout)
	eo.SetTransports(stack.Transports())
	eio := engine.NewServer(eo)
	_ = eio.On("connection", func(args ...any) {
		es := args[0].(engine.Socket)
		_ = es.On("packetCreate", func(args ...any) {
			if pk, ok := args[0].(*packet.Packet); ok && pk.Type == packet.PING {
				time.Sleep(late) // the ping's timer ran late
			}
		})
	})
	stack.Bind(eio, timeout)
	hs := httptest.NewServer(eio)
	t.Cleanup(func() { eio.Close(); hs.Close() })

	c := &pollClient{t: t, base: hs.URL, http: &http.Client{Timeout: 5 * time.Second}}
	sid, opened := c.open()
	time.Sleep(time.Until(opened.Add(interval + timeout + 10*time.Millisecond)))
	c.expect(c.do(http.MethodGet, sid, ""), "GET after the missed ping", http.StatusBadRequest, "")
}
