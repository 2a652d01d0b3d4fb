package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"teleconsult/database"
	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/token"
)

// authWorld is a fresh Services with one patient (password modeltest.TestPassword).
func authWorld(t *testing.T, open func(testing.TB) *database.DB) (*modeltest.Services, *modeltest.Clock, models.User) {
	t.Helper()
	clock := outboxClock(t)
	s := modeltest.NewServices(open(t), modeltest.DefaultOptions(t, clock))
	return s, clock, modeltest.MustUser(t, s, models.RolePatient, "pat@example.com")
}

// authLogin signs email in from ip and fails the test on error.
func authLogin(t *testing.T, s *modeltest.Services, email, ip string) models.Session {
	t.Helper()
	sess, err := s.Auth.Login(t.Context(), models.LoginInput{Email: email, Password: modeltest.TestPassword, ClientIP: ip})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return sess
}

// authRefreshFails checks that raw is refused.
func authRefreshFails(t *testing.T, s *modeltest.Services, raw, why string) {
	t.Helper()
	if sess, err := s.Auth.Refresh(t.Context(), raw); models.ErrorCode(err) != models.EUNAUTHORIZED {
		t.Fatalf("refresh (%s) = %+v, %v; want %s", why, sess, err, models.EUNAUTHORIZED)
	}
}

func TestAuthLogin(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			s, clock, pat := authWorld(t, d.Open)
			ctx := t.Context()
			sess := authLogin(t, s, "  PAT@Example.com ", "192.0.2.1")
			if sess.AccessToken == "" || sess.RefreshToken == "" || sess.ExpiresIn != 15*time.Minute || sess.User.ID != pat.ID || sess.User.Role != models.RolePatient {
				t.Fatalf("session = %+v", sess)
			}
			p, err := s.Auth.Authenticate(ctx, sess.AccessToken)
			if err != nil || p.User.ID != pat.ID || p.User.Email != pat.Email || p.TokenID == "" || !p.ExpiresAt.Equal(clock.Now().Add(15*time.Minute)) {
				t.Fatalf("Authenticate = %+v, %v", p, err)
			}
			if a := p.Actor("req-1"); a.UserID != pat.ID || a.Role != models.RolePatient || a.RequestID != "req-1" {
				t.Fatalf("actor = %+v", a)
			}
			second := authLogin(t, s, "pat@example.com", "192.0.2.1")
			if second.RefreshToken == sess.RefreshToken {
				t.Fatal("two logins got the same refresh token")
			}
			p2, err := s.Auth.Authenticate(ctx, second.AccessToken)
			if err != nil || p.SessionID == "" || p2.SessionID == "" || p.SessionID == p2.SessionID {
				t.Fatalf("sessions of two logins: %q and %q (%v), want two distinct ids", p.SessionID, p2.SessionID, err)
			}
			if a := p.Actor("r"); a.SessionID != p.SessionID {
				t.Fatalf("actor lost the session: %+v", a)
			}

			wrong, errWrong := s.Auth.Login(ctx, models.LoginInput{Email: "pat@example.com", Password: "password-124", ClientIP: "192.0.2.2"})
			unknown, errUnknown := s.Auth.Login(ctx, models.LoginInput{Email: "nobody@example.com", Password: modeltest.TestPassword, ClientIP: "192.0.2.3"})
			if models.ErrorCode(errWrong) != models.EUNAUTHORIZED || models.ErrorCode(errUnknown) != models.EUNAUTHORIZED || wrong.AccessToken != "" || unknown.AccessToken != "" {
				t.Fatalf("wrong password: %v; unknown email: %v; want %s", errWrong, errUnknown, models.EUNAUTHORIZED)
			}
			if errWrong.Error() != errUnknown.Error() {
				t.Fatalf("the answers tell accounts apart: %q vs %q", errWrong, errUnknown)
			}
			for name, in := range map[string]models.LoginInput{
				"no email":      {Password: modeltest.TestPassword},
				"no password":   {Email: "pat@example.com"},
				"long password": {Email: "pat@example.com", Password: strings.Repeat("p", 129)},
			} {
				if _, err := s.Auth.Login(ctx, models.LoginInput{Email: in.Email, Password: in.Password, ClientIP: "192.0.2.4"}); models.ErrorCode(err) != models.EINVALID {
					t.Errorf("login with %s: %v, want %s", name, err, models.EINVALID)
				}
			}

			// A disabled account cannot sign in, even with the right password,
			// and gets no refresh token.
			admin := modeltest.MustUser(t, s, models.RoleAdmin, "admin@example.com")
			if _, err := s.Users.AdminUpdate(ctx, outboxActor(admin), pat.ID, models.AdminUpdateUserInput{Disabled: usersPtr(true)}); err != nil {
				t.Fatal(err)
			}
			var tokens int64
			s.DB.Table("refresh_tokens").Where("user_id = ?", pat.ID).Count(&tokens)
			if _, err := s.Auth.Login(ctx, models.LoginInput{Email: "pat@example.com", Password: modeltest.TestPassword, ClientIP: "192.0.2.5"}); models.ErrorCode(err) != models.EUNAUTHORIZED {
				t.Fatalf("login of a disabled account: %v, want %s", err, models.EUNAUTHORIZED)
			}
			var after int64
			s.DB.Table("refresh_tokens").Where("user_id = ?", pat.ID).Count(&after)
			if after != tokens {
				t.Fatalf("a refused login stored a refresh token (%d → %d)", tokens, after)
			}
		})
	}
}

