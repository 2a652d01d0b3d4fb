package realtime

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	ws "github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// The WebSocket transport is ours (the library's extension point is the
// transport set given to SetTransports); the wire format is unchanged.
// The library's transport writes every packet as its own frame with its
// own write system call, from a goroutine started per batch, and marks
// itself unwritable meanwhile. Ours appends the frames of every packet it
// is handed to one pending buffer and a writer goroutine, started only
// while there is something to write, sends all that accumulated in one
// system call. Under load a socket's acknowledgements and broadcasts
// share writes; idle, a socket holds no writer and no write buffer. The
// transport is always writable, so volatile packets are never discarded
// because a write happens to be in flight.
//
// Every frame is written by this transport, control frames included: the
// WebSocket library's own writers (its automatic pong and close replies)
// are replaced by handlers that queue the same frames here, so no two
// writers ever interleave on the connection.

const (
	// wsWriteTimeout bounds one write: a peer that reads nothing for this
	// long is dropped.
	wsWriteTimeout = 10 * time.Second
	// wsMaxPending bounds what may wait for a slow reader; past it the
	// connection is dropped rather than holding memory for it.
	wsMaxPending = 8 << 20
	// wsKeepBuffer is the largest pending buffer kept for reuse once written.
	wsKeepBuffer = 16 << 10
)

type websocketBuilder struct{ transports.WebSocketBuilder }

// websocketCtor builds the WebSocket transport.
func websocketCtor() transports.TransportCtor { return &websocketBuilder{} }

func (*websocketBuilder) New(ctx *types.HttpContext) transports.Transport {
	w := &wsTransport{Transport: transports.MakeTransport()}
	w.Prototype(w)
	w.Construct(ctx)
	return w
}

type wsTransport struct {
	transports.Transport

	conn *types.WebSocketConn
	net  net.Conn
	idle time.Duration // a connection silent this long is dropped
	lane *hotLane      // nil: every packet goes to the library

	mu      sync.Mutex
	pending []byte // frames waiting for the writer
	spare   []byte // the writer's last buffer, reused
	writing bool   // a writer goroutine runs
	closing bool   // close once pending is written
	closed  bool
	done    chan struct{} // closed when the connection is closed
	heard   uint8         // which of the engine's listeners are attached (wsHeard)
}

// The engine attaches its packet, close and error listeners just after it
// builds a transport, for a new session or an upgrade. Reading starts once
// all three are there: a message read before (a client's "2probe", sent
// right after the WebSocket handshake) would be emitted to no one and the
// upgrade would hang until the client gave up.
const (
	wsHeardPacket uint8 = 1 << iota
	wsHeardClose
	wsHeardError
	wsHeard = wsHeardPacket | wsHeardClose | wsHeardError
)

func (w *wsTransport) Construct(ctx *types.HttpContext) {
	w.Transport.Construct(ctx)
	w.conn = ctx.Websocket
	w.idle = ctx.IdleTimeout
	w.lane = hotLaneOf(ctx)
	w.net = w.conn.NetConn()
	w.done = make(chan struct{})
	w.conn.SetPingHandler(func(data string) error {
		w.queueControl(ws.PongMessage, []byte(data))
		return nil
	})
	w.conn.SetCloseHandler(func(code int, text string) error {
		msg := []byte{}
		if code != ws.CloseNoStatusReceived {
			msg = ws.FormatCloseMessage(code, "")
		}
		w.queueControl(ws.CloseMessage, msg)
		return nil
	})
	_ = w.conn.On("error", func(errs ...any) {
		var err error
		if len(errs) > 0 {
			err, _ = errs[0].(error)
		}
		w.OnError("websocket error", err)
	})
	_ = w.conn.Once("close", func(...any) { w.OnClose() })
	w.SetWritable(true)
	w.SetPerMessageDeflate(nil)
}

func (w *wsTransport) On(ev types.EventName, ls ...types.EventListener) error {
	err := w.Transport.On(ev, ls...)
	w.listened(ev)
	return err
}

func (w *wsTransport) Once(ev types.EventName, ls ...types.EventListener) error {
	err := w.Transport.Once(ev, ls...)
	w.listened(ev)
	return err
}

// listened records an engine listener and starts reading once all are
// attached.
func (w *wsTransport) listened(ev types.EventName) {
	var bit uint8
	switch ev {
	case "packet":
		bit = wsHeardPacket
	case "close":
		bit = wsHeardClose
	case "error":
		bit = wsHeardError
	default:
		return
	}
	w.mu.Lock()
	was := w.heard
	w.heard |= bit
	start := was != wsHeard && w.heard == wsHeard
	w.mu.Unlock()
	if start {
		go w.read()
	}
}

// OnRequest refuses a polling request that reaches the session after its
// upgrade completed (the engine checked the transport just before). The
// engine also hands over the WebSocket's own handshake request: that one
// is the connection itself.
func (w *wsTransport) OnRequest(ctx *types.HttpContext) {
	if ctx.Websocket == nil {
		refuse(ctx)
	}
}

func (w *wsTransport) Name() string          { return transports.WEBSOCKET }
func (w *wsTransport) HandlesUpgrades() bool { return true }

