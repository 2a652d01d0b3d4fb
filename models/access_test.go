package models_test

import (
	"errors"
	"testing"
	"time"

	"teleconsult/models"
)

// Shared fixtures of the models tests.

// t0 is when the test appointment starts.
var t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

var policy = models.Policy{
	MinLeadTime:  time.Hour,
	CancelCutoff: 24 * time.Hour,
	StartEarly:   10 * time.Minute,
	NoShowAfter:  30 * time.Minute,
	ChatWindow:   72 * time.Hour,
}

const (
	patientID = "u-patient"
	doctorID  = "u-doctor"
	adminID   = "u-admin"
)

var (
	thePatient      = models.Actor{UserID: patientID, Role: models.RolePatient}
	theDoctor       = models.Actor{UserID: doctorID, Role: models.RoleDoctor}
	strangerPatient = models.Actor{UserID: "u-other-patient", Role: models.RolePatient}
	strangerDoctor  = models.Actor{UserID: "u-other-doctor", Role: models.RoleDoctor}
	anAdmin         = models.Actor{UserID: adminID, Role: models.RoleAdmin}
)

// appt is the test appointment in status, as it stands at now: started
// 1h before now when in progress or later, completed 1h before now.
func appt(status models.AppointmentStatus, now time.Time) models.Appointment {
	a := models.Appointment{
		ID: "appt-1", DoctorID: doctorID, PatientID: patientID,
		StartsAt: t0, EndsAt: t0.Add(30 * time.Minute), Status: status,
		CreatedAt: t0.Add(-7 * 24 * time.Hour), UpdatedAt: t0.Add(-7 * 24 * time.Hour),
	}
	switch status {
	case models.StatusInProgress:
		started := now.Add(-time.Hour)
		a.StartedAt = &started
	case models.StatusCompleted:
		started, completed := now.Add(-2*time.Hour), now.Add(-time.Hour)
		a.StartedAt, a.CompletedAt = &started, &completed
	case models.StatusCancelled:
		a.CancelledBy = patientID
	}
	return a
}

// code is the error code of err, "" for nil.
func code(err error) string {
	if err == nil {
		return ""
	}
	return models.ErrorCode(err)
}

// domainErr returns the *models.Error in err, failing the test otherwise.
func domainErr(t *testing.T, err error) *models.Error {
	t.Helper()
	var e *models.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *models.Error", err, err)
	}
	return e
}

// invalidFields returns the details.fields of an EINVALID error.
func invalidFields(t *testing.T, err error) map[string]any {
	t.Helper()
	e := domainErr(t, err)
	if e.Code != models.EINVALID {
		t.Fatalf("code = %q, want %q (%v)", e.Code, models.EINVALID, err)
	}
	f, ok := e.Details["fields"].(map[string]any)
	if !ok {
		t.Fatalf("details.fields missing in %#v", e.Details)
	}
	return f
}

