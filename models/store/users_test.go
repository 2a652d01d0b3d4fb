package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"teleconsult/database"
	"teleconsult/models"
	"teleconsult/modeltest"
)

// usersWorld is a fresh Services with an admin, on one driver.
func usersWorld(t *testing.T, open func(testing.TB) *database.DB) (*modeltest.Services, *modeltest.Clock, models.User) {
	t.Helper()
	clock := outboxClock(t)
	s := modeltest.NewServices(open(t), modeltest.DefaultOptions(t, clock))
	return s, clock, modeltest.MustUser(t, s, models.RoleAdmin, "admin@example.com")
}

// usersAudit returns the audit entries about user id, newest first.
func usersAudit(t *testing.T, s *modeltest.Services, admin models.User, id string) []models.AuditEntry {
	t.Helper()
	p, err := s.Audit.List(t.Context(), outboxActor(admin), models.AuditFilter{TargetType: "user", TargetID: id})
	if err != nil {
		t.Fatalf("audit of %s: %v", id, err)
	}
	return p.Items
}

// usersCount counts the users table.
func usersCount(t *testing.T, s *modeltest.Services) int64 {
	t.Helper()
	var n int64
	if err := s.DB.Table("users").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// usersLogin signs u in with password from a fresh client IP.
func usersLogin(t *testing.T, s *modeltest.Services, email, password string) (models.Session, error) {
	t.Helper()
	return s.Auth.Login(t.Context(), models.LoginInput{Email: email, Password: password, ClientIP: "198.51.100." + fmt.Sprint(time.Now().UnixNano()%250)})
}

func usersPtr[T any](v T) *T { return &v }

// usersPassword passes the password policy (10+ characters, not common).
const usersPassword = "violet-harbor-71"

func TestUsersRegister(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			s, _, _ := usersWorld(t, d.Open)
			ctx := t.Context()
			u, err := s.Users.Register(ctx, models.RegisterInput{Email: "  Alice.Smith@Example.COM ", Password: usersPassword, Name: "  Alice Smith  "})
			if err != nil {
				t.Fatal(err)
			}
			if u.Email != "alice.smith@example.com" || u.Name != "Alice Smith" || u.Role != models.RolePatient || u.TimeZone != "UTC" || u.Disabled || u.Doctor != nil {
				t.Fatalf("registered %+v", u)
			}
			if u.PasswordHash == "" || strings.Contains(u.PasswordHash, usersPassword) {
				t.Fatalf("password stored as %q", u.PasswordHash)
			}
			got, err := s.Users.Get(ctx, u.ID)
			if err != nil || got.Email != u.Email || got.Name != u.Name {
				t.Fatalf("Get = %+v, %v", got, err)
			}
			if _, err := usersLogin(t, s, "ALICE.smith@example.com", usersPassword); err != nil {
				t.Fatalf("login with another spelling of the email: %v", err)
			}
			berlin, err := s.Users.Register(ctx, models.RegisterInput{Email: "bob@example.com", Password: usersPassword, Name: "Bob", TimeZone: "Europe/Berlin"})
			if err != nil || berlin.TimeZone != "Europe/Berlin" {
				t.Fatalf("register with a zone = %+v, %v", berlin, err)
			}

			before := usersCount(t, s)
			for _, email := range []string{"alice.smith@example.com", "ALICE.SMITH@EXAMPLE.COM", " alice.smith@example.com"} {
				_, err := s.Users.Register(ctx, models.RegisterInput{Email: email, Password: "other-secret-456", Name: "Other Alice"})
				if models.ErrorCode(err) != models.ECONFLICT {
					t.Fatalf("register %q again: %v, want %s", email, err, models.ECONFLICT)
				}
				if f, _ := models.AsError(err).Details["fields"].(map[string]any); f["email"] != "is already registered" {
					t.Fatalf("conflict details = %v", models.AsError(err).Details)
				}
			}
			if _, err := s.Users.Create(ctx, models.SystemActor, models.CreateUserInput{Email: "Alice.Smith@example.com", Password: usersPassword, Name: "A", Role: models.RoleDoctor, Specialty: "GP"}); models.ErrorCode(err) != models.ECONFLICT {
				t.Fatalf("admin create with a taken email: %v", err)
			}
			invalid := []struct {
				field string
				in    models.RegisterInput
			}{
				{"email", models.RegisterInput{Email: "not-an-email", Password: usersPassword, Name: "N"}},
				{"email", models.RegisterInput{Email: "   ", Password: usersPassword, Name: "N"}},
				{"password", models.RegisterInput{Email: "n@example.com", Password: "short-7", Name: "N"}},
				{"password", models.RegisterInput{Email: "n@example.com", Password: strings.Repeat("p", 129), Name: "N"}},
				{"name", models.RegisterInput{Email: "n@example.com", Password: usersPassword, Name: "   "}},
				{"password", models.RegisterInput{Email: "n@example.com", Password: "password1234", Name: "N"}},
				{"password", models.RegisterInput{Email: "nelly@example.com", Password: " NELLY@example.com", Name: "N"}},
				{"password", models.RegisterInput{Email: "n@example.com", Password: "           ", Name: "N"}},
				{"time_zone", models.RegisterInput{Email: "n@example.com", Password: usersPassword, Name: "N", TimeZone: "Mars/Olympus"}},
				{"time_zone", models.RegisterInput{Email: "n@example.com", Password: usersPassword, Name: "N", TimeZone: "Local"}},
			}
			for _, c := range invalid {
				if _, err := s.Users.Register(ctx, c.in); !notifyFieldErr(err, c.field) {
					t.Errorf("register %+v: %v, want %s on %s", c.in, err, models.EINVALID, c.field)
				}
			}
			if n := usersCount(t, s); n != before {
				t.Fatalf("refused registrations changed the user count from %d to %d", before, n)
			}
		})
	}
}

