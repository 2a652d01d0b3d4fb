package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"teleconsult/database"
	"teleconsult/models"
	"teleconsult/modeltest"
)

// dbProxy stands between the server and a test database on the shared
// Postgres, so a test can take "the database" down, hang it or bring it
// back without touching the shared server.
type dbProxy struct {
	t        *testing.T
	upstream string
	addr     string

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	frozen chan struct{} // closed while traffic flows; open while hung
}

func newDBProxy(t *testing.T, upstream string) *dbProxy {
	t.Helper()
	p := &dbProxy{t: t, upstream: upstream, conns: map[net.Conn]struct{}{}, frozen: make(chan struct{})}
	close(p.frozen)
	p.listen("127.0.0.1:0")
	t.Cleanup(p.down)
	return p
}

func (p *dbProxy) listen(addr string) {
	p.t.Helper()
	var ln net.Listener
	var err error
	// The port may linger a moment after down; try briefly.
	for range 50 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy listen %s: %v", addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go p.accept(ln)
}

func (p *dbProxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *dbProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *dbProxy) gate() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frozen
}

func (p *dbProxy) serve(c net.Conn) {
	if !p.track(c) {
		_ = c.Close()
		return
	}
	<-p.gate()
	u, err := net.Dial("tcp", p.upstream)
	if err != nil || !p.track(u) {
		_ = c.Close()
		if u != nil {
			_ = u.Close()
		}
		return
	}
	go p.pipe(u, c)
	p.pipe(c, u)
}

// pipe copies src to dst, holding each chunk while the proxy is hung.
func (p *dbProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			<-p.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// down refuses new connections and cuts the open ones: Postgres is gone.
func (p *dbProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
	select {
	case <-p.frozen:
	default:
		close(p.frozen) // let held copies run into the closed connections
	}
}

// up listens again on the same address.
func (p *dbProxy) up() { p.listen(p.addr) }

// hang keeps connections open but lets nothing through.
func (p *dbProxy) hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = make(chan struct{})
}

// proxiedPostgres opens a migrated database on the shared Postgres through
// a proxy the test controls.
func proxiedPostgres(t *testing.T) (*database.DB, *dbProxy) {
	t.Helper()
	u, err := url.Parse(modeltest.NewPostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	p := newDBProxy(t, u.Host)
	u.Host = p.addr
	log := slog.New(slog.DiscardHandler)
	db, err := database.Open(t.Context(), database.Config{URL: u.String(), MaxOpenConns: 10}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(t.Context(), log); err != nil {
		t.Fatal(err)
	}
	return db, p
}

// call sends one request with its own deadline and no outbox dispatch
// afterwards (the harness's do would dispatch on the broken database).
func call(t *testing.T, base, method, path, token, body string) (response, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	_ = json.Unmarshal(raw, &r.Body)
	return r, time.Since(start)
}

func mustUnavailable(t *testing.T, what string, r response) {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable || r.ErrorCode() != models.EUNAVAILABLE {
		t.Fatalf("%s: %d %s, want 503 unavailable", what, r.Status, r.Raw)
	}
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("%s: 503 without Retry-After", what)
	}
	if strings.Contains(string(r.Raw), "127.0.0.1") || strings.Contains(string(r.Raw), "dial") {
		t.Errorf("%s: the answer exposes the cause: %s", what, r.Raw)
	}
}

// With the database down, REST answers 503 unavailable (never 500 or 401),
// /readyz says the database is unavailable, and everything works again
// when it is back, without a restart.
func TestDatabaseDownIsUnavailable(t *testing.T) {
	db, proxy := proxiedPostgres(t)
	a := newTestAPI(t, db)
	u, tok := a.user(models.RolePatient, "pat@example.com")
	login := `{"email":"pat@example.com","password":"` + modeltest.TestPassword + `"}`
	if r, _ := call(t, a.URL, "POST", "/api/v1/auth/login", "", login); r.Status != 200 {
		t.Fatalf("login while up: %d %s", r.Status, r.Raw)
	}

	proxy.down()
	r, _ := call(t, a.URL, "GET", "/api/v1/me", tok, "")
	mustUnavailable(t, "GET /me", r)
	r, _ = call(t, a.URL, "GET", "/api/v1/appointments", tok, "")
	mustUnavailable(t, "GET /appointments", r)
	r, _ = call(t, a.URL, "POST", "/api/v1/auth/login", "", login)
	mustUnavailable(t, "login", r)
	r, _ = call(t, a.URL, "POST", "/api/v1/auth/register", "", `{"email":"new@example.com","password":"correct-horse-battery-9","name":"New"}`)
	mustUnavailable(t, "register", r)
	r, _ = call(t, a.URL, "GET", "/readyz", "", "")
	if r.Status != 503 || r.ErrorCode() != models.EUNAVAILABLE {
		t.Fatalf("readyz with the database down: %d %s", r.Status, r.Raw)
	}
	if d, _ := r.Body["error"].(map[string]any)["details"].(map[string]any); d["database"] != "unavailable" {
		t.Fatalf("readyz does not name the database: %s", r.Raw)
	}
	if r, _ := call(t, a.URL, "GET", "/healthz", "", ""); r.Status != 200 {
		t.Fatalf("healthz with the database down: %d %s", r.Status, r.Raw)
	}

	proxy.up()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, _ = call(t, a.URL, "GET", "/api/v1/me", tok, "")
		if r.Status == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.Status != 200 || !strings.Contains(string(r.Raw), u.ID) {
		t.Fatalf("GET /me after the database came back: %d %s", r.Status, r.Raw)
	}
	if r, _ := call(t, a.URL, "GET", "/readyz", "", ""); r.Status != 200 {
		t.Fatalf("readyz after the database came back: %d %s", r.Status, r.Raw)
	}
}

// A database that hangs answers 503 within the request deadline instead
// of holding the request.
func TestHungDatabaseAnswersWithinRequestTimeout(t *testing.T) {
	db, proxy := proxiedPostgres(t)
	a := newTestAPI(t, db, func(_ *modeltest.Options, c *Config) { c.RequestTimeout = 300 * time.Millisecond })
	_, tok := a.user(models.RolePatient, "pat@example.com")
	if r, _ := call(t, a.URL, "GET", "/api/v1/me", tok, ""); r.Status != 200 {
		t.Fatalf("GET /me while up: %d %s", r.Status, r.Raw)
	}
	proxy.hang()
	r, took := call(t, a.URL, "GET", "/api/v1/me", tok, "")
	mustUnavailable(t, "GET /me on a hung database", r)
	if took > 3*time.Second {
		t.Fatalf("a hung database held the request %s (deadline 300ms)", took)
	}
	proxy.down()
}

// Only REST gets the request deadline: Socket.IO (long polls, upgrades) and
// the health endpoints do not.
func TestRequestTimeoutOnlyForREST(t *testing.T) {
	deadlines := map[string]bool{}
	var mu sync.Mutex
	probe := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ok := r.Context().Deadline()
		mu.Lock()
		deadlines[r.URL.Path] = ok
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	s, err := New(Services{}, Options{Config: Config{RequestTimeout: time.Minute}, Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), Realtime: probe})
	if err != nil {
		t.Fatal(err)
	}
	s.engine.GET("/api/v1/probe", gin.WrapH(probe))
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	for _, p := range []string{"/socket.io/", "/api/v1/probe"} {
		if r, _ := call(t, hs.URL, "GET", p, "", ""); r.Status != http.StatusNoContent {
			t.Fatalf("%s: %d", p, r.Status)
		}
	}
	if deadlines["/socket.io/"] {
		t.Error("Socket.IO requests got the REST deadline")
	}
	if !deadlines["/api/v1/probe"] {
		t.Error("REST requests have no deadline")
	}
}

