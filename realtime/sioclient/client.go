// Package sioclient is a small Socket.IO v5 / Engine.IO v4 client over
// WebSocket: connect with auth, emit with acknowledgement, receive events.
// The tests and the load tool use it; it speaks the same frames as the
// official clients.
package sioclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// ConnectError is the server's refusal of the namespace connection.
type ConnectError struct {
	Message string
	Data    json.RawMessage
}

func (e *ConnectError) Error() string { return "connect_error: " + e.Message }

// ErrClosed is returned once the connection has ended.
var ErrClosed = errors.New("sioclient: connection closed")

// Options tune Dial.
type Options struct {
	// Auth is the handshake payload (e.g. {"token": "..."}).
	Auth any
	// Header is sent with the WebSocket upgrade (e.g. Origin).
	Header http.Header
	// Path defaults to /socket.io/.
	Path string
	// IgnorePings leaves the server's heartbeat pings unanswered, as a
	// peer that went away without closing would (for heartbeat tests).
	IgnorePings bool
}

// Client is one Socket.IO connection on the default namespace.
type Client struct {
	conn   *websocket.Conn
	wmu    sync.Mutex
	nextID atomic.Uint64
	SID    string
	// Open is the payload of the Engine.IO open packet (sid, pingInterval,
	// pingTimeout, maxPayload, upgrades).
	Open        json.RawMessage
	ignorePings bool

	mu       sync.Mutex
	acks     map[uint64]chan json.RawMessage
	events   map[string][]json.RawMessage
	counts   map[string]int
	order    []string
	notify   chan struct{}
	closed   chan struct{}
	closeErr error
	// Disconnect is the server's disconnect packet, if one came.
	disconnected atomic.Bool
}

// Dial opens a WebSocket to base (http://host:port) and connects the
// default namespace with opts.Auth. A refusal is a *ConnectError.
func Dial(ctx context.Context, base string, opts Options) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	u.Path = opts.Path
	if u.Path == "" {
		u.Path = "/socket.io/"
	}
	u.RawQuery = "EIO=4&transport=websocket"
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	conn, resp, err := d.DialContext(ctx, u.String(), opts.Header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("sioclient: websocket refused with HTTP %d: %w", resp.StatusCode, err)
		}
		return nil, err
	}
	c := &Client{conn: conn, acks: map[uint64]chan json.RawMessage{}, events: map[string][]json.RawMessage{},
		counts: map[string]int{}, notify: make(chan struct{}), closed: make(chan struct{}), ignorePings: opts.IgnorePings}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetReadDeadline(dl)
	}
	// Engine.IO open packet.
	_, msg, err := conn.ReadMessage()
	if err != nil || len(msg) == 0 || msg[0] != '0' {
		conn.Close()
		return nil, fmt.Errorf("sioclient: no open packet: %v %q", err, msg)
	}
	c.Open = json.RawMessage(append([]byte(nil), msg[1:]...))
	auth := []byte{}
	if opts.Auth != nil {
		if auth, err = json.Marshal(opts.Auth); err != nil {
			conn.Close()
			return nil, err
		}
	}
	if err := c.write("40" + string(auth)); err != nil {
		conn.Close()
		return nil, err
	}
	for {
		_, msg, err = conn.ReadMessage()
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("sioclient: waiting for connect: %w", err)
		}
		s := string(msg)
		switch {
		case s == "2":
			if !c.ignorePings {
				_ = c.write("3")
			}
			continue
		case strings.HasPrefix(s, "40"):
			var ok struct {
				SID string `json:"sid"`
			}
			_ = json.Unmarshal(msg[2:], &ok)
			c.SID = ok.SID
		case strings.HasPrefix(s, "44"):
			var ce ConnectError
			var body struct {
				Message string          `json:"message"`
				Data    json.RawMessage `json:"data"`
			}
			_ = json.Unmarshal(msg[2:], &body)
			ce.Message, ce.Data = body.Message, body.Data
			conn.Close()
			return nil, &ce
		default:
			conn.Close()
			return nil, fmt.Errorf("sioclient: unexpected packet before connect: %q", s)
		}
		break
	}
	_ = conn.SetReadDeadline(time.Time{})
	go c.readLoop()
	return c, nil
}

func (c *Client) write(s string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.conn.WriteMessage(websocket.TextMessage, []byte(s))
}

// SendRaw writes one Engine.IO text frame as is, for protocol tests.
func (c *Client) SendRaw(frame string) error { return c.write(frame) }

// SendBinary writes one binary frame as is.
func (c *Client) SendBinary(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.conn.WriteMessage(websocket.BinaryMessage, b)
}

func (c *Client) readLoop() {
	defer func() {
		c.mu.Lock()
		close(c.closed)
		c.mu.Unlock()
	}()
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.closeErr = err
			c.mu.Unlock()
			return
		}
		s := string(msg)
		switch {
		case s == "2":
			if !c.ignorePings {
				_ = c.write("3")
			}
		case s == "1":
			return
		case strings.HasPrefix(s, "41"):
			c.disconnected.Store(true)
		case strings.HasPrefix(s, "42"):
			c.onEvent(s[2:])
		case strings.HasPrefix(s, "43"):
			c.onAck(s[2:])
		}
	}
}

