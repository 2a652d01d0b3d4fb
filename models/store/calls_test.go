package store_test

import (
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
)

// callsRinging invites as u and fails the test on error.
func callsRinging(t *testing.T, f *apptFixture, u models.User, appointmentID, media string) models.CallState {
	t.Helper()
	cs, err := f.p.Calls.Invite(t.Context(), apptActor(u), appointmentID, media)
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	return cs
}

// callsWantIdle fails unless the room has no call.
func callsWantIdle(t *testing.T, f *apptFixture, appointmentID string) {
	t.Helper()
	cs, err := f.p.Calls.Current(t.Context(), apptActor(f.patient), appointmentID)
	if models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("current = %+v, %v; want no call (not_found)", cs, err)
	}
}

func TestCallInviteAcceptHangup(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		pat, doc := apptActor(f.patient), apptActor(f.doctor)

		for _, media := range []string{"", "screen", "VIDEO"} {
			_, err := p.Calls.Invite(ctx, pat, a.ID, media)
			apptWantField(t, err, "media")
		}
		callsWantIdle(t, f, a.ID)

		cs := callsRinging(t, f, f.patient, a.ID, "video")
		if cs.State != models.CallRinging || cs.CallerID != f.patient.ID || cs.Media != "video" || cs.CallID == "" ||
			cs.AppointmentID != a.ID || !cs.RingDeadline.Equal(f.clock.Now().Add(45*time.Second)) {
			t.Fatalf("ringing call %+v", cs)
		}

		// One call per room.
		for _, u := range []models.User{f.patient, f.doctor} {
			_, err := p.Calls.Invite(ctx, apptActor(u), a.ID, "audio")
			apptWantCode(t, err, models.EBUSY)
		}

		// Everyone who may see the appointment sees the call; strangers do not.
		for _, u := range []models.User{f.patient, f.doctor, f.admin} {
			got, err := p.Calls.Current(ctx, apptActor(u), a.ID)
			if err != nil || got.CallID != cs.CallID || got.State != models.CallRinging {
				t.Fatalf("%s current: %+v, %v", u.Role, got, err)
			}
		}
		for _, u := range []models.User{f.patient2, f.doctor2} {
			_, err := p.Calls.Current(ctx, apptActor(u), a.ID)
			apptWantCode(t, err, models.ENOTFOUND)
		}

		// Only the callee answers.
		_, err := p.Calls.Accept(ctx, pat, a.ID)
		apptWantCode(t, err, models.ECONFLICT)
		_, err = p.Calls.Reject(ctx, pat, a.ID)
		apptWantCode(t, err, models.ECONFLICT)
		_, err = p.Calls.Accept(ctx, apptActor(f.admin), a.ID)
		apptWantCode(t, err, models.EFORBIDDEN)
		_, err = p.Calls.Accept(ctx, apptActor(f.doctor2), a.ID)
		apptWantCode(t, err, models.ENOTFOUND)

		f.clock.Advance(10 * time.Second)
		active, err := p.Calls.Accept(ctx, doc, a.ID)
		if err != nil || active.State != models.CallActive || active.CallID != cs.CallID || active.CallerID != f.patient.ID {
			t.Fatalf("accept: %+v, %v", active, err)
		}
		if got, err := p.Calls.Current(ctx, pat, a.ID); err != nil || got.State != models.CallActive {
			t.Fatalf("current after accept: %+v, %v", got, err)
		}
		_, err = p.Calls.Accept(ctx, doc, a.ID) // no longer ringing
		apptWantCode(t, err, models.ECONFLICT)
		_, err = p.Calls.Reject(ctx, doc, a.ID)
		apptWantCode(t, err, models.ECONFLICT)

		// A running call stays busy, even long after the ring deadline.
		f.clock.Advance(10 * time.Minute)
		_, err = p.Calls.Invite(ctx, doc, a.ID, "audio")
		apptWantCode(t, err, models.EBUSY)
		if ok, err := p.Calls.ExpireRinging(ctx, a.ID, cs.CallID); err != nil || ok {
			t.Fatalf("expire an active call: %v, %v; want false", ok, err)
		}

		// Either side hangs up; strangers and admins cannot.
		_, err = p.Calls.Hangup(ctx, apptActor(f.patient2), a.ID)
		apptWantCode(t, err, models.ENOTFOUND)
		_, err = p.Calls.Hangup(ctx, apptActor(f.admin), a.ID)
		apptWantCode(t, err, models.EFORBIDDEN)
		_, err = p.Calls.Hangup(ctx, pat, "no-such-room")
		apptWantCode(t, err, models.ENOTFOUND)
		ended, err := p.Calls.Hangup(ctx, doc, a.ID)
		if err != nil || ended.CallID != cs.CallID || ended.State != models.CallActive {
			t.Fatalf("hangup: %+v, %v", ended, err)
		}
		callsWantIdle(t, f, a.ID)
		_, err = p.Calls.Hangup(ctx, pat, a.ID)
		apptWantCode(t, err, models.ECONFLICT)

		// Rejecting: the doctor calls, the patient declines.
		cs2 := callsRinging(t, f, f.doctor, a.ID, "audio")
		if cs2.CallID == cs.CallID {
			t.Fatal("a new call reused the old call id")
		}
		rejected, err := p.Calls.Reject(ctx, pat, a.ID)
		if err != nil || rejected.CallID != cs2.CallID {
			t.Fatalf("reject: %+v, %v", rejected, err)
		}
		callsWantIdle(t, f, a.ID)
		_, err = p.Calls.Reject(ctx, pat, a.ID)
		apptWantCode(t, err, models.ECONFLICT)
		_, err = p.Calls.Accept(ctx, pat, a.ID)
		apptWantCode(t, err, models.ECONFLICT)

		// Hanging up a ringing call cancels it.
		callsRinging(t, f, f.patient, a.ID, "audio")
		if _, err := p.Calls.Hangup(ctx, pat, a.ID); err != nil {
			t.Fatal(err)
		}
		callsWantIdle(t, f, a.ID)

		// Strangers cannot ring; admins take no part.
		_, err = p.Calls.Invite(ctx, apptActor(f.patient2), a.ID, "video")
		apptWantCode(t, err, models.ENOTFOUND)
		_, err = p.Calls.Invite(ctx, apptActor(f.admin), a.ID, "video")
		apptWantCode(t, err, models.EFORBIDDEN)
		_, err = p.Calls.Invite(ctx, pat, "no-such-room", "video")
		apptWantCode(t, err, models.ENOTFOUND)
		callsWantIdle(t, f, a.ID)
	})
}

