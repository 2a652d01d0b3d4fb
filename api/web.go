package api

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
)

// serveWeb serves the built web app: hashed assets are cached for a year,
// everything else falls back to index.html (history-mode routing), which is
// never cached so a new release is picked up at once.
func (s *Server) serveWeb(c *gin.Context) {
	if s.cfg.WebDir == "" || (c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead) {
		s.fail(c, models.Errorf(models.ENOTFOUND, "not found"))
		return
	}
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", webCSP(c.Request.Host, s.svc.PaymentConfig.Provider == "stripe"))
	clean := path.Clean("/" + c.Request.URL.Path)
	file := filepath.Join(s.cfg.WebDir, filepath.FromSlash(clean))
	if st, err := os.Stat(file); err == nil && !st.IsDir() {
		if strings.HasPrefix(clean, "/assets/") {
			c.Header("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			c.Header("Cache-Control", "no-cache")
		}
		c.File(file)
		return
	}
	if path.Ext(clean) != "" && clean != "/index.html" {
		s.fail(c, models.Errorf(models.ENOTFOUND, "not found"))
		return
	}
	index := filepath.Join(s.cfg.WebDir, "index.html")
	if _, err := os.Stat(index); err != nil {
		c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(noWebApp))
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.File(index)
}

const noWebApp = `<!doctype html><meta charset="utf-8"><title>Teleconsult</title>
<p>The Teleconsult API is running. The web app has not been built: run <code>make run</code>.</p>`

// webCSP lets the app load only its own code; media and images may be blobs
// (attachments, call streams) and sockets may connect back to this host
// only (no ws:/wss: wildcard that would let injected script talk anywhere).
// With Stripe payments on, Stripe.js and its card frames are allowed, as
// Stripe documents (https://docs.stripe.com/security/guide#content-security-policy).
func webCSP(host string, stripe bool) string {
	script, frame, connect := "'self'", "'self'", "'self'"
	if validHost(host) {
		connect += " ws://" + host + " wss://" + host
	}
	if stripe {
		script += " https://js.stripe.com"
		frame += " https://js.stripe.com https://hooks.stripe.com"
		connect += " https://api.stripe.com"
	}
	return "default-src 'self'; script-src " + script + "; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' blob: data:; media-src 'self' blob:; connect-src " + connect + "; frame-src " + frame + "; " +
		"font-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'"
}

// validHost accepts a host[:port] made of the characters a host may have.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-:[]", r)) {
			return false
		}
	}
	return true
}
