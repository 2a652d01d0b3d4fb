package api

import (
	"fmt"
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
)

func TestNotificationsREST(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) { testNotificationsREST(t, newTestAPI(t, d.Open(t))) })
	}
}

func testNotificationsREST(t *testing.T, a *testAPI) {
	patient, pt := a.user(models.RolePatient, "n-p@example.com")
	doctor, dt := a.user(models.RoleDoctor, "n-d@example.com")
	_, at := a.user(models.RoleAdmin, "n-a@example.com")
	// The patient is offline (no socket) when the diagnosis is written.
	appt := modeltest.MustAppointment(t, a.P, doctor, patient, time.Now().Add(-10*time.Minute).Truncate(time.Minute), models.StatusInProgress)
	a.do("POST", "/api/v1/appointments/"+appt.ID+"/diagnosis", dt, map[string]any{"summary": "Rest and fluids."}).must(t, 200)

	var count struct{ Count int }
	a.do("GET", "/api/v1/notifications/unread-count", pt, nil).must(t, 200).decode(t, &count)
	if count.Count != 1 {
		t.Fatalf("unread count %d, want 1", count.Count)
	}
	var list struct {
		Items []struct {
			ID, Kind string
			Data     map[string]any
			ReadAt   *time.Time `json:"read_at"`
		}
	}
	a.do("GET", "/api/v1/notifications?unread=true", pt, nil).must(t, 200).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].Kind != "diagnosis_ready" || list.Items[0].Data["appointment_id"] != appt.ID {
		t.Fatalf("patient's notifications %+v", list.Items)
	}
	id := list.Items[0].ID
	// Nobody else can read or mark it.
	if r := a.do("POST", "/api/v1/notifications/"+id+"/read", dt, nil); r.Status != 404 {
		t.Fatalf("the doctor marked the patient's notification: %d", r.Status)
	}
	a.do("GET", "/api/v1/notifications", dt, nil).must(t, 200).decode(t, &list)
	for _, n := range list.Items {
		if n.ID == id {
			t.Fatal("the doctor sees the patient's notification")
		}
	}
	a.do("POST", "/api/v1/notifications/"+id+"/read", pt, nil).must(t, 200)
	a.do("GET", "/api/v1/notifications/unread-count", pt, nil).must(t, 200).decode(t, &count)
	if count.Count != 0 {
		t.Fatalf("unread count after reading %d", count.Count)
	}

	// Announcements: one stored notification per recipient.
	for i := range 5 {
		a.user(models.RolePatient, fmt.Sprintf("n-many-%d@example.com", i))
	}
	var ann struct{ Recipients int }
	a.do("POST", "/api/v1/admin/announcements", at, map[string]any{"title": "Maintenance", "body": "Sunday 02:00 UTC", "audience": "patients"}).must(t, 202).decode(t, &ann)
	if ann.Recipients != 6 {
		t.Fatalf("announcement reached %d patients, want 6", ann.Recipients)
	}
	a.do("GET", "/api/v1/notifications?unread=true", pt, nil).must(t, 200).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].Kind != "announcement" {
		t.Fatalf("patient's unread after the announcement %+v", list.Items)
	}
	if r := a.do("POST", "/api/v1/admin/announcements", at, map[string]any{"title": "x", "body": "y", "audience": "martians"}); r.ErrorCode() != models.EINVALID {
		t.Fatalf("bad audience: %d %s", r.Status, r.Raw)
	}
	if r := a.do("POST", "/api/v1/admin/announcements", pt, map[string]any{"title": "x", "body": "y", "audience": "all"}); r.Status != 403 {
		t.Fatalf("a patient announced: %d", r.Status)
	}
	a.do("POST", "/api/v1/notifications/read-all", pt, nil).must(t, 204)
	a.do("GET", "/api/v1/notifications/unread-count", pt, nil).must(t, 200).decode(t, &count)
	if count.Count != 0 {
		t.Fatalf("unread after read-all %d", count.Count)
	}
	var ice struct {
		IceServers []struct {
			URLs       []string `json:"urls"`
			Username   string
			Credential string
		} `json:"ice_servers"`
		TTL int
	}
	// No TURN credentials outside a call; during one, both parties get them.
	a.do("GET", "/api/v1/rtc/ice-servers", pt, nil).must(t, 200).decode(t, &ice)
	for _, s := range ice.IceServers {
		if s.Credential != "" {
			t.Fatalf("TURN credentials without a call: %+v", ice)
		}
	}
	if _, err := a.P.Calls.Invite(t.Context(), models.Actor{UserID: patient.ID, Role: models.RolePatient}, appt.ID, "audio"); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{pt, modeltest.MustToken(t, a.P, doctor)} {
		ice.IceServers = nil
		a.do("GET", "/api/v1/rtc/ice-servers", tok, nil).must(t, 200).decode(t, &ice)
		if len(ice.IceServers) == 0 || ice.IceServers[len(ice.IceServers)-1].Credential == "" || ice.TTL != 3600 {
			t.Fatalf("ice servers in a call %+v", ice)
		}
	}
}
