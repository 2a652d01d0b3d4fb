package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/wire"
)

func TestRegisterLoginMe(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			a := newTestAPI(t, d.Open(t))
			r := a.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "Ann@Example.com", "password": "correct horse", "name": "Ann"}).must(t, 201)
			u := r.Body["user"].(map[string]any)
			if u["email"] != "ann@example.com" || u["role"] != "patient" {
				t.Fatalf("registered user %v", u)
			}
			if strings.Contains(string(r.Raw), "password") {
				t.Fatalf("register leaks password fields: %s", r.Raw)
			}
			a.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "ann@example.com", "password": "another one", "name": "Ann 2"}).must(t, 409)

			a.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "ann@example.com", "password": "wrong password"}).must(t, 401)
			l := a.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "ANN@example.com", "password": "correct horse"}).must(t, 200)
			access := l.Body["access_token"].(string)
			if l.Body["refresh_token"] == "" || l.Body["expires_in"].(float64) != 900 {
				t.Fatalf("login body %s", l.Raw)
			}
			if c := l.Header.Get("Set-Cookie"); !strings.Contains(c, "tc_refresh=") || !strings.Contains(c, "HttpOnly") {
				t.Fatalf("refresh cookie not set HttpOnly: %q", c)
			}
			me := a.do("GET", "/api/v1/me", access, nil).must(t, 200)
			if me.Body["user"].(map[string]any)["name"] != "Ann" {
				t.Fatalf("me %s", me.Raw)
			}
			p := a.do("PATCH", "/api/v1/me", access, map[string]any{"name": "Ann Lee", "time_zone": "Europe/Paris"}).must(t, 200)
			if got := p.Body["user"].(map[string]any); got["name"] != "Ann Lee" || got["time_zone"] != "Europe/Paris" {
				t.Fatalf("patch me %s", p.Raw)
			}
			a.do("PATCH", "/api/v1/me", access, map[string]any{"time_zone": "Mars/Olympus"}).must(t, 422)
			// The language notifications are written in: English until chosen.
			if got := p.Body["user"].(map[string]any)["locale"]; got != "en" {
				t.Fatalf("default locale %v", got)
			}
			if got := a.do("PATCH", "/api/v1/me", access, map[string]any{"locale": "zh"}).must(t, 200).Body["user"].(map[string]any)["locale"]; got != "zh" {
				t.Fatalf("locale after choosing Chinese: %v", got)
			}
			if r := a.do("PATCH", "/api/v1/me", access, map[string]any{"locale": "klingon"}); r.Status != 422 || r.Fields()["locale"] == nil {
				t.Fatalf("unknown locale: %d %s", r.Status, r.Raw)
			}
			a.do("GET", "/api/v1/me", "", nil).must(t, 401)
		})
	}
}

func login(t *testing.T, a *testAPI, email, password string) (access, refresh string) {
	t.Helper()
	r := a.do("POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": password}).must(t, 200)
	return r.Body["access_token"].(string), r.Body["refresh_token"].(string)
}

func TestRefreshRotationAndReuse(t *testing.T) {
	a := newTestAPI(t, modeltest.NewPostgres(t))
	a.user(models.RolePatient, "p@example.com")
	_, r1 := login(t, a, "p@example.com", "correct-horse-battery-9")

	n1 := a.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": r1}).must(t, 200)
	r2 := n1.Body["refresh_token"].(string)
	if r2 == r1 {
		t.Fatal("refresh did not rotate the token")
	}
	a.do("GET", "/api/v1/me", n1.Body["access_token"].(string), nil).must(t, 200)

	// r1 is spent: presenting it again (after the grace window for tabs
	// refreshing at once) is reuse and revokes the family, so r2 dies too.
	a.Clock.Advance(11 * time.Second)
	if r := a.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": r1}); r.Status != 401 || r.ErrorCode() != "unauthorized" {
		t.Fatalf("reuse: %d %s", r.Status, r.Raw)
	}
	a.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": r2}).must(t, 401)

	// A separate login (another device) is a separate family and still works.
	_, r3 := login(t, a, "p@example.com", "correct-horse-battery-9")
	a.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": r3}).must(t, 200)
}

