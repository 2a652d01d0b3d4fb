package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"teleconsult/modeltest"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestProductionRefusesToStartWithoutJWTSecret(t *testing.T) {
	err := run(t.Context(), []string{"serve"}, envOf(map[string]string{"APP_ENV": "production", "DATA_DIR": t.TempDir()}), io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Fatalf("got %v, want an error naming JWT_SECRET", err)
	}
}

func TestInvalidConfigNamesTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		"LOG_LEVEL":         {"LOG_LEVEL": "loud"},
		"ACCESS_TOKEN_TTL":  {"ACCESS_TOKEN_TTL": "fifteen minutes"},
		"DATABASE_URL":      {"DATABASE_URL": "mysql://x"},
		"REDIS_URL":         {"REDIS_URL": "http://x"},
		"JWT_SECRET":        {"JWT_SECRET": "short"},
		"ADMIN_PASSWORD":    {"ADMIN_EMAIL": "a@example.com"},
		"DB_MAX_OPEN_CONNS": {"DB_MAX_OPEN_CONNS": "-3"},
		"REMINDER_OFFSETS":  {"REMINDER_OFFSETS": "24h,soon"},
		"APP_ENV":           {"APP_ENV": "staging"},
		"SEED_DEMO":         {"SEED_DEMO": "maybe"},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := loadConfig(envOf(env))
			if err == nil || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want one line naming %s", err, name)
			}
		})
	}
	if _, err := loadConfig(envOf(nil)); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	if err := run(t.Context(), []string{"frobnicate"}, envOf(nil), io.Discard, nil); err == nil {
		t.Fatal("unknown command accepted")
	}
}

// TestServeSeedsLogsInAndShutsDown runs the real program the way `make run`
// does (SQLite, demo seed), signs in as a demo patient, then stops it.
func TestServeSeedsLogsInAndShutsDown(t *testing.T) {
	dir := t.TempDir()
	env := envOf(map[string]string{"ADDR": "127.0.0.1:0", "DATA_DIR": dir, "SEED_DEMO": "true", "WEB_DIR": dir,
		"ADMIN_EMAIL": "boss@example.com", "ADMIN_PASSWORD": "boss-password-1", "LOG_LEVEL": "warn"})
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, env, io.Discard, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve stopped early: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start")
	}
	base := "http://" + addr
	for _, c := range []struct{ email, password string }{
		{"pat.kim@demo.teleconsult.app", "DemoPatient!2026"},
		{"alice.chen@demo.teleconsult.app", "DemoDoctor!2026"},
		{"admin@demo.teleconsult.app", "DemoAdmin!2026"},
		{"boss@example.com", "boss-password-1"},
	} {
		body, _ := json.Marshal(map[string]string{"email": c.email, "password": c.password})
		res, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("login %s: %d", c.email, res.StatusCode)
		}
	}
	res, err := http.Get(base + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", err, res)
	}
	_ = res.Body.Close()

	cancel() // what SIGTERM does
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}

func TestMigrateAndSeedCommandsOnPostgres(t *testing.T) {
	env := envOf(map[string]string{"DATABASE_URL": modeltest.NewPostgresURL(t), "DATA_DIR": t.TempDir()})
	if err := run(t.Context(), []string{"migrate"}, env, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), []string{"migrate"}, env, io.Discard, nil); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"seed"}, env, &out, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "pat.kim@demo.teleconsult.app") {
		t.Fatalf("seed did not print the accounts: %s", out.String())
	}
	if err := run(t.Context(), []string{"seed"}, env, io.Discard, nil); err != nil {
		t.Fatalf("seeding twice: %v", err)
	}
}
