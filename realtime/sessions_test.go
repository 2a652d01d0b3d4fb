package realtime_test

import (
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/realtime/sioclient"
)

// A password change closes the sockets of the user's other sessions and
// keeps the one that made it; signing out closes that session's sockets.
func TestPasswordChangeAndLogoutCloseSessionSockets(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	u := modeltest.MustUser(t, r.P, models.RolePatient, "sessions@example.com")
	login := func() models.Session {
		t.Helper()
		s, err := r.P.Auth.Login(t.Context(), models.LoginInput{Email: u.Email, Password: modeltest.TestPassword, ClientIP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	laptop, phone := login(), login()
	laptopSock, phoneSock := r.dial(laptop.AccessToken), r.dial(phone.AccessToken)
	closed := func(c *sioclient.Client, within time.Duration) bool {
		select {
		case <-c.Done():
			return true
		case <-time.After(within):
			return false
		}
	}
	pr, err := r.P.Auth.Authenticate(t.Context(), laptop.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	newPW, oldPW := "mistral-orchard-57", modeltest.TestPassword
	if _, err := r.P.Users.UpdateProfile(t.Context(), pr.Actor(""), models.UpdateProfileInput{Password: &newPW, CurrentPassword: &oldPW}); err != nil {
		t.Fatal(err)
	}
	if !closed(phoneSock, 5*time.Second) {
		t.Fatal("the other session's socket stayed open after the password change")
	}
	if closed(laptopSock, 500*time.Millisecond) {
		t.Fatal("the session that changed the password lost its socket")
	}
	if err := r.P.Auth.Logout(t.Context(), laptop.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if !closed(laptopSock, 5*time.Second) {
		t.Fatal("signing out left the session's socket open")
	}
}