// The expected outcome of every (actor, action) pair, one letter per status
// in the order of models.Statuses: booked, in_progress, completed,
// cancelled, no_show.
//
//	. allowed   N not_found   F forbidden   C conflict
//
// Time rules are kept out of this table: each action is checked at a time
// its rule allows (see nowFor); they have their own tests below.
var accessTable = []struct {
	actor  string
	action models.Action
	want   string
}{
	// The appointment's patient.
	{"patient", models.ActionView, "......"},
	{"patient", models.ActionReadHistory, "......"},
	{"patient", models.ActionJoin, "F...F."},
	{"patient", models.ActionSend, "F...FF"},
	{"patient", models.ActionCall, "F..FFF"},
	{"patient", models.ActionHangup, "......"},
	{"patient", models.ActionStart, "FFFFFF"},
	{"patient", models.ActionComplete, "FFFFFF"},
	{"patient", models.ActionCancel, "..CCCC"},
	{"patient", models.ActionNoShow, "FFFFFF"},
	{"patient", models.ActionReschedule, "C.CCCC"},
	{"patient", models.ActionDiagnose, "FFFFFF"},
	{"patient", models.ActionConfirm, "FFFFFF"},
	{"patient", models.ActionRelease, "FFFFFF"},

	// The appointment's doctor.
	{"doctor", models.ActionView, "......"},
	{"doctor", models.ActionReadHistory, "......"},
	{"doctor", models.ActionJoin, "F...F."},
	{"doctor", models.ActionSend, "F...FF"},
	{"doctor", models.ActionCall, "F..FFF"},
	{"doctor", models.ActionHangup, "......"},
	{"doctor", models.ActionStart, "C.CCCC"},
	{"doctor", models.ActionComplete, "CC.CCC"},
	{"doctor", models.ActionCancel, "..CCCC"},
	{"doctor", models.ActionNoShow, "C.CCCC"},
	{"doctor", models.ActionReschedule, "FFFFFF"},
	{"doctor", models.ActionDiagnose, "CC..CC"},
	{"doctor", models.ActionConfirm, "FFFFFF"},
	{"doctor", models.ActionRelease, "FFFFFF"},

	// Another patient.
	{"stranger_patient", models.ActionView, "NNNNNN"},
	{"stranger_patient", models.ActionReadHistory, "NNNNNN"},
	{"stranger_patient", models.ActionJoin, "NNNNNN"},
	{"stranger_patient", models.ActionSend, "NNNNNN"},
	{"stranger_patient", models.ActionCall, "NNNNNN"},
	{"stranger_patient", models.ActionHangup, "NNNNNN"},
	{"stranger_patient", models.ActionStart, "NNNNNN"},
	{"stranger_patient", models.ActionComplete, "NNNNNN"},
	{"stranger_patient", models.ActionCancel, "NNNNNN"},
	{"stranger_patient", models.ActionNoShow, "NNNNNN"},
	{"stranger_patient", models.ActionReschedule, "NNNNNN"},
	{"stranger_patient", models.ActionDiagnose, "NNNNNN"},
	{"stranger_patient", models.ActionConfirm, "NNNNNN"},
	{"stranger_patient", models.ActionRelease, "NNNNNN"},

	// Another doctor.
	{"stranger_doctor", models.ActionView, "NNNNNN"},
	{"stranger_doctor", models.ActionReadHistory, "NNNNNN"},
	{"stranger_doctor", models.ActionJoin, "NNNNNN"},
	{"stranger_doctor", models.ActionSend, "NNNNNN"},
	{"stranger_doctor", models.ActionCall, "NNNNNN"},
	{"stranger_doctor", models.ActionHangup, "NNNNNN"},
	{"stranger_doctor", models.ActionStart, "NNNNNN"},
	{"stranger_doctor", models.ActionComplete, "NNNNNN"},
	{"stranger_doctor", models.ActionCancel, "NNNNNN"},
	{"stranger_doctor", models.ActionNoShow, "NNNNNN"},
	{"stranger_doctor", models.ActionReschedule, "NNNNNN"},
	{"stranger_doctor", models.ActionDiagnose, "NNNNNN"},
	{"stranger_doctor", models.ActionConfirm, "NNNNNN"},
	{"stranger_doctor", models.ActionRelease, "NNNNNN"},

	// An admin: sees everything, runs the lifecycle, never takes part.
	{"admin", models.ActionView, "......"},
	{"admin", models.ActionReadHistory, "......"},
	{"admin", models.ActionJoin, "FFFFFF"},
	{"admin", models.ActionSend, "FFFFFF"},
	{"admin", models.ActionCall, "FFFFFF"},
	{"admin", models.ActionHangup, "FFFFFF"},
	{"admin", models.ActionStart, "C.CCCC"},
	{"admin", models.ActionComplete, "CC.CCC"},
	{"admin", models.ActionCancel, "..CCCC"},
	{"admin", models.ActionNoShow, "C.CCCC"},
	{"admin", models.ActionReschedule, "C.CCCC"},
	{"admin", models.ActionDiagnose, "FFFFFF"},
	{"admin", models.ActionConfirm, "FFFFFF"},
	{"admin", models.ActionRelease, "FFFFFF"},

	// The platform itself: like an admin where the lifecycle lists Admin.
	{"system", models.ActionView, "......"},
	{"system", models.ActionReadHistory, "......"},
	{"system", models.ActionJoin, "FFFFFF"},
	{"system", models.ActionSend, "FFFFFF"},
	{"system", models.ActionCall, "FFFFFF"},
	{"system", models.ActionHangup, "FFFFFF"},
	{"system", models.ActionStart, "C.CCCC"},
	{"system", models.ActionComplete, "CC.CCC"},
	{"system", models.ActionCancel, "..CCCC"},
	{"system", models.ActionNoShow, "C.CCCC"},
	{"system", models.ActionReschedule, "C.CCCC"},
	{"system", models.ActionDiagnose, "FFFFFF"},
	{"system", models.ActionConfirm, ".CCCCC"},
	{"system", models.ActionRelease, ".CCCCC"},
}

