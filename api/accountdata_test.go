package api

import (
	"context"
	"testing"

	"teleconsult/models"
	"teleconsult/modeltest"
)

// A patient downloads everything stored about them, and may ask for their
// account to be deleted; an admin confirms, which anonymises the account,
// cancels what is still booked and keeps the consultations as records.
func TestExportAndDeletion(t *testing.T) {
	c := newClinic(t, modeltest.NewPostgres(t))
	ctx := context.Background()
	first := c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-02T10:00:00Z")
	ahead := c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-04T10:00:00Z")
	if _, _, err := c.P.Chat.Send(ctx, models.Actor{UserID: c.doctor.ID, Role: models.RoleDoctor}, models.SendInput{AppointmentID: first, ClientMsgID: "m1", Text: "see you soon"}); err != nil {
		t.Fatal(err)
	}

	var x struct {
		User         map[string]any   `json:"user"`
		Appointments []map[string]any `json:"appointments"`
		Messages     []map[string]any `json:"messages"`
	}
	r := c.do("GET", "/api/v1/me/export", c.patTok, nil).must(t, 200)
	r.decode(t, &x)
	if x.User["email"] != "pat@example.com" || len(x.Appointments) != 2 || len(x.Messages) != 1 || x.Messages[0]["text"] != "see you soon" {
		t.Fatalf("export: %s", r.Raw)
	}
	if cd := r.Header.Get("Content-Disposition"); cd == "" {
		t.Fatal("the export is not offered as a download")
	}

	// Staff records belong to the clinic; nothing to confirm before a request.
	c.do("POST", "/api/v1/me/deletion-request", c.docTok, nil).must(t, 403)
	c.do("POST", "/api/v1/admin/users/"+c.patient.ID+"/anonymise", c.adminTok, nil).must(t, 409)
	req := c.do("POST", "/api/v1/me/deletion-request", c.patTok, nil).must(t, 202)
	if req.Body["user"].(map[string]any)["deletion_requested_at"] == nil {
		t.Fatalf("request not recorded: %s", req.Raw)
	}
	c.do("POST", "/api/v1/admin/users/"+c.patient.ID+"/anonymise", c.patTok, nil).must(t, 403)
	done := c.do("POST", "/api/v1/admin/users/"+c.patient.ID+"/anonymise", c.adminTok, nil).must(t, 200)
	u := done.Body["user"].(map[string]any)
	if u["name"] != "Deleted user" || u["email"] == "pat@example.com" || u["disabled"] != true || u["anonymised_at"] == nil {
		t.Fatalf("anonymised as %s", done.Raw)
	}
	// Gone: no sign-in; the booking ahead is cancelled with a reason; the
	// consultation's record stays for the doctor.
	if r := c.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "pat@example.com", "password": modeltest.TestPassword}); r.Status != 401 {
		t.Fatalf("signing in as the deleted patient: %d", r.Status)
	}
	got := c.do("GET", "/api/v1/appointments/"+ahead, c.docTok, nil).must(t, 200)
	if got.Body["status"] != "cancelled" || got.Body["cancel_reason"] != "The patient's account was deleted." {
		t.Fatalf("the booking ahead: %s", got.Raw)
	}
	var page struct {
		Items []map[string]any `json:"items"`
	}
	c.do("GET", "/api/v1/appointments/"+first+"/messages", c.docTok, nil).must(t, 200).decode(t, &page)
	// (Both bookings were still ahead: the first one's record now ends with its cancellation.)
	if len(page.Items) != 2 || page.Items[1]["text"] != "see you soon" || page.Items[0]["kind"] != "system" {
		t.Fatalf("the consultation's record after the deletion: %+v", page.Items)
	}
	// Confirming twice changes nothing.
	c.do("POST", "/api/v1/admin/users/"+c.patient.ID+"/anonymise", c.adminTok, nil).must(t, 200)
}