// Two tabs refreshing the same token at once both stay signed in.
func TestConcurrentRefreshKeepsEveryTabSignedIn(t *testing.T) {
	a := newTestAPI(t, modeltest.NewPostgres(t))
	a.user(models.RolePatient, "p@example.com")
	_, r1 := login(t, a, "p@example.com", "correct-horse-battery-9")
	body, _ := json.Marshal(map[string]any{"refresh_token": r1})
	statuses := make([]int, 8)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() { // no t.Fatal here: statuses are checked after Wait
			res, err := http.Post(a.URL+"/api/v1/auth/refresh", "application/json", bytes.NewReader(body))
			if err == nil {
				statuses[i] = res.StatusCode
				_ = res.Body.Close()
			}
		})
	}
	wg.Wait()
	for i, st := range statuses {
		if st != 200 {
			t.Fatalf("tab %d: refresh answered %d; every tab refreshing at once stays signed in (%v)", i, st, statuses)
		}
	}
}

func TestRefreshAndLogoutByCookie(t *testing.T) {
	a := newTestAPI(t, modeltest.NewSQLite(t))
	a.user(models.RolePatient, "p@example.com")
	_, r1 := login(t, a, "p@example.com", "correct-horse-battery-9")
	req, _ := http.NewRequest("POST", a.URL+"/api/v1/auth/refresh", nil)
	req.AddCookie(&http.Cookie{Name: "tc_refresh", Value: r1})
	res := a.send(req).must(t, 200)
	r2 := res.Body["refresh_token"].(string)

	req, _ = http.NewRequest("POST", a.URL+"/api/v1/auth/logout", strings.NewReader("{}"))
	req.AddCookie(&http.Cookie{Name: "tc_refresh", Value: r2})
	a.send(req).must(t, 204)
	a.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": r2}).must(t, 401)
}

func TestRejectedAccessTokens(t *testing.T) {
	a := newTestAPI(t, modeltest.NewPostgres(t))
	u, good := a.user(models.RolePatient, "p@example.com")
	a.do("GET", "/api/v1/me", good, nil).must(t, 200)

	claims := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		now := time.Now()
		c := jwt.MapClaims{"sub": u.ID, "role": "patient", "iss": "teleconsult", "aud": []string{"teleconsult-api"},
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "x"}
		mut(c)
		return c
	}
	kid := strings.Split(good, ".")[0]
	var hdr map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(kid)
	_ = json.Unmarshal(hb, &hdr)
	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims) string {
		tk := jwt.NewWithClaims(m, c)
		tk.Header["kid"] = hdr["kid"]
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	secret := []byte(modeltest.TestSecret)
	none := func(c jwt.MapClaims) string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		b, _ := json.Marshal(c)
		return h + "." + base64.RawURLEncoding.EncodeToString(b) + "."
	}
	cases := map[string]string{
		"expired":        sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() })),
		"forged":         sign(jwt.SigningMethodHS256, []byte("another-secret-that-is-long-enough-000000"), claims(func(jwt.MapClaims) {})),
		"alg none":       none(claims(func(jwt.MapClaims) {})),
		"wrong alg":      sign(jwt.SigningMethodHS512, secret, claims(func(jwt.MapClaims) {})),
		"wrong audience": sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["aud"] = []string{"someone-else"} })),
		"wrong issuer":   sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["iss"] = "evil" })),
		"no expiry":      sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { delete(c, "exp") })),
		"unknown user":   sign(jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["sub"] = "nobody" })),
		"garbage":        "not.a.token",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			a := a.with(t)
			r := a.do("GET", "/api/v1/me", tok, nil)
			if r.Status != 401 || r.ErrorCode() != "unauthorized" {
				t.Fatalf("got %d %s", r.Status, r.Raw)
			}
		})
	}
	// The hand-made valid token is accepted: the cases above fail for their one defect.
	a.do("GET", "/api/v1/me", sign(jwt.SigningMethodHS256, secret, claims(func(jwt.MapClaims) {})), nil).must(t, 200)
}

