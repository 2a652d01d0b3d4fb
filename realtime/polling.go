package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// HTTP long-polling.
//
// The library's polling transport (servers/engine transports/polling.go,
// v3.0.5) departs from the Engine.IO protocol where the official test
// suite looks (docs/conformance.md):
//
//  1. A POST whose payload does not decode is answered "ok" and the
//     session goes on: the decoding error is dropped. The protocol
//     answers 400 and closes the session.
//  2. Closing the transport shuts its write queue down before it queues
//     the close packet, which is then dropped: a GET waiting for data is
//     never answered. That happens on a second concurrent GET (the
//     protocol closes the session and the first GET must get the close
//     packet), on every server-side close, and when an upgrade to
//     WebSocket completes while a GET waits.
//  3. A GET is recorded, then marked writable, in two steps; a close by
//     the client (a POSTed close packet) that lands in between owes the
//     GET a noop, sees it not writable, and the GET hangs.
//  4. Responses are written from a queue goroutine while the request's
//     own goroutine may be returning, and a finished GET's cleanup runs
//     twice, the second time possibly unregistering the next GET.
//
// pollingTransport keeps the library's transport for what it does right
// (state, events, the payload codec, compression and response headers)
// and owns the request flow under one mutex: every GET is answered by its
// own request goroutine, with the packets handed to it, a close packet,
// a noop or a refusal, and whatever closes the transport answers the GET
// that waits.

// pollingCtor builds the HTTP long-polling transport.
func pollingCtor() transports.TransportCtor { return pollingBuilder{} }

type pollingBuilder struct{}

func (pollingBuilder) Name() string          { return transports.POLLING }
func (pollingBuilder) HandlesUpgrades() bool { return false }
func (pollingBuilder) UpgradesTo() []string  { return (&transports.PollingBuilder{}).UpgradesTo() }

func (pollingBuilder) New(ctx *types.HttpContext) transports.Transport {
	if ctx.Query().Has("j") || ctx.Query().Peek("EIO") != "4" {
		// JSONP and protocol 3 (refused unless AllowEIO3) keep the library's transport.
		return (&transports.PollingBuilder{}).New(ctx)
	}
	lib := transports.MakePolling()
	p := &pollingTransport{Polling: lib}
	// The library's Close calls DoClose through the prototype: ours.
	lib.Prototype(p)
	lib.Construct(ctx)
	return p
}

// pollingCloseTimeout bounds how long a server-side close waits for the
// client's next GET to carry the close packet.
const pollingCloseTimeout = transports.DefaultPollingCloseTimeout

type pollingTransport struct {
	transports.Polling

	mu      sync.Mutex
	poll    *pollRequest     // the GET waiting for packets
	out     []*packet.Packet // packets sent while no GET waited
	sends   int              // Send calls whose packets are in out: one "drain" each once written
	posting bool             // a POST is being read
	closeFn func()           // a close waiting for the next GET
	timer   *time.Timer      // bounds closeFn's wait, or closing's
	closing bool             // the client closed; a GET on its way gets a noop
	closed  bool

	// The heartbeat as the client must follow it (see timedOutLocked):
	// the first ping is due at firstPing until Send has it; pingAt is when
	// Send had the ping not answered yet.
	firstPing   time.Time
	pingAt      time.Time
	pingTimeout time.Duration
}

// pollRequest is a GET waiting for its answer. The handshake's GET is
// answered by the goroutine that hands it the open packet (the request's
// own: the engine sends it while handling the handshake); every other GET
// blocks its request goroutine until its answer is handed over.
type pollRequest struct {
	ctx       *types.HttpContext
	handshake bool
	answer    chan pollAnswer // buffered: handing over never blocks
}

type pollAnswer struct {
	packets  []*packet.Packet
	drains   int
	refuse   bool   // 400
	upgraded bool   // the refusal is for a transport replaced by an upgrade
	before   func() // runs before the answer is written (ends a close)
}

// upgradedRefusalAfter delays the refusal of a GET that waited while the
// upgrade completed. Its client sent the upgrade packet before the GET
// (a client that follows the protocol never polls then; the GET overtook
// the upgrade on its way here) and expects the probe's answer, queued on
// the new transport, before the refusal.
const upgradedRefusalAfter = 50 * time.Millisecond

func (p *pollingTransport) OnRequest(ctx *types.HttpContext) {
	switch ctx.Method() {
	case http.MethodGet:
		p.onPoll(ctx)
	case http.MethodPost:
		p.onData(ctx)
	default:
		p.Polling.OnRequest(ctx)
	}
}