// read delivers each message received until the connection ends.
func (w *wsTransport) read() {
	defer w.conn.Emit("close")
	for {
		if w.idle > 0 {
			_ = w.conn.SetReadDeadline(time.Now().Add(w.idle))
		}
		mt, data, err := w.conn.ReadMessage()
		if err != nil {
			if !ws.IsUnexpectedCloseError(err) && !errors.Is(err, net.ErrClosed) && !isCloseFrame(err) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				w.conn.Emit("error", err)
			}
			return
		}
		switch mt {
		case ws.TextMessage:
			if w.lane != nil && len(data) > 1 && data[0] == '4' && w.lane.take(w, data[1:]) {
				continue
			}
			w.OnData(types.NewStringBuffer(data))
		case ws.BinaryMessage:
			w.OnData(types.NewBytesBuffer(data))
		}
	}
}

func isCloseFrame(err error) bool {
	var ce *ws.CloseError
	return errors.As(err, &ce)
}

// Send appends the packets' frames to the pending buffer and makes sure a
// writer runs. It never blocks on the network.
func (w *wsTransport) Send(packets []*packet.Packet) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	for _, p := range packets {
		if p.Options != nil && p.Options.WsPreEncodedFrame != nil {
			f := p.Options.WsPreEncodedFrame
			_, text := f.(*types.StringBuffer)
			w.pending = appendFrame(w.pending, text, f.Bytes())
			continue
		}
		data, err := w.Parser().EncodePacket(p, w.SupportsBinary())
		if err != nil {
			continue
		}
		_, text := data.(*types.StringBuffer)
		w.pending = appendFrame(w.pending, text, data.Bytes())
	}
	if w.queuedLocked() {
		// The packets are handed over: the engine may run its send callbacks.
		w.Emit("drain")
	}
}

// queuedLocked ends a queueing (called with mu held; returns with it
// released): it starts the writer if none runs, or drops a peer whose
// backlog is over the bound. It reports whether the connection goes on.
func (w *wsTransport) queuedLocked() bool {
	over := len(w.pending) > wsMaxPending
	start := w.startLocked()
	w.mu.Unlock()
	if over {
		w.OnError("websocket write backlog", errors.New("the peer reads too slowly"))
		w.shut()
		return false
	}
	if start {
		go w.write()
	}
	return true
}

// sendText queues one text frame carrying an Engine.IO packet.
func (w *wsTransport) sendText(data []byte) {
	w.mu.Lock()
	if w.closed || w.closing {
		w.mu.Unlock()
		return
	}
	w.pending = appendFrame(w.pending, true, data)
	w.queuedLocked()
}

// queueControl queues a control frame (pong or close reply).
func (w *wsTransport) queueControl(op int, data []byte) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.pending = appendHeader(w.pending, byte(op), len(data))
	w.pending = append(w.pending, data...)
	if op == ws.CloseMessage {
		w.closing = true
	}
	w.queuedLocked()
}

func (w *wsTransport) startLocked() bool {
	if w.writing || len(w.pending) == 0 {
		return false
	}
	w.writing = true
	return true
}

// write sends what is pending, in as few system calls as it accumulates,
// until nothing is left; then it ends (or closes, if asked to).
func (w *wsTransport) write() {
	for {
		w.mu.Lock()
		if len(w.pending) == 0 || w.closed {
			w.writing = false
			closeNow := w.closing && !w.closed
			w.mu.Unlock()
			if closeNow {
				w.shut()
			}
			return
		}
		buf := w.pending
		w.pending = w.spare[:0]
		w.spare = nil
		w.mu.Unlock()

		_ = w.net.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
		_, err := w.net.Write(buf)
		if err != nil {
			w.mu.Lock()
			w.writing = false
			w.mu.Unlock()
			if !errors.Is(err, net.ErrClosed) {
				w.OnError("websocket write", err)
			}
			w.shut()
			return
		}
		w.mu.Lock()
		if cap(buf) <= wsKeepBuffer {
			w.spare = buf[:0]
		}
		w.mu.Unlock()
	}
}

// shut closes the connection now.
func (w *wsTransport) shut() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.pending, w.spare = nil, nil
	close(w.done)
	w.mu.Unlock()
	_ = w.conn.Close() // emits "close" on the connection
}

// OnClose ends the transport on every path (the peer left, a write failed,
// or the engine closed it).
func (w *wsTransport) OnClose() {
	w.shut()
	w.Transport.OnClose()
}

// DoClose closes the connection once what is already queued is written
// (the engine queues its last packets, e.g. a disconnect, just before).
func (w *wsTransport) DoClose(fn types.Callable) {
	if fn != nil {
		fn()
	}
	w.mu.Lock()
	w.closing = true
	idle := !w.writing
	w.mu.Unlock()
	if idle {
		w.shut()
		return
	}
	// The writer closes once done; bound the wait by one write timeout.
	go func() {
		select {
		case <-w.done:
		case <-time.After(wsWriteTimeout):
			w.shut()
		}
	}()
}

// appendFrame appends one unmasked, final server frame.
func appendFrame(b []byte, text bool, payload []byte) []byte {
	op := byte(ws.BinaryMessage)
	if text {
		op = byte(ws.TextMessage)
	}
	b = appendHeader(b, op, len(payload))
	return append(b, payload...)
}

func appendHeader(b []byte, op byte, n int) []byte {
	b = append(b, 0x80|op)
	switch {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return b
}
