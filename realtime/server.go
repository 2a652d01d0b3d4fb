// Package realtime is the Socket.IO edge: authenticated connections,
// consultation rooms, chat events, call signaling and live pushes. Handlers
// only decode, call the models package and acknowledge.
package realtime

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	rds "github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/adapters/redis/v3/adapter"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
	"golang.org/x/sync/singleflight"

	"teleconsult/models"
	"teleconsult/wire"
)

// Options configure the Socket.IO server.
type Options struct {
	Log      *slog.Logger
	Registry prometheus.Registerer
	// Redis, when set, carries broadcasts between nodes (the Redis adapter).
	Redis *rds.Client
	// RedisChannel prefixes the adapter's channels (nodes of one
	// deployment share it).
	RedisChannel string
	// AllowOrigin decides whether a browser page from origin may connect
	// (the same rule as REST's CORS). Nil allows same-host pages only.
	AllowOrigin func(origin, host string) bool

	MaxHTTPBufferSize int64
	// PingInterval and PingTimeout are the Engine.IO heartbeat: a peer
	// that stops answering is dropped within their sum, which the
	// contract caps at MaxHeartbeat (15 s).
	PingInterval time.Duration
	PingTimeout  time.Duration
	// EventRate and EventBurst are each user's token bucket on this node,
	// shared by all of their sockets; every event counts, unknown ones too.
	EventRate  float64
	EventBurst int
	// MaxPerUser caps one user's simultaneous sockets on a node.
	MaxPerUser int
	// RecoveryWindow is how long a dropped connection may come back with
	// its rooms (Socket.IO connection state recovery); 0 turns it off.
	RecoveryWindow time.Duration
	// RecoveryMaxPackets bounds the broadcasts kept for recovery (see
	// recovery.go); a client whose place is older connects afresh.
	RecoveryMaxPackets int
	// CallGrace is how long a call survives all of one party's devices
	// leaving its room.
	CallGrace time.Duration
}

// The heartbeat defaults: a dead peer is noticed within 15 s (the
// contract's MaxHeartbeat), and the timeout is long enough for a loaded
// mobile network to answer a ping.
const (
	DefaultRecoveryMaxPackets = 65536

	DefaultPingInterval = 10 * time.Second
	DefaultPingTimeout  = 5 * time.Second
	MaxHeartbeat        = 15 * time.Second
)

// Services are the domain operations the socket handlers call.
type Services struct {
	Auth  models.AuthService
	Chat  models.ChatService
	Calls models.CallService
	Clock models.Clock
}

func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxHTTPBufferSize == 0 {
		o.MaxHTTPBufferSize = 1 << 20
	}
	if o.PingInterval == 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.PingTimeout == 0 {
		o.PingTimeout = DefaultPingTimeout
	}
	if o.EventRate == 0 {
		o.EventRate = 20
	}
	if o.EventBurst == 0 {
		o.EventBurst = 40
	}
	if o.MaxPerUser == 0 {
		o.MaxPerUser = 10
	}
	if o.RecoveryMaxPackets == 0 {
		o.RecoveryMaxPackets = DefaultRecoveryMaxPackets
	}
	if o.CallGrace == 0 {
		o.CallGrace = 20 * time.Second
	}
}

// Server is the Socket.IO server of one node.
type Server struct {
	// unreadRuns are the chat:unread look-ups running, each with whether
	// it must look once more (see sendUnread).
	unreadMu   sync.Mutex
	unreadRuns map[unreadKey]*bool
	// ringing coalesces the look-ups of ringing calls (see ringAgain).
	ringing singleflight.Group
	svc     Services
	opts    Options
	log     *slog.Logger
	io      *socket.Server
	handler http.Handler
	metrics *metrics
	gate    *handshakeGate

	// mu guards the admitted sockets of this node and their users.
	mu    sync.Mutex
	conns map[socket.SocketId]*member
	users map[string]*userSlot

	// flight counts the event handlers running; draining refuses new ones.
	flight   sync.Mutex
	inflight int
	draining bool
	idle     chan struct{}

	stopOnce sync.Once
	closed   chan struct{}
	fan      *fanout
	hot      *hotLane
}

