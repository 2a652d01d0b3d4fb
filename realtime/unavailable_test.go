package realtime_test

import (
	"context"
	"errors"
	"testing"

	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/realtime/sioclient"
)

// A handshake that cannot check its token because the database is down is
// refused with connect_error "unavailable" (clients retry), never
// "unauthorized" (clients would sign the user out).
func TestHandshakeWithTheDatabaseDownIsUnavailable(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	u := modeltest.MustUser(t, r.P, models.RolePatient, modeltest.UniqueName("down")+"@example.com")
	tok := modeltest.MustToken(t, r.P, u)
	r.dial(tok) // fine while the database is up
	sqlDB, err := r.P.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}
	_, authErr := r.P.Auth.Authenticate(context.Background(), tok)
	t.Logf("Authenticate with the database closed: code %q (%v)", models.ErrorCode(authErr), authErr)
	_, err = r.tryDial(tok)
	var ce *sioclient.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("connected or failed otherwise: %v", err)
	}
	if ce.Message != models.EUNAVAILABLE {
		t.Fatalf("connect_error %q with the database down, want unavailable", ce.Message)
	}
	// A bad token is still unauthorized: the token is checked before the database.
	if _, err := r.tryDial("not-a-jwt"); !errors.As(err, &ce) || ce.Message != models.EUNAUTHORIZED {
		t.Fatalf("a bad token with the database down: %v, want unauthorized", err)
	}
}
