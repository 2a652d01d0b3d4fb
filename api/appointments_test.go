package api

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
	"teleconsult/wire"
)

// clinic is a test world: a doctor working 09:00–17:00 UTC every day in
// 30-minute slots, two patients and an admin, with "now" fixed on Monday
// 2 March 2026 at 08:00 UTC.
type clinic struct {
	*testAPI
	doctor, other, patient, patient2, admin     models.User
	docTok, otherTok, patTok, pat2Tok, adminTok string
}

var clinicNow = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func newClinic(t *testing.T, db *database.DB, mutate ...func(*modeltest.Options, *Config)) *clinic {
	t.Helper()
	a := newTestAPI(t, db, mutate...)
	a.Clock.Set(clinicNow)
	c := &clinic{testAPI: a}
	c.doctor, c.docTok = a.user(models.RoleDoctor, "doc@example.com")
	c.other, c.otherTok = a.user(models.RoleDoctor, "other@example.com")
	c.patient, c.patTok = a.user(models.RolePatient, "pat@example.com")
	c.patient2, c.pat2Tok = a.user(models.RolePatient, "pat2@example.com")
	c.admin, c.adminTok = a.user(models.RoleAdmin, "admin@example.com")
	var rules []map[string]any
	for d := range 7 {
		rules = append(rules, map[string]any{"weekday": d, "start": "09:00", "end": "17:00"})
	}
	for _, tok := range []string{c.docTok, c.otherTok} {
		a.do("PUT", "/api/v1/doctors/me/schedule", tok, map[string]any{"time_zone": "UTC", "slot_minutes": 30, "rules": rules}).must(t, 200)
	}
	return c
}

// with returns the clinic reporting to the subtest t.
func (c *clinic) with(t *testing.T) *clinic {
	cc := *c
	cc.testAPI = c.testAPI.with(t)
	return &cc
}

func (c *clinic) book(t *testing.T, tok, doctorID, at string) response {
	t.Helper()
	return c.do("POST", "/api/v1/appointments", tok, map[string]any{"doctor_id": doctorID, "starts_at": at, "reason": "checkup"})
}

func (c *clinic) mustBook(t *testing.T, tok, doctorID, at string) string {
	t.Helper()
	return c.book(t, tok, doctorID, at).must(t, 201).Body["id"].(string)
}

func TestConcurrentBookingOfOneSlot(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			c := newClinic(t, d.Open(t))
			const n = 20
			toks := make([]string, n)
			for i := range n {
				_, toks[i] = c.user(models.RolePatient, fmt.Sprintf("racer%d@example.com", i))
			}
			codes := make([]string, n)
			statuses := make([]int, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					r := c.book(t, toks[i], c.doctor.ID, "2026-03-03T10:00:00Z")
					statuses[i], codes[i] = r.Status, r.ErrorCode()
				})
			}
			close(start)
			wg.Wait()
			created := 0
			for i := range n {
				switch {
				case statuses[i] == 201:
					created++
				case statuses[i] == 409 && codes[i] == "slot_taken":
				default:
					t.Errorf("booking %d: %d %s", i, statuses[i], codes[i])
				}
			}
			if created != 1 {
				t.Fatalf("%d bookings succeeded, want exactly 1", created)
			}
			var count int64
			c.DB.Table("appointments").Where("doctor_id = ? AND status = 'booked'", c.doctor.ID).Count(&count)
			if count != 1 {
				t.Fatalf("%d appointments stored", count)
			}
		})
	}
}