var tableActors = map[string]models.Actor{
	"patient":          thePatient,
	"doctor":           theDoctor,
	"stranger_patient": strangerPatient,
	"stranger_doctor":  strangerDoctor,
	"admin":            anAdmin,
	"system":           models.SystemActor,
}

var letterCode = map[byte]string{
	'.': "",
	'N': models.ENOTFOUND,
	'F': models.EFORBIDDEN,
	'C': models.ECONFLICT,
}

// nowFor is a time at which action's time rule (if any) lets everyone
// through: 3 days before the start, except for start (inside the
// StartEarly window) and no_show (after the start).
func nowFor(action models.Action) time.Time {
	switch action {
	case models.ActionStart:
		return t0.Add(-policy.StartEarly / 2)
	case models.ActionNoShow:
		return t0.Add(time.Hour)
	}
	return t0.Add(-72 * time.Hour)
}

func TestAccessTable(t *testing.T) {
	type pair struct {
		actor  string
		action models.Action
	}
	seen := map[pair]bool{}
	cells := 0
	for _, row := range accessTable {
		actor, ok := tableActors[row.actor]
		if !ok {
			t.Fatalf("unknown actor %q in table", row.actor)
		}
		p := pair{row.actor, row.action}
		if seen[p] {
			t.Fatalf("duplicate row %v", p)
		}
		seen[p] = true
		if len(row.want) != len(models.Statuses) {
			t.Fatalf("row %v: %d outcomes for %d statuses", p, len(row.want), len(models.Statuses))
		}
		for i, status := range models.Statuses {
			want, ok := letterCode[row.want[i]]
			if !ok {
				t.Fatalf("row %v: bad letter %q", p, row.want[i])
			}
			cells++
			now := nowFor(row.action)
			a := appt(status, now)
			err := policy.Check(actor, a, row.action, now)
			if got := code(err); got != want {
				t.Errorf("%s %s on %s: got %q (%v), want %q", row.actor, row.action, status, got, err, want)
				continue
			}
			if err == nil {
				continue
			}
			e := domainErr(t, err)
			if e.Message == "" {
				t.Errorf("%s %s on %s: empty message", row.actor, row.action, status)
			}
			switch want {
			case models.ENOTFOUND:
				if !errors.Is(err, models.ErrAppointmentNotFound) {
					t.Errorf("%s %s on %s: got %v, want ErrAppointmentNotFound", row.actor, row.action, status, err)
				}
			case models.ECONFLICT:
				if got := e.Details["status"]; got != status {
					t.Errorf("%s %s on %s: details.status = %v, want %v", row.actor, row.action, status, got, status)
				}
			}
		}
	}
	for name := range tableActors {
		for _, action := range models.Actions {
			if !seen[pair{name, action}] {
				t.Errorf("no row for %s %s", name, action)
			}
		}
	}
	if want := 6 * 6 * 14; cells != want || len(tableActors)*len(models.Statuses)*len(models.Actions) != want {
		t.Errorf("checked %d cells, want %d (actors %d × statuses %d × actions %d)",
			cells, want, len(tableActors), len(models.Statuses), len(models.Actions))
	}
}