func TestAuthLoginRateLimit(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			s, _, _ := authWorld(t, d.Open)
			s.Auth.WithSignIn(models.SignInPolicy{FreeAttempts: 5, MaxDelay: 15 * time.Minute, IPAttempts: 10, Window: 15 * time.Minute}, []byte("device-key"))
			ctx := t.Context()
			for _, e := range []string{"other@example.com", "third@example.com", "reset@example.com", "nat@example.com"} {
				modeltest.MustUser(t, s, models.RolePatient, e)
			}
			login := func(email, password, ip, device string) (models.Session, error) {
				return s.Auth.Login(ctx, models.LoginInput{Email: email, Password: password, ClientIP: ip, DeviceToken: device})
			}
			limited := func(t *testing.T, err error, what string) {
				t.Helper()
				if models.ErrorCode(err) != models.ERATELIMITED {
					t.Fatalf("%s: %v, want %s", what, err, models.ERATELIMITED)
				}
				if secs := models.AsError(err).RetryAfterSeconds; secs < 1 || secs > 15*60 {
					t.Fatalf("%s: RetryAfterSeconds = %d, want 1..900", what, secs)
				}
			}
			// The patient's own device, known from an earlier sign-in.
			known, err := login("pat@example.com", modeltest.TestPassword, "203.0.113.50", "")
			if err != nil || known.DeviceToken == "" {
				t.Fatalf("sign-in hands out no device token: %v", err)
			}

			// Five free failures on one account (from several IPs), then a
			// delay: the sixth is evaluated and closes the gate for 1 s.
			for i := range 6 {
				if _, err := login("pat@example.com", "wrong-password", fmt.Sprintf("203.0.113.%d", i%3), ""); models.ErrorCode(err) != models.EUNAUTHORIZED {
					t.Fatalf("failure %d: %v, want %s", i+1, err, models.EUNAUTHORIZED)
				}
			}
			_, err = login("pat@example.com", modeltest.TestPassword, "203.0.113.9", "")
			limited(t, err, "right password inside the delay, from an unknown device")
			_, err = login("PAT@example.com", "wrong-password", "203.0.113.10", "")
			limited(t, err, "another spelling of the account")
			// The real user on their known device is never held back.
			if _, err := login("pat@example.com", modeltest.TestPassword, "198.51.100.7", known.DeviceToken); err != nil {
				t.Fatalf("the user's own device was throttled: %v", err)
			}
			// A forged or foreign device token does not help.
			other, _ := login("other@example.com", modeltest.TestPassword, "203.0.113.60", "")
			_, err = login("third@example.com", "wrong-password", "203.0.113.61", other.DeviceToken)
			if models.ErrorCode(err) != models.EUNAUTHORIZED {
				t.Fatalf("wrong password with another user's device: %v", err)
			}

			// After the delay one more attempt is evaluated; the delay doubles.
			for i := range 5 {
				_, _ = login("third@example.com", "wrong-password", fmt.Sprintf("203.0.114.%d", i), "")
			}
			_, _ = login("third@example.com", "wrong-password", "203.0.114.20", "") // 6th: gate 1 s
			time.Sleep(1100 * time.Millisecond)
			if _, err := login("third@example.com", modeltest.TestPassword, "203.0.114.21", ""); err != nil {
				t.Fatalf("right password after the delay: %v", err)
			}

			// Parallel guesses are counted before the check: at most the free
			// attempts plus one are evaluated.
			modeltest.MustUser(t, s, models.RolePatient, "burst@example.com")
			const n = 30
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { _, errs[i] = login("burst@example.com", "wrong-password", fmt.Sprintf("203.0.116.%d", i), "") })
			}
			wg.Wait()
			evaluated := 0
			for _, err := range errs {
				switch models.ErrorCode(err) {
				case models.EUNAUTHORIZED:
					evaluated++
				case models.ERATELIMITED:
				default:
					t.Fatalf("parallel guess: %v", err)
				}
			}
			if evaluated > 6 {
				t.Fatalf("%d of %d parallel guesses were evaluated, want at most 6", evaluated, n)
			}

			// Per IP the limit is higher and counts failures only: ten
			// failures from one address (a clinic's NAT) stop further guesses
			// from it, while its correct sign-ins before that did not count.
			for i := range 3 {
				if _, err := login("nat@example.com", modeltest.TestPassword, "192.0.2.200", ""); err != nil {
					t.Fatalf("sign-in %d from the NAT: %v", i, err)
				}
			}
			for i := range 10 {
				email := fmt.Sprintf("typo%d@example.com", i)
				if _, err := login(email, "wrong-password", "192.0.2.200", ""); models.ErrorCode(err) != models.EUNAUTHORIZED {
					t.Fatalf("NAT failure %d: %v", i, err)
				}
			}
			_, err = login("nat@example.com", modeltest.TestPassword, "192.0.2.200", "")
			limited(t, err, "the eleventh failure-counted attempt from one IP")
			if _, err := login("nat@example.com", modeltest.TestPassword, "192.0.2.201", ""); err != nil {
				t.Fatalf("another IP was refused: %v", err)
			}

			// A success forgets the account's failures.
			for round := range 3 {
				for i := range 4 {
					if _, err := login("reset@example.com", "wrong-password", fmt.Sprintf("203.0.115.%d", round*10+i), ""); models.ErrorCode(err) != models.EUNAUTHORIZED {
						t.Fatalf("round %d failure %d: %v", round, i+1, err)
					}
				}
				if _, err := login("reset@example.com", modeltest.TestPassword, fmt.Sprintf("203.0.115.%d", round*10+9), ""); err != nil {
					t.Fatalf("round %d: login after 4 failures and earlier successes: %v", round, err)
				}
			}
		})
	}
}