func TestDisabledUserIsLockedOut(t *testing.T) {
	a := newTestAPI(t, modeltest.NewPostgres(t))
	_, admin := a.user(models.RoleAdmin, "admin@example.com")
	u, access := a.user(models.RolePatient, "p@example.com")
	_, refresh := login(t, a, "p@example.com", "correct-horse-battery-9")

	a.do("PATCH", "/api/v1/admin/users/"+u.ID, admin, map[string]any{"disabled": true}).must(t, 200)
	a.do("GET", "/api/v1/me", access, nil).must(t, 401)
	a.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": refresh}).must(t, 401)
	a.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "p@example.com", "password": "correct-horse-battery-9"}).must(t, 401)

	a.do("PATCH", "/api/v1/admin/users/"+u.ID, admin, map[string]any{"disabled": false}).must(t, 200)
	login(t, a, "p@example.com", "correct-horse-battery-9")

	// The disable is in the audit log.
	log := a.do("GET", "/api/v1/admin/audit-log?target_id="+u.ID, admin, nil).must(t, 200)
	if !strings.Contains(string(log.Raw), `"disabled":true`) {
		t.Fatalf("audit log lacks the disable: %s", log.Raw)
	}
}

func TestAdminUsers(t *testing.T) {
	a := newTestAPI(t, modeltest.NewPostgres(t))
	_, admin := a.user(models.RoleAdmin, "admin@example.com")
	_, patient := a.user(models.RolePatient, "p@example.com")

	for _, path := range []string{"/api/v1/admin/users", "/api/v1/admin/audit-log"} {
		if r := a.do("GET", path, patient, nil); r.Status != 403 || r.ErrorCode() != "forbidden" {
			t.Fatalf("patient GET %s: %d %s", path, r.Status, r.Raw)
		}
	}
	a.do("POST", "/api/v1/admin/users", patient, map[string]any{"email": "d@example.com", "password": "correct-horse-battery-9", "name": "D", "role": "doctor", "specialty": "X"}).must(t, 403)

	// A doctor needs a specialty.
	r := a.do("POST", "/api/v1/admin/users", admin, map[string]any{"email": "d@example.com", "password": "correct-horse-battery-9", "name": "Dr D", "role": "doctor"}).must(t, 422)
	if r.Fields()["specialty"] == nil {
		t.Fatalf("missing specialty detail: %s", r.Raw)
	}
	d := a.do("POST", "/api/v1/admin/users", admin, map[string]any{"email": "d@example.com", "password": "correct-horse-battery-9", "name": "Dr D", "role": "doctor", "specialty": "Neurology"}).must(t, 201)
	if d.Body["user"].(map[string]any)["doctor"].(map[string]any)["specialty"] != "Neurology" {
		t.Fatalf("doctor profile missing: %s", d.Raw)
	}
	login(t, a, "d@example.com", "correct-horse-battery-9")

	for i := range 3 {
		a.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "u" + string(rune('a'+i)) + "@example.com", "password": "correct-horse-battery-9", "name": "U"}).must(t, 201)
	}
	var page wire.List[wire.User]
	a.do("GET", "/api/v1/admin/users?role=patient&limit=2", admin, nil).must(t, 200).decode(t, &page)
	if len(page.Items) != 2 || page.NextCursor == nil {
		t.Fatalf("first page: %+v", page)
	}
	var page2 wire.List[wire.User]
	a.do("GET", "/api/v1/admin/users?role=patient&limit=2&cursor="+*page.NextCursor, admin, nil).must(t, 200).decode(t, &page2)
	if len(page2.Items) != 2 || page2.NextCursor != nil || page2.Items[0].ID == page.Items[1].ID {
		t.Fatalf("second page: %+v", page2)
	}
	a.do("GET", "/api/v1/admin/users?limit=500", admin, nil).must(t, 422)
	a.do("GET", "/api/v1/admin/users?cursor=not-a-cursor", admin, nil).must(t, 422)
}