func (p *pollingTransport) onPoll(ctx *types.HttpContext) {
	req := &pollRequest{ctx: ctx, handshake: !ctx.Query().Has("sid"), answer: make(chan pollAnswer, 1)}
	p.mu.Lock()
	if p.poll != nil {
		p.mu.Unlock()
		// A second GET while one waits: the session is closed (DoClose
		// answers the waiting GET), then this one is refused.
		p.OnError("overlap from client", nil)
		refuse(ctx)
		return
	}
	if p.closed {
		p.mu.Unlock()
		refuse(ctx)
		return
	}
	if p.timedOutLocked() {
		// The engine's timer closes the session.
		p.mu.Unlock()
		refuse(ctx)
		return
	}
	if p.closing {
		// The client's close came first: this GET gets its noop once the
		// session is closed.
		p.mu.Unlock()
		p.OnClose()
		p.write(ctx, pollAnswer{packets: []*packet.Packet{{Type: packet.NOOP}}})
		return
	}
	p.poll = req
	var a *pollAnswer
	if p.closeFn != nil {
		// A server-side close was waiting for this GET.
		p.timer.Stop()
		p.out = append(p.out, &packet.Packet{Type: packet.CLOSE})
		a = p.takeLocked()
		a.before, p.closeFn = p.closeFn, nil
	} else if len(p.out) > 0 {
		a = p.takeLocked()
	} else {
		p.SetWritable(true)
	}
	p.mu.Unlock()
	if a != nil {
		p.deliver(req, *a)
	} else {
		p.Emit("ready") // the engine socket flushes its buffer into Send
	}
	if req.handshake {
		return
	}
	select {
	case a := <-req.answer:
		p.write(ctx, a)
	case <-ctx.Done():
		p.abandon(req)
	}
}

// takeLocked hands the queued packets to the waiting GET.
func (p *pollingTransport) takeLocked() *pollAnswer {
	a := &pollAnswer{packets: p.out, drains: p.sends}
	p.poll, p.out, p.sends = nil, nil, 0
	p.SetWritable(false)
	return a
}

// deliver answers req: now on this goroutine for the handshake, else on
// the request's goroutine.
func (p *pollingTransport) deliver(req *pollRequest, a pollAnswer) {
	if req.handshake {
		p.write(req.ctx, a)
		return
	}
	req.answer <- a
}

// abandon ends a GET whose client went away: the session is closed, as
// the packets meant for it may be lost.
func (p *pollingTransport) abandon(req *pollRequest) {
	p.mu.Lock()
	waiting := p.poll == req
	if waiting {
		p.poll = nil
		p.SetWritable(false)
	}
	p.mu.Unlock()
	if !waiting {
		// An answer was handed over as the client left.
		if a := <-req.answer; a.before != nil {
			a.before()
		}
	}
	p.OnError("poll connection closed prematurely", nil)
}