func TestCallRingTimeout(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		old := callsRinging(t, f, f.patient, a.ID, "video")

		// Before the deadline it keeps ringing.
		f.clock.Advance(44 * time.Second)
		if ok, err := p.Calls.ExpireRinging(ctx, a.ID, old.CallID); err != nil || ok {
			t.Fatalf("expire before the deadline: %v, %v", ok, err)
		}
		_, err := p.Calls.Invite(ctx, apptActor(f.doctor), a.ID, "audio")
		apptWantCode(t, err, models.EBUSY)

		// Past it, a new invite replaces the stale call.
		f.clock.Advance(2 * time.Second)
		fresh := callsRinging(t, f, f.doctor, a.ID, "audio")
		if fresh.CallID == old.CallID || fresh.CallerID != f.doctor.ID || fresh.Media != "audio" ||
			!fresh.RingDeadline.Equal(f.clock.Now().Add(45*time.Second)) {
			t.Fatalf("replacing call %+v (old %+v)", fresh, old)
		}
		cur, err := p.Calls.Current(ctx, apptActor(f.patient), a.ID)
		if err != nil || cur.CallID != fresh.CallID || cur.CallerID != f.doctor.ID || cur.State != models.CallRinging {
			t.Fatalf("current after replacing: %+v, %v", cur, err)
		}
		// The old call's timer no longer ends anything.
		if ok, err := p.Calls.ExpireRinging(ctx, a.ID, old.CallID); err != nil || ok {
			t.Fatalf("expire the replaced call: %v, %v", ok, err)
		}
		// The old caller is now the callee.
		_, err = p.Calls.Accept(ctx, apptActor(f.doctor), a.ID)
		apptWantCode(t, err, models.ECONFLICT)

		// At its deadline the fresh call expires, once.
		if ok, err := p.Calls.ExpireRinging(ctx, a.ID, fresh.CallID); err != nil || ok {
			t.Fatalf("expire too early: %v, %v", ok, err)
		}
		f.clock.Advance(45 * time.Second)
		if ok, err := p.Calls.ExpireRinging(ctx, a.ID, fresh.CallID); err != nil || !ok {
			t.Fatalf("expire at the deadline: %v, %v; want true", ok, err)
		}
		callsWantIdle(t, f, a.ID)
		if ok, err := p.Calls.ExpireRinging(ctx, a.ID, fresh.CallID); err != nil || ok {
			t.Fatalf("expire twice: %v, %v", ok, err)
		}
		_, err = p.Calls.Accept(ctx, apptActor(f.patient), a.ID)
		apptWantCode(t, err, models.ECONFLICT)
		callsRinging(t, f, f.patient, a.ID, "video")
	})
}