func TestUsersCreate(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			s, _, admin := usersWorld(t, d.Open)
			ctx := t.Context()
			pat := modeltest.MustUser(t, s, models.RolePatient, "pat@example.com")
			doc := modeltest.MustUser(t, s, models.RoleDoctor, "doc@example.com")
			in := models.CreateUserInput{Email: " New.Doc@Example.com", Password: usersPassword, Name: " Dr New ", Role: models.RoleDoctor,
				Specialty: " Dermatology ", Bio: "Skin.", TimeZone: "Asia/Tokyo"}
			before := usersCount(t, s)
			for _, u := range []models.User{pat, doc} {
				if _, err := s.Users.Create(ctx, outboxActor(u), in); models.ErrorCode(err) != models.EFORBIDDEN {
					t.Fatalf("create by a %s: %v, want %s", u.Role, err, models.EFORBIDDEN)
				}
			}
			if n := usersCount(t, s); n != before {
				t.Fatal("a refused create stored a user")
			}
			actor := outboxActor(admin)
			actor.RequestID = "req-create-1"
			u, err := s.Users.Create(ctx, actor, in)
			if err != nil {
				t.Fatal(err)
			}
			if u.Email != "new.doc@example.com" || u.Name != "Dr New" || u.Role != models.RoleDoctor || u.TimeZone != "Asia/Tokyo" ||
				u.Doctor == nil || u.Doctor.Specialty != "Dermatology" || u.Doctor.Bio != "Skin." {
				t.Fatalf("created %+v (doctor %+v)", u, u.Doctor)
			}
			if got, err := s.Users.AdminGet(ctx, outboxActor(admin), u.ID); err != nil || got.Doctor == nil || got.Doctor.Specialty != "Dermatology" {
				t.Fatalf("AdminGet = %+v, %v", got, err)
			}
			if _, err := s.Users.AdminGet(ctx, outboxActor(pat), u.ID); models.ErrorCode(err) != models.EFORBIDDEN {
				t.Fatalf("AdminGet by a patient: %v", err)
			}
			if _, err := s.Users.AdminGet(ctx, outboxActor(admin), "no-such-user"); models.ErrorCode(err) != models.ENOTFOUND {
				t.Fatalf("AdminGet of an unknown id: %v", err)
			}
			entries := usersAudit(t, s, admin, u.ID)
			if len(entries) != 1 || entries[0].Action != "user.create" || entries[0].ActorID != admin.ID || entries[0].ActorRole != models.RoleAdmin ||
				entries[0].RequestID != "req-create-1" || entries[0].Details["role"] != "doctor" {
				t.Fatalf("audit = %+v, want one user.create by the admin", entries)
			}
			if e := usersAudit(t, s, admin, pat.ID); len(e) != 1 || e[0].ActorID != models.SystemActor.UserID {
				t.Fatalf("audit of a user the system created = %+v", e)
			}

			invalid := []struct {
				name, field string
				in          models.CreateUserInput
			}{
				{"doctor without specialty", "specialty", models.CreateUserInput{Email: "x1@example.com", Password: usersPassword, Name: "X", Role: models.RoleDoctor}},
				{"unknown role", "role", models.CreateUserInput{Email: "x2@example.com", Password: usersPassword, Name: "X", Role: "nurse"}},
				{"no role", "role", models.CreateUserInput{Email: "x3@example.com", Password: usersPassword, Name: "X"}},
				{"long specialty", "specialty", models.CreateUserInput{Email: "x4@example.com", Password: usersPassword, Name: "X", Role: models.RoleDoctor, Specialty: strings.Repeat("s", 81)}},
				{"bad email", "email", models.CreateUserInput{Email: "x5", Password: usersPassword, Name: "X", Role: models.RolePatient}},
			}
			before = usersCount(t, s)
			for _, c := range invalid {
				if _, err := s.Users.Create(ctx, outboxActor(admin), c.in); !notifyFieldErr(err, c.field) {
					t.Errorf("%s: %v, want %s on %s", c.name, err, models.EINVALID, c.field)
				}
			}
			if n := usersCount(t, s); n != before {
				t.Fatal("an invalid create stored a user")
			}
			t.Run("blank specialty", func(t *testing.T) {
				_, err := s.Users.Create(ctx, outboxActor(admin), models.CreateUserInput{Email: "x6@example.com", Password: usersPassword, Name: "X", Role: models.RoleDoctor, Specialty: "   "})
				if !notifyFieldErr(err, "specialty") {
					t.Fatalf("doctor with a blank specialty: %v, want %s on specialty", err, models.EINVALID)
				}
			})
		})
	}
}

