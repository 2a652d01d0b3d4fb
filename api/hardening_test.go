package api

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"teleconsult/models"
	"teleconsult/modeltest"
)

// A slot far in the future is refused by the booking horizon, and the
// appointment lists keep answering JSON for everyone.
func TestBookingHorizon(t *testing.T) {
	c := newClinic(t, modeltest.NewSQLite(t), func(o *modeltest.Options, _ *Config) { o.Policy.BookingHorizon = 90 * 24 * time.Hour })
	for _, at := range []string{"9999-12-31T09:00:00Z", "2026-06-01T09:00:00Z"} { // 91 days after clinicNow
		r := c.book(t, c.patTok, c.doctor.ID, at)
		if r.Status != http.StatusUnprocessableEntity || r.ErrorCode() != models.EINVALID || r.Fields()["starts_at"] == nil {
			t.Fatalf("booking at %s: %d %s", at, r.Status, r.Raw)
		}
	}
	c.mustBook(t, c.patTok, c.doctor.ID, "2026-05-29T09:00:00Z") // 88 days ahead
	for _, tok := range []string{c.patTok, c.docTok, c.adminTok} {
		path := "/api/v1/appointments"
		if tok == c.adminTok {
			path = "/api/v1/admin/appointments"
		}
		r := c.do("GET", path, tok, nil).must(t, 200)
		if len(r.Raw) == 0 || r.Body == nil {
			t.Fatalf("list answered an empty or non-JSON body: %q", r.Raw)
		}
	}
	// Slots beyond the horizon are not offered either.
	var l struct{ Items []map[string]any }
	c.do("GET", "/api/v1/doctors/"+c.doctor.ID+"/slots?from=2026-05-30T00:00:00Z&to=2026-06-03T00:00:00Z", "", nil).must(t, 200).decode(t, &l)
	for _, s := range l.Items {
		if s["starts_at"].(string) > "2026-05-31T08:00:00Z" {
			t.Fatalf("slot beyond the horizon offered: %v", s)
		}
	}
}

// A patient holds at most MaxActiveAppointments booked appointments.
func TestMaxActiveAppointments(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			c := newClinic(t, d.Open(t), func(o *modeltest.Options, _ *Config) { o.Policy.MaxActiveAppointments = 2 })
			first := c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-03T09:00:00Z")
			c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-03T10:00:00Z")
			r := c.book(t, c.patTok, c.doctor.ID, "2026-03-03T11:00:00Z")
			if r.Status != http.StatusConflict || r.ErrorCode() != models.ECONFLICT {
				t.Fatalf("third booking: %d %s", r.Status, r.Raw)
			}
			// Another patient is not affected; a cancellation frees a place.
			c.mustBook(t, c.pat2Tok, c.doctor.ID, "2026-03-03T11:00:00Z")
			c.do("POST", "/api/v1/appointments/"+first+"/cancel", c.patTok, map[string]any{}).must(t, 200)
			c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-03T12:00:00Z")
		})
	}
}

// An answer that cannot be encoded is a 500 in the error shape, not a
// half-written 2xx.
func TestReplyEncodesBeforeWriting(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest("GET", "/api/v1/appointments", nil)
	s.reply(c, http.StatusCreated, map[string]any{"starts_at": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), `"code":"internal"`) {
		t.Fatalf("got %d %s", w.Code, w.Body.String())
	}
}

// NUL characters are refused as invalid_request wherever they come.
func TestNULIsInvalid(t *testing.T) {
	a := newTestAPI(t, modeltest.NewPostgres(t))
	_, tok := a.user(models.RolePatient, "nul@example.com")
	for _, r := range []response{
		a.do("GET", "/api/v1/doctors?q=a%00b", "", nil),
		a.do("GET", "/api/v1/doctors?specialty=%00", "", nil),
		a.do("PATCH", "/api/v1/me", tok, `{"name":"a\u0000b"}`),
		a.do("POST", "/api/v1/auth/register", "", `{"email":"x@example.com","password":"long-enough-pw","name":"\u0000"}`),
	} {
		if r.Status != http.StatusBadRequest || r.ErrorCode() != models.EINVALID {
			t.Errorf("NUL: %d %s", r.Status, r.Raw)
		}
	}
	// An escaped backslash before u0000 is plain text, not a NUL.
	a.do("PATCH", "/api/v1/me", tok, `{"name":"a\\u0000b"}`).must(t, 200)
}