func TestSlotsAndBookingRules(t *testing.T) {
	c := newClinic(t, modeltest.NewPostgres(t))
	slotsOf := func(from, to string) []string {
		var l wire.List[wire.Slot]
		c.do("GET", "/api/v1/doctors/"+c.doctor.ID+"/slots?from="+from+"&to="+to, "", nil).must(t, 200).decode(t, &l)
		out := make([]string, len(l.Items))
		for i, s := range l.Items {
			out[i] = s.StartsAt.Format(time.RFC3339)
		}
		return out
	}
	day := slotsOf("2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z")
	if len(day) != 16 || day[0] != "2026-03-03T09:00:00Z" || day[15] != "2026-03-03T16:30:00Z" {
		t.Fatalf("a full day: %v", day)
	}
	// The past is excluded: today before 08:00 is gone, 09:00 onwards remains.
	if today := slotsOf("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"); len(today) != 16 {
		t.Fatalf("today: %v", today)
	}
	c.Clock.Set(clinicNow.Add(3 * time.Hour)) // 11:00
	if today := slotsOf("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"); len(today) != 12 || today[0] != "2026-03-02T11:00:00Z" {
		t.Fatalf("today after 11:00: %v", today)
	}
	c.Clock.Set(clinicNow)

	// Booked slots and time off disappear.
	c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-03T09:00:00Z")
	c.do("POST", "/api/v1/doctors/me/time-off", c.docTok, map[string]any{"starts_at": "2026-03-03T12:00:00+01:00", "ends_at": "2026-03-03T13:00:00Z", "reason": "lunch"}).must(t, 201)
	got := slotsOf("2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z")
	joined := strings.Join(got, " ")
	for _, gone := range []string{"09:00", "11:00", "11:30", "12:00", "12:30"} {
		if strings.Contains(joined, "2026-03-03T"+gone) {
			t.Fatalf("%s still offered: %v", gone, got)
		}
	}
	if len(got) != 11 {
		t.Fatalf("after booking and time off: %v", got)
	}
	// Booking off the grid, in the past, in time off, outside hours: 422.
	for _, at := range []string{"2026-03-03T10:10:00Z", "2026-03-01T10:00:00Z", "2026-03-03T11:30:00Z", "2026-03-03T18:00:00Z"} {
		if r := c.book(t, c.pat2Tok, c.doctor.ID, at); r.Status != 422 || r.ErrorCode() != "invalid_request" {
			t.Fatalf("booking %s: %d %s", at, r.Status, r.Raw)
		}
	}
	c.book(t, c.pat2Tok, c.doctor.ID, "tomorrow at ten").must(t, 422)
	c.book(t, c.pat2Tok, "no-such-doctor", "2026-03-03T10:00:00Z").must(t, 404)
	c.book(t, c.docTok, c.other.ID, "2026-03-03T10:00:00Z").must(t, 403)
	// One patient cannot hold two overlapping appointments, even with two doctors.
	c.mustBook(t, c.pat2Tok, c.doctor.ID, "2026-03-03T14:00:00Z")
	if r := c.book(t, c.pat2Tok, c.other.ID, "2026-03-03T14:00:00Z"); r.Status != 409 || r.ErrorCode() != "conflict" {
		t.Fatalf("overlapping booking: %d %s", r.Status, r.Raw)
	}
	// A range over the limit is refused.
	c.do("GET", "/api/v1/doctors/"+c.doctor.ID+"/slots?from=2026-03-03T00:00:00Z&to=2026-05-03T00:00:00Z", "", nil).must(t, 422)
	c.do("GET", "/api/v1/doctors/"+c.doctor.ID+"/slots?from=yesterday", "", nil).must(t, 400)
}

func TestInvalidSchedulesChangeNothing(t *testing.T) {
	c := newClinic(t, modeltest.NewPostgres(t))
	before := c.do("GET", "/api/v1/doctors/me/schedule", c.docTok, nil).must(t, 200)
	rule := func(wd int, s, e string) map[string]any { return map[string]any{"weekday": wd, "start": s, "end": e} }
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"overlap", map[string]any{"time_zone": "UTC", "slot_minutes": 30, "rules": []any{rule(1, "09:00", "12:00"), rule(1, "11:00", "13:00")}}, "rules[1]"},
		{"end before start", map[string]any{"time_zone": "UTC", "slot_minutes": 30, "rules": []any{rule(1, "12:00", "09:00")}}, "rules[0].end"},
		{"bad zone", map[string]any{"time_zone": "Mars/Olympus", "slot_minutes": 30, "rules": []any{}}, "time_zone"},
		{"weekday 7", map[string]any{"time_zone": "UTC", "slot_minutes": 30, "rules": []any{rule(7, "09:00", "12:00")}}, "rules[0].weekday"},
		{"slot minutes 0", map[string]any{"time_zone": "UTC", "slot_minutes": 0, "rules": []any{}}, "slot_minutes"},
		{"bad clock", map[string]any{"time_zone": "UTC", "slot_minutes": 30, "rules": []any{rule(1, "9am", "12:00")}}, "rules[0].start"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := c.with(t)
			r := c.do("PUT", "/api/v1/doctors/me/schedule", c.docTok, tc.body)
			if r.Status != 422 || r.Fields()[tc.field] == nil {
				t.Fatalf("got %d %s, want 422 naming %s", r.Status, r.Raw, tc.field)
			}
		})
	}
	after := c.do("GET", "/api/v1/doctors/me/schedule", c.docTok, nil).must(t, 200)
	if string(before.Raw) != string(after.Raw) {
		t.Fatalf("schedule changed:\n%s\n%s", before.Raw, after.Raw)
	}
	c.do("PUT", "/api/v1/doctors/me/schedule", c.patTok, map[string]any{"time_zone": "UTC", "slot_minutes": 30, "rules": []any{}}).must(t, 403)

	// Narrowing hours keeps bookings and reports them.
	c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-03T16:00:00Z")
	r := c.do("PUT", "/api/v1/doctors/me/schedule", c.docTok, map[string]any{"time_zone": "UTC", "slot_minutes": 30, "rules": []any{rule(2, "09:00", "12:00")}}).must(t, 200)
	if r.Body["appointments_outside_hours"].(float64) != 1 {
		t.Fatalf("outside hours: %s", r.Raw)
	}
}