// splitID separates a packet's leading ack id from its JSON payload.
func splitID(s string) (uint64, bool, string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false, s
	}
	id, err := strconv.ParseUint(s[:i], 10, 64)
	return id, err == nil, s[i:]
}

func (c *Client) onEvent(s string) {
	_, _, body := splitID(s)
	var arr []json.RawMessage
	if err := json.Unmarshal([]byte(body), &arr); err != nil || len(arr) == 0 {
		return
	}
	var name string
	if json.Unmarshal(arr[0], &name) != nil {
		return
	}
	var payload json.RawMessage
	if len(arr) > 1 {
		payload = arr[1]
	}
	c.mu.Lock()
	c.events[name] = append(c.events[name], payload)
	c.order = append(c.order, name)
	c.counts[name]++
	close(c.notify)
	c.notify = make(chan struct{})
	c.mu.Unlock()
}

func (c *Client) onAck(s string) {
	id, ok, body := splitID(s)
	if !ok {
		return
	}
	var arr []json.RawMessage
	_ = json.Unmarshal([]byte(body), &arr)
	var first json.RawMessage
	if len(arr) > 0 {
		first = arr[0]
	}
	c.mu.Lock()
	ch := c.acks[id]
	delete(c.acks, id)
	c.mu.Unlock()
	if ch != nil {
		ch <- first
	}
}

func encode(event string, id *uint64, args []any) (string, error) {
	arr := append([]any{event}, args...)
	b, err := json.Marshal(arr)
	if err != nil {
		return "", err
	}
	if id == nil {
		return "42" + string(b), nil
	}
	return "42" + strconv.FormatUint(*id, 10) + string(b), nil
}

// Emit sends an event without asking for an acknowledgement.
func (c *Client) Emit(event string, args ...any) error {
	frame, err := encode(event, nil, args)
	if err != nil {
		return err
	}
	return c.write(frame)
}

// Ack sends an event and waits for the acknowledgement's first argument.
func (c *Client) Ack(ctx context.Context, event string, args ...any) (json.RawMessage, error) {
	frame, err := encode(event, nil, args)
	if err != nil {
		return nil, err
	}
	return c.AckRaw(ctx, frame[2:])
}

// AckRaw sends "42<id>"+payload (payload is the raw JSON array, possibly
// malformed) and waits for the acknowledgement.
func (c *Client) AckRaw(ctx context.Context, payload string) (json.RawMessage, error) {
	return c.ackFrames(ctx, "42", payload, nil)
}

// AckBinary sends a binary event: payload is the JSON array with
// {"_placeholder":true,"num":i} where attachment i goes.
func (c *Client) AckBinary(ctx context.Context, payload string, attachments ...[]byte) (json.RawMessage, error) {
	return c.ackFrames(ctx, "45"+strconv.Itoa(len(attachments))+"-", payload, attachments)
}

func (c *Client) ackFrames(ctx context.Context, prefix, payload string, attachments [][]byte) (json.RawMessage, error) {
	id := c.nextID.Add(1)
	ch := make(chan json.RawMessage, 1)
	c.mu.Lock()
	c.acks[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
	}()
	if err := c.write(prefix + strconv.FormatUint(id, 10) + payload); err != nil {
		return nil, err
	}
	for _, b := range attachments {
		if err := c.SendBinary(b); err != nil {
			return nil, err
		}
	}
	select {
	case r := <-ch:
		return r, nil
	case <-c.closed:
		return nil, c.closedErr()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// closedErr says why the connection ended.
func (c *Client) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	reason := "closed by the server"
	if c.disconnected.Load() {
		reason = "disconnected by the server"
	} else if c.closeErr != nil {
		reason = c.closeErr.Error()
	}
	return fmt.Errorf("%w (%s)", ErrClosed, reason)
}

// Next waits for and removes the oldest unread event with this name.
func (c *Client) Next(ctx context.Context, event string) (json.RawMessage, error) {
	for {
		c.mu.Lock()
		if q := c.events[event]; len(q) > 0 {
			c.events[event] = q[1:]
			c.mu.Unlock()
			return q[0], nil
		}
		wait := c.notify
		c.mu.Unlock()
		select {
		case <-wait:
		case <-c.closed:
			c.mu.Lock()
			q := c.events[event]
			if len(q) > 0 {
				c.events[event] = q[1:]
				c.mu.Unlock()
				return q[0], nil
			}
			c.mu.Unlock()
			return nil, ErrClosed
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %q: %w", event, ctx.Err())
		}
	}
}

// Order lists the names of the events received so far, in arrival order.
func (c *Client) Order() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.order...)
}

// Count is how many events with this name have arrived so far.
func (c *Client) Count(event string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[event]
}

// Done is closed when the connection ends.
func (c *Client) Done() <-chan struct{} { return c.closed }

// Disconnected reports whether the server sent a disconnect packet.
func (c *Client) Disconnected() bool { return c.disconnected.Load() }

// Abort drops the connection without a word (no Socket.IO disconnect, no
// WebSocket close frame), as a phone losing its network would.
func (c *Client) Abort() error {
	err := c.conn.Close()
	<-c.closed
	return err
}

// Close leaves the namespace and closes the connection.
func (c *Client) Close() error {
	_ = c.write("41")
	err := c.conn.Close()
	<-c.closed
	return err
}
