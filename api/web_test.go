package api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"teleconsult/modeltest"
)

func TestWebAppServing(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "assets"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><title>app</title>"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "assets", "app-1234.js"), []byte("console.log(1)"), 0o644))
	a := newTestAPI(t, modeltest.NewSQLite(t), func(_ *modeltest.Options, c *Config) { c.WebDir = dir })

	asset := a.do("GET", "/assets/app-1234.js", "", nil).must(t, 200)
	if !strings.Contains(asset.Header.Get("Cache-Control"), "immutable") || string(asset.Raw) != "console.log(1)" {
		t.Fatalf("asset: %v %q", asset.Header, asset.Raw)
	}
	// Client-side routes fall back to index.html, never cached.
	for _, p := range []string{"/", "/appointments/123", "/doctors?specialty=x"} {
		r := a.do("GET", p, "", nil).must(t, 200)
		if !strings.Contains(string(r.Raw), "<title>app</title>") || r.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("%s: %q %v", p, r.Raw, r.Header)
		}
		if r.Header.Get("Content-Security-Policy") == "" || r.Header.Get("X-Frame-Options") != "DENY" {
			t.Fatalf("%s lacks security headers", p)
		}
	}
	// A missing file with an extension is a 404, and nothing escapes the directory.
	a.do("GET", "/assets/missing.js", "", nil).must(t, 404)
	if r := a.do("GET", "/../../etc/passwd", "", nil); strings.Contains(string(r.Raw), "root:") {
		t.Fatal("path traversal")
	}
	// API paths never fall back to the app.
	if r := a.do("GET", "/api/v1/unknown", "", nil); r.Status != 404 || r.ErrorCode() != "not_found" {
		t.Fatalf("api 404: %d %s", r.Status, r.Raw)
	}
}

func TestCORS(t *testing.T) {
	a := newTestAPI(t, modeltest.NewSQLite(t), func(_ *modeltest.Options, c *Config) { c.CORSOrigins = []string{"https://app.example.com"} })
	pre := func(origin string) response {
		req := mustRequest(t, "OPTIONS", a.URL+"/api/v1/auth/login")
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		return a.send(req)
	}
	ok := pre("https://app.example.com")
	if ok.Status != 204 || ok.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("allowed origin: %d %v", ok.Status, ok.Header)
	}
	bad := pre("https://evil.example.com")
	if bad.Header.Get("Access-Control-Allow-Origin") != "" || bad.Status != 403 {
		t.Fatalf("foreign origin: %d %v", bad.Status, bad.Header)
	}
}
