package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
)

// Weak passwords are refused with details.password (length, common list,
// the email address); a strong one is accepted.
func TestPasswordPolicy(t *testing.T) {
	a := newTestAPI(t, modeltest.NewSQLite(t))
	for _, pw := range []string{"12345678", "password", "        ", "          ", "short-9", "1234567890", "qwertyuiop",
		"Password12", "anna.berg@example.com", "ANNA.BERG@example.com"} {
		r := a.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "anna.berg@example.com", "password": pw, "name": "Anna"})
		if r.Status != http.StatusUnprocessableEntity || r.ErrorCode() != models.EINVALID || r.Fields()["password"] == nil {
			t.Errorf("password %q: %d %s", pw, r.Status, r.Raw)
		}
	}
	_, admin := a.user(models.RoleAdmin, "root@example.com")
	r := a.do("POST", "/api/v1/admin/users", admin, map[string]any{"email": "d@example.com", "password": "12345678", "name": "D", "role": "doctor", "specialty": "X"})
	if r.Status != http.StatusUnprocessableEntity || r.Fields()["password"] == nil {
		t.Errorf("admin-created weak password: %d %s", r.Status, r.Raw)
	}
	a.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "anna.berg@example.com", "password": "mistral-orchard-57", "name": "Anna"}).must(t, 201)
}

// Changing the password needs the current one, and ends every other
// session of the user while the one that changed it goes on.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	a := newTestAPI(t, modeltest.NewPostgres(t))
	u, _ := a.user(models.RolePatient, "p@example.com")
	here, hereRefresh := login(t, a, u.Email, modeltest.TestPassword)
	_, phoneRefresh := login(t, a, u.Email, modeltest.TestPassword)

	if r := a.do("PATCH", "/api/v1/me", here, map[string]any{"password": "mistral-orchard-57"}); r.Status != http.StatusUnprocessableEntity || r.Fields()["current_password"] == nil {
		t.Fatalf("no current password: %d %s", r.Status, r.Raw)
	}
	if r := a.do("PATCH", "/api/v1/me", here, map[string]any{"password": "mistral-orchard-57", "current_password": "not-my-password-1"}); r.Status != http.StatusForbidden {
		t.Fatalf("wrong current password: %d %s", r.Status, r.Raw)
	}
	if r := a.do("PATCH", "/api/v1/me", here, map[string]any{"password": "password1", "current_password": modeltest.TestPassword}); r.Fields()["password"] == nil {
		t.Fatalf("weak new password: %d %s", r.Status, r.Raw)
	}
	// Nothing changed so far: both sessions live.
	a.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": phoneRefresh}).must(t, 200).decode(t, &struct{}{})
	_, phoneRefresh = login(t, a, u.Email, modeltest.TestPassword)

	a.do("PATCH", "/api/v1/me", here, map[string]any{"password": "mistral-orchard-57", "current_password": modeltest.TestPassword}).must(t, 200)
	a.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": phoneRefresh}).must(t, 401)
	a.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": hereRefresh}).must(t, 200)
	a.do("POST", "/api/v1/auth/login", "", map[string]any{"email": u.Email, "password": modeltest.TestPassword}).must(t, 401)
	login(t, a, u.Email, "mistral-orchard-57")
	var kinds []string
	a.P.DB.Table("outbox_events").Order("created_at").Pluck("kind", &kinds)
	if !strings.Contains(strings.Join(kinds, " "), string(models.KindPasswordChanged)) {
		t.Fatalf("no password_changed event (for the other sessions' sockets): %v", kinds)
	}
}