func TestAuthRefresh(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			s, clock, pat := authWorld(t, d.Open)
			ctx := t.Context()
			s1 := authLogin(t, s, pat.Email, "192.0.2.1")
			device2 := authLogin(t, s, pat.Email, "192.0.2.1")

			clock.Advance(time.Minute)
			s2, err := s.Auth.Refresh(ctx, s1.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if s2.RefreshToken == s1.RefreshToken || s2.AccessToken == "" || s2.User.ID != pat.ID || s2.ExpiresIn != 15*time.Minute {
				t.Fatalf("rotated session = %+v", s2)
			}
			p1, err := s.Auth.Authenticate(ctx, s1.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if p, err := s.Auth.Authenticate(ctx, s2.AccessToken); err != nil || p.User.ID != pat.ID || p.SessionID != p1.SessionID {
				t.Fatalf("new access token: %+v, %v; want the same session %q", p, err, p1.SessionID)
			}
			s3, err := s.Auth.Refresh(ctx, s2.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			// Reusing a spent token (after the grace window) revokes the
			// whole family, the newest token included.
			clock.Advance(s.Auth.RefreshGrace + time.Second)
			authRefreshFails(t, s, s1.RefreshToken, "spent token")
			authRefreshFails(t, s, s3.RefreshToken, "newest token of a family whose spent token was reused")
			authRefreshFails(t, s, s2.RefreshToken, "spent token, family revoked")
			var live int64
			s.DB.Table("refresh_tokens").Where("user_id = ? AND revoked_at IS NULL", pat.ID).Count(&live)
			if live != 1 {
				t.Fatalf("%d live refresh tokens, want only the other device's", live)
			}
			// The other device's session is another family.
			d2, err := s.Auth.Refresh(ctx, device2.RefreshToken)
			if err != nil {
				t.Fatalf("another device's session was revoked: %v", err)
			}

			for name, raw := range map[string]string{"empty": "", "garbage": "not-a-token", "too long": strings.Repeat("x", 201), "an access token": d2.AccessToken} {
				authRefreshFails(t, s, raw, name)
			}

			// Refresh tokens last RefreshTTL (30 days).
			clock.Advance(30*24*time.Hour - time.Second)
			d3, err := s.Auth.Refresh(ctx, d2.RefreshToken)
			if err != nil {
				t.Fatalf("refresh a second before expiry: %v", err)
			}
			clock.Advance(30 * 24 * time.Hour)
			authRefreshFails(t, s, d3.RefreshToken, "expired")

			// A disabled user cannot refresh even a live token (the flag is
			// read; here it is set without AdminUpdate's revocation).
			live4 := authLogin(t, s, pat.Email, "192.0.2.1")
			if err := s.DB.Table("users").Where("id = ?", pat.ID).Update("disabled", true).Error; err != nil {
				t.Fatal(err)
			}
			authRefreshFails(t, s, live4.RefreshToken, "disabled user")
			if err := s.DB.Table("users").Where("id = ?", pat.ID).Update("disabled", false).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := s.Auth.Refresh(ctx, live4.RefreshToken); err != nil {
				t.Fatalf("the refused refresh spent the token: %v", err)
			}
		})
	}
}