// New builds the server; Close stops it.
func New(svc Services, opts Options) (*Server, error) {
	opts.defaults()
	if svc.Clock == nil {
		svc.Clock = models.SystemClock{}
	}
	s := &Server{svc: svc, opts: opts, log: opts.Log, metrics: newMetrics(opts.Registry),
		conns: map[socket.SocketId]*member{}, users: map[string]*userSlot{}, closed: make(chan struct{}), hot: newHotLane()}
	s.fan = newFanout(s.log, s.metrics.droppedBroadcasts.Inc)
	if opts.PingInterval+opts.PingTimeout > MaxHeartbeat {
		s.log.Warn("socket heartbeat is longer than the contract allows: dead peers are noticed late",
			"ping_interval", opts.PingInterval.String(), "ping_timeout", opts.PingTimeout.String(), "max", MaxHeartbeat.String())
	}

	so := socket.DefaultServerOptions()
	so.SetServeClient(false)
	so.SetPingInterval(opts.PingInterval)
	so.SetPingTimeout(opts.PingTimeout)
	so.SetMaxHttpBufferSize(opts.MaxHTTPBufferSize)
	so.SetAllowUpgrades(true)
	so.SetConnectTimeout(10 * time.Second)
	// checkOrigin below has already refused foreign pages; let the engine's
	// WebSocket upgrade accept the origins it let through.
	so.SetCors(&types.Cors{Origin: func(string) bool { return true }, Credentials: true})
	so.SetParser(wireParser{})
	s.gate = newHandshakeGate()
	so.SetTransports(s.gate.transports())
	if opts.RecoveryWindow > 0 {
		csr := &socket.ConnectionStateRecovery{}
		csr.SetMaxDisconnectionDuration(opts.RecoveryWindow.Milliseconds())
		// A recovered connection still proves its token again.
		csr.SetSkipMiddlewares(false)
		so.SetConnectionStateRecovery(csr)
		if opts.Redis == nil {
			so.SetAdapter(&recoveryBuilder{window: opts.RecoveryWindow, max: opts.RecoveryMaxPackets})
		}
	}
	if opts.Redis != nil {
		rc := redisLink(opts.Redis, s.log, nil)
		ao := &adapter.RedisAdapterOptions{}
		ao.SetKey(cmp.Or(opts.RedisChannel, "teleconsult-socket.io"))
		ao.SetRequestsTimeout(3 * time.Second)
		ao.SetPublishOnSpecificResponseChannel(true)
		so.SetAdapter(&adapter.RedisAdapterBuilder{Redis: rc, Opts: ao})
	}
	s.io = socket.NewServer(nil, so)
	s.io.Use(s.authenticate)
	_ = s.io.On("connection", func(args ...any) {
		if sock, ok := args[0].(*socket.Socket); ok {
			s.onConnection(sock)
		}
	})
	eio := s.io.ServeHandler(so)
	s.gate.bind(s.io.Engine(), opts.PingTimeout)
	s.handler = s.checkOrigin(eio)
	return s, nil
}

// ServeHTTP serves /socket.io/. Once Shutdown has begun, new connections
// are refused (503 unavailable); open ones are served until they close.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.stopped() && !r.URL.Query().Has("sid") {
		s.metrics.refused.WithLabelValues("shutdown").Inc()
		writeError(w, http.StatusServiceUnavailable, models.EUNAVAILABLE, "this server is restarting; connect again")
		return
	}
	s.handler.ServeHTTP(w, r.WithContext(s.hot.context(r.Context())))
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(wire.ErrorBody{Error: wire.Error{Code: code, Message: message}})
}

// checkOrigin refuses a browser connection (polling or WebSocket) from a
// page of a foreign origin before Engine.IO sees it.
func (s *Server) checkOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && !s.allowOrigin(origin, r.Host) {
			s.metrics.refused.WithLabelValues("origin").Inc()
			writeError(w, http.StatusForbidden, models.EFORBIDDEN, "this origin may not connect")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) allowOrigin(origin, host string) bool {
	if s.opts.AllowOrigin != nil {
		return s.opts.AllowOrigin(origin, host)
	}
	return origin == "http://"+host || origin == "https://"+host
}

// SocketsOnline counts the sockets connected to every node.
func (s *Server) SocketsOnline(ctx context.Context) (int, error) {
	socks, err := s.fetch(ctx, s.io.Sockets().FetchSockets())
	return len(socks), err
}