func TestUsersUpdateProfile(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			s, clock, admin := usersWorld(t, d.Open)
			ctx := t.Context()
			pat := modeltest.MustUser(t, s, models.RolePatient, "pat@example.com")
			doc := modeltest.MustUser(t, s, models.RoleDoctor, "doc@example.com")
			patA, docA := outboxActor(pat), outboxActor(doc)
			clock.Advance(time.Hour)

			u, err := s.Users.UpdateProfile(ctx, patA, models.UpdateProfileInput{Name: usersPtr("  Pat Renamed "), TimeZone: usersPtr("America/New_York")})
			if err != nil {
				t.Fatal(err)
			}
			if u.Name != "Pat Renamed" || u.TimeZone != "America/New_York" || !u.UpdatedAt.Equal(clock.Now()) || u.Email != pat.Email || u.Role != models.RolePatient {
				t.Fatalf("updated %+v", u)
			}
			// Nil fields stay.
			if u, err = s.Users.UpdateProfile(ctx, patA, models.UpdateProfileInput{}); err != nil || u.Name != "Pat Renamed" || u.TimeZone != "America/New_York" {
				t.Fatalf("empty update = %+v, %v", u, err)
			}

			// A password change needs the current password and passes the
			// policy; it keeps the session that made it and ends every other.
			var changed []models.PasswordChanged
			s.Outbox.Subscribe("spy", func(_ context.Context, env models.Envelope) error {
				if ev, ok := env.Event.(models.PasswordChanged); ok {
					changed = append(changed, ev)
				}
				return nil
			})
			here, err := usersLogin(t, s, pat.Email, modeltest.TestPassword)
			if err != nil {
				t.Fatal(err)
			}
			elsewhere, err := usersLogin(t, s, pat.Email, modeltest.TestPassword)
			if err != nil {
				t.Fatal(err)
			}
			principal, err := s.Auth.Authenticate(ctx, here.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			hereA := principal.Actor("req-password")
			if hereA.SessionID == "" || hereA.UserID != pat.ID {
				t.Fatalf("actor of a signed-in request = %+v, want its session", hereA)
			}
			const newPassword = "a-brand-new-secret-7"
			refused := []struct {
				name, code, field string
				in                models.UpdateProfileInput
			}{
				{"no current password", models.EINVALID, "current_password", models.UpdateProfileInput{Password: usersPtr(newPassword)}},
				{"wrong current password", models.EFORBIDDEN, "current_password", models.UpdateProfileInput{Password: usersPtr(newPassword), CurrentPassword: usersPtr("not-my-password")}},
				{"too short", models.EINVALID, "password", models.UpdateProfileInput{Password: usersPtr("short-pw9"), CurrentPassword: usersPtr(modeltest.TestPassword)}},
				{"common", models.EINVALID, "password", models.UpdateProfileInput{Password: usersPtr("password1234"), CurrentPassword: usersPtr(modeltest.TestPassword)}},
				{"the email", models.EINVALID, "password", models.UpdateProfileInput{Password: usersPtr("PAT@example.com"), CurrentPassword: usersPtr(modeltest.TestPassword)}},
				{"too long", models.EINVALID, "password", models.UpdateProfileInput{Password: usersPtr(strings.Repeat("p", 129)), CurrentPassword: usersPtr(modeltest.TestPassword)}},
			}
			for _, c := range refused {
				_, err := s.Users.UpdateProfile(ctx, hereA, c.in)
				fields, _ := models.AsError(err).Details["fields"].(map[string]any)
				if models.ErrorCode(err) != c.code || fields[c.field] == nil {
					t.Errorf("%s: %v (details %v), want %s on %s", c.name, err, models.AsError(err).Details, c.code, c.field)
				}
			}
			if n := len(outboxEvents(t, s, models.KindPasswordChanged)); n != 0 {
				t.Fatalf("refused password changes raised %d events", n)
			}
			if _, err := s.Users.UpdateProfile(ctx, hereA, models.UpdateProfileInput{Password: usersPtr(newPassword), CurrentPassword: usersPtr(modeltest.TestPassword)}); err != nil {
				t.Fatal(err)
			}
			if _, err := usersLogin(t, s, pat.Email, modeltest.TestPassword); models.ErrorCode(err) != models.EUNAUTHORIZED {
				t.Fatalf("login with the old password: %v, want %s", err, models.EUNAUTHORIZED)
			}
			sess, err := usersLogin(t, s, pat.Email, newPassword)
			if err != nil || sess.User.ID != pat.ID || sess.User.Name != "Pat Renamed" {
				t.Fatalf("login with the new password = %+v, %v", sess.User, err)
			}
			if _, err := s.Auth.Refresh(ctx, elsewhere.RefreshToken); models.ErrorCode(err) != models.EUNAUTHORIZED {
				t.Fatalf("another session survived the password change: %v", err)
			}
			if _, err := s.Auth.Refresh(ctx, here.RefreshToken); err != nil {
				t.Fatalf("the session that changed the password was ended: %v", err)
			}
			s.Dispatch(t)
			if want := (models.PasswordChanged{UserID: pat.ID, KeepSessionID: hereA.SessionID, At: clock.Now()}); len(changed) != 1 || changed[0] != want {
				t.Fatalf("PasswordChanged events = %+v, want %+v", changed, want)
			}
			if e := usersAudit(t, s, admin, pat.ID); len(e) == 0 || e[0].Action != "user.password_change" || e[0].ActorID != pat.ID || e[0].RequestID != "req-password" {
				t.Fatalf("latest audit entry = %+v, want the password change", e)
			}

			// Doctors edit specialty and bio.
			u, err = s.Users.UpdateProfile(ctx, docA, models.UpdateProfileInput{Specialty: usersPtr(" Neurology "), Bio: usersPtr("Brains.")})
			if err != nil || u.Doctor == nil || u.Doctor.Specialty != "Neurology" || u.Doctor.Bio != "Brains." || u.Name != doc.Name {
				t.Fatalf("doctor update = %+v (%+v), %v", u, u.Doctor, err)
			}
			if u, err = s.Users.UpdateProfile(ctx, docA, models.UpdateProfileInput{Bio: usersPtr("")}); err != nil || u.Doctor.Bio != "" || u.Doctor.Specialty != "Neurology" {
				t.Fatalf("clearing the bio = %+v, %v", u.Doctor, err)
			}

			invalid := []struct {
				name, field string
				actor       models.Actor
				in          models.UpdateProfileInput
			}{
				{"patient specialty", "specialty", patA, models.UpdateProfileInput{Specialty: usersPtr("Surgery")}},
				{"patient bio", "specialty", patA, models.UpdateProfileInput{Bio: usersPtr("About me")}},
				{"bad zone", "time_zone", patA, models.UpdateProfileInput{TimeZone: usersPtr("Nowhere/Special")}},
				{"empty name", "name", patA, models.UpdateProfileInput{Name: usersPtr("")}},
				{"password without the current one", "current_password", patA, models.UpdateProfileInput{Password: usersPtr("1234567")}},
				{"empty specialty", "specialty", docA, models.UpdateProfileInput{Specialty: usersPtr("")}},
			}
			for _, c := range invalid {
				if _, err := s.Users.UpdateProfile(ctx, c.actor, c.in); !notifyFieldErr(err, c.field) {
					t.Errorf("%s: %v, want %s on %s", c.name, err, models.EINVALID, c.field)
				}
			}
			if got, _ := s.Users.Get(ctx, pat.ID); got.Name != "Pat Renamed" || got.Doctor != nil {
				t.Fatalf("refused updates changed the user: %+v", got)
			}
			if _, err := s.Users.UpdateProfile(ctx, models.Actor{UserID: "gone", Role: models.RolePatient}, models.UpdateProfileInput{Name: usersPtr("X")}); models.ErrorCode(err) != models.ENOTFOUND {
				t.Fatalf("update of an unknown user: %v", err)
			}
			t.Run("blank name", func(t *testing.T) {
				if _, err := s.Users.UpdateProfile(ctx, patA, models.UpdateProfileInput{Name: usersPtr("   ")}); !notifyFieldErr(err, "name") {
					t.Fatalf("blank name: %v, want %s on name", err, models.EINVALID)
				}
			})
		})
	}
}