// TestAuthConcurrentRefresh: refreshes of one token at once (two tabs)
// each get a working session of the same family; after the grace window the
// spent token is reuse again.
func TestAuthConcurrentRefresh(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			s, clock, pat := authWorld(t, d.Open)
			ctx := t.Context()
			sess := authLogin(t, s, pat.Email, "192.0.2.1")
			const racers = 4
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				won  []models.Session
				errs []error
			)
			start := make(chan struct{})
			for range racers {
				wg.Go(func() {
					<-start
					got, err := s.Auth.Refresh(ctx, sess.RefreshToken)
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						won = append(won, got)
					} else {
						errs = append(errs, err)
					}
				})
			}
			close(start)
			wg.Wait()
			if len(won) != racers {
				t.Fatalf("%d of %d concurrent refreshes of one token succeeded (errors %v)", len(won), racers, errs)
			}
			seen := map[string]bool{}
			for _, w := range won {
				if seen[w.RefreshToken] {
					t.Fatal("two tabs got the same refresh token")
				}
				seen[w.RefreshToken] = true
				if _, err := s.Auth.Refresh(ctx, w.RefreshToken); err != nil {
					t.Fatalf("a tab's new token does not work: %v", err)
				}
			}
			clock.Advance(s.Auth.RefreshGrace + time.Second)
			authRefreshFails(t, s, sess.RefreshToken, "the spent token after the grace window")
		})
	}
}

func TestAuthLogout(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			s, clock, pat := authWorld(t, d.Open)
			ctx := t.Context()
			phone := authLogin(t, s, pat.Email, "192.0.2.1")
			laptop := authLogin(t, s, pat.Email, "192.0.2.1")
			rotated, err := s.Auth.Refresh(ctx, phone.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			var ended []models.SessionEnded
			s.Outbox.Subscribe("spy", func(_ context.Context, env models.Envelope) error {
				if ev, ok := env.Event.(models.SessionEnded); ok {
					ended = append(ended, ev)
				}
				return nil
			})
			phoneP, err := s.Auth.Authenticate(ctx, rotated.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Auth.Logout(ctx, rotated.RefreshToken); err != nil {
				t.Fatalf("logout: %v", err)
			}
			s.Dispatch(t)
			if want := (models.SessionEnded{UserID: pat.ID, SessionID: phoneP.SessionID, At: clock.Now()}); len(ended) != 1 || ended[0] != want {
				t.Fatalf("SessionEnded events = %+v, want %+v", ended, want)
			}
			if err := s.Auth.Logout(ctx, rotated.RefreshToken); err != nil {
				t.Fatalf("second logout: %v", err)
			}
			authRefreshFails(t, s, rotated.RefreshToken, "logged out")
			authRefreshFails(t, s, phone.RefreshToken, "older token of a logged-out family")
			before := len(outboxEvents(t, s, models.KindSessionEnded))
			for _, raw := range []string{"", "unknown", strings.Repeat("x", 500)} {
				if err := s.Auth.Logout(ctx, raw); err != nil {
					t.Fatalf("logout(%.10q): %v, want nil", raw, err)
				}
			}
			if n := len(outboxEvents(t, s, models.KindSessionEnded)); n != before {
				t.Fatalf("logging out unknown tokens raised %d SessionEnded events", n-before)
			}
			if err := s.Auth.Logout(ctx, phone.RefreshToken); err != nil {
				t.Fatalf("logout with an older token of the family: %v", err)
			}
			if _, err := s.Auth.Refresh(ctx, laptop.RefreshToken); err != nil {
				t.Fatalf("logging out the phone ended the laptop's session: %v", err)
			}
		})
	}
}

