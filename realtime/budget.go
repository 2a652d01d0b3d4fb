package realtime

import (
	"encoding/json"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
	"golang.org/x/time/rate"

	"teleconsult/models"
)

// member is an admitted socket of this node.
type member struct {
	sock *socket.Socket
	sess *session
}

// userSlot is what one user holds on this node: how many sockets, and the
// event budget they share.
type userSlot struct {
	n      int
	budget *bucket
	// forget drops the budget a while after the user's last socket left
	// (so that reconnecting does not refill it).
	forget *time.Timer
}

// budgetMemory is how long a user's budget outlives their last socket:
// the flooding window.
const budgetMemory = floodWindow

// admit counts sock once (keyed by its id) against its user's sockets and
// the connected gauge, and hands the session the user's budget.
func (s *Server) admit(sock *socket.Socket, sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := sock.Id()
	if m, ok := s.conns[id]; ok {
		if m.sock == sock {
			return
		}
		// A recovered connection keeps its id; the old socket is gone.
		s.releaseLocked(id)
	}
	u := s.users[sess.actor.UserID]
	if u == nil {
		u = &userSlot{budget: newBucket(s.opts.EventRate, s.opts.EventBurst)}
		s.users[sess.actor.UserID] = u
	}
	if u.forget != nil {
		u.forget.Stop()
		u.forget = nil
	}
	u.n++
	sess.bucket = u.budget
	s.conns[id] = &member{sock: sock, sess: sess}
	s.metrics.connected.Inc()
}

// release undoes admit, once, whichever way the socket ended.
func (s *Server) release(sock *socket.Socket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.conns[sock.Id()]; ok && m.sock == sock {
		s.releaseLocked(sock.Id())
	}
}

func (s *Server) releaseLocked(id socket.SocketId) {
	m := s.conns[id]
	delete(s.conns, id)
	s.metrics.connected.Dec()
	userID := m.sess.actor.UserID
	u := s.users[userID]
	if u == nil {
		return
	}
	if u.n--; u.n > 0 {
		return
	}
	u.n = 0
	u.forget = time.AfterFunc(budgetMemory, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.users[userID] == u && u.n == 0 {
			delete(s.users, userID)
		}
	})
}

// userSockets is how many sockets a user has on this node. Connections
// are counted once connected (a handshake that dies half-way must not
// hold a place), so racing handshakes may pass the cap by a few.
func (s *Server) userSockets(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[userID]; u != nil {
		return u.n
	}
	return 0
}

// members lists the admitted sockets.
func (s *Server) members() []*member {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*member, 0, len(s.conns))
	for _, m := range s.conns {
		out = append(out, m)
	}
	return out
}

// errDropped short-circuits an event refused by the budget (the library
// only reports it to the socket's "error" listeners; there are none).
var errDropped = errors.New("event dropped")

var errRateLimited = models.Errorf(models.ERATELIMITED, "too many events; slow down")

// budget is the socket's event middleware: it sees every event, known or
// not, before any handler, and charges it once to the user's budget. A
// refused known event is acked rate_limited; a user that keeps flooding
// loses the socket, with disconnect:reason rate_limited.
func (s *Server) budget(sock *socket.Socket, sess *session) socket.SocketMiddleware {
	return func(args []any, next func(error)) {
		name := ""
		if len(args) > 0 {
			name, _ = args[0].(string)
		}
		known := s.known(name)
		if !known {
			s.metrics.unknown.Inc()
		}
		if sess.closing.Load() {
			next(errDropped)
			return
		}
		if sess.bucket.allow() {
			next(nil)
			return
		}
		if known {
			s.metrics.events.WithLabelValues(name, models.ERATELIMITED).Inc()
			_, reply := splitArgs(args[1:])
			reply(errReply(sess.bucket.refusal()))
		}
		if sess.bucket.flooding() {
			s.log.Warn("socket disconnected for flooding", "user_id", sess.actor.UserID, "socket_id", string(sock.Id()))
			s.metrics.refused.WithLabelValues("flooding").Inc()
			s.end(sock, sess, reasonRateLimited, func() { sock.Disconnect(true) })
		}
		next(errDropped)
	}
}

