// Package api is the REST edge: a Gin router whose thin handlers decode
// requests, call the models services and encode responses in the
// contract's shapes.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"teleconsult/models"
	"teleconsult/wire"
)

// Services are the domain operations the handlers call.
type Services struct {
	Users         models.UserService
	Auth          models.AuthService
	Schedules     models.ScheduleService
	Appointments  models.AppointmentService
	Chat          models.ChatService
	Notifications models.NotificationService
	Audit         models.AuditService
	Stats         models.StatsService
	Calls         models.CallService
	Resets        models.PasswordResetService
	Accounts      models.AccountService
	// Payments takes the fees of paid bookings; PaymentConfig tells the
	// web app how (nil Payments: bookings are paid at the clinic).
	Payments      models.PaymentService
	PaymentConfig wire.PaymentConfig
	// ICE are the STUN/TURN servers handed to callers.
	ICE   models.ICEConfig
	Clock models.Clock
}

// Config are the REST layer's settings.
type Config struct {
	// BodyLimit caps request bodies (bytes) unless a route sets its own.
	BodyLimit int64
	// CORSOrigins may call the API from a browser; "*" allows any.
	CORSOrigins []string
	// TrustedProxies may set X-Forwarded-For.
	TrustedProxies []string
	// WebDir holds the built web app; empty serves none.
	WebDir string
	// SecureCookies marks the refresh cookie Secure.
	SecureCookies bool
	// RefreshTTL is the refresh cookie's lifetime.
	RefreshTTL time.Duration
	// AttachmentMaxBytes caps one uploaded file.
	AttachmentMaxBytes int64
	// MetricsToken, when set, is the bearer token /metrics requires. In
	// production without one, /metrics is not served on this port.
	MetricsToken string
	Production   bool
	// RequestReadTimeout bounds reading a request's body; uploads get
	// UploadReadTimeout. Zero leaves reads unbounded.
	RequestReadTimeout time.Duration
	UploadReadTimeout  time.Duration
	// RequestTimeout is the deadline of one REST request, database work
	// included (uploads get UploadReadTimeout on top); zero sets none.
	RequestTimeout time.Duration
	// RegisterPerHour and BookingsPerHour bound sign-ups per IP and
	// booking requests per patient (0: no limit).
	RegisterPerHour int
	BookingsPerHour int
}

// ReadyCheck reports whether a dependency answers.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
	// Degrades marks a dependency the node runs without (Redis: local
	// limits, no cross-node fan-out): down, it shows as "degraded" in
	// /healthz and /readyz and leaves the node ready.
	Degrades bool
}

// Server holds what the handlers need.
type Server struct {
	svc        Services
	cfg        Config
	log        *slog.Logger
	ready      []ReadyCheck
	metrics    *httpMetrics
	gatherer   prometheus.Gatherer
	bodyLimits map[string]int64
	engine     *gin.Engine
	// Realtime, when set, is mounted at /socket.io/.
	realtime      http.Handler
	socketsOnline func(ctx context.Context) (int, error)
	limiter       models.AttemptLimiter
}

// Options are what New needs besides the services.
type Options struct {
	Config   Config
	Log      *slog.Logger
	Ready    []ReadyCheck
	Registry *prometheus.Registry
	// Realtime serves /socket.io/ on the same port.
	Realtime http.Handler
	// SocketsOnline counts connected sockets across nodes, for admin stats.
	SocketsOnline func(ctx context.Context) (int, error)
	// Limiter counts the rate-limited actions (sign-ups per IP, bookings
	// per patient); nil turns those limits off.
	Limiter models.AttemptLimiter
}

// New builds the router.
func New(svc Services, opts Options) (*Server, error) {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		svc: svc, cfg: opts.Config, log: opts.Log, ready: opts.Ready,
		metrics: newHTTPMetrics(opts.Registry), gatherer: opts.Registry,
		bodyLimits: map[string]int64{}, realtime: opts.Realtime, socketsOnline: opts.SocketsOnline, limiter: opts.Limiter,
	}
	if s.svc.Clock == nil {
		s.svc.Clock = models.SystemClock{}
	}
	if s.cfg.BodyLimit <= 0 {
		s.cfg.BodyLimit = 1 << 20
	}
	e := gin.New()
	e.ContextWithFallback = true
	e.HandleMethodNotAllowed = true
	if err := e.SetTrustedProxies(s.cfg.TrustedProxies); err != nil {
		return nil, err
	}
	e.Use(s.recovery(), s.requestID(), s.accessLog(), s.requestTimeout(), s.rejectNUL(), s.readDeadline(), s.cors(), s.noStore(), s.limitBody())
	s.engine = e
	s.registerDependencyGauges(opts.Registry)
	s.routes()
	return s, nil
}

// Handler returns the HTTP handler for the whole port.
func (s *Server) Handler() http.Handler { return s.engine }

// Engine exposes the router (for route listings in tests).
func (s *Server) Engine() *gin.Engine { return s.engine }