func TestAuthAuthenticate(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			s, clock, pat := authWorld(t, d.Open)
			ctx := t.Context()
			admin := modeltest.MustUser(t, s, models.RoleAdmin, "admin@example.com")
			sess := authLogin(t, s, pat.Email, "192.0.2.1")
			if p, err := s.Auth.Authenticate(ctx, sess.AccessToken); err != nil || p.User.ID != pat.ID {
				t.Fatalf("Authenticate = %+v, %v", p, err)
			}
			foreign, err := token.NewIssuer("another-secret-that-is-long-enough-0123", nil, "teleconsult", "teleconsult-api", time.Hour, clock.Now)
			if err != nil {
				t.Fatal(err)
			}
			forged, _ := foreign.IssueAccess(pat.ID, models.RoleAdmin, "")
			ghost, _ := s.Opts.Issuer.IssueAccess("no-such-user", models.RolePatient, "")
			for name, raw := range map[string]string{
				"empty":                "",
				"garbage":              "not.a.jwt",
				"a refresh token":      sess.RefreshToken,
				"another secret":       forged,
				"unknown user":         ghost,
				"tampered":             sess.AccessToken[:len(sess.AccessToken)-2] + "xx",
				"with a trailing byte": sess.AccessToken + "a",
			} {
				if p, err := s.Auth.Authenticate(ctx, raw); models.ErrorCode(err) != models.EUNAUTHORIZED {
					t.Errorf("%s: %+v, %v; want %s", name, p, err, models.EUNAUTHORIZED)
				}
			}

			// The role and profile come from the database, not the token.
			if _, err := s.Users.AdminUpdate(ctx, outboxActor(admin), pat.ID, models.AdminUpdateUserInput{Role: usersPtr(models.RoleDoctor), Specialty: usersPtr("GP")}); err != nil {
				t.Fatal(err)
			}
			if p, err := s.Auth.Authenticate(ctx, sess.AccessToken); err != nil || p.User.Role != models.RoleDoctor || p.User.Doctor == nil {
				t.Fatalf("after a role change: %+v, %v", p.User, err)
			}

			// Expiry: 15 minutes, with 5 seconds of leeway.
			clock.Advance(15*time.Minute + 4*time.Second)
			if _, err := s.Auth.Authenticate(ctx, sess.AccessToken); err != nil {
				t.Fatalf("within the leeway: %v", err)
			}
			clock.Advance(2 * time.Second)
			if _, err := s.Auth.Authenticate(ctx, sess.AccessToken); models.ErrorCode(err) != models.EUNAUTHORIZED {
				t.Fatalf("expired token: %v, want %s", err, models.EUNAUTHORIZED)
			}

			// Disabling takes effect on the next check.
			fresh := modeltest.MustToken(t, s, pat)
			if _, err := s.Auth.Authenticate(ctx, fresh); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Users.AdminUpdate(ctx, outboxActor(admin), pat.ID, models.AdminUpdateUserInput{Disabled: usersPtr(true)}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Auth.Authenticate(ctx, fresh); models.ErrorCode(err) != models.EUNAUTHORIZED {
				t.Fatalf("disabled user: %v, want %s", err, models.EUNAUTHORIZED)
			}
		})
	}
}