func TestRelationOf(t *testing.T) {
	a := appt(models.StatusBooked, t0)
	cases := []struct {
		name  string
		actor models.Actor
		appt  models.Appointment
		want  models.Relation
	}{
		{"patient", thePatient, a, models.ThePatient},
		{"doctor", theDoctor, a, models.TheDoctor},
		{"admin", anAdmin, a, models.Admin},
		{"system", models.SystemActor, a, models.System},
		{"system id whatever the role", models.Actor{UserID: models.SystemActor.UserID, Role: models.RolePatient}, a, models.System},
		{"stranger patient", strangerPatient, a, models.Stranger},
		{"stranger doctor", strangerDoctor, a, models.Stranger},
		{"matched by id, not role: patient id with admin role", models.Actor{UserID: patientID, Role: models.RoleAdmin}, a, models.ThePatient},
		{"matched by id, not role: doctor id with patient role", models.Actor{UserID: doctorID, Role: models.RolePatient}, a, models.TheDoctor},
		{"empty id never matches empty party", models.Actor{Role: models.RolePatient}, models.Appointment{DoctorID: doctorID}, models.Stranger},
		{"empty id, empty doctor", models.Actor{Role: models.RoleDoctor}, models.Appointment{PatientID: patientID}, models.Stranger},
		{"anonymous", models.Actor{}, a, models.Stranger},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := models.RelationOf(c.actor, c.appt); got != c.want {
				t.Errorf("RelationOf = %q, want %q", got, c.want)
			}
		})
	}
}

func TestCheckUnknownAction(t *testing.T) {
	now := t0.Add(-72 * time.Hour)
	for name, actor := range tableActors {
		err := policy.Check(actor, appt(models.StatusBooked, now), models.Action("teleport"), now)
		want := models.EFORBIDDEN
		if name == "stranger_patient" || name == "stranger_doctor" {
			want = models.ENOTFOUND
		}
		if got := code(err); got != want {
			t.Errorf("%s teleport: got %q (%v), want %q", name, got, err, want)
		}
	}
}

func TestCheckCancelCutoff(t *testing.T) {
	cutoff := t0.Add(-policy.CancelCutoff)
	cases := []struct {
		name   string
		actor  models.Actor
		action models.Action
		now    time.Time
		want   string
	}{
		{"patient cancel just before cutoff", thePatient, models.ActionCancel, cutoff.Add(-time.Second), ""},
		{"patient cancel at cutoff", thePatient, models.ActionCancel, cutoff, ""},
		{"patient cancel after cutoff", thePatient, models.ActionCancel, cutoff.Add(time.Second), models.ECONFLICT},
		{"patient cancel after start", thePatient, models.ActionCancel, t0.Add(time.Minute), models.ECONFLICT},
		{"patient reschedule at cutoff", thePatient, models.ActionReschedule, cutoff, ""},
		{"patient reschedule after cutoff", thePatient, models.ActionReschedule, cutoff.Add(time.Second), models.ECONFLICT},
		{"doctor cancel after cutoff", theDoctor, models.ActionCancel, cutoff.Add(time.Second), ""},
		{"doctor cancel after start", theDoctor, models.ActionCancel, t0.Add(time.Minute), ""},
		{"doctor reschedule after cutoff is still not theirs", theDoctor, models.ActionReschedule, cutoff.Add(time.Second), models.EFORBIDDEN},
		{"admin cancel after cutoff", anAdmin, models.ActionCancel, cutoff.Add(time.Second), ""},
		{"admin reschedule after cutoff", anAdmin, models.ActionReschedule, cutoff.Add(time.Second), ""},
		{"admin reschedule after start", anAdmin, models.ActionReschedule, t0.Add(time.Minute), ""},
		{"system cancel after cutoff", models.SystemActor, models.ActionCancel, cutoff.Add(time.Second), ""},
		{"stranger after cutoff", strangerPatient, models.ActionCancel, cutoff.Add(time.Second), models.ENOTFOUND},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := policy.Check(c.actor, appt(models.StatusBooked, c.now), c.action, c.now)
			if got := code(err); got != c.want {
				t.Fatalf("got %q (%v), want %q", got, err, c.want)
			}
			if c.want == models.ECONFLICT {
				e := domainErr(t, err)
				if e.Details["status"] != models.StatusBooked {
					t.Errorf("details.status = %v, want booked", e.Details["status"])
				}
				if e.Details["cutoff"] != policy.CancelCutoff.String() {
					t.Errorf("details.cutoff = %v, want %q", e.Details["cutoff"], policy.CancelCutoff.String())
				}
			}
		})
	}
}