// setStatus forces an appointment into a status for matrix tests.
func (c *clinic) setStatus(t *testing.T, id string, st models.AppointmentStatus) {
	t.Helper()
	if err := c.DB.Table("appointments").Where("id = ?", id).Update("status", st).Error; err != nil {
		t.Fatal(err)
	}
}

func TestTransitionMatrix(t *testing.T) {
	c := newClinic(t, modeltest.NewPostgres(t))
	c.Clock.Set(time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)) // during the appointment below
	all := []models.AppointmentStatus{models.StatusBooked, models.StatusInProgress, models.StatusCompleted, models.StatusCancelled, models.StatusNoShow}
	actions := []struct {
		path string
		body any
		ok   []models.AppointmentStatus
		to   models.AppointmentStatus
	}{
		{"start", nil, []models.AppointmentStatus{models.StatusBooked}, models.StatusInProgress},
		{"complete", nil, []models.AppointmentStatus{models.StatusInProgress}, models.StatusCompleted},
		{"cancel", map[string]any{"reason": "x"}, []models.AppointmentStatus{models.StatusBooked}, models.StatusCancelled},
		{"no-show", nil, []models.AppointmentStatus{models.StatusBooked}, models.StatusNoShow},
		{"reschedule", map[string]any{"starts_at": "2026-03-04T10:00:00Z"}, []models.AppointmentStatus{models.StatusBooked}, models.StatusBooked},
		{"diagnosis", map[string]any{"summary": "Mild hypertension."}, []models.AppointmentStatus{models.StatusInProgress, models.StatusCompleted}, ""},
	}
	n := 0
	for _, act := range actions {
		for _, from := range all {
			t.Run(act.path+"/"+string(from), func(t *testing.T) {
				c := c.with(t)
				n++
				// A fresh booking per case, then forced into "from"; the doctor acts.
				c.Clock.Set(clinicNow)
				id := c.mustBook(t, c.patTok, c.doctor.ID, fmt.Sprintf("2026-03-%02dT09:00:00Z", 5+n%20))
				c.DB.Table("appointments").Where("id = ?", id).Updates(map[string]any{"starts_at": time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute), "ends_at": time.Date(2026, 3, 3, 8, 30, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute)})
				c.Clock.Set(time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC))
				c.setStatus(t, id, from)
				tok := c.docTok
				if act.path == "reschedule" {
					tok = c.adminTok // patients cannot reschedule this close to the start
				}
				r := c.do("POST", "/api/v1/appointments/"+id+"/"+act.path, tok, act.body)
				allowed := false
				for _, s := range act.ok {
					allowed = allowed || s == from
				}
				if !allowed {
					if r.Status != 409 || r.ErrorCode() != "conflict" {
						t.Fatalf("%s from %s: %d %s, want 409", act.path, from, r.Status, r.Raw)
					}
					e := r.Body["error"].(map[string]any)["details"].(map[string]any)
					if e["status"] != string(from) {
						t.Fatalf("details lack the current status: %s", r.Raw)
					}
					return
				}
				if r.Status != 200 {
					t.Fatalf("%s from %s: %d %s", act.path, from, r.Status, r.Raw)
				}
				if act.to != "" && r.Body["status"] != string(act.to) {
					t.Fatalf("%s from %s led to %v", act.path, from, r.Body["status"])
				}
			})
		}
	}
}

