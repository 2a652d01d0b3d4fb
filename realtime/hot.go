package realtime

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// The hot lane carries the events sent most, ICE candidates (dozens per
// call set-up, in bursts) and chat messages, past the library's general
// machinery.
//
// In: our WebSocket transport looks at each text message as it is read.
// A hot event ("42[\"rtc:ice\",…]", "42[\"chat:send\",…]") of an admitted socket is
// decoded here (parser.go), charged to the user's budget by the same
// middleware, and handed to the same listener every other event gets,
// through the socket's own task queue in the same two steps as the
// library's events, so it keeps its place among the socket's other events
// (a candidate never overtakes the offer sent before it).
// What it skips is the library's per-packet event emitters, its packet
// decoder and middleware chain. The acknowledgement, when one is asked
// for, is written as the library would write it ("43<id>[…]").
//
// Out: on a single node (no Redis adapter) a candidate, or a stored chat
// message, is encoded once and its frame appended to the WebSocket
// transport of each socket of the room's other members, instead of going
// through the broadcast operator and the adapter, which build sets of
// rooms and socket ids per call. Sockets on polling get the same packet
// through the engine. Candidates are not kept for connection-state
// recovery; chat messages are recorded first, exactly as the adapter
// would record them (see recovery.go). With Redis these broadcasts go
// through the adapter as every other.

// hotEvents are the events the hot lane takes; hotPrefixes are how their
// packets begin after the ack id (`["rtc:ice",`), derived from them.
var (
	hotEvents   = map[string]bool{"rtc:ice": true, "chat:send": true}
	hotPrefixes = func() []string {
		var out []string
		for name := range hotEvents {
			out = append(out, string(appendJSONString([]byte("["), name))+",")
		}
		return out
	}()
)

// hotLane maps the Engine.IO session of each admitted socket to it.
type hotLane struct {
	mu    sync.RWMutex
	socks map[string]*hotSocket
}

type hotSocket struct {
	sock      *socket.Socket
	sess      *session
	budget    socket.SocketMiddleware
	listeners map[string]func(...any)
}

func newHotLane() *hotLane { return &hotLane{socks: map[string]*hotSocket{}} }

type hotKey struct{}

// withHotLane lets the transports of a request find the lane.
func (l *hotLane) context(ctx context.Context) context.Context {
	return context.WithValue(ctx, hotKey{}, l)
}

func hotLaneOf(ctx *types.HttpContext) *hotLane {
	if ctx == nil || ctx.Request() == nil {
		return nil
	}
	l, _ := ctx.Request().Context().Value(hotKey{}).(*hotLane)
	return l
}

func (l *hotLane) add(engineID string, h *hotSocket) {
	l.mu.Lock()
	l.socks[engineID] = h
	l.mu.Unlock()
}

func (l *hotLane) remove(engineID string, sock *socket.Socket) {
	l.mu.Lock()
	if h, ok := l.socks[engineID]; ok && h.sock == sock {
		delete(l.socks, engineID)
	}
	l.mu.Unlock()
}

// take handles one Socket.IO packet (the Engine.IO message's data) if it
// is a hot event of an admitted socket; false leaves it to the library.
func (l *hotLane) take(w *wsTransport, pkt []byte) bool {
	if len(pkt) < 2 || pkt[0] != '2' || !hotName(pkt) {
		return false
	}
	l.mu.RLock()
	h := l.socks[w.Sid()]
	l.mu.RUnlock()
	if h == nil {
		return false
	}
	p, ok, err := decodeEvent(pkt)
	if !ok || err != nil || p.Nsp != "/" {
		return false
	}
	args := p.Data.([]any)
	name := args[0].(string)
	listener := h.listeners[name]
	if listener == nil || !hotEvents[name] {
		return false
	}
	if p.Id != nil {
		id := *p.Id
		args = append(args, func(out []any, _ error) { w.sendText(ackFrame(id, out)) })
	}
	// The library takes an event in two steps on the socket's queue
	// (decode, then middleware and listener); so does the hot lane, which
	// keeps the order of the socket's events whichever way each came.
	h.sock.Enqueue(func() {
		h.budget(args, func(err error) {
			if err != nil {
				return
			}
			h.sock.Enqueue(func() {
				if h.sock.Connected() {
					listener(args[1:]...)
				}
			})
		})
	})
	return true
}