// floodWindow is the span over which refusals are counted.
const floodWindow = 10 * time.Second

// bucket is an event budget: a token bucket, and a count of recent
// refusals that marks sustained flooding.
type bucket struct {
	limiter *rate.Limiter
	burst   int

	mu      sync.Mutex
	refused []time.Time
}

func newBucket(perSecond float64, burst int) *bucket {
	return &bucket{limiter: rate.NewLimiter(rate.Limit(perSecond), burst), burst: burst}
}

func (b *bucket) allow() bool {
	if b.limiter.Allow() {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refused = append(b.refused, time.Now())
	return false
}

// refusal is the rate_limited error, with details.retry_after: the
// seconds until the budget has room for one more event.
func (b *bucket) refusal() error {
	wait := 1
	if l := float64(b.limiter.Limit()); l > 0 && l < 1 {
		wait = int(math.Ceil(1 / l))
	}
	return &models.Error{Code: errRateLimited.Code, Message: errRateLimited.Message,
		Details: map[string]any{"retry_after": wait}, RetryAfterSeconds: wait}
}

// flooding: more refusals in the last 10 s than twice the burst.
func (b *bucket) flooding() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	cut := time.Now().Add(-floodWindow)
	i := 0
	for i < len(b.refused) && b.refused[i].Before(cut) {
		i++
	}
	b.refused = b.refused[i:]
	return len(b.refused) > 2*b.burst
}

// DisconnectReason is the payload of disconnect:reason, the last event a
// socket gets before the server ends it (after centrifuge's typed
// disconnects): code says why; reconnect whether connecting again right
// away can help.
type DisconnectReason struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Reconnect bool   `json:"reconnect"`
}

var (
	reasonRateLimited  = DisconnectReason{Code: models.ERATELIMITED, Message: "too many events", Reconnect: false}
	reasonShutdown     = DisconnectReason{Code: "shutdown", Message: "this server is restarting; connect again", Reconnect: true}
	reasonTokenExpired = DisconnectReason{Code: "token_expired", Message: "the access token expired; connect again with a fresh one", Reconnect: true}
)

// endGrace bounds how long the last events may take to leave before the
// connection is closed anyway.
const endGrace = time.Second

// namedEvent is a server→client event written by end.
type namedEvent struct {
	name    string
	payload any
}

// end ends a socket: it writes the given events and disconnect:reason,
// then calls closeFn once they have left (or after endGrace), so that
// nothing written before, acks included, is cut off. Only the first call
// for a socket does anything; the returned channel is closed once closeFn
// has run.
func (s *Server) end(sock *socket.Socket, sess *session, why DisconnectReason, closeFn func(), before ...namedEvent) <-chan struct{} {
	done := make(chan struct{})
	if !sess.closing.CompareAndSwap(false, true) {
		close(done)
		return done
	}
	var once sync.Once
	finish := func() {
		once.Do(func() {
			closeFn()
			close(done)
		})
	}
	conn := sock.Conn()
	for _, ev := range before {
		if frame, err := eventFrame(ev.name, ev.payload); err == nil {
			conn.Write(frame, nil, nil)
		}
	}
	time.AfterFunc(endGrace, finish)
	frame, err := eventFrame("disconnect:reason", why)
	if err != nil {
		go finish()
		return done
	}
	// The engine calls back once the transport has written this frame,
	// and with it everything queued before.
	conn.Write(frame, nil, func(transports.Transport) { go finish() })
	return done
}

// eventFrame encodes a Socket.IO EVENT packet of the main namespace, to
// be written straight to the Engine.IO connection.
func eventFrame(name string, payload any) (types.BufferInterface, error) {
	b, err := json.Marshal([]any{name, payload})
	if err != nil {
		return nil, err
	}
	return types.NewStringBufferString("2" + string(b)), nil
}
