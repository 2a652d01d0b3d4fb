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
	"time"

	"github.com/prometheus/client_golang/prometheus"
	rds "github.com/redis/go-redis/v9"
	redisadapter "github.com/zishang520/socket.io/adapters/redis/v3"
	"github.com/zishang520/socket.io/adapters/redis/v3/adapter"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

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
	PingInterval      time.Duration
	PingTimeout       time.Duration
	// EventRate and EventBurst are each socket's token bucket.
	EventRate  float64
	EventBurst int
	// MaxPerUser caps one user's simultaneous sockets on a node.
	MaxPerUser int
	// RecoveryWindow is how long a dropped connection may come back with
	// its rooms (Socket.IO connection state recovery); 0 turns it off.
	RecoveryWindow time.Duration
	// CallGrace is how long a call survives all of one party's devices
	// leaving its room.
	CallGrace time.Duration
}

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
		o.PingInterval = 25 * time.Second
	}
	if o.PingTimeout == 0 {
		o.PingTimeout = 20 * time.Second
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
	if o.CallGrace == 0 {
		o.CallGrace = 20 * time.Second
	}
}

// Server is the Socket.IO server of one node.
type Server struct {
	svc     Services
	opts    Options
	log     *slog.Logger
	io      *socket.Server
	handler http.Handler
	metrics *metrics
	gate    *handshakeGate

	mu      sync.Mutex
	perUser map[string]int

	stopOnce sync.Once
	closed   chan struct{}
}

// New builds the server; Close stops it.
func New(svc Services, opts Options) (*Server, error) {
	opts.defaults()
	if svc.Clock == nil {
		svc.Clock = models.SystemClock{}
	}
	s := &Server{svc: svc, opts: opts, log: opts.Log, metrics: newMetrics(opts.Registry), perUser: map[string]int{}, closed: make(chan struct{})}

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
	s.gate = newHandshakeGate()
	so.SetTransports(s.gate.transports())
	if opts.RecoveryWindow > 0 {
		csr := &socket.ConnectionStateRecovery{}
		csr.SetMaxDisconnectionDuration(opts.RecoveryWindow.Milliseconds())
		// A recovered connection still proves its token again.
		csr.SetSkipMiddlewares(false)
		so.SetConnectionStateRecovery(csr)
	}
	if opts.Redis != nil {
		rc := redisadapter.NewRedisClient(context.Background(), opts.Redis)
		_ = rc.On("error", func(a ...any) { s.log.Warn("socket.io redis adapter", "err", a) })
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
	s.gate.bind(s.io.Engine())
	s.handler = s.checkOrigin(eio)
	return s, nil
}

// ServeHTTP serves /socket.io/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// checkOrigin refuses a browser connection (polling or WebSocket) from a
// page of a foreign origin before Engine.IO sees it.
func (s *Server) checkOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && !s.allowOrigin(origin, r.Host) {
			s.metrics.refused.WithLabelValues("origin").Inc()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(wire.ErrorBody{Error: wire.Error{Code: models.EFORBIDDEN, Message: "this origin may not connect"}})
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

// Shutdown tells every socket of this node to go (clients reconnect to
// another node) and stops the engine.
func (s *Server) Shutdown(ctx context.Context) {
	s.stopOnce.Do(func() {
		close(s.closed)
		done := make(chan struct{})
		go func() {
			s.io.Local().DisconnectSockets(true)
			s.io.Close(nil)
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
		}
	})
}

// session is what a socket knows of its user: who, their event budget and
// the timer that ends the socket when the token expires.
type session struct {
	principal models.Principal
	actor     models.Actor
	bucket    *bucket
	expiry    *time.Timer
}

func sessionOf(sock *socket.Socket) *session {
	sess, _ := sock.Data().(*session)
	return sess
}

// authenticate is the handshake middleware: auth.token must be a valid
// access token of an enabled user. Every refusal says only "unauthorized".
func (s *Server) authenticate(sock *socket.Socket, next func(*socket.ExtendedError)) {
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
		if models.ErrorCode(err) == models.EINTERNAL {
			s.log.Error("socket handshake", "err", err)
		}
		s.metrics.refused.WithLabelValues("unauthorized").Inc()
		next(socket.NewExtendedError(models.EUNAUTHORIZED, nil))
		s.gate.open(sock)
		return
	}
	if s.userSockets(pr.User.ID) >= s.opts.MaxPerUser {
		s.metrics.refused.WithLabelValues("too_many").Inc()
		next(socket.NewExtendedError(models.ERATELIMITED, map[string]any{"message": "too many connections for this account"}))
		s.gate.open(sock)
		return
	}
	sock.SetData(&session{principal: pr, actor: pr.Actor(""), bucket: newBucket(s.opts.EventRate, s.opts.EventBurst)})
	next(nil)
}

// userSockets is how many sockets a user has on this node. Connections
// are counted once connected (a handshake that dies half-way must not
// hold a place), so racing handshakes may pass the cap by a few.
func (s *Server) userSockets(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perUser[userID]
}

func (s *Server) admitUser(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perUser[userID]++
}

func (s *Server) releaseUser(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perUser[userID] <= 1 {
		delete(s.perUser, userID)
		return
	}
	s.perUser[userID]--
}

func userRoom(id string) socket.Room { return socket.Room("user:" + id) }
func apptRoom(id string) socket.Room { return socket.Room("appt:" + id) }

func (s *Server) onConnection(sock *socket.Socket) {
	sess := sessionOf(sock)
	if sess == nil { // cannot happen: the middleware sets it
		sock.Disconnect(true)
		return
	}
	s.gate.open(sock)
	s.admitUser(sess.actor.UserID)
	s.metrics.connected.Inc()
	sock.Join(userRoom(sess.actor.UserID), roleRoom(sess.actor.Role), socket.Room("role:all"))
	// The token's expiry ends the socket: the client reconnects with a fresh one.
	sess.expiry = time.AfterFunc(max(sess.principal.ExpiresAt.Sub(s.svc.Clock.Now()), 0), func() {
		_ = sock.Emit("session:expired", wire.SessionExpired{Reason: "token_expired"})
		// Let the event leave before the close.
		time.AfterFunc(100*time.Millisecond, func() { sock.Disconnect(true) })
	})
	_ = sock.On("disconnecting", func(...any) { s.onDisconnecting(sock, sess) })
	_ = sock.On("disconnect", func(...any) {
		if sess.expiry != nil {
			sess.expiry.Stop()
		}
		s.releaseUser(sess.actor.UserID)
		s.metrics.connected.Dec()
	})
	s.registerChat(sock, sess)
	s.registerCallHandlers(sock, sess)
	_ = sock.OnAny(func(args ...any) {
		if len(args) == 0 {
			return
		}
		if name, ok := args[0].(string); !ok || !s.known(name) {
			s.metrics.unknown.Inc()
		}
	})
}