func (p *pollingTransport) write(ctx *types.HttpContext, a pollAnswer) {
	if a.before != nil {
		a.before()
	}
	if a.refuse {
		if a.upgraded {
			t := time.NewTimer(upgradedRefusalAfter)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		refuse(ctx)
		return
	}
	data, err := p.Parser().EncodePayload(a.packets)
	if err != nil {
		ctx.ResponseHeaders().Set("Content-Type", "text/plain; charset=UTF-8")
		_ = ctx.SetStatusCode(http.StatusInternalServerError)
		_, _ = ctx.Write(nil)
		p.OnError("polling encode error", err)
		return
	}
	compress := false
	for _, pk := range a.packets {
		if pk.Options != nil && pk.Options.Compress != nil && *pk.Options.Compress {
			compress = true
			break
		}
	}
	// The library writes the payload (headers, compression) into a
	// recorder; this goroutine, the request's, copies it to the client.
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	rc := types.NewHttpContext(rec, ctx.Request().WithContext(context.Background()))
	rc.Cleanup = func() {}
	p.Polling.DoWrite(rc, data, &packet.Options{Compress: &compress}, func(error) {})
	rc.Flush()
	ctx.ResponseHeaders().With(rec.header)
	_ = ctx.SetStatusCode(rec.status)
	_, _ = ctx.Write(rec.body.Bytes())
	for range a.drains {
		p.Emit("drain")
	}
}

// Send hands packets to the waiting GET, or keeps them for the next one.
func (p *pollingTransport) Send(packets []*packet.Packet) {
	p.mu.Lock()
	if p.closed || p.closing {
		p.mu.Unlock()
		return
	}
	p.out = append(p.out, packets...)
	p.sends++
	p.heartbeatLocked(packets)
	req := p.poll
	var a *pollAnswer
	if req != nil {
		a = p.takeLocked()
	}
	p.SetWritable(false)
	p.mu.Unlock()
	if a != nil {
		p.deliver(req, *a)
	}
}

// DoClose closes the transport (the library's Close has set "closing").
// fn is the engine socket's own close when it closes the transport; it is
// nil once the socket let go of the transport (an upgrade, or the socket
// closed first).
func (p *pollingTransport) DoClose(fn types.Callable) {
	finish := func() {
		if fn != nil {
			fn()
		}
		p.OnClose()
	}
	p.mu.Lock()
	req := p.poll
	switch {
	case req != nil && p.Discarded() && fn == nil:
		// An upgrade completed while a GET waited: it is refused like any
		// polling request after the upgrade.
		p.poll = nil
		p.SetWritable(false)
		p.mu.Unlock()
		p.deliver(req, pollAnswer{refuse: true, upgraded: true})
		finish()
	case req != nil:
		p.out = append(p.out, &packet.Packet{Type: packet.CLOSE})
		a := p.takeLocked()
		p.mu.Unlock()
		finish()
		p.deliver(req, *a)
	case p.Discarded() || fn == nil || p.closed || p.closing:
		p.mu.Unlock()
		finish()
	default:
		// The close packet goes with the client's next GET.
		p.closeFn = finish
		p.timer = time.AfterFunc(pollingCloseTimeout, p.closeWaited)
		p.mu.Unlock()
	}
}

func (p *pollingTransport) closeWaited() {
	p.mu.Lock()
	f := p.closeFn
	p.closeFn = nil
	p.mu.Unlock()
	if f != nil {
		f()
	}
}

// The engine ends a session whose client leaves a ping unanswered for
// pingTimeout with timers, and its timers run late: by a millisecond or
// two usually, by tens under load, the ping's timer as much as the
// timeout's. A GET that arrives in between would be handed the stale ping
// and answered 200 for a session that has timed out. The transport keeps
// the heartbeat as the client must follow it: the open packet gives the
// interval and the timeout; the first ping is due one interval after the
// open packet until Send has it, and a ping counts from when Send has it
// (at once while a GET waits, else with the next GET). A GET that finds
// the due ping unanswered for pingTimeout is refused; the engine's timer
// still closes the session, with its own reason. Neither deadline comes
// before the engine's own: its first ping is scheduled after the open
// packet is sent, and each timeout is armed once its ping is created,
// before Send sees it.
//
// timedOutLocked reports whether the client let the due ping go
// unanswered for pingTimeout.
func (p *pollingTransport) timedOutLocked() bool {
	if p.pingTimeout <= 0 {
		return false
	}
	due := p.pingAt
	if due.IsZero() {
		due = p.firstPing
	}
	return !due.IsZero() && time.Since(due) >= p.pingTimeout
}

// heartbeatLocked follows the heartbeat in the packets sent.
func (p *pollingTransport) heartbeatLocked(packets []*packet.Packet) {
	for _, pk := range packets {
		switch pk.Type {
		case packet.OPEN:
			b, ok := pk.Data.(interface{ Bytes() []byte })
			if !ok {
				continue
			}
			var open struct{ PingInterval, PingTimeout int64 }
			if json.Unmarshal(b.Bytes(), &open) == nil && open.PingTimeout > 0 {
				p.pingTimeout = time.Duration(open.PingTimeout) * time.Millisecond
				p.firstPing = time.Now().Add(time.Duration(open.PingInterval) * time.Millisecond)
			}
		case packet.PING:
			if p.pingAt.IsZero() {
				p.pingAt = time.Now()
			}
			p.firstPing = time.Time{}
		}
	}
}

// closedByClient ends the transport on the client's close packet. A
// client closes while its GET is out; the GET waiting here gets a noop.
// When none waits yet, the GET sent before the close may still be on its
// way on another connection (on two connections the server sees the
// requests in either order): the session stays reachable for closeGrace
// and a GET that arrives meanwhile gets its noop, then the transport
// closes.
func (p *pollingTransport) closedByClient() {
	p.mu.Lock()
	if p.poll != nil || p.closed || p.closing {
		p.mu.Unlock()
		p.OnClose()
		return
	}
	p.closing = true
	p.SetWritable(false)
	p.out, p.sends = nil, 0
	if p.timer != nil {
		p.timer.Stop()
	}
	p.closeFn = nil
	p.timer = time.AfterFunc(closeGrace, p.OnClose)
	p.mu.Unlock()
}

// closeGrace is how long a session closed by its client waits for the
// client's GET that was already on its way.
const closeGrace = 100 * time.Millisecond

// OnClose ends the transport; a GET still waiting (the client POSTed a
// close packet) gets a noop.
func (p *pollingTransport) OnClose() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	req := p.poll
	p.poll, p.out, p.closeFn = nil, nil, nil
	if p.timer != nil {
		p.timer.Stop()
	}
	p.SetWritable(false)
	p.mu.Unlock()
	if req != nil {
		p.deliver(req, pollAnswer{packets: []*packet.Packet{{Type: packet.NOOP}}})
	}
	// Not writable: the library only sets "closed" and emits "close".
	p.Polling.OnClose()
}