func TestUsersAdminUpdate(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			s, clock, admin := usersWorld(t, d.Open)
			ctx := t.Context()
			adminA := outboxActor(admin)
			pat := modeltest.MustUser(t, s, models.RolePatient, "pat@example.com")
			other := modeltest.MustUser(t, s, models.RolePatient, "other@example.com")
			var seen []models.UserDisabled
			s.Outbox.Subscribe("spy", func(_ context.Context, env models.Envelope) error {
				if ev, ok := env.Event.(models.UserDisabled); ok {
					seen = append(seen, ev)
				}
				return nil
			})

			for _, u := range []models.User{pat, modeltest.MustUser(t, s, models.RoleDoctor, "doc@example.com")} {
				if _, err := s.Users.AdminUpdate(ctx, outboxActor(u), other.ID, models.AdminUpdateUserInput{Disabled: usersPtr(true)}); models.ErrorCode(err) != models.EFORBIDDEN {
					t.Fatalf("AdminUpdate by a %s: %v, want %s", u.Role, err, models.EFORBIDDEN)
				}
			}
			if _, err := s.Users.AdminUpdate(ctx, adminA, "no-such-user", models.AdminUpdateUserInput{Name: usersPtr("X")}); models.ErrorCode(err) != models.ENOTFOUND {
				t.Fatalf("AdminUpdate of an unknown user: %v", err)
			}

			t.Run("an admin cannot disable or demote themselves", func(t *testing.T) {
				for name, in := range map[string]models.AdminUpdateUserInput{
					"disable":        {Disabled: usersPtr(true)},
					"to patient":     {Role: usersPtr(models.RolePatient)},
					"to doctor":      {Role: usersPtr(models.RoleDoctor), Specialty: usersPtr("GP")},
					"rename+disable": {Name: usersPtr("Still me"), Disabled: usersPtr(true)},
				} {
					if _, err := s.Users.AdminUpdate(ctx, adminA, admin.ID, in); models.ErrorCode(err) != models.ECONFLICT {
						t.Errorf("%s: %v, want %s", name, err, models.ECONFLICT)
					}
				}
				u, err := s.Users.AdminUpdate(ctx, adminA, admin.ID, models.AdminUpdateUserInput{Name: usersPtr("Chief"), Role: usersPtr(models.RoleAdmin), Disabled: usersPtr(false)})
				if err != nil || u.Name != "Chief" || u.Role != models.RoleAdmin || u.Disabled {
					t.Fatalf("harmless self update = %+v, %v", u, err)
				}
			})

			t.Run("disabling ends every session and raises UserDisabled", func(t *testing.T) {
				s1, err := usersLogin(t, s, pat.Email, modeltest.TestPassword)
				if err != nil {
					t.Fatal(err)
				}
				s2, err := usersLogin(t, s, pat.Email, modeltest.TestPassword)
				if err != nil {
					t.Fatal(err)
				}
				keep, err := usersLogin(t, s, other.Email, modeltest.TestPassword)
				if err != nil {
					t.Fatal(err)
				}
				clock.Advance(time.Minute)
				actor := adminA
				actor.RequestID = "req-disable"
				u, err := s.Users.AdminUpdate(ctx, actor, pat.ID, models.AdminUpdateUserInput{Disabled: usersPtr(true)})
				if err != nil || !u.Disabled {
					t.Fatalf("disable = %+v, %v", u, err)
				}
				var live int64
				if err := s.DB.Table("refresh_tokens").Where("user_id = ? AND revoked_at IS NULL", pat.ID).Count(&live).Error; err != nil || live != 0 {
					t.Fatalf("%d refresh tokens of the disabled user still live (%v)", live, err)
				}
				for _, sess := range []models.Session{s1, s2} {
					if _, err := s.Auth.Refresh(ctx, sess.RefreshToken); models.ErrorCode(err) != models.EUNAUTHORIZED {
						t.Fatalf("refresh after disabling: %v", err)
					}
					if _, err := s.Auth.Authenticate(ctx, sess.AccessToken); models.ErrorCode(err) != models.EUNAUTHORIZED {
						t.Fatalf("access token after disabling: %v", err)
					}
				}
				if _, err := usersLogin(t, s, pat.Email, modeltest.TestPassword); models.ErrorCode(err) != models.EUNAUTHORIZED {
					t.Fatalf("login after disabling: %v", err)
				}
				if _, err := s.Auth.Refresh(ctx, keep.RefreshToken); err != nil {
					t.Fatalf("another user's session was ended: %v", err)
				}
				evs := outboxEvents(t, s, models.KindUserDisabled)
				if len(evs) != 1 || evs[0].DoneAt != nil {
					t.Fatalf("UserDisabled events = %+v, want one pending", evs)
				}
				s.Dispatch(t)
				if want := (models.UserDisabled{UserID: pat.ID, ActorID: admin.ID, At: clock.Now()}); len(seen) != 1 || seen[0] != want {
					t.Fatalf("dispatched %+v, want %+v", seen, want)
				}
				entries := usersAudit(t, s, admin, pat.ID)
				if len(entries) == 0 || entries[0].Action != "user.update" || entries[0].ActorID != admin.ID || entries[0].RequestID != "req-disable" || entries[0].Details["disabled"] != true {
					t.Fatalf("latest audit entry = %+v", entries)
				}

				// Disabling again changes nothing and raises nothing.
				if _, err := s.Users.AdminUpdate(ctx, adminA, pat.ID, models.AdminUpdateUserInput{Disabled: usersPtr(true)}); err != nil {
					t.Fatal(err)
				}
				if n := len(outboxEvents(t, s, models.KindUserDisabled)); n != 1 {
					t.Fatalf("%d UserDisabled events after disabling twice, want 1", n)
				}
				// Enabling lets the user sign in again; the old sessions stay ended.
				if u, err := s.Users.AdminUpdate(ctx, adminA, pat.ID, models.AdminUpdateUserInput{Disabled: usersPtr(false)}); err != nil || u.Disabled {
					t.Fatalf("enable = %+v, %v", u, err)
				}
				if _, err := usersLogin(t, s, pat.Email, modeltest.TestPassword); err != nil {
					t.Fatalf("login after enabling: %v", err)
				}
				if _, err := s.Auth.Refresh(ctx, s2.RefreshToken); models.ErrorCode(err) != models.EUNAUTHORIZED {
					t.Fatalf("a session ended by disabling came back: %v", err)
				}
				if n := len(outboxEvents(t, s, models.KindUserDisabled)); n != 1 {
					t.Fatalf("enabling raised UserDisabled")
				}
			})

			t.Run("role changes", func(t *testing.T) {
				u := modeltest.MustUser(t, s, models.RolePatient, "promote@example.com")
				invalid := []struct {
					name, field string
					in          models.AdminUpdateUserInput
				}{
					{"doctor without specialty", "specialty", models.AdminUpdateUserInput{Role: usersPtr(models.RoleDoctor)}},
					{"specialty for a patient", "specialty", models.AdminUpdateUserInput{Specialty: usersPtr("GP")}},
					{"bio for an admin", "specialty", models.AdminUpdateUserInput{Role: usersPtr(models.RoleAdmin), Bio: usersPtr("x")}},
					{"unknown role", "role", models.AdminUpdateUserInput{Role: usersPtr(models.Role("nurse"))}},
					{"empty name", "name", models.AdminUpdateUserInput{Name: usersPtr("")}},
				}
				for _, c := range invalid {
					if _, err := s.Users.AdminUpdate(ctx, adminA, u.ID, c.in); !notifyFieldErr(err, c.field) {
						t.Errorf("%s: %v, want %s on %s", c.name, err, models.EINVALID, c.field)
					}
				}
				if got, _ := s.Users.Get(ctx, u.ID); got.Role != models.RolePatient || got.Doctor != nil {
					t.Fatalf("refused updates changed the user: %+v", got)
				}
				clock.Advance(time.Second)
				got, err := s.Users.AdminUpdate(ctx, adminA, u.ID, models.AdminUpdateUserInput{Role: usersPtr(models.RoleDoctor), Specialty: usersPtr(" Pediatrics "), Bio: usersPtr("Kids.")})
				if err != nil || got.Role != models.RoleDoctor || got.Doctor == nil || got.Doctor.Specialty != "Pediatrics" || got.Doctor.Bio != "Kids." {
					t.Fatalf("promote to doctor = %+v (%+v), %v", got, got.Doctor, err)
				}
				// Now a doctor: the profile is edited, not created again.
				clock.Advance(time.Second)
				got, err = s.Users.AdminUpdate(ctx, adminA, u.ID, models.AdminUpdateUserInput{Specialty: usersPtr("Oncology"), Name: usersPtr(" Dr Promoted ")})
				if err != nil || got.Doctor.Specialty != "Oncology" || got.Doctor.Bio != "Kids." || got.Name != "Dr Promoted" {
					t.Fatalf("edit the new doctor = %+v (%+v), %v", got, got.Doctor, err)
				}
				if e := usersAudit(t, s, admin, u.ID); len(e) < 3 || e[1].Details["role"] != "doctor" || e[0].Details["name"] != "Dr Promoted" {
					t.Fatalf("audit of the role change = %+v", e)
				}
				if got, err = s.Users.AdminUpdate(ctx, adminA, u.ID, models.AdminUpdateUserInput{Role: usersPtr(models.RoleAdmin)}); err != nil || got.Role != models.RoleAdmin {
					t.Fatalf("make admin = %+v, %v", got, err)
				}
			})
		})
	}
}