func TestCheckStartWindow(t *testing.T) {
	opens := t0.Add(-policy.StartEarly)
	cases := []struct {
		name  string
		actor models.Actor
		now   time.Time
		want  string
	}{
		{"doctor a day early", theDoctor, t0.Add(-24 * time.Hour), models.ECONFLICT},
		{"doctor just before the window", theDoctor, opens.Add(-time.Second), models.ECONFLICT},
		{"doctor as the window opens", theDoctor, opens, ""},
		{"doctor at the start", theDoctor, t0, ""},
		{"doctor late", theDoctor, t0.Add(2 * time.Hour), ""},
		{"admin a day early", anAdmin, t0.Add(-24 * time.Hour), ""},
		{"admin just before the window", anAdmin, opens.Add(-time.Second), ""},
		{"patient in the window", thePatient, t0, models.EFORBIDDEN},
		{"patient a day early", thePatient, t0.Add(-24 * time.Hour), models.EFORBIDDEN},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := policy.Check(c.actor, appt(models.StatusBooked, c.now), models.ActionStart, c.now)
			if got := code(err); got != c.want {
				t.Fatalf("got %q (%v), want %q", got, err, c.want)
			}
			if c.want == models.ECONFLICT {
				e := domainErr(t, err)
				if e.Details["status"] != models.StatusBooked {
					t.Errorf("details.status = %v, want booked", e.Details["status"])
				}
				if want := opens.Format(time.RFC3339); e.Details["opens_at"] != want {
					t.Errorf("details.opens_at = %v, want %q", e.Details["opens_at"], want)
				}
			}
		})
	}
	// The status rule comes before the time rule.
	now := t0.Add(-24 * time.Hour)
	err := policy.Check(theDoctor, appt(models.StatusCompleted, now), models.ActionStart, now)
	if e := domainErr(t, err); e.Code != models.ECONFLICT || e.Details["status"] != models.StatusCompleted || e.Details["opens_at"] != nil {
		t.Errorf("start of a completed appointment a day early: %v %#v", err, e.Details)
	}
}

func TestCheckNoShowAfterStart(t *testing.T) {
	for _, actor := range []models.Actor{theDoctor, anAdmin, models.SystemActor} {
		for _, c := range []struct {
			now  time.Time
			want string
		}{
			{t0.Add(-72 * time.Hour), models.ECONFLICT},
			{t0.Add(-time.Second), models.ECONFLICT},
			{t0, ""},
			{t0.Add(time.Minute), ""},
		} {
			err := policy.Check(actor, appt(models.StatusBooked, c.now), models.ActionNoShow, c.now)
			if got := code(err); got != c.want {
				t.Errorf("%s no_show at start%+v: got %q (%v), want %q", actor.UserID, c.now.Sub(t0), got, err, c.want)
				continue
			}
			if err != nil {
				if e := domainErr(t, err); e.Details["status"] != models.StatusBooked {
					t.Errorf("details.status = %v, want booked", e.Details["status"])
				}
			}
		}
	}
	// The patient may never mark themselves absent.
	if got := code(policy.Check(thePatient, appt(models.StatusBooked, t0), models.ActionNoShow, t0.Add(time.Hour))); got != models.EFORBIDDEN {
		t.Errorf("patient no_show: got %q, want forbidden", got)
	}
}