func TestWhoMayDoWhat(t *testing.T) {
	c := newClinic(t, modeltest.NewPostgres(t))
	id := c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-02T09:00:00Z")
	c.Clock.Set(time.Date(2026, 3, 2, 8, 50, 0, 0, time.UTC))

	// Strangers get 404 so ids do not leak; participants without the right get 403.
	c.do("GET", "/api/v1/appointments/"+id, c.pat2Tok, nil).must(t, 404)
	c.do("POST", "/api/v1/appointments/"+id+"/start", c.otherTok, nil).must(t, 404)
	c.do("POST", "/api/v1/appointments/"+id+"/cancel", c.otherTok, map[string]any{}).must(t, 404)
	c.do("POST", "/api/v1/appointments/"+id+"/start", c.patTok, nil).must(t, 403)
	c.do("POST", "/api/v1/appointments/"+id+"/diagnosis", c.patTok, map[string]any{"summary": "self-diagnosed"}).must(t, 403)
	// Patients cannot cancel within the cutoff (2 h).
	if r := c.do("POST", "/api/v1/appointments/"+id+"/cancel", c.patTok, map[string]any{"reason": "late"}); r.Status != 409 {
		t.Fatalf("late cancel: %d %s", r.Status, r.Raw)
	}
	// The doctor may not start earlier than 15 minutes before.
	c.Clock.Set(time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC))
	c.do("POST", "/api/v1/appointments/"+id+"/start", c.docTok, nil).must(t, 409)
	c.Clock.Set(time.Date(2026, 3, 2, 8, 50, 0, 0, time.UTC))
	c.do("POST", "/api/v1/appointments/"+id+"/start", c.docTok, nil).must(t, 200)
	d := c.do("POST", "/api/v1/appointments/"+id+"/diagnosis", c.docTok, map[string]any{"summary": "Healthy.", "prescription": "Rest"}).must(t, 200)
	if d.Body["diagnosis"].(map[string]any)["summary"] != "Healthy." {
		t.Fatalf("diagnosis: %s", d.Raw)
	}
	got := c.do("GET", "/api/v1/appointments/"+id, c.patTok, nil).must(t, 200)
	if got.Body["diagnosis"].(map[string]any)["prescription"] != "Rest" || got.Body["doctor"].(map[string]any)["specialty"] != "Cardiology" {
		t.Fatalf("patient view: %s", got.Raw)
	}
	c.do("POST", "/api/v1/appointments/"+id+"/diagnosis", c.docTok, map[string]any{"summary": ""}).must(t, 422)

	// Admin reads are audited; status changes are audited with the request id.
	c.do("GET", "/api/v1/appointments/"+id, c.adminTok, nil).must(t, 200)
	var log wire.List[wire.AuditEntry]
	c.do("GET", "/api/v1/admin/audit-log?target_id="+id, c.adminTok, nil).must(t, 200).decode(t, &log)
	actions := map[string]bool{}
	for _, e := range log.Items {
		actions[e.Action] = true
		if e.RequestID == "" {
			t.Errorf("audit entry %s has no request id", e.Action)
		}
	}
	for _, want := range []string{"appointment.book", "appointment.start", "appointment.diagnosis", "appointment.read"} {
		if !actions[want] {
			t.Errorf("audit log lacks %s: %v", want, actions)
		}
	}
}

