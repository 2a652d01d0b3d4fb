package main

// A minimal Socket.IO v5 / Engine.IO v4 client over WebSocket for the idle
// and storm scenarios: the same frames as realtime/sioclient, which the
// chat scenario uses, plus what those scenarios need and sioclient does
// not offer: a chosen local source address (many sockets from one host
// exhaust one address's ephemeral ports), an abrupt close that sends a TCP
// RST (SO_LINGER 0, as a network failure looks to the server: no
// Socket.IO disconnect, no WebSocket close frame, no FIN handshake), and a
// small footprint per socket (15,000 of them live in this process). Events
// the server pushes are read and dropped; pings are answered.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// connectError is the server's refusal of the namespace connection (44).
type connectError struct{ message string }

func (e *connectError) Error() string { return "connect_error: " + e.message }

// ackError is an acknowledgement {ok:false, error:{code}}.
type ackError struct{ code string }

func (e *ackError) Error() string { return "ack not ok: " + e.code }

// httpError is a refused WebSocket upgrade.
type httpError struct {
	status int
	err    error
}

func (e *httpError) Error() string {
	return fmt.Sprintf("upgrade refused with HTTP %d: %v", e.status, e.err)
}
func (e *httpError) Unwrap() error { return e.err }

var errClosed = errors.New("connection closed")

// wsURL turns the -url base (http://host:port) into the Engine.IO
// WebSocket endpoint.
func wsURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("unsupported scheme %q", u.Scheme)
	}
	u.Path = "/socket.io/"
	u.RawQuery = "EIO=4&transport=websocket"
	return u.String(), nil
}

// sock is one connected Socket.IO client.
type sock struct {
	conn   *websocket.Conn
	tcp    *net.TCPConn
	wmu    sync.Mutex
	nextID atomic.Uint64

	mu     sync.Mutex
	acks   map[uint64]chan json.RawMessage
	closed chan struct{}
	gone   atomic.Bool // the server sent a disconnect (41) or engine close (1)
}

// dialSock opens a WebSocket from local (nil: any address) to endpoint and
// connects the default namespace with {"token": token}. ctx bounds the
// whole handshake.
func dialSock(ctx context.Context, endpoint string, local net.IP, token string) (*sock, error) {
	nd := &net.Dialer{}
	if local != nil {
		nd.LocalAddr = &net.TCPAddr{IP: local}
	}
	var tcp *net.TCPConn
	d := websocket.Dialer{
		// Small buffers: 15,000 sockets live here; frames larger than
		// these still pass, in more read calls.
		ReadBufferSize:  1024,
		WriteBufferSize: 1024,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := nd.DialContext(ctx, network, addr)
			if err == nil {
				tcp, _ = c.(*net.TCPConn)
			}
			return c, err
		},
	}
	conn, resp, err := d.DialContext(ctx, endpoint, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return nil, &httpError{resp.StatusCode, err}
		}
		return nil, err
	}
	s := &sock{conn: conn, tcp: tcp, acks: map[uint64]chan json.RawMessage{}, closed: make(chan struct{})}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetReadDeadline(dl)
	}
	// Give up when ctx ends even if no deadline was set.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	fail := func(err error) (*sock, error) {
		s.abort()
		if ctx.Err() != nil && !errors.As(err, new(*connectError)) {
			return nil, fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return nil, err
	}
	_, msg, err := conn.ReadMessage()
	if err != nil {
		return fail(fmt.Errorf("waiting for open: %w", err))
	}
	if len(msg) == 0 || msg[0] != '0' {
		return fail(fmt.Errorf("no open packet: %.80q", msg))
	}
	auth, _ := json.Marshal(map[string]string{"token": token})
	if err := s.write("40" + string(auth)); err != nil {
		return fail(err)
	}
	for {
		_, msg, err = conn.ReadMessage()
		if err != nil {
			return fail(fmt.Errorf("waiting for connect: %w", err))
		}
		m := string(msg)
		switch {
		case m == "2":
			if err := s.write("3"); err != nil {
				return fail(err)
			}
			continue
		case strings.HasPrefix(m, "40"):
		case strings.HasPrefix(m, "44"):
			var body struct {
				Message string `json:"message"`
			}
			_ = json.Unmarshal(msg[2:], &body)
			return fail(&connectError{body.Message})
		default:
			return fail(fmt.Errorf("unexpected packet before connect: %.80q", m))
		}
		break
	}
	stop()
	_ = conn.SetReadDeadline(time.Time{})
	go s.readLoop()
	return s, nil
}

func (s *sock) write(m string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return s.conn.WriteMessage(websocket.TextMessage, []byte(m))
}

func (s *sock) readLoop() {
	defer close(s.closed)
	for {
		_, msg, err := s.conn.ReadMessage()
		if err != nil {
			return
		}
		switch {
		case len(msg) == 1 && msg[0] == '2':
			_ = s.write("3")
		case len(msg) == 1 && msg[0] == '1':
			s.gone.Store(true)
			return
		case len(msg) >= 2 && msg[0] == '4' && msg[1] == '1':
			s.gone.Store(true)
		case len(msg) >= 2 && msg[0] == '4' && msg[1] == '3':
			s.onAck(msg[2:])
		}
	}
}

func (s *sock) onAck(b []byte) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	id, err := strconv.ParseUint(string(b[:i]), 10, 64)
	if err != nil {
		return
	}
	var arr []json.RawMessage
	_ = json.Unmarshal(b[i:], &arr)
	var first json.RawMessage
	if len(arr) > 0 {
		first = arr[0]
	}
	s.mu.Lock()
	ch := s.acks[id]
	delete(s.acks, id)
	s.mu.Unlock()
	if ch != nil {
		ch <- first
	}
}

// ack emits event with payload and waits for the acknowledgement; an ack
// other than {ok:true,...} is an *ackError with its code.
func (s *sock) ack(ctx context.Context, event string, payload any) (json.RawMessage, error) {
	arr, err := json.Marshal([]any{event, payload})
	if err != nil {
		return nil, err
	}
	id := s.nextID.Add(1)
	ch := make(chan json.RawMessage, 1)
	s.mu.Lock()
	s.acks[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.acks, id)
		s.mu.Unlock()
	}()
	if err := s.write("42" + strconv.FormatUint(id, 10) + string(arr)); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		var res struct {
			OK    bool `json:"ok"`
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(r, &res); err != nil {
			return r, &ackError{"unparsable"}
		}
		if !res.OK {
			return r, &ackError{res.Error.Code}
		}
		return r, nil
	case <-s.closed:
		if s.gone.Load() {
			return nil, fmt.Errorf("%w by the server", errClosed)
		}
		return nil, errClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// alive reports whether the connection is still open.
func (s *sock) alive() bool {
	select {
	case <-s.closed:
		return false
	default:
		return true
	}
}

// abort drops the connection at once: SO_LINGER 0 makes the close send a
// TCP RST, as a failed network path looks to the server, and leaves no
// TIME_WAIT behind on this side.
func (s *sock) abort() {
	if s.tcp != nil {
		_ = s.tcp.SetLinger(0)
	}
	_ = s.conn.Close()
}

// closeFIN drops the connection with an ordinary TCP close (FIN), still
// without a Socket.IO disconnect or a WebSocket close frame.
func (s *sock) closeFIN() { _ = s.conn.Close() }