func TestCheckChatWindow(t *testing.T) {
	completedAt := t0.Add(time.Hour)
	completed := appt(models.StatusCompleted, t0)
	completed.CompletedAt = &completedAt
	closes := completedAt.Add(policy.ChatWindow)
	noCompletion := completed
	noCompletion.CompletedAt = nil

	cases := []struct {
		name   string
		actor  models.Actor
		a      models.Appointment
		action models.Action
		now    time.Time
		want   string
	}{
		{"patient sends right after completion", thePatient, completed, models.ActionSend, completedAt, ""},
		{"doctor sends just before it closes", theDoctor, completed, models.ActionSend, closes.Add(-time.Second), ""},
		{"patient sends as it closes", thePatient, completed, models.ActionSend, closes, models.EFORBIDDEN},
		{"doctor sends after it closed", theDoctor, completed, models.ActionSend, closes.Add(time.Hour), models.EFORBIDDEN},
		{"no completion time: closed", thePatient, noCompletion, models.ActionSend, completedAt, models.EFORBIDDEN},
		{"history stays readable", thePatient, completed, models.ActionReadHistory, closes.Add(time.Hour), ""},
		{"admin history stays readable", anAdmin, completed, models.ActionReadHistory, closes.Add(time.Hour), ""},
		{"room still joinable", theDoctor, completed, models.ActionJoin, closes.Add(time.Hour), ""},
		{"diagnosis still writable", theDoctor, completed, models.ActionDiagnose, closes.Add(time.Hour), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := code(policy.Check(c.actor, c.a, c.action, c.now)); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestCheckCallsOnClosedConsultation(t *testing.T) {
	now := t0.Add(-72 * time.Hour)
	for _, status := range []models.AppointmentStatus{models.StatusCancelled, models.StatusCompleted, models.StatusNoShow} {
		for _, actor := range []models.Actor{thePatient, theDoctor} {
			a := appt(status, now)
			if got := code(policy.Check(actor, a, models.ActionCall, now)); got != models.EFORBIDDEN {
				t.Errorf("%s call on %s: got %q, want forbidden", actor.UserID, status, got)
			}
			if err := policy.Check(actor, a, models.ActionHangup, now); err != nil {
				t.Errorf("%s hangup on %s: %v, want allowed", actor.UserID, status, err)
			}
		}
	}
}

func TestCanHelpers(t *testing.T) {
	now := t0.Add(-72 * time.Hour)
	booked := appt(models.StatusBooked, now)
	cancelled := appt(models.StatusCancelled, now)
	inProgress := appt(models.StatusInProgress, now)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"view patient", policy.CanViewAppointment(thePatient, booked), ""},
		{"view admin", policy.CanViewAppointment(anAdmin, cancelled), ""},
		{"view stranger", policy.CanViewAppointment(strangerDoctor, booked), models.ENOTFOUND},
		{"join doctor", policy.CanJoinRoom(theDoctor, booked), ""},
		{"join cancelled", policy.CanJoinRoom(thePatient, cancelled), models.EFORBIDDEN},
		{"join admin", policy.CanJoinRoom(anAdmin, booked), models.EFORBIDDEN},
		{"send patient", policy.CanSend(thePatient, inProgress, now), ""},
		{"send cancelled", policy.CanSend(thePatient, cancelled, now), models.EFORBIDDEN},
		{"call doctor", policy.CanCall(theDoctor, booked), ""},
		{"call cancelled", policy.CanCall(theDoctor, cancelled), models.EFORBIDDEN},
		{"call stranger", policy.CanCall(strangerPatient, booked), models.ENOTFOUND},
		{"diagnose doctor", policy.CanDiagnose(theDoctor, inProgress, now), ""},
		{"diagnose booked", policy.CanDiagnose(theDoctor, booked, now), models.ECONFLICT},
		{"diagnose admin", policy.CanDiagnose(anAdmin, inProgress, now), models.EFORBIDDEN},
	}
	for _, c := range cases {
		if got := code(c.err); got != c.want {
			t.Errorf("%s: got %q (%v), want %q", c.name, got, c.err, c.want)
		}
	}
}

func TestActionsListEveryAction(t *testing.T) {
	room := map[models.Action]bool{models.ActionView: true, models.ActionReadHistory: true, models.ActionJoin: true,
		models.ActionSend: true, models.ActionCall: true, models.ActionHangup: true}
	seen := map[models.Action]bool{}
	for _, a := range models.Actions {
		if seen[a] {
			t.Errorf("%s listed twice", a)
		}
		seen[a] = true
		_, lifecycle := models.Lifecycle[a]
		if lifecycle == room[a] {
			t.Errorf("%s: lifecycle=%v room=%v, want exactly one", a, lifecycle, room[a])
		}
	}
	for a := range models.Lifecycle {
		if !seen[a] {
			t.Errorf("lifecycle action %s missing from Actions", a)
		}
	}
	if len(models.Actions) != 14 || len(models.Statuses) != 6 {
		t.Errorf("Actions %d, Statuses %d: update the access table", len(models.Actions), len(models.Statuses))
	}
}