func TestRescheduleAndCancel(t *testing.T) {
	c := newClinic(t, modeltest.NewSQLite(t))
	var events []models.Event
	var mu sync.Mutex
	c.P.Outbox.Subscribe("test", func(_ context.Context, env models.Envelope) error {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := models.AppointmentOf(env.Event); ok {
			events = append(events, env.Event)
		}
		return nil
	})
	mine := c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-03T10:00:00Z")
	c.mustBook(t, c.pat2Tok, c.doctor.ID, "2026-03-03T11:00:00Z")

	// Onto a taken slot: refused, the original stays.
	if r := c.do("POST", "/api/v1/appointments/"+mine+"/reschedule", c.patTok, map[string]any{"starts_at": "2026-03-03T11:00:00Z"}); r.Status != 409 || r.ErrorCode() != "slot_taken" {
		t.Fatalf("reschedule onto taken: %d %s", r.Status, r.Raw)
	}
	kept := c.do("GET", "/api/v1/appointments/"+mine, c.patTok, nil).must(t, 200)
	if kept.Body["starts_at"] != "2026-03-03T10:00:00Z" || kept.Body["status"] != "booked" {
		t.Fatalf("original changed: %s", kept.Raw)
	}
	moved := c.do("POST", "/api/v1/appointments/"+mine+"/reschedule", c.patTok, map[string]any{"starts_at": "2026-03-03T12:00:00Z"}).must(t, 200)
	if moved.Body["id"] != mine || moved.Body["starts_at"] != "2026-03-03T12:00:00Z" {
		t.Fatalf("moved: %s", moved.Raw)
	}
	// The old slot is free again.
	c.mustBook(t, c.pat2Tok, c.doctor.ID, "2026-03-03T10:00:00Z")
	c.do("POST", "/api/v1/appointments/"+mine+"/cancel", c.patTok, map[string]any{"reason": "feeling better"}).must(t, 200)
	c.do("POST", "/api/v1/appointments/"+mine+"/cancel", c.patTok, map[string]any{}).must(t, 409)

	var l wire.List[wire.Appointment]
	c.do("GET", "/api/v1/appointments?status=booked", c.docTok, nil).must(t, 200).decode(t, &l)
	if len(l.Items) != 2 {
		t.Fatalf("doctor's booked list: %+v", l.Items)
	}
	c.do("GET", "/api/v1/admin/appointments?patient_id="+c.patient.ID, c.adminTok, nil).must(t, 200).decode(t, &l)
	if len(l.Items) != 1 || l.Items[0].Status != models.StatusCancelled {
		t.Fatalf("admin filter: %+v", l.Items)
	}
	c.do("GET", "/api/v1/admin/appointments", c.patTok, nil).must(t, 403)

	mu.Lock()
	defer mu.Unlock()
	kinds := []string{}
	for _, ev := range events {
		kinds = append(kinds, string(ev.EventKind()))
	}
	want := "appointment_booked appointment_booked appointment_rescheduled appointment_booked appointment_cancelled"
	if strings.Join(kinds, " ") != want {
		t.Fatalf("events %v, want %s", kinds, want)
	}
	if ev, ok := events[2].(models.AppointmentRescheduled); !ok || ev.PreviousStartsAt.Format(time.RFC3339) != "2026-03-03T10:00:00Z" || ev.Appointment.Patient == nil {
		t.Fatalf("rescheduled event: %+v", events[2])
	}
}

func TestNoShowSweep(t *testing.T) {
	c := newClinic(t, modeltest.NewPostgres(t))
	id := c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-02T09:00:00Z")
	c.Clock.Set(time.Date(2026, 3, 2, 9, 45, 0, 0, time.UTC))
	if n, err := c.P.Appointments.SweepNoShows(t.Context()); err != nil || n != 0 {
		t.Fatalf("too early: %d %v", n, err)
	}
	c.Clock.Set(time.Date(2026, 3, 2, 10, 1, 0, 0, time.UTC))
	if n, err := c.P.Appointments.SweepNoShows(t.Context()); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if r := c.do("GET", "/api/v1/appointments/"+id, c.patTok, nil).must(t, 200); r.Body["status"] != "no_show" {
		t.Fatalf("status %v", r.Body["status"])
	}
}

