package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"teleconsult/database"
	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/wire"
)

// testAPI is the real REST server on a real database, reached over HTTP.
type testAPI struct {
	t     *testing.T
	URL   string
	DB    *database.DB
	P     *modeltest.Services
	Clock *modeltest.Clock
	srv   *Server
}

// newTestAPI boots the REST server on db. mutate may adjust options.
func newTestAPI(t *testing.T, db *database.DB, mutate ...func(*modeltest.Options, *Config)) *testAPI {
	t.Helper()
	clock := &modeltest.Clock{}
	opts := modeltest.DefaultOptions(t, clock)
	cfg := Config{BodyLimit: 1 << 20, RefreshTTL: opts.RefreshTTL, AttachmentMaxBytes: opts.AttachmentMaxBytes}
	for _, m := range mutate {
		m(&opts, &cfg)
	}
	p := modeltest.NewServices(db, opts)
	p.RecordNotifications()
	svc := Services{Users: p.Users, Auth: p.Auth, Schedules: p.Schedules, Appointments: p.Appointments, Chat: p.Chat,
		Notifications: p.Notifications, Audit: p.Audit, Stats: p.Stats, Calls: p.Calls, Resets: p.Resets, Accounts: p.Accounts, ICE: opts.ICE, Clock: clock,
		Payments: p.Payments, PaymentConfig: wire.PaymentConfig{Provider: "none", HoldSeconds: int64(p.Payments.Hold / time.Second)}}
	if opts.Payments != nil {
		svc.PaymentConfig.Provider, svc.PaymentConfig.PublishableKey = opts.Payments.Name(), "pk_test_teleconsult"
	}
	srv, err := New(svc, Options{Config: cfg, Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), Limiter: opts.Limiter,
		Ready: []ReadyCheck{{Name: "database", Check: db.Ping}}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &testAPI{t: t, URL: hs.URL, DB: db, P: p, Clock: clock, srv: srv}
}

// with returns the API reporting to t (a subtest must not fail its parent).
func (a *testAPI) with(t *testing.T) *testAPI {
	c := *a
	c.t = t
	return &c
}

// response is a decoded reply.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// ErrorCode returns error.code of an error reply.
func (r response) ErrorCode() string {
	e, _ := r.Body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// Fields returns error.details.fields of an error reply.
func (r response) Fields() map[string]any {
	e, _ := r.Body["error"].(map[string]any)
	d, _ := e["details"].(map[string]any)
	f, _ := d["fields"].(map[string]any)
	return f
}

// do sends body (a string is sent as is, anything else as JSON) with an
// optional bearer token.
func (a *testAPI) do(method, path, token string, body any) response {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(a.t.Context(), method, a.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.send(req)
}

func (a *testAPI) send(req *http.Request) response {
	a.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	// What the request raised reaches the notification store before the
	// test looks, as the dispatcher of a running server would soon after.
	// (A test that closed the database sees the error in its own checks.)
	for {
		if n, err := a.P.Outbox.DispatchOnce(context.Background()); err != nil || n == 0 {
			break
		}
	}
	raw, _ := io.ReadAll(res.Body)
	r := response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.Body); err != nil {
			// Lists and other non-object bodies stay in Raw.
			r.Body = nil
		}
	}
	return r
}

// must fails the test unless the reply has status want.
func (r response) must(t *testing.T, want int) response {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body %s", r.Status, want, r.Raw)
	}
	return r
}

// user creates a user of role and returns it with an access token.
func (a *testAPI) user(role models.Role, email string) (models.User, string) {
	a.t.Helper()
	u := modeltest.MustUser(a.t, a.P, role, email)
	return u, modeltest.MustToken(a.t, a.P, u)
}

// decode unmarshals a reply's raw body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Raw, v); err != nil {
		t.Fatalf("decode %s: %v", r.Raw, err)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
