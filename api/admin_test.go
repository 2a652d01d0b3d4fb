package api

import (
	"net/url"
	"testing"
	"time"

	"teleconsult/modeltest"
	"teleconsult/wire"
)

// The console's lists filter on the server: the audit log by action (or a
// family of them) and time, users by status; announcements have a history.
func TestAdminListsFilter(t *testing.T) {
	c := newClinic(t, modeltest.NewPostgres(t))
	appt := c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-03T10:00:00Z")
	c.do("GET", "/api/v1/appointments/"+appt+"/messages?reason="+url.QueryEscape("complaint review"), c.adminTok, nil).must(t, 200)
	c.Clock.Set(clinicNow.Add(2 * time.Hour))
	c.do("PATCH", "/api/v1/admin/users/"+c.patient2.ID, c.adminTok, map[string]any{"disabled": true}).must(t, 200)
	c.do("POST", "/api/v1/admin/announcements", c.adminTok, map[string]any{"title": "Closed Monday", "body": "Back on Tuesday at 08:00.", "audience": "patients"}).must(t, 202)

	actions := func(query string) []string {
		t.Helper()
		var l wire.List[wire.AuditEntry]
		c.do("GET", "/api/v1/admin/audit-log?"+query, c.adminTok, nil).must(t, 200).decode(t, &l)
		var out []string
		for _, e := range l.Items {
			out = append(out, e.Action)
		}
		return out
	}
	if got := actions("action=chat.read"); len(got) != 1 {
		t.Fatalf("action=chat.read: %v", got)
	}
	for _, a := range actions("action=user.") {
		if a[:5] != "user." {
			t.Fatalf("action=user. listed %q", a)
		}
	}
	if got := actions("action=user."); len(got) == 0 {
		t.Fatal("action=user. listed nothing")
	}
	later := url.QueryEscape(clinicNow.Add(time.Hour).Format(time.RFC3339))
	for _, a := range actions("from=" + later) {
		if a == "chat.read" {
			t.Fatalf("from=%s listed the earlier read", later)
		}
	}
	if got := actions("to=" + later + "&action=chat.read"); len(got) != 1 {
		t.Fatalf("to=%s: %v", later, got)
	}
	if r := c.do("GET", "/api/v1/admin/audit-log?from=yesterday", c.adminTok, nil); r.Status != 422 || r.Fields()["from"] == nil {
		t.Fatalf("bad from: %d %s", r.Status, r.Raw)
	}

	var users wire.List[wire.User]
	c.do("GET", "/api/v1/admin/users?status=disabled", c.adminTok, nil).must(t, 200).decode(t, &users)
	if len(users.Items) != 1 || users.Items[0].ID != c.patient2.ID {
		t.Fatalf("disabled users: %+v", users.Items)
	}
	c.do("GET", "/api/v1/admin/users?status=active", c.adminTok, nil).must(t, 200).decode(t, &users)
	for _, u := range users.Items {
		if u.Disabled {
			t.Fatalf("active users include %s", u.Email)
		}
	}
	c.do("GET", "/api/v1/admin/users?status=deletion_requested", c.adminTok, nil).must(t, 200).decode(t, &users)
	if len(users.Items) != 0 {
		t.Fatalf("nobody asked to be deleted: %+v", users.Items)
	}
	c.do("POST", "/api/v1/me/deletion-request", c.patTok, nil).must(t, 202)
	c.do("GET", "/api/v1/admin/users?status=deletion_requested", c.adminTok, nil).must(t, 200).decode(t, &users)
	if len(users.Items) != 1 || users.Items[0].ID != c.patient.ID {
		t.Fatalf("deletion requested: %+v", users.Items)
	}
	c.do("GET", "/api/v1/admin/users?status=sleepy", c.adminTok, nil).must(t, 422)

	var anns wire.List[wire.Announcement]
	c.do("GET", "/api/v1/admin/announcements", c.adminTok, nil).must(t, 200).decode(t, &anns)
	if len(anns.Items) != 1 || anns.Items[0].Title != "Closed Monday" || anns.Items[0].Body != "Back on Tuesday at 08:00." ||
		anns.Items[0].Audience != "patients" || anns.Items[0].Recipients != 1 { // the disabled patient is not told
		t.Fatalf("announcement history: %+v", anns.Items)
	}
	c.do("GET", "/api/v1/admin/announcements", c.patTok, nil).must(t, 403)
}