func TestDoctorDirectory(t *testing.T) {
	c := newClinic(t, modeltest.NewSQLite(t))
	var l wire.List[wire.Doctor]
	c.do("GET", "/api/v1/doctors", "", nil).must(t, 200).decode(t, &l)
	if len(l.Items) != 2 || l.Items[0].SlotMinutes != 30 || l.Items[0].TimeZone != "UTC" {
		t.Fatalf("directory: %+v", l.Items)
	}
	c.do("GET", "/api/v1/doctors?specialty=cardiology&q=test", "", nil).must(t, 200).decode(t, &l)
	if len(l.Items) != 2 {
		t.Fatalf("filter: %+v", l.Items)
	}
	c.do("GET", "/api/v1/doctors?specialty=dermatology", "", nil).must(t, 200).decode(t, &l)
	if len(l.Items) != 0 {
		t.Fatalf("filter: %+v", l.Items)
	}
	c.do("GET", "/api/v1/doctors?q=%25", "", nil).must(t, 200).decode(t, &l)
	if len(l.Items) != 0 {
		t.Fatalf("a %% search matched: %+v", l.Items)
	}
	c.do("GET", "/api/v1/doctors/"+c.doctor.ID, "", nil).must(t, 200)
	c.do("GET", "/api/v1/doctors/"+c.patient.ID, "", nil).must(t, 404)

	// The clinic sets a doctor's fee (minor units of an ISO 4217 currency);
	// patients see it. Bad ones change nothing.
	if d := c.do("GET", "/api/v1/doctors/"+c.doctor.ID, "", nil).must(t, 200).Body["fee"].(map[string]any); d["amount"] != 0.0 {
		t.Fatalf("default fee %v, want free", d)
	}
	for body, field := range map[string]string{`{"fee":{"amount":-1,"currency":"EUR"}}`: "fee.amount", `{"fee":{"amount":5000,"currency":"EURO"}}`: "fee.currency",
		`{"fee":{"amount":5000}}`: "fee.currency"} {
		if r := c.do("PATCH", "/api/v1/admin/users/"+c.doctor.ID, c.adminTok, body); r.Status != 422 || r.Fields()[field] == nil {
			t.Fatalf("%s: %d %s", body, r.Status, r.Raw)
		}
	}
	c.do("PATCH", "/api/v1/admin/users/"+c.patient.ID, c.adminTok, `{"fee":{"amount":5000,"currency":"EUR"}}`).must(t, 422)
	c.do("PATCH", "/api/v1/admin/users/"+c.doctor.ID, c.docTok, `{"fee":{"amount":0,"currency":"EUR"}}`).must(t, 403)
	u := c.do("PATCH", "/api/v1/admin/users/"+c.doctor.ID, c.adminTok, `{"fee":{"amount":4500,"currency":"chf"}}`).must(t, 200)
	if f := u.Body["user"].(map[string]any)["doctor"].(map[string]any)["fee"].(map[string]any); f["amount"] != 4500.0 || f["currency"] != "CHF" {
		t.Fatalf("fee after setting: %s", u.Raw)
	}
	c.do("GET", "/api/v1/doctors", "", nil).must(t, 200).decode(t, &l)
	for _, d := range l.Items {
		if d.ID == c.doctor.ID && (d.Fee.Amount != 4500 || d.Fee.Currency != "CHF") {
			t.Fatalf("the directory shows %+v", d.Fee)
		}
	}
	c.do("DELETE", "/api/v1/doctors/me/time-off/unknown", c.docTok, nil).must(t, 404)
}