func TestUsersList(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			s, clock, admin := usersWorld(t, d.Open)
			ctx := t.Context()
			adminA := outboxActor(admin)
			// Created a minute apart, in this order; the last two in the same instant.
			var made []models.User
			for i, c := range []struct {
				role  models.Role
				email string
				name  string
			}{
				{models.RolePatient, "ann@example.com", "Ann Archer"},
				{models.RoleDoctor, "bob@clinic.org", "Bob Baker"},
				{models.RolePatient, "cara@example.com", "Cara 100% Sure"},
				{models.RolePatient, "dan_d@example.com", "Dan Dorsey"},
				{models.RoleDoctor, "eve@clinic.org", "EVE Evans"},
				{models.RolePatient, "fay@example.com", "Fay Annson"},
			} {
				if i < 5 {
					clock.Advance(time.Minute)
				}
				in := models.CreateUserInput{Email: c.email, Password: usersPassword, Name: c.name, Role: c.role}
				if c.role == models.RoleDoctor {
					in.Specialty = "GP"
				}
				u, err := s.Users.Create(ctx, adminA, in)
				if err != nil {
					t.Fatal(err)
				}
				made = append(made, u)
			}
			all := append([]models.User{admin}, made...)
			newest := slices.Clone(all)
			slices.SortFunc(newest, func(a, b models.User) int {
				if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
					return c
				}
				return strings.Compare(b.ID, a.ID)
			})
			emails := func(us []models.User) []string {
				out := make([]string, len(us))
				for i, u := range us {
					out[i] = u.Email
				}
				return out
			}
			list := func(f models.UserFilter) []models.User {
				t.Helper()
				var out []models.User
				for {
					p, err := s.Users.List(ctx, adminA, f)
					if err != nil {
						t.Fatalf("list %+v: %v", f, err)
					}
					out = append(out, p.Items...)
					if p.NextCursor == "" {
						return out
					}
					f.Cursor = p.NextCursor
				}
			}
			if got := list(models.UserFilter{}); !slices.Equal(emails(got), emails(newest)) {
				t.Fatalf("List = %v, want newest first %v", emails(got), emails(newest))
			}
			for _, size := range []int{1, 2, 4} {
				if got := list(models.UserFilter{Limit: size}); !slices.Equal(emails(got), emails(newest)) {
					t.Fatalf("pages of %d = %v, want %v", size, emails(got), emails(newest))
				}
			}
			filter := func(keep func(models.User) bool) []string {
				return emails(slices.DeleteFunc(slices.Clone(newest), func(u models.User) bool { return !keep(u) }))
			}
			cases := []struct {
				name string
				f    models.UserFilter
				want []string
			}{
				{"doctors", models.UserFilter{Role: models.RoleDoctor}, filter(func(u models.User) bool { return u.Role == models.RoleDoctor })},
				{"patients in pages", models.UserFilter{Role: models.RolePatient, Limit: 3}, filter(func(u models.User) bool { return u.Role == models.RolePatient })},
				{"name, any case", models.UserFilter{Query: "ANN"}, []string{"fay@example.com", "ann@example.com"}},
				{"email", models.UserFilter{Query: "Clinic.ORG"}, []string{"eve@clinic.org", "bob@clinic.org"}},
				{"query and role", models.UserFilter{Query: "e", Role: models.RoleDoctor}, []string{"eve@clinic.org", "bob@clinic.org"}},
				{"percent is literal", models.UserFilter{Query: "100%"}, []string{"cara@example.com"}},
				{"underscore is literal", models.UserFilter{Query: "_"}, []string{"dan_d@example.com"}},
				{"backslash is literal", models.UserFilter{Query: `\`}, nil},
				{"no match", models.UserFilter{Query: "zzz"}, nil},
			}
			for _, c := range cases {
				if got := emails(list(c.f)); !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
					t.Errorf("%s: %v, want %v", c.name, got, c.want)
				}
			}
			if _, err := s.Users.List(ctx, outboxActor(made[0]), models.UserFilter{}); models.ErrorCode(err) != models.EFORBIDDEN {
				t.Fatalf("List by a patient: %v", err)
			}
			for name, f := range map[string]models.UserFilter{"limit": {Limit: 201}, "negative limit": {Limit: -5}, "cursor": {Cursor: "%%%"}} {
				if _, err := s.Users.List(ctx, adminA, f); models.ErrorCode(err) != models.EINVALID {
					t.Errorf("bad %s: %v, want %s", name, err, models.EINVALID)
				}
			}
		})
	}
}

func TestUsersEnsureAdmin(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			clock := outboxClock(t)
			s := modeltest.NewServices(d.Open(t), modeltest.DefaultOptions(t, clock))
			ctx := t.Context()
			created, err := s.Users.EnsureAdmin(ctx, " Root@Example.com ", "harbor-root-2026", "Administrator")
			if err != nil || !created {
				t.Fatalf("first EnsureAdmin = %v, %v; want created", created, err)
			}
			for _, email := range []string{"root@example.com", "ROOT@EXAMPLE.COM"} {
				created, err := s.Users.EnsureAdmin(ctx, email, "another-password", "Someone")
				if err != nil || created {
					t.Fatalf("EnsureAdmin(%q) again = %v, %v; want nothing created", email, created, err)
				}
			}
			var admins int64
			if err := s.DB.Table("users").Where("role = ?", "admin").Count(&admins).Error; err != nil || admins != 1 {
				t.Fatalf("%d admins, want 1 (%v)", admins, err)
			}
			sess, err := usersLogin(t, s, "root@example.com", "harbor-root-2026")
			if err != nil || sess.User.Role != models.RoleAdmin || sess.User.Name != "Administrator" {
				t.Fatalf("admin login = %+v, %v", sess.User, err)
			}
			if _, err := usersLogin(t, s, "root@example.com", "another-password"); models.ErrorCode(err) != models.EUNAUTHORIZED {
				t.Fatalf("the second call changed the password: %v", err)
			}
			// An existing account of another role is left alone.
			p := modeltest.MustUser(t, s, models.RolePatient, "ops@example.com")
			if created, err := s.Users.EnsureAdmin(ctx, "ops@example.com", "ops-password", "Ops"); err != nil || created {
				t.Fatalf("EnsureAdmin over a patient = %v, %v", created, err)
			}
			if got, _ := s.Users.Get(ctx, p.ID); got.Role != models.RolePatient {
				t.Fatalf("EnsureAdmin promoted an existing patient: %+v", got)
			}
			if _, err := s.Users.EnsureAdmin(ctx, "new@example.com", "short", "X"); models.ErrorCode(err) != models.EINVALID {
				t.Fatalf("EnsureAdmin with a short password: %v", err)
			}
		})
	}
}

func TestAuditList(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			s, clock, admin := usersWorld(t, d.Open)
			ctx := t.Context()
			admin2 := modeltest.MustUser(t, s, models.RoleAdmin, "admin2@example.com")
			a1, a2 := outboxActor(admin), outboxActor(admin2)
			var targets []models.User
			for i := range 3 {
				clock.Advance(time.Minute)
				u, err := s.Users.Create(ctx, a1, models.CreateUserInput{Email: fmt.Sprintf("t%d@example.com", i), Password: usersPassword, Name: "T", Role: models.RolePatient})
				if err != nil {
					t.Fatal(err)
				}
				targets = append(targets, u)
			}
			clock.Advance(time.Minute)
			if _, err := s.Users.AdminUpdate(ctx, a2, targets[0].ID, models.AdminUpdateUserInput{Name: usersPtr("Renamed")}); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Minute)
			if _, err := s.Notifications.Announce(ctx, a2, models.AnnouncementInput{Title: "Hi", Body: "Hello", Audience: "all"}); err != nil {
				t.Fatal(err)
			}

			for _, u := range []models.User{targets[0], admin} {
				if _, err := s.Audit.List(ctx, models.Actor{UserID: u.ID, Role: models.RolePatient}, models.AuditFilter{}); models.ErrorCode(err) != models.EFORBIDDEN {
					t.Fatalf("List by a non-admin: %v", err)
				}
			}
			list := func(f models.AuditFilter) []models.AuditEntry {
				t.Helper()
				var out []models.AuditEntry
				for {
					p, err := s.Audit.List(ctx, a1, f)
					if err != nil {
						t.Fatalf("audit %+v: %v", f, err)
					}
					out = append(out, p.Items...)
					if p.NextCursor == "" {
						return out
					}
					f.Cursor = p.NextCursor
				}
			}
			actions := func(es []models.AuditEntry) []string {
				out := make([]string, len(es))
				for i, e := range es {
					out[i] = e.Action + " " + e.TargetID
				}
				return out
			}
			all := list(models.AuditFilter{})
			// admin and admin2 were created by the system; then three creates, an update, an announcement.
			if len(all) != 7 || all[0].Action != "announcement.create" || all[1].Action != "user.update" {
				t.Fatalf("all entries = %v", actions(all))
			}
			for i := 1; i < len(all); i++ {
				if all[i].CreatedAt.After(all[i-1].CreatedAt) {
					t.Fatalf("not newest first: %v", actions(all))
				}
			}
			for _, size := range []int{1, 2, 3} {
				if got := list(models.AuditFilter{Limit: size}); !slices.Equal(actions(got), actions(all)) {
					t.Fatalf("pages of %d = %v, want %v", size, actions(got), actions(all))
				}
			}
			cases := []struct {
				name string
				f    models.AuditFilter
				want []string
			}{
				{"by actor", models.AuditFilter{ActorID: admin2.ID}, []string{"announcement.create ", "user.update " + targets[0].ID}},
				{"by target type", models.AuditFilter{TargetType: "announcement"}, []string{"announcement.create "}},
				{"by target", models.AuditFilter{TargetID: targets[0].ID}, []string{"user.update " + targets[0].ID, "user.create " + targets[0].ID}},
				{"by actor and target", models.AuditFilter{ActorID: admin.ID, TargetID: targets[0].ID}, []string{"user.create " + targets[0].ID}},
				{"by actor, paged", models.AuditFilter{ActorID: admin.ID, Limit: 2}, []string{"user.create " + targets[2].ID, "user.create " + targets[1].ID, "user.create " + targets[0].ID}},
				{"nothing", models.AuditFilter{ActorID: targets[1].ID}, []string{}},
			}
			for _, c := range cases {
				if got := actions(list(c.f)); !slices.Equal(got, c.want) {
					t.Errorf("%s: %v, want %v", c.name, got, c.want)
				}
			}
			if e := list(models.AuditFilter{TargetID: targets[0].ID})[0]; e.ActorRole != models.RoleAdmin || e.Details["name"] != "Renamed" || !e.CreatedAt.Equal(clock.Now().Add(-time.Minute)) {
				t.Fatalf("update entry = %+v", e)
			}
			for name, f := range map[string]models.AuditFilter{"limit": {Limit: 1000}, "cursor": {Cursor: "bm9wZQ"}} {
				if _, err := s.Audit.List(ctx, a1, f); models.ErrorCode(err) != models.EINVALID {
					t.Errorf("bad %s: %v, want %s", name, err, models.EINVALID)
				}
			}
		})
	}
}

func TestStats(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			s, clock, admin := usersWorld(t, d.Open)
			ctx := t.Context()
			adminA := outboxActor(admin)
			empty, err := s.Stats.Stats(ctx, adminA)
			if err != nil {
				t.Fatal(err)
			}
			if len(empty.AppointmentsByStatus) != len(models.Statuses) || empty.MessagesToday != 0 ||
				empty.UsersByRole[models.RoleAdmin] != 1 || empty.UsersByRole[models.RoleDoctor] != 0 || empty.UsersByRole[models.RolePatient] != 0 {
				t.Fatalf("stats of an empty platform = %+v", empty)
			}
			for _, st := range models.Statuses {
				if v, ok := empty.AppointmentsByStatus[st]; !ok || v != 0 {
					t.Fatalf("status %s missing or non-zero: %+v", st, empty.AppointmentsByStatus)
				}
			}

			doc := modeltest.MustUser(t, s, models.RoleDoctor, "doc@example.com")
			modeltest.MustUser(t, s, models.RoleDoctor, "doc2@example.com")
			var pats []models.User
			for i := range 3 {
				pats = append(pats, modeltest.MustUser(t, s, models.RolePatient, fmt.Sprintf("p%d@example.com", i)))
			}
			if _, err := s.Users.AdminUpdate(ctx, adminA, pats[2].ID, models.AdminUpdateUserInput{Disabled: usersPtr(true)}); err != nil {
				t.Fatal(err)
			}
			start := clock.Now().Add(24 * time.Hour)
			statuses := []models.AppointmentStatus{models.StatusBooked, models.StatusBooked, models.StatusInProgress, models.StatusCompleted, models.StatusCancelled, models.StatusNoShow}
			var booked models.Appointment
			for i, st := range statuses {
				a := modeltest.MustAppointment(t, s, doc, pats[i%2], start.Add(time.Duration(i)*time.Hour), st)
				if i == 0 {
					booked = a
				}
			}
			// Messages: one just before midnight UTC, two after it.
			today := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
			for i, at := range []time.Time{today.Add(-time.Second), today, today.Add(10 * time.Hour)} {
				clock.Set(at)
				if _, _, err := s.Chat.Send(ctx, outboxActor(pats[0]), models.SendInput{AppointmentID: booked.ID, ClientMsgID: fmt.Sprint("m", i), Text: "hello"}); err != nil {
					t.Fatal(err)
				}
			}
			clock.Set(today.Add(12 * time.Hour))

			for _, u := range []models.User{doc, pats[0]} {
				if _, err := s.Stats.Stats(ctx, outboxActor(u)); models.ErrorCode(err) != models.EFORBIDDEN {
					t.Fatalf("Stats for a %s: %v, want %s", u.Role, err, models.EFORBIDDEN)
				}
			}
			got, err := s.Stats.Stats(ctx, adminA)
			if err != nil {
				t.Fatal(err)
			}
			wantUsers := map[models.Role]int64{models.RoleAdmin: 1, models.RoleDoctor: 2, models.RolePatient: 3}
			wantAppts := map[models.AppointmentStatus]int64{models.StatusBooked: 2, models.StatusInProgress: 1, models.StatusCompleted: 1, models.StatusCancelled: 1, models.StatusNoShow: 1,
				models.StatusPendingPayment: 0}
			if fmt.Sprint(got.UsersByRole) != fmt.Sprint(wantUsers) || fmt.Sprint(got.AppointmentsByStatus) != fmt.Sprint(wantAppts) || got.MessagesToday != 2 {
				t.Fatalf("stats = %+v, want users %v, appointments %v, 2 messages today", got, wantUsers, wantAppts)
			}
			clock.Set(today.Add(24 * time.Hour))
			if got, _ := s.Stats.Stats(ctx, adminA); got.MessagesToday != 0 {
				t.Fatalf("messages the next day = %d, want 0", got.MessagesToday)
			}
		})
	}
}