func TestCallEndIfAbsent(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		if cs, ok, err := p.Calls.EndIfAbsent(ctx, a.ID, f.patient.ID, "no-call"); err != nil || ok || cs.CallID != "" {
			t.Fatalf("end without a call: %+v, %v, %v", cs, ok, err)
		}
		if _, ok, err := p.Calls.EndIfAbsent(ctx, "no-such-room", f.patient.ID, "no-call"); err != nil || ok {
			t.Fatalf("end in an unknown room: %v, %v", ok, err)
		}
		call := callsRinging(t, f, f.patient, a.ID, "video")
		// While it rings the callee may be anywhere: their absence ends nothing.
		if _, ok, err := p.Calls.EndIfAbsent(ctx, a.ID, f.doctor.ID, call.CallID); err != nil || ok {
			t.Fatalf("a ringing call ended for the absent callee: %v, %v", ok, err)
		}
		if _, err := p.Calls.Accept(ctx, apptActor(f.doctor), a.ID); err != nil {
			t.Fatal(err)
		}
		// Nor does the absence of someone known of an earlier call.
		if _, ok, err := p.Calls.EndIfAbsent(ctx, a.ID, f.doctor.ID, "an-earlier-call"); err != nil || ok {
			t.Fatalf("a call ended for a departure from an earlier one: %v, %v", ok, err)
		}
		// Someone who is not in the room cannot end it.
		for _, id := range []string{f.patient2.ID, f.admin.ID, ""} {
			if _, ok, err := p.Calls.EndIfAbsent(ctx, a.ID, id, call.CallID); err != nil || ok {
				t.Fatalf("end for %q: %v, %v; want false", id, ok, err)
			}
		}
		if _, err := p.Calls.Current(ctx, apptActor(f.doctor), a.ID); err != nil {
			t.Fatalf("call ended by a non-participant: %v", err)
		}
		cs, ok, err := p.Calls.EndIfAbsent(ctx, a.ID, f.doctor.ID, call.CallID)
		if err != nil || !ok || cs.CallID != call.CallID || cs.State != models.CallActive {
			t.Fatalf("end for the absent doctor: %+v, %v, %v", cs, ok, err)
		}
		callsWantIdle(t, f, a.ID)
		if _, ok, err := p.Calls.EndIfAbsent(ctx, a.ID, f.doctor.ID, call.CallID); err != nil || ok {
			t.Fatalf("end twice: %v, %v", ok, err)
		}
	})
}

// TestCallsFollowTheAppointment: calls ring only while the consultation is
// booked or in progress; hanging up is always possible.
func TestCallsFollowTheAppointment(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		day := mustTime(t, "2030-03-03T09:00:00Z")
		for i, st := range []models.AppointmentStatus{models.StatusCompleted, models.StatusCancelled, models.StatusNoShow} {
			closed := modeltest.MustAppointment(t, p, f.doctor, f.patient, day.Add(time.Duration(i)*time.Hour), st)
			_, err := p.Calls.Invite(ctx, apptActor(f.patient), closed.ID, "video")
			apptWantCode(t, err, models.EFORBIDDEN)
			_, err = p.Calls.Accept(ctx, apptActor(f.doctor), closed.ID)
			apptWantCode(t, err, models.EFORBIDDEN)
			_, err = p.Calls.Invite(ctx, apptActor(f.patient2), closed.ID, "video")
			apptWantCode(t, err, models.ENOTFOUND)
		}
		running := modeltest.MustAppointment(t, p, f.doctor, f.patient, day.Add(5*time.Hour), models.StatusInProgress)
		callsRinging(t, f, f.doctor, running.ID, "video")

		// A call that outlives its consultation can still be ended.
		callsRinging(t, f, f.patient, a.ID, "video")
		if _, err := p.Calls.Accept(ctx, apptActor(f.doctor), a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Appointments.Cancel(ctx, apptActor(f.doctor), a.ID, models.CancelInput{}); err != nil {
			t.Fatal(err)
		}
		_, err := p.Calls.Invite(ctx, apptActor(f.patient), a.ID, "video")
		apptWantCode(t, err, models.EFORBIDDEN)
		if got, err := p.Calls.Current(ctx, apptActor(f.patient), a.ID); err != nil || got.State != models.CallActive {
			t.Fatalf("current after cancelling: %+v, %v", got, err)
		}
		_, err = p.Calls.Hangup(ctx, apptActor(f.patient2), a.ID)
		apptWantCode(t, err, models.ENOTFOUND)
		if _, err := p.Calls.Hangup(ctx, apptActor(f.patient), a.ID); err != nil {
			t.Fatalf("hangup after cancelling: %v", err)
		}
		callsWantIdle(t, f, a.ID)

		// Completing the running consultation closes its calls too, but the ringing one can still be hung up.
		f.clock.Set(day.Add(5*time.Hour + 10*time.Minute))
		if _, err := p.Appointments.Complete(ctx, apptActor(f.doctor), running.ID); err != nil {
			t.Fatal(err)
		}
		_, err = p.Calls.Accept(ctx, apptActor(f.patient), running.ID)
		apptWantCode(t, err, models.EFORBIDDEN)
		if _, err := p.Calls.Hangup(ctx, apptActor(f.patient), running.ID); err != nil {
			t.Fatalf("hangup after completion: %v", err)
		}
	})
}

