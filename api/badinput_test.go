package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"teleconsult/modeltest"
)

// Bad input across the API: every answer is the contract's error shape
// with the right status, names the field where there is one, leaks no
// internals, and changes nothing.
func TestBadInputAcrossTheAPI(t *testing.T) {
	c := newClinic(t, modeltest.NewPostgres(t), func(o *modeltest.Options, _ *Config) {
		o.Policy.BookingHorizon = 90 * 24 * time.Hour
	})
	appt := c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-03T09:00:00Z")
	count := func() map[string]int64 {
		out := map[string]int64{}
		for _, table := range []string{"appointments", "time_offs", "messages", "notifications", "outbox_events", "users", "schedules"} {
			var n int64
			c.DB.Table(table).Count(&n)
			out[table] = n
		}
		return out
	}
	before := count()
	long := strings.Repeat("x", 10001)
	cases := []struct {
		name, method, path, tok string
		body                    any
		status                  int
		field                   string
	}{
		{"book: no body", "POST", "/api/v1/appointments", c.patTok, "", 400, ""},
		{"book: doctor id a number", "POST", "/api/v1/appointments", c.patTok, `{"doctor_id":5,"starts_at":"2026-03-03T10:00:00Z"}`, 400, "doctor_id"},
		{"book: time not RFC 3339", "POST", "/api/v1/appointments", c.patTok, map[string]any{"doctor_id": c.doctor.ID, "starts_at": "tomorrow 10am"}, 422, "starts_at"},
		{"book: year 9999", "POST", "/api/v1/appointments", c.patTok, map[string]any{"doctor_id": c.doctor.ID, "starts_at": "9999-12-31T10:00:00Z"}, 422, "starts_at"},
		{"book: off the grid", "POST", "/api/v1/appointments", c.patTok, map[string]any{"doctor_id": c.doctor.ID, "starts_at": "2026-03-03T10:07:00Z"}, 422, "starts_at"},
		{"book: in the past", "POST", "/api/v1/appointments", c.patTok, map[string]any{"doctor_id": c.doctor.ID, "starts_at": "2020-03-03T10:00:00Z"}, 422, "starts_at"},
		{"book: unknown doctor", "POST", "/api/v1/appointments", c.patTok, map[string]any{"doctor_id": "00000000-0000-0000-0000-000000000000", "starts_at": "2026-03-03T10:00:00Z"}, 404, ""},
		{"book: injection in the id", "POST", "/api/v1/appointments", c.patTok, map[string]any{"doctor_id": "' OR 1=1 --", "starts_at": "2026-03-03T10:00:00Z"}, 404, ""},
		{"book: reason too long", "POST", "/api/v1/appointments", c.patTok, map[string]any{"doctor_id": c.doctor.ID, "starts_at": "2026-03-03T10:00:00Z", "reason": long}, 422, "reason"},
		{"book: NUL in the reason", "POST", "/api/v1/appointments", c.patTok, `{"doctor_id":"` + c.doctor.ID + `","starts_at":"2026-03-03T10:00:00Z","reason":"a\u0000"}`, 400, ""},
		{"book: as a doctor", "POST", "/api/v1/appointments", c.docTok, map[string]any{"doctor_id": c.doctor.ID, "starts_at": "2026-03-03T10:00:00Z"}, 403, ""},
		{"book: no token", "POST", "/api/v1/appointments", "", map[string]any{"doctor_id": c.doctor.ID, "starts_at": "2026-03-03T10:00:00Z"}, 401, ""},
		{"book: forged token", "POST", "/api/v1/appointments", "eyJhbGciOiJub25lIn0.e30.", map[string]any{"doctor_id": c.doctor.ID, "starts_at": "2026-03-03T10:00:00Z"}, 401, ""},
		{"cancel: reason too long", "POST", "/api/v1/appointments/" + appt + "/cancel", c.patTok, map[string]any{"reason": long}, 422, "reason"},
		{"cancel: someone else's", "POST", "/api/v1/appointments/" + appt + "/cancel", c.pat2Tok, map[string]any{}, 404, ""},
		{"reschedule: no time", "POST", "/api/v1/appointments/" + appt + "/reschedule", c.patTok, map[string]any{}, 422, "starts_at"},
		{"diagnosis: empty", "POST", "/api/v1/appointments/" + appt + "/diagnosis", c.docTok, map[string]any{"summary": "   "}, 422, "summary"},
		{"diagnosis: prescription a list", "POST", "/api/v1/appointments/" + appt + "/diagnosis", c.docTok, `{"summary":"x","prescription":["a"]}`, 400, "prescription"},
		{"start: body with fields", "POST", "/api/v1/appointments/" + appt + "/start", c.docTok, map[string]any{"force": true}, 400, "force"},
		{"list: limit -1", "GET", "/api/v1/appointments?limit=-1", c.patTok, nil, 422, "limit"},
		{"list: limit 1000", "GET", "/api/v1/appointments?limit=1000", c.patTok, nil, 422, "limit"},
		{"list: limit abc", "GET", "/api/v1/appointments?limit=abc", c.patTok, nil, 400, "limit"},
		{"list: forged cursor", "GET", "/api/v1/appointments?cursor=not-a-cursor", c.patTok, nil, 422, "cursor"},
		{"list: bogus status", "GET", "/api/v1/appointments?status=deleted", c.patTok, nil, 422, "status"},
		{"list: bad from", "GET", "/api/v1/appointments?from=yesterday", c.patTok, nil, 422, "from"},
		{"slots: a year at once", "GET", "/api/v1/doctors/" + c.doctor.ID + "/slots?from=2026-03-03T00:00:00Z&to=2027-03-03T00:00:00Z", "", nil, 422, "to"},
		{"slots: to before from", "GET", "/api/v1/doctors/" + c.doctor.ID + "/slots?from=2026-03-05T00:00:00Z&to=2026-03-03T00:00:00Z", "", nil, 422, "to"},
		{"doctors: NUL in the query", "GET", "/api/v1/doctors?q=a%00b", "", nil, 400, ""},
		{"schedule: overlapping rules", "PUT", "/api/v1/doctors/me/schedule", c.docTok, map[string]any{"time_zone": "UTC", "slot_minutes": 30,
			"rules": []map[string]any{{"weekday": 1, "start": "09:00", "end": "12:00"}, {"weekday": 1, "start": "11:00", "end": "13:00"}}}, 422, "rules[1]"},
		{"schedule: bad zone", "PUT", "/api/v1/doctors/me/schedule", c.docTok, map[string]any{"time_zone": "Mars/Olympus", "slot_minutes": 30, "rules": []any{}}, 422, "time_zone"},
		{"schedule: weekday 9", "PUT", "/api/v1/doctors/me/schedule", c.docTok, map[string]any{"time_zone": "UTC", "slot_minutes": 30,
			"rules": []map[string]any{{"weekday": 9, "start": "09:00", "end": "12:00"}}}, 422, "rules[0].weekday"},
		{"time off: inverted", "POST", "/api/v1/doctors/me/time-off", c.docTok, map[string]any{"starts_at": "2026-03-05T00:00:00Z", "ends_at": "2026-03-04T00:00:00Z"}, 422, "ends_at"},
		{"time off: as a patient", "POST", "/api/v1/doctors/me/time-off", c.patTok, map[string]any{"starts_at": "2026-03-04T00:00:00Z", "ends_at": "2026-03-05T00:00:00Z"}, 403, ""},
		{"notifications: unread=maybe", "GET", "/api/v1/notifications?unread=maybe", c.patTok, nil, 422, "unread"},
		{"messages: before_seq -1", "GET", "/api/v1/appointments/" + appt + "/messages?before_seq=-1", c.patTok, nil, 422, "before_seq"},
		{"admin: as a patient", "GET", "/api/v1/admin/users", c.patTok, nil, 403, ""},
		{"announce: audience everyone", "POST", "/api/v1/admin/announcements", c.adminTok, map[string]any{"title": "t", "body": "b", "audience": "everyone"}, 422, "audience"},
		{"method not allowed", "DELETE", "/api/v1/appointments", c.patTok, nil, 405, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := c.with(t)
			r := c.do(tc.method, tc.path, tc.tok, tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", r.Status, tc.status, r.Raw)
			}
			e, ok := r.Body["error"].(map[string]any)
			if !ok || e["code"] == "" || e["message"] == "" {
				t.Fatalf("not the error shape: %.300s", r.Raw)
			}
			if tc.field != "" && r.Fields()[tc.field] == nil {
				t.Fatalf("no detail for %q: %s", tc.field, r.Raw)
			}
			low := strings.ToLower(string(r.Raw))
			for _, leak := range []string{"sql", "gorm", "goroutine", "pq:", "sqlstate", "panic"} {
				if strings.Contains(low, leak) {
					t.Fatalf("leaks internals (%s): %s", leak, r.Raw)
				}
			}
			if r.Status == http.StatusInternalServerError {
				t.Fatalf("bad input is a 500: %s", r.Raw)
			}
		})
	}
	after := count()
	for table, n := range before {
		if after[table] != n {
			t.Errorf("bad input changed %s: %d rows, was %d", table, after[table], n)
		}
	}
}
