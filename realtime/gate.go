package realtime

import (
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// The library has two races between a client's first packets and the
// listeners that should receive them; in Go, unlike Node, the packet can
// arrive on another goroutine in between:
//
//  1. Engine.IO sends "open" before it announces the connection to
//     Socket.IO, which only then subscribes to the connection's data. A
//     client's CONNECT (sent right after "open") can arrive first and is
//     dropped: the handshake hangs until the client gives up.
//  2. Socket.IO sends the CONNECT acknowledgement before it records the
//     namespace as joined. A client's first event (sent right after the
//     acknowledgement) can arrive first and is taken as a protocol
//     violation: the connection is closed.
//
// On two cores this lost about one handshake in 250 here. handshakeGate
// works around both without touching the library: every new connection's
// transport is wrapped, and the packets it receives are held until the
// connection is announced (our Engine.IO "connection" listener runs after
// Socket.IO's own), and after a namespace CONNECT until the namespace
// connection is complete (our Socket.IO "connection" handler or a
// handshake refusal), then delivered in order.
type handshakeGate struct{}

func newHandshakeGate() *handshakeGate { return &handshakeGate{} }

// releaseAfter bounds how long packets may wait for the announcement.
const releaseAfter = 10 * time.Second

// transports returns the polling and WebSocket transports, gated.
func (g *handshakeGate) transports() *types.Set[transports.TransportCtor] {
	return types.NewSet[transports.TransportCtor](
		gatedCtor{pollingCtor()},
		gatedCtor{websocketCtor()},
	)
}

// bind opens a connection's first stage once Socket.IO listens to it, and
// watches its heartbeat (see heartbeat.go).
func (g *handshakeGate) bind(eio engine.BaseServer, pingTimeout time.Duration) {
	_ = eio.On("connection", func(args ...any) {
		if len(args) == 0 {
			return
		}
		if es, ok := args[0].(engine.Socket); ok {
			watchHeartbeat(es, pingTimeout)
			if gt, ok := es.Transport().(*gatedTransport); ok {
				gt.release()
			}
		}
	})
}

// open ends the second stage: the namespace connection is complete (or was
// refused) and later packets may flow.
func (g *handshakeGate) open(sock *socket.Socket) {
	if gt, ok := sock.Conn().Transport().(*gatedTransport); ok {
		gt.connected()
	}
}

type gatedCtor struct{ transports.TransportCtor }

func (c gatedCtor) New(ctx *types.HttpContext) transports.Transport {
	t := c.TransportCtor.New(ctx)
	if ctx.Query().Has("sid") {
		// An upgrade of a connection that is already announced.
		return t
	}
	gt := &gatedTransport{Transport: t}
	gt.mu.Lock()
	gt.timer = time.AfterFunc(releaseAfter, gt.giveUp)
	gt.mu.Unlock()
	return gt
}

// gatedTransport holds received packets while a stage is closed.
type gatedTransport struct {
	transports.Transport

	mu       sync.Mutex
	listener types.EventListener
	queue    [][]any
	released bool // announced to Socket.IO
	awaiting bool // a namespace CONNECT is being processed
	draining bool
	timer    *time.Timer
}

// On intercepts the Engine.IO socket's packet listener.
func (g *gatedTransport) On(ev types.EventName, ls ...types.EventListener) error {
	if ev != "packet" || len(ls) != 1 {
		return g.Transport.On(ev, ls...)
	}
	g.mu.Lock()
	g.listener = ls[0]
	g.mu.Unlock()
	return g.Transport.On(ev, g.onPacket)
}

// RemoveListener also removes the interceptor when the packet listener goes.
func (g *gatedTransport) RemoveListener(ev types.EventName, l types.EventListener) bool {
	if ev == "packet" {
		g.Transport.RemoveListener(ev, g.onPacket)
	}
	return g.Transport.RemoveListener(ev, l)
}

func (g *gatedTransport) onPacket(args ...any) {
	g.mu.Lock()
	g.queue = append(g.queue, args)
	g.drainLocked()
}

func (g *gatedTransport) release() {
	g.mu.Lock()
	g.released = true
	g.drainLocked()
}

func (g *gatedTransport) connected() {
	g.mu.Lock()
	g.awaiting = false
	g.drainLocked()
}

// giveUp opens every stage: a connection never completed in time.
func (g *gatedTransport) giveUp() {
	g.mu.Lock()
	g.released, g.awaiting = true, false
	g.drainLocked()
}

// drainLocked delivers held packets in order while the stages allow it.
// One caller drains at a time; the others leave their packets queued for
// it. Called with mu held; returns with it released.
func (g *gatedTransport) drainLocked() {
	if g.draining {
		g.mu.Unlock()
		return
	}
	g.draining = true
	for g.released && !g.awaiting && len(g.queue) > 0 && g.listener != nil {
		args := g.queue[0]
		g.queue[0] = nil
		g.queue = g.queue[1:]
		if isNamespaceConnect(args) {
			g.awaiting = true
			g.timer.Reset(releaseAfter)
		}
		l := g.listener
		g.mu.Unlock()
		l(args...)
		g.mu.Lock()
	}
	g.draining = false
	if g.released && !g.awaiting && len(g.queue) == 0 {
		g.queue = nil
		g.timer.Stop()
	}
	g.mu.Unlock()
}

// isNamespaceConnect reports whether an Engine.IO packet carries a
// Socket.IO CONNECT to the main namespace ("0" or "0{...}").
func isNamespaceConnect(args []any) bool {
	if len(args) == 0 {
		return false
	}
	p, ok := args[0].(*packet.Packet)
	if !ok || p.Type != packet.MESSAGE {
		return false
	}
	b, ok := p.Data.(interface{ Bytes() []byte })
	if !ok {
		return false
	}
	d := b.Bytes()
	return len(d) > 0 && d[0] == '0' && (len(d) == 1 || d[1] != '/')
}