// fetch waits for a FetchSockets answer (from every node with the Redis adapter).
func (s *Server) fetch(ctx context.Context, f func(func([]*socket.RemoteSocket, error))) ([]*socket.RemoteSocket, error) {
	type result struct {
		socks []*socket.RemoteSocket
		err   error
	}
	ch := make(chan result, 1)
	f(func(socks []*socket.RemoteSocket, err error) { ch <- result{socks, err} })
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	select {
	case r := <-ch:
		return r.socks, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// session is what a socket knows of its user: who, their event budget
// (shared by the user's sockets on this node), the timer that ends the
// socket when the token expires, and the calls it knows to be ringing or
// active.
type session struct {
	principal models.Principal
	actor     models.Actor
	bucket    *bucket
	expiry    *time.Timer
	// closing is set once the server decided to end the socket.
	closing atomic.Bool

	mu    sync.Mutex
	calls map[string]string // appointment id → call id
	// peers are, per room this socket joined, the other participants.
	peers map[string][]string

	// listeners are the socket's event listeners by name (written while
	// the socket is set up, read-only after).
	listeners map[string]func(...any)
}

func sessionOf(sock *socket.Socket) *session {
	sess, _ := sock.Data().(*session)
	return sess
}

// authenticate is the handshake middleware: auth.token must be a valid
// access token of an enabled user. A bad token is "unauthorized" (nothing
// more is said); a failure on our side (the database is down) is
// "unavailable", so that clients retry rather than sign the user out.
func (s *Server) authenticate(sock *socket.Socket, next func(*socket.ExtendedError)) {
	if s.stopped() {
		s.refuse(sock, next, "shutdown", models.EUNAVAILABLE, "this server is restarting; connect again")
		return
	}
	raw := ""
	if hs := sock.Handshake(); hs != nil {
		if t, ok := hs.Auth["token"].(string); ok {
			raw = t
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pr, err := s.svc.Auth.Authenticate(ctx, raw)
	if err != nil {
		switch code := models.ErrorCode(err); code {
		case models.EUNAVAILABLE, models.EINTERNAL:
			s.log.Error("socket handshake: cannot check the token", "code", code, "err", err)
			s.refuse(sock, next, "unavailable", models.EUNAVAILABLE, "the service is unavailable; retry shortly")
		default:
			s.refuse(sock, next, "unauthorized", models.EUNAUTHORIZED, "")
		}
		return
	}
	if s.userSockets(pr.User.ID) >= s.opts.MaxPerUser {
		s.refuse(sock, next, "too_many", models.ERATELIMITED, "too many connections for this account")
		return
	}
	sock.SetData(&session{principal: pr, actor: pr.Actor(""), calls: map[string]string{}, peers: map[string][]string{}})
	next(nil)
}

// refuse ends a handshake with connect_error code (its message).
func (s *Server) refuse(sock *socket.Socket, next func(*socket.ExtendedError), reason, code, message string) {
	s.metrics.refused.WithLabelValues(reason).Inc()
	var data any
	if message != "" {
		data = map[string]any{"message": message}
	}
	next(socket.NewExtendedError(code, data))
	s.gate.open(sock)
}

func userRoom(id string) socket.Room { return socket.Room("user:" + id) }

// sessionRoom holds the sockets of one sign-in session (refresh-token family).
func sessionRoom(id string) socket.Room { return socket.Room("session:" + id) }
func apptRoom(id string) socket.Room    { return socket.Room("appt:" + id) }

func (s *Server) onConnection(sock *socket.Socket) {
	sess := sessionOf(sock)
	if sess == nil { // cannot happen: the middleware sets it
		s.gate.open(sock)
		sock.Disconnect(true)
		return
	}
	// Admit first, then listen for the end: a socket that closed in
	// between is seen by the Connected check below. admit and release
	// are idempotent per socket id, so every path may call them.
	s.admit(sock, sess)
	// The token's expiry ends the socket: the client reconnects with a fresh one.
	sess.expiry = time.AfterFunc(max(sess.principal.ExpiresAt.Sub(s.svc.Clock.Now()), 0), func() {
		s.end(sock, sess, reasonTokenExpired, func() { sock.Disconnect(true) },
			namedEvent{"session:expired", wire.SessionExpired{Reason: "token_expired"}})
	})
	engineID := string(sock.Conn().Id())
	var gone sync.Once
	release := func() {
		gone.Do(func() {
			sess.expiry.Stop()
			s.hot.remove(engineID, sock)
			s.release(sock)
		})
	}
	_ = sock.On("disconnecting", func(...any) { s.onDisconnecting(sock, sess) })
	_ = sock.On("disconnect", func(...any) { release() })
	budget := s.budget(sock, sess)
	sock.Use(budget)
	sock.OnAnyOutgoing(sess.observeCalls)
	s.registerChat(sock, sess)
	s.registerCallHandlers(sock, sess)
	sock.Join(userRoom(sess.actor.UserID), roleRoom(sess.actor.Role), socket.Room("role:all"))
	if sess.actor.SessionID != "" {
		sock.Join(sessionRoom(sess.actor.SessionID))
	}
	s.hot.add(engineID, &hotSocket{sock: sock, sess: sess, budget: budget, listeners: sess.listeners})
	switch {
	case !sock.Connected():
		release()
	case sock.Conn().ReadyState() != "open":
		// The connection closed after the library's last look and before
		// it tracked this socket, which it then never closes: end it here.
		sock.Disconnect(true)
		release()
	}
	// Every listener is in place: let the client's first events through.
	s.gate.open(sock)
	go s.ringAgain(sock, sess)
}