// A dependency the node runs without (Redis) keeps it ready: /readyz 200,
// /healthz and the dependency gauge say it is degraded. A required one
// (the database) down makes the node unready.
func TestDegradedDependencyKeepsTheNodeReady(t *testing.T) {
	var mu sync.Mutex
	redisErr, dbErr := errors.New("dial tcp 127.0.0.1:6390: connect: connection refused"), error(nil)
	check := func(err *error) func(context.Context) error {
		return func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			return *err
		}
	}
	reg := prometheus.NewRegistry()
	s, err := New(Services{}, Options{Log: slog.New(slog.DiscardHandler), Registry: reg, Ready: []ReadyCheck{
		{Name: "database", Check: check(&dbErr)},
		{Name: "redis", Check: check(&redisErr), Degrades: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)

	r, _ := call(t, hs.URL, "GET", "/readyz", "", "")
	if r.Status != 200 || !strings.Contains(string(r.Raw), `"redis":"degraded"`) || !strings.Contains(string(r.Raw), `"database":"ok"`) {
		t.Fatalf("readyz with Redis down: %d %s", r.Status, r.Raw)
	}
	r, _ = call(t, hs.URL, "GET", "/healthz", "", "")
	if r.Status != 200 || string(r.Raw) != `{"status":"ok","checks":{"redis":"degraded"}}` {
		t.Fatalf("healthz with Redis down: %d %s", r.Status, r.Raw)
	}
	metrics, _ := call(t, hs.URL, "GET", "/metrics", "", "")
	for _, want := range []string{`teleconsult_dependency_up{dependency="redis"} 0`, `teleconsult_dependency_up{dependency="database"} 1`} {
		if !strings.Contains(string(metrics.Raw), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	mu.Lock()
	redisErr, dbErr = nil, errors.New("database is down")
	mu.Unlock()
	r, _ = call(t, hs.URL, "GET", "/readyz", "", "")
	if r.Status != 503 || r.ErrorCode() != models.EUNAVAILABLE || r.Header.Get("Retry-After") == "" {
		t.Fatalf("readyz with the database down: %d %s", r.Status, r.Raw)
	}
	r, _ = call(t, hs.URL, "GET", "/healthz", "", "")
	if r.Status != 200 || string(r.Raw) != `{"status":"ok","checks":{"redis":"ok"}}` {
		t.Fatalf("healthz with Redis back: %d %s", r.Status, r.Raw)
	}
	metrics, _ = call(t, hs.URL, "GET", "/metrics", "", "")
	for _, want := range []string{`teleconsult_dependency_up{dependency="redis"} 1`, `teleconsult_dependency_up{dependency="database"} 0`} {
		if !strings.Contains(string(metrics.Raw), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