// hotName cheaply tells whether a packet names a hot event, before any
// decoding: `2["rtc:ice",` or `2<id>["chat:send",` and the like.
func hotName(pkt []byte) bool {
	i := 1
	for i < len(pkt) && pkt[i] >= '0' && pkt[i] <= '9' {
		i++
	}
	rest := pkt[i:]
	for _, p := range hotPrefixes {
		if len(rest) > len(p) && string(rest[:len(p)]) == p {
			return true
		}
	}
	return false
}

// ackFrame is the Engine.IO message carrying a Socket.IO ACK.
func ackFrame(id uint64, args []any) []byte {
	b := make([]byte, 0, 64)
	b = append(b, '4', '3')
	b = strconv.AppendUint(b, id, 10)
	b = append(b, '[')
	for i, a := range args {
		if i > 0 {
			b = append(b, ',')
		}
		if raw, ok := a.(json.RawMessage); ok {
			b = append(b, raw...)
		} else {
			b = append(b, rawJSON(a)...)
		}
	}
	return append(b, ']')
}

// deliverLocal sends event to the sockets of room on this node, except
// those of the user exceptUser: one encoding, one frame for all.
func (s *Server) deliverLocal(room socket.Room, exceptUser, event string, payload json.RawMessage) {
	s.deliver(room, []any{event, payload}, func(_ *socket.Socket, sess *session) bool {
		return sess.actor.UserID == exceptUser
	})
}

// deliverKept is deliverLocal for an event kept for connection-state
// recovery: it is recorded as the adapter would record a broadcast (and
// carries its offset), then delivered the same way, except to the socket
// exceptSocket.
func (s *Server) deliverKept(room socket.Room, exceptSocket socket.SocketId, event string, payload json.RawMessage) {
	args := []any{event, payload}
	if ra, ok := s.io.Sockets().Adapter().(*recoveryAdapter); ok {
		p := &parser.Packet{Type: parser.EVENT, Nsp: "/", Data: args}
		opts := &socket.BroadcastOptions{Rooms: types.NewSet(room), Except: types.NewSet[socket.Room]()}
		if exceptSocket != "" {
			opts.Except.Add(socket.Room(exceptSocket))
		}
		ra.record(p, opts)
		args = p.Data.([]any)
	}
	s.deliver(room, args, func(sock *socket.Socket, _ *session) bool { return sock.Id() == exceptSocket })
}

// deliver writes one event to the connected sockets of room on this node
// that skip does not exclude: encoded once; one frame appended to each
// WebSocket transport, the same packet handed to the engine for others.
func (s *Server) deliver(room socket.Room, args []any, skip func(*socket.Socket, *session) bool) {
	nsp := s.io.Sockets()
	ids, ok := nsp.Adapter().Rooms().Load(room)
	if !ok {
		return
	}
	var packet types.BufferInterface
	var frame []byte
	for _, id := range ids.Keys() {
		sock, ok := nsp.Sockets().Load(id)
		if !ok || !sock.Connected() {
			continue
		}
		if sess := sessionOf(sock); sess == nil || skip(sock, sess) {
			continue
		}
		if packet == nil {
			packet = wireEnc.Encode(&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: args})[0]
		}
		w := wsOf(sock)
		if w == nil {
			sock.Client().WriteToEngine([]types.BufferInterface{packet}, &socket.WriteOptions{PreEncoded: true})
			continue
		}
		if frame == nil {
			frame = make([]byte, 0, packet.Len()+1)
			frame = append(append(frame, '4'), packet.Bytes()...)
		}
		w.sendText(frame)
	}
}

// wsOf returns a socket's WebSocket transport (ours), if it is on one.
func wsOf(sock *socket.Socket) *wsTransport {
	switch t := sock.Conn().Transport().(type) {
	case *wsTransport:
		return t
	case *gatedTransport:
		w, _ := t.Transport.(*wsTransport)
		return w
	}
	return nil
}