// TestCallsDatabaseOutageIsUnavailable: with the database gone, every call
// operation answers internal, never forbidden or not_found.
func TestCallsDatabaseOutageIsUnavailable(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		call := callsRinging(t, f, f.patient, a.ID, "video")
		sqlDB, err := p.DB.DB()
		if err != nil {
			t.Fatal(err)
		}
		_ = sqlDB.Close()
		calls := map[string]func() error{
			"invite":         func() error { _, err := p.Calls.Invite(ctx, apptActor(f.patient), a.ID, "video"); return err },
			"invite_admin":   func() error { _, err := p.Calls.Invite(ctx, apptActor(f.admin), a.ID, "video"); return err },
			"hangup":         func() error { _, err := p.Calls.Hangup(ctx, apptActor(f.patient), a.ID); return err },
			"hangup_strange": func() error { _, err := p.Calls.Hangup(ctx, apptActor(f.patient2), a.ID); return err },
			"accept":         func() error { _, err := p.Calls.Accept(ctx, apptActor(f.doctor), a.ID); return err },
			"reject":         func() error { _, err := p.Calls.Reject(ctx, apptActor(f.doctor), a.ID); return err },
			"current":        func() error { _, err := p.Calls.Current(ctx, apptActor(f.doctor2), a.ID); return err },
			"expire":         func() error { _, err := p.Calls.ExpireRinging(ctx, a.ID, call.CallID); return err },
			"end_if_absent":  func() error { _, _, err := p.Calls.EndIfAbsent(ctx, a.ID, f.patient.ID, "c"); return err },
		}
		storeMustBeUnavailable(t, calls)
	})
}

func TestCallInCall(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		inCall := func(u models.User) bool {
			t.Helper()
			ok, err := p.Calls.InCall(ctx, apptActor(u))
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		want := func(stage string, patient, doctor bool) {
			t.Helper()
			if got := inCall(f.patient); got != patient {
				t.Fatalf("%s: patient in call = %v, want %v", stage, got, patient)
			}
			if got := inCall(f.doctor); got != doctor {
				t.Fatalf("%s: doctor in call = %v, want %v", stage, got, doctor)
			}
			for _, u := range []models.User{f.patient2, f.doctor2, f.admin} {
				if inCall(u) {
					t.Fatalf("%s: %s who is not in the room is in call", stage, u.Email)
				}
			}
		}
		// Another appointment of the doctor, without a call, changes nothing.
		apptBook(t, f, f.patient2, f.doctor, "2030-03-05T11:00:00Z")
		want("idle", false, false)
		callsRinging(t, f, f.patient, a.ID, "video")
		want("ringing", true, true)
		if _, err := p.Calls.Accept(ctx, apptActor(f.doctor), a.ID); err != nil {
			t.Fatal(err)
		}
		want("active", true, true)
		if _, err := p.Calls.Hangup(ctx, apptActor(f.doctor), a.ID); err != nil {
			t.Fatal(err)
		}
		want("hung up", false, false)
	})
}