// onData reads a POST: its packets are delivered in order, then it is
// answered "ok"; a payload that does not decode is refused and closes the
// session, as does a second concurrent POST.
func (p *pollingTransport) onData(ctx *types.HttpContext) {
	p.mu.Lock()
	if p.closed || p.closing {
		p.mu.Unlock()
		refuse(ctx)
		return
	}
	if p.posting {
		p.mu.Unlock()
		p.OnError("data request overlap from client", nil)
		refuse(ctx)
		return
	}
	p.posting = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.posting = false
		p.mu.Unlock()
	}()

	if ctx.Headers().Peek("Content-Type") == "application/octet-stream" {
		// Protocol 4 sends binary data base64-encoded in text payloads.
		p.OnError("invalid content", nil)
		refuse(ctx)
		return
	}
	limit := p.MaxHttpBufferSize()
	if ctx.Request().ContentLength > limit {
		tooLarge(ctx)
		return
	}
	var body []byte
	if b := ctx.Request().Body; b != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(b, limit+1))
		_ = b.Close()
		if err != nil {
			refuse(ctx) // the client went away mid-body
			return
		}
		if int64(len(body)) > limit {
			tooLarge(ctx)
			return
		}
	}
	packets, err := p.Parser().DecodePayload(types.NewStringBuffer(body))
	for _, pk := range packets {
		if pk.Type == packet.PONG {
			p.mu.Lock()
			p.pingAt, p.firstPing = time.Time{}, time.Time{}
			p.mu.Unlock()
		}
		if pk.Type == packet.CLOSE {
			p.closedByClient()
			p.ok(ctx)
			return
		}
		p.OnPacket(pk)
	}
	if err != nil {
		// Closed before the answer: a request sent after it finds no session.
		p.OnError("invalid payload", err)
		refuse(ctx)
		return
	}
	p.ok(ctx)
}

// ok answers a POST.
func (p *pollingTransport) ok(ctx *types.HttpContext) {
	h := http.Header{}
	// text/html rather than text/plain: some user agents offer a download otherwise.
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	h.Set("Cache-Control", "no-store")
	if ua := ctx.UserAgent(); strings.Contains(ua, ";MSIE") || strings.Contains(ua, "Trident/") {
		h.Set("X-XSS-Protection", "0")
	}
	bag := types.NewParameterBag(h)
	p.Emit("headers", bag, ctx) // the engine's header hooks (cookies, "headers" listeners)
	ctx.ResponseHeaders().With(bag.All())
	_ = ctx.SetStatusCode(http.StatusOK)
	_, _ = io.WriteString(ctx, "ok")
}

// badRequest is the engine's own answer to a request it refuses.
var badRequest = []byte(`{"code":3,"message":"Bad request"}`)

func refuse(ctx *types.HttpContext) {
	ctx.ResponseHeaders().Set("Content-Type", "application/json")
	ctx.ResponseHeaders().Set("Content-Length", strconv.Itoa(len(badRequest)))
	_ = ctx.SetStatusCode(http.StatusBadRequest)
	_, _ = ctx.Write(badRequest)
}

func tooLarge(ctx *types.HttpContext) {
	_ = ctx.SetStatusCode(http.StatusRequestEntityTooLarge)
	_, _ = ctx.Write(nil)
}

// recorder captures the response the library writes for a GET.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