func TestLoginBruteForceIsLimited(t *testing.T) {
	a := newTestAPI(t, modeltest.NewPostgres(t))
	a.user(models.RolePatient, "p@example.com")
	bad := map[string]any{"email": "p@example.com", "password": "wrong-password"}
	// Five free failures; the sixth is checked and closes the account's
	// gate for a second (then two, four, … up to LOGIN_MAX_DELAY).
	for i := range 6 {
		if r := a.do("POST", "/api/v1/auth/login", "", bad); r.Status != 401 {
			t.Fatalf("attempt %d: %d", i+1, r.Status)
		}
	}
	r := a.do("POST", "/api/v1/auth/login", "", bad)
	if r.Status != 429 || r.ErrorCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("7th failed attempt: %d %s (Retry-After %q)", r.Status, r.Raw, r.Header.Get("Retry-After"))
	}
	// Even the right password waits for the delay (from a new device).
	a.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "p@example.com", "password": "correct-horse-battery-9"}).must(t, 429)
}

func TestBadInputChangesNothing(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			a := newTestAPI(t, d.Open(t))
			big := `{"email":"big@example.com","password":"correct-horse-battery-9","name":"` + strings.Repeat("a", 5<<20) + `"}`
			cases := []struct {
				name   string
				body   string
				status int
				field  string
			}{
				{"malformed JSON", `{"email": "x@example.com",`, 400, ""},
				{"not an object", `["a"]`, 400, ""},
				{"empty body", ``, 400, ""},
				{"unknown field", `{"email":"x@example.com","password":"correct-horse-battery-9","name":"X","role":"admin"}`, 400, "role"},
				{"trailing data", `{"email":"x@example.com","password":"correct-horse-battery-9","name":"X"} {}`, 400, ""},
				{"wrong type", `{"email":"x@example.com","password":12345678,"name":"X"}`, 400, "password"},
				{"invalid UTF-8", "{\"email\":\"x@example.com\",\"password\":\"correct-horse-battery-9\",\"name\":\"\xff\xfe\"}", 400, ""},
				{"bad email", `{"email":"not-an-email","password":"correct-horse-battery-9","name":"X"}`, 422, "email"},
				{"SQL injection email", `{"email":"x@example.com' OR '1'='1'; DROP TABLE users; --","password":"correct-horse-battery-9","name":"X"}`, 422, "email"},
				{"5 MiB body", big, 413, ""},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					a := a.with(t)
					r := a.do("POST", "/api/v1/auth/register", "", c.body)
					if r.Status != c.status {
						t.Fatalf("status %d, want %d: %.300s", r.Status, c.status, r.Raw)
					}
					e, ok := r.Body["error"].(map[string]any)
					if !ok || e["code"] == "" || e["message"] == "" {
						t.Fatalf("not the error shape: %.300s", r.Raw)
					}
					if c.field != "" && r.Fields()[c.field] == nil {
						t.Fatalf("no detail for %q: %s", c.field, r.Raw)
					}
					if strings.Contains(strings.ToLower(string(r.Raw)), "sql") || strings.Contains(string(r.Raw), "goroutine") {
						t.Fatalf("leaks internals: %s", r.Raw)
					}
				})
			}
			var n int64
			if err := a.DB.Table("users").Count(&n).Error; err != nil || n != 0 {
				t.Fatalf("bad input wrote %d users (err %v)", n, err)
			}
			// The injection string as a login is just a failed login; the table is intact.
			a.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "' OR 1=1 --", "password": "x"}).must(t, 401)
			a.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "ok@example.com", "password": "correct-horse-battery-9", "name": "OK"}).must(t, 201)
		})
	}
}

func TestErrorShapesAndHealth(t *testing.T) {
	a := newTestAPI(t, modeltest.NewSQLite(t))
	if r := a.do("GET", "/api/v1/nope", "", nil); r.Status != 404 || r.ErrorCode() != "not_found" {
		t.Fatalf("unknown route: %d %s", r.Status, r.Raw)
	}
	if r := a.do("DELETE", "/api/v1/auth/login", "", nil); r.Status != 405 || r.ErrorCode() != "invalid_request" {
		t.Fatalf("wrong method: %d %s", r.Status, r.Raw)
	}
	a.do("GET", "/healthz", "", nil).must(t, 200)
	a.do("GET", "/readyz", "", nil).must(t, 200)
	_ = a.DB.Close()
	if r := a.do("GET", "/readyz", "", nil); r.Status != 503 || r.ErrorCode() != "unavailable" {
		t.Fatalf("readyz with the database closed: %d %s", r.Status, r.Raw)
	}
}