// Each listed appointment carries the caller's unread count and the room's
// last message; admins get neither (the words are the patient's). Doctors
// may narrow their list to one patient.
func TestListCarriesUnreadAndLastMessage(t *testing.T) {
	c := newClinic(t, modeltest.NewPostgres(t))
	ctx := context.Background()
	quiet := c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-03T10:00:00Z")
	busy := c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-04T10:00:00Z")
	other := c.mustBook(t, c.pat2Tok, c.doctor.ID, "2026-03-05T10:00:00Z")
	doc := models.Actor{UserID: c.doctor.ID, Role: models.RoleDoctor}
	for i, text := range []string{"please bring your results", "and fast from midnight"} {
		if _, _, err := c.P.Chat.Send(ctx, doc, models.SendInput{AppointmentID: busy, ClientMsgID: fmt.Sprint("m", i), Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	type item struct {
		ID          string `json:"id"`
		UnreadCount *int64 `json:"unread_count"`
		LastMessage *struct {
			Seq      int64  `json:"seq"`
			Kind     string `json:"kind"`
			SenderID string `json:"sender_id"`
			Text     string `json:"text"`
		} `json:"last_message"`
	}
	list := func(tok, query string) map[string]item {
		t.Helper()
		var l wire.List[item]
		c.do("GET", "/api/v1/appointments"+query, tok, nil).must(t, 200).decode(t, &l)
		out := map[string]item{}
		for _, it := range l.Items {
			out[it.ID] = it
		}
		return out
	}
	pat := list(c.patTok, "")
	if it := pat[busy]; it.UnreadCount == nil || *it.UnreadCount != 2 || it.LastMessage == nil ||
		it.LastMessage.Text != "and fast from midnight" || it.LastMessage.Seq != 2 || it.LastMessage.Kind != "text" || it.LastMessage.SenderID != c.doctor.ID {
		t.Fatalf("patient's busy room: %+v", it)
	}
	if it := pat[quiet]; it.UnreadCount == nil || *it.UnreadCount != 0 || it.LastMessage != nil {
		t.Fatalf("patient's quiet room: %+v", it)
	}
	// The doctor wrote them: nothing unread for the doctor.
	if it := list(c.docTok, "")[busy]; it.UnreadCount == nil || *it.UnreadCount != 0 || it.LastMessage == nil {
		t.Fatalf("doctor's view of the busy room: %+v", it)
	}
	if _, err := c.P.Chat.MarkRead(ctx, models.Actor{UserID: c.patient.ID, Role: models.RolePatient}, busy, 2); err != nil {
		t.Fatal(err)
	}
	if it := list(c.patTok, "")[busy]; *it.UnreadCount != 0 {
		t.Fatalf("after reading: %+v", it)
	}
	var admin wire.List[item]
	c.do("GET", "/api/v1/appointments", c.adminTok, nil).must(t, 200).decode(t, &admin)
	for _, it := range admin.Items {
		if it.LastMessage != nil || it.UnreadCount == nil || *it.UnreadCount != 0 {
			t.Fatalf("admin's list shows %+v", it)
		}
	}
	// A doctor's earlier consultations with one patient.
	mine := list(c.docTok, "?patient_id="+c.patient.ID)
	if _, ok := mine[other]; ok || len(mine) != 2 {
		t.Fatalf("doctor's list for one patient: %v", mine)
	}
}

// The admin's overview counts the last 30 days, day by day: appointments
// by the day they are for, by status, and messages by the day sent.
func TestAdminStatsByDay(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) { testAdminStatsByDay(t, newClinic(t, d.Open(t))) })
	}
}

func testAdminStatsByDay(t *testing.T, c *clinic) {
	ctx := context.Background()
	a1 := c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-03T10:00:00Z")
	a2 := c.mustBook(t, c.pat2Tok, c.doctor.ID, "2026-03-03T11:00:00Z")
	c.do("POST", "/api/v1/appointments/"+a2+"/cancel", c.pat2Tok, map[string]any{"reason": "away"}).must(t, 200)
	c.Clock.Set(time.Date(2026, 3, 3, 10, 5, 0, 0, time.UTC))
	if _, _, err := c.P.Chat.Send(ctx, models.Actor{UserID: c.patient.ID, Role: models.RolePatient}, models.SendInput{AppointmentID: a1, ClientMsgID: "m1", Text: "here"}); err != nil {
		t.Fatal(err)
	}
	c.Clock.Set(time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC))

	var st struct {
		AppointmentsByDay []struct {
			Date     string           `json:"date"`
			Total    int64            `json:"total"`
			ByStatus map[string]int64 `json:"by_status"`
		} `json:"appointments_by_day"`
		MessagesByDay []struct {
			Date  string `json:"date"`
			Count int64  `json:"count"`
		} `json:"messages_by_day"`
	}
	c.do("GET", "/api/v1/admin/stats", c.adminTok, nil).must(t, 200).decode(t, &st)
	if len(st.AppointmentsByDay) != 30 || len(st.MessagesByDay) != 30 || st.AppointmentsByDay[29].Date != "2026-03-05" || st.AppointmentsByDay[0].Date != "2026-02-04" {
		t.Fatalf("days: %d / %d, from %v", len(st.AppointmentsByDay), len(st.MessagesByDay), st.AppointmentsByDay)
	}
	day := st.AppointmentsByDay[27] // 3 March
	if day.Date != "2026-03-03" || day.Total != 2 || day.ByStatus["booked"] != 1 || day.ByStatus["cancelled"] != 1 {
		t.Fatalf("3 March: %+v", day)
	}
	if m := st.MessagesByDay[27]; m.Date != "2026-03-03" || m.Count != 1 {
		t.Fatalf("messages on 3 March: %+v", m)
	}
	if st.AppointmentsByDay[28].Total != 0 || st.MessagesByDay[28].Count != 0 {
		t.Fatalf("an empty day: %+v %+v", st.AppointmentsByDay[28], st.MessagesByDay[28])
	}
	c.do("GET", "/api/v1/admin/stats", c.docTok, nil).must(t, 403)
}