// API answers are never cached; /metrics needs its token (and is not
// served at all in production without one).
func TestCachingAndMetricsAccess(t *testing.T) {
	db := modeltest.NewSQLite(t)
	a := newTestAPI(t, db)
	if r := a.do("GET", "/api/v1/doctors", "", nil).must(t, 200); r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	if r := a.do("GET", "/api/v1/nope", "", nil); r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("error answers are cacheable: %q", r.Header.Get("Cache-Control"))
	}
	prod := newTestAPI(t, db, func(_ *modeltest.Options, c *Config) { c.Production = true })
	if r := prod.do("GET", "/metrics", "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("production /metrics without a token: %d", r.Status)
	}
	tok := newTestAPI(t, db, func(_ *modeltest.Options, c *Config) { c.Production, c.MetricsToken = true, "m-secret" })
	if r := tok.do("GET", "/metrics", "", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("/metrics without the token: %d", r.Status)
	}
	if r := tok.do("GET", "/metrics", "wrong", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("/metrics with a wrong token: %d", r.Status)
	}
	if r := tok.do("GET", "/metrics", "m-secret", nil); r.Status != http.StatusOK {
		t.Fatalf("/metrics with the token: %d", r.Status)
	}
}

// A client trickling a request body is cut off at the read deadline
// instead of holding the connection.
func TestSlowBodyIsCutOff(t *testing.T) {
	clock := &modeltest.Clock{}
	p := modeltest.NewServices(modeltest.NewSQLite(t), modeltest.DefaultOptions(t, clock))
	srv, err := New(Services{Users: p.Users, Auth: p.Auth, Schedules: p.Schedules, Appointments: p.Appointments, Chat: p.Chat,
		Notifications: p.Notifications, Audit: p.Audit, Stats: p.Stats, Clock: clock},
		Options{Config: Config{RequestReadTimeout: 500 * time.Millisecond}, Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	conn, err := net.Dial("tcp", strings.TrimPrefix(hs.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"email":"slow@example.com","password":"x"}`
	fmt.Fprintf(conn, "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < len(body); i++ {
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the trickled request held the connection for %v", took)
	}
	if err == nil && res.StatusCode < 400 {
		t.Fatalf("the trickled request was answered %d", res.StatusCode)
	}
	_ = conn.Close()
	<-done
}

// The web app's CSP lets sockets reach this host only, and refusals are
// counted for monitoring.
func TestCSPAndRefusalMetrics(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/index.html", []byte("<!doctype html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := newTestAPI(t, modeltest.NewSQLite(t), func(_ *modeltest.Options, c *Config) { c.WebDir = dir })
	csp := a.do("GET", "/", "", nil).must(t, 200).Header.Get("Content-Security-Policy")
	host := strings.TrimPrefix(a.URL, "http://")
	if strings.Contains(csp, "ws: ") || strings.Contains(csp, "wss:;") || !strings.Contains(csp, "ws://"+host) || !strings.Contains(csp, "wss://"+host) {
		t.Fatalf("CSP connect-src: %s", csp)
	}
	if strings.Contains(csp, "stripe") || !strings.Contains(csp, "frame-src 'self';") {
		t.Fatalf("CSP without payments allows more than the app: %s", csp)
	}
	// With Stripe on, Stripe.js and its card frames may load, nothing else.
	paid := newTestAPI(t, modeltest.NewSQLite(t), func(o *modeltest.Options, c *Config) {
		c.WebDir = dir
		o.Payments = modeltest.StripeProvider(t, "http://127.0.0.1:1")
	})
	csp = paid.do("GET", "/", "", nil).must(t, 200).Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self' https://js.stripe.com;", "frame-src 'self' https://js.stripe.com https://hooks.stripe.com;", "https://api.stripe.com;"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("CSP with Stripe lacks %q: %s", want, csp)
		}
	}
	for range 3 {
		a.do("GET", "/api/v1/me", "", nil).must(t, 401)
	}
	r := a.do("GET", "/metrics", "", nil).must(t, 200)
	if !strings.Contains(string(r.Raw), `teleconsult_http_refusals_total{route="/api/v1/me",status="401"} 3`) {
		t.Fatalf("refusals not counted:\n%s", r.Raw)
	}
}