// The browser the user signed in from before is never held back by the
// delays an attacker causes for their account.
func TestKnownDeviceIsNeverThrottled(t *testing.T) {
	a := newTestAPI(t, modeltest.NewPostgres(t))
	a.P.Auth.WithSignIn(models.SignInPolicy{FreeAttempts: 5, MaxDelay: 15 * time.Minute, IPAttempts: 100, Window: 15 * time.Minute}, []byte("test-device-key"))
	u, _ := a.user(models.RolePatient, "dev@example.com")
	good := map[string]any{"email": u.Email, "password": modeltest.TestPassword}
	first := a.do("POST", "/api/v1/auth/login", "", good).must(t, 200)
	var device *http.Cookie
	for _, c := range (&http.Response{Header: first.Header}).Cookies() {
		if c.Name == "tc_device" {
			device = c
		}
	}
	if device == nil || !device.HttpOnly || device.Path != "/api/v1/auth/login" {
		t.Fatalf("no HttpOnly device cookie for the sign-in path: %+v", device)
	}
	for range 7 {
		a.do("POST", "/api/v1/auth/login", "", map[string]any{"email": u.Email, "password": "someone-guessing-1"})
	}
	a.do("POST", "/api/v1/auth/login", "", good).must(t, http.StatusTooManyRequests)
	req, _ := http.NewRequestWithContext(t.Context(), "POST", a.URL+"/api/v1/auth/login", strings.NewReader(`{"email":"dev@example.com","password":"`+modeltest.TestPassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(device)
	a.send(req).must(t, 200)
}

// Sign-ups per IP and booking requests per patient are rate-limited.
func TestSignUpAndBookingThrottles(t *testing.T) {
	c := newClinic(t, modeltest.NewSQLite(t), func(_ *modeltest.Options, cfg *Config) { cfg.RegisterPerHour, cfg.BookingsPerHour = 3, 2 })
	for i := range 3 {
		c.do("POST", "/api/v1/auth/register", "", map[string]any{"email": fmt.Sprintf("s%d@example.com", i), "password": "mistral-orchard-57", "name": "S"}).must(t, 201)
	}
	if r := c.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "s9@example.com", "password": "mistral-orchard-57", "name": "S"}); r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("4th sign-up from one IP: %d %s", r.Status, r.Raw)
	}
	c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-03T09:00:00Z")
	c.book(t, c.patTok, c.doctor.ID, "2026-03-03T09:07:00Z") // refused, but it counts
	if r := c.book(t, c.patTok, c.doctor.ID, "2026-03-03T10:00:00Z"); r.Status != 429 {
		t.Fatalf("3rd booking request in the hour: %d %s", r.Status, r.Raw)
	}
	c.mustBook(t, c.pat2Tok, c.doctor.ID, "2026-03-03T10:00:00Z") // another patient is not affected
}

// The user sees their sessions (device, IP, last use, which is this one)
// and can sign one out: its refresh token stops working at once.
func TestSessionsListAndSignOut(t *testing.T) {
	a := newTestAPI(t, modeltest.NewPostgres(t))
	a.user(models.RolePatient, "sess@example.com")
	signIn := func(agent string) (access, refresh string) {
		t.Helper()
		body := strings.NewReader(`{"email":"sess@example.com","password":"` + modeltest.TestPassword + `"}`)
		req, _ := http.NewRequestWithContext(t.Context(), "POST", a.URL+"/api/v1/auth/login", body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", agent)
		r := a.send(req).must(t, 200)
		return r.Body["access_token"].(string), r.Body["refresh_token"].(string)
	}
	laptop, _ := signIn("Firefox on Linux")
	_, phoneRefresh := signIn("Safari on iPhone")
	var list struct {
		Items []struct {
			ID, UserAgent, IP string
			Current           bool
		} `json:"items"`
	}
	r := a.do("GET", "/api/v1/me/sessions", laptop, nil).must(t, 200)
	if err := json.Unmarshal(r.Raw, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 2 {
		t.Fatalf("sessions %s", r.Raw)
	}
	var phoneID string
	for _, s := range list.Items {
		if s.IP == "" {
			t.Errorf("no IP: %s", r.Raw)
		}
		switch {
		case strings.Contains(string(r.Raw), `"user_agent":"Safari on iPhone"`) && !s.Current:
			phoneID = s.ID
		}
	}
	if phoneID == "" || !strings.Contains(string(r.Raw), `"user_agent":"Firefox on Linux"`) || !strings.Contains(string(r.Raw), `"current":true`) {
		t.Fatalf("sessions %s", r.Raw)
	}
	a.do("DELETE", "/api/v1/me/sessions/"+phoneID, laptop, nil).must(t, 204)
	a.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": phoneRefresh}).must(t, 401)
	a.do("DELETE", "/api/v1/me/sessions/"+phoneID, laptop, nil).must(t, 404)
	// Someone else's session id is not found either.
	_, otherTok := a.user(models.RolePatient, "other-sess@example.com")
	a.do("DELETE", "/api/v1/me/sessions/"+phoneID, otherTok, nil).must(t, 404)
	r = a.do("GET", "/api/v1/me/sessions", laptop, nil).must(t, 200)
	if strings.Count(string(r.Raw), `"id"`) != 1 {
		t.Fatalf("after signing the phone out: %s", r.Raw)
	}
}
