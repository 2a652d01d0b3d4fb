package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"teleconsult/database"
	"teleconsult/models"
	"teleconsult/modeltest"
)

// notifyBookedEnv is the envelope of a booking of doctor by patient raised
// at at, as the dispatcher would hand it out.
func notifyBookedEnv(doctor, patient models.User, at time.Time) models.Envelope {
	start := at.Add(48 * time.Hour)
	a := models.Appointment{ID: uuid.NewString(), DoctorID: doctor.ID, PatientID: patient.ID, StartsAt: start, EndsAt: start.Add(time.Hour),
		Status: models.StatusBooked, CreatedAt: at, UpdatedAt: at}
	ev := models.AppointmentBooked{AppointmentEvent: models.AppointmentEvent{Appointment: a, ActorID: patient.ID, ActorRole: models.RolePatient, At: at}}
	return models.Envelope{ID: uuid.NewString(), Event: ev, CreatedAt: at, Attempt: 1}
}

// notifyIDs lists the ids of ns.
func notifyIDs(ns []models.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

// notifyPages walks every page of f for actor and returns the items in order.
func notifyPages(t *testing.T, s *modeltest.Services, actor models.Actor, f models.NotificationFilter) (items []models.Notification, pages int) {
	t.Helper()
	for {
		p, err := s.Notifications.List(t.Context(), actor, f)
		if err != nil {
			t.Fatalf("list %+v: %v", f, err)
		}
		if len(p.Items) > f.Limit {
			t.Fatalf("page of %d items, limit %d", len(p.Items), f.Limit)
		}
		items = append(items, p.Items...)
		pages++
		if p.NextCursor == "" {
			return items, pages
		}
		if pages > 50 {
			t.Fatal("paging does not end")
		}
		f.Cursor = p.NextCursor
	}
}

// notifyFieldErr reports whether err is EINVALID naming field.
func notifyFieldErr(err error, field string) bool {
	if models.ErrorCode(err) != models.EINVALID {
		return false
	}
	fields, _ := models.AsError(err).Details["fields"].(map[string]any)
	_, ok := fields[field]
	return ok
}

func TestNotificationsListAndMarkRead(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			clock := outboxClock(t)
			s := modeltest.NewServices(d.Open(t), modeltest.DefaultOptions(t, clock))
			ctx := t.Context()
			doc := modeltest.MustUser(t, s, models.RoleDoctor, "list-doc@example.com")
			pat := modeltest.MustUser(t, s, models.RolePatient, "list-pat@example.com")
			other := modeltest.MustUser(t, s, models.RolePatient, "list-other@example.com")
			docA, otherA := outboxActor(doc), outboxActor(other)

			// Seven notifications for the doctor; two share their time, so
			// the id breaks the tie.
			base := clock.Now()
			var recorded []models.Notification
			for _, off := range []time.Duration{0, time.Minute, 2 * time.Minute, 3 * time.Minute, 3 * time.Minute, 4 * time.Minute, 5 * time.Minute} {
				env := notifyBookedEnv(doc, pat, base.Add(off))
				ns, err := s.Notifications.Record(ctx, env)
				if err != nil {
					t.Fatal(err)
				}
				if len(ns) != 1 || ns[0].ID == "" || ns[0].UserID != doc.ID || ns[0].Kind != models.NotifyBooked || ns[0].Key != env.ID+":"+doc.ID || !ns[0].CreatedAt.Equal(env.CreatedAt) {
					t.Fatalf("Record = %+v, want the doctor's booking notification", ns)
				}
				// Recording the same event again stores nothing and returns the stored one.
				again, err := s.Notifications.Record(ctx, env)
				if err != nil || len(again) != 1 || again[0].ID != ns[0].ID {
					t.Fatalf("second Record = %+v, %v; want the stored %s", again, err, ns[0].ID)
				}
				recorded = append(recorded, ns[0])
			}
			want := slices.Clone(recorded)
			slices.SortFunc(want, func(a, b models.Notification) int {
				if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
					return c
				}
				return strings.Compare(b.ID, a.ID)
			})

			all, err := s.Notifications.List(ctx, docA, models.NotificationFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(notifyIDs(all.Items), notifyIDs(want)) || all.NextCursor != "" {
				t.Fatalf("List = %v (next %q), want newest first %v", notifyIDs(all.Items), all.NextCursor, notifyIDs(want))
			}
			for _, size := range []int{1, 2, 3, 6, 7, 8} {
				items, pages := notifyPages(t, s, docA, models.NotificationFilter{Limit: size})
				if !slices.Equal(notifyIDs(items), notifyIDs(want)) {
					t.Fatalf("pages of %d = %v, want %v", size, notifyIDs(items), notifyIDs(want))
				}
				if wantPages := max(1, (len(want)+size-1)/size); pages != wantPages && pages != wantPages+1 {
					t.Fatalf("pages of %d: %d pages", size, pages)
				}
			}
			if p, err := s.Notifications.List(ctx, otherA, models.NotificationFilter{}); err != nil || p.Items == nil || len(p.Items) != 0 {
				t.Fatalf("another user's list = %+v, %v; want an empty list", p, err)
			}

			// MarkRead: another user's notification is not found, and stays unread.
			target := want[2]
			for name, id := range map[string]string{"another user's": target.ID, "unknown": uuid.NewString()} {
				if _, err := s.Notifications.MarkRead(ctx, otherA, id); models.ErrorCode(err) != models.ENOTFOUND {
					t.Fatalf("MarkRead of an %s notification: %v, want %s", name, err, models.ENOTFOUND)
				}
			}
			if n, err := s.Notifications.UnreadCount(ctx, docA); err != nil || n != 7 {
				t.Fatalf("UnreadCount = %d, %v; want 7", n, err)
			}
			read, err := s.Notifications.MarkRead(ctx, docA, target.ID)
			if err != nil || read.ID != target.ID || read.ReadAt == nil || !read.ReadAt.Equal(clock.Now()) {
				t.Fatalf("MarkRead = %+v, %v; want read at %v", read, err, clock.Now())
			}
			clock.Advance(time.Hour)
			again, err := s.Notifications.MarkRead(ctx, docA, target.ID)
			if err != nil || again.ReadAt == nil || !again.ReadAt.Equal(*read.ReadAt) {
				t.Fatalf("second MarkRead = %+v, %v; want the first read time kept", again, err)
			}
			if n, err := s.Notifications.UnreadCount(ctx, docA); err != nil || n != 6 {
				t.Fatalf("UnreadCount = %d, %v; want 6", n, err)
			}
			unread := slices.DeleteFunc(slices.Clone(want), func(n models.Notification) bool { return n.ID == target.ID })
			for _, size := range []int{2, 4, 50} {
				items, _ := notifyPages(t, s, docA, models.NotificationFilter{UnreadOnly: true, Limit: size})
				if !slices.Equal(notifyIDs(items), notifyIDs(unread)) {
					t.Fatalf("unread pages of %d = %v, want %v", size, notifyIDs(items), notifyIDs(unread))
				}
			}

			// MarkAllRead touches only the actor's.
			if n, err := s.Notifications.MarkAllRead(ctx, otherA); err != nil || n != 0 {
				t.Fatalf("MarkAllRead of a user without notifications = %d, %v", n, err)
			}
			if n, _ := s.Notifications.UnreadCount(ctx, docA); n != 6 {
				t.Fatalf("another user's MarkAllRead changed the doctor's unread count to %d", n)
			}
			if n, err := s.Notifications.MarkAllRead(ctx, docA); err != nil || n != 6 {
				t.Fatalf("MarkAllRead = %d, %v; want 6", n, err)
			}
			if n, err := s.Notifications.MarkAllRead(ctx, docA); err != nil || n != 0 {
				t.Fatalf("second MarkAllRead = %d, %v; want 0", n, err)
			}
			if n, _ := s.Notifications.UnreadCount(ctx, docA); n != 0 {
				t.Fatalf("UnreadCount after MarkAllRead = %d", n)
			}
			if p, err := s.Notifications.List(ctx, docA, models.NotificationFilter{UnreadOnly: true}); err != nil || len(p.Items) != 0 {
				t.Fatalf("unread list after MarkAllRead = %d items, %v", len(p.Items), err)
			}
			if p, _ := s.Notifications.List(ctx, docA, models.NotificationFilter{}); len(p.Items) != 7 {
				t.Fatalf("MarkAllRead removed notifications: %d left", len(p.Items))
			}
			for _, n := range outboxNotifications(t, s, doc) {
				if n.ReadAt == nil {
					t.Fatalf("notification %s still unread", n.ID)
				}
				if n.ID == target.ID && !n.ReadAt.Equal(*read.ReadAt) {
					t.Fatalf("MarkAllRead moved the read time of an already read notification")
				}
			}

			for name, f := range map[string]models.NotificationFilter{
				"negative limit": {Limit: -1},
				"limit too big":  {Limit: models.MaxPageSize + 1},
				"bad cursor":     {Cursor: "not a cursor"},
			} {
				if _, err := s.Notifications.List(ctx, docA, f); models.ErrorCode(err) != models.EINVALID {
					t.Errorf("List with %s: %v, want %s", name, err, models.EINVALID)
				}
			}
		})
	}
}

func TestNotificationsAnnounce(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			clock := outboxClock(t)
			s := modeltest.NewServices(d.Open(t), modeltest.DefaultOptions(t, clock))
			ctx := t.Context()
			admin := modeltest.MustUser(t, s, models.RoleAdmin, "ann-admin@example.com")
			adminA := outboxActor(admin)
			var pats, docs []models.User
			for i := range 3 {
				pats = append(pats, modeltest.MustUser(t, s, models.RolePatient, fmt.Sprintf("ann-p%d@example.com", i)))
			}
			for i := range 2 {
				docs = append(docs, modeltest.MustUser(t, s, models.RoleDoctor, fmt.Sprintf("ann-d%d@example.com", i)))
			}
			yes := true
			var disabled []models.User
			for _, role := range []models.Role{models.RolePatient, models.RoleDoctor} {
				u := modeltest.MustUser(t, s, role, "ann-off-"+string(role)+"@example.com")
				if _, err := s.Users.AdminUpdate(ctx, adminA, u.ID, models.AdminUpdateUserInput{Disabled: &yes}); err != nil {
					t.Fatal(err)
				}
				disabled = append(disabled, u)
			}

			ok := models.AnnouncementInput{Title: "Maintenance", Body: "Sunday 02:00-03:00 UTC.", Audience: models.AudienceAll}
			for _, u := range []models.User{pats[0], docs[0]} {
				if _, err := s.Notifications.Announce(ctx, outboxActor(u), ok); models.ErrorCode(err) != models.EFORBIDDEN {
					t.Fatalf("Announce by a %s: %v, want %s", u.Role, err, models.EFORBIDDEN)
				}
			}
			invalid := []struct {
				name, field string
				in          models.AnnouncementInput
			}{
				{"no title", "title", models.AnnouncementInput{Body: "b", Audience: "all"}},
				{"long title", "title", models.AnnouncementInput{Title: strings.Repeat("t", 201), Body: "b", Audience: "all"}},
				{"bad utf-8", "title", models.AnnouncementInput{Title: "\xff\xfe", Body: "b", Audience: "all"}},
				{"no body", "body", models.AnnouncementInput{Title: "t", Audience: "all"}},
				{"long body", "body", models.AnnouncementInput{Title: "t", Body: strings.Repeat("b", 4001), Audience: "all"}},
				{"no audience", "audience", models.AnnouncementInput{Title: "t", Body: "b"}},
				{"unknown audience", "audience", models.AnnouncementInput{Title: "t", Body: "b", Audience: "staff"}},
			}
			for _, c := range invalid {
				if _, err := s.Notifications.Announce(ctx, adminA, c.in); !notifyFieldErr(err, c.field) {
					t.Errorf("%s: %v, want %s on %s", c.name, err, models.EINVALID, c.field)
				}
			}
			if n := len(outboxEvents(t, s, models.KindAnnouncementPosted)); n != 0 {
				t.Fatalf("refused announcements raised %d events", n)
			}

			// The count is of enabled users in the audience (the admin included in "all").
			for audience, want := range map[string]int{models.AudienceAll: 6, models.AudiencePatients: 3, models.AudienceDoctors: 2} {
				in := ok
				in.Audience, in.Title = audience, "To "+audience
				n, err := s.Notifications.Announce(ctx, adminA, in)
				if err != nil || n != want {
					t.Fatalf("Announce to %s = %d, %v; want %d", audience, n, err, want)
				}
			}
			if n := len(outboxEvents(t, s, models.KindAnnouncementPosted)); n != 3 {
				t.Fatalf("%d announcement events, want 3", n)
			}

			// Delivered twice over: two subscribers both Record every event,
			// and each event is recorded once more by hand afterwards.
			var mu sync.Mutex
			var envs []models.Envelope
			s.RecordNotifications()
			s.RecordNotifications()
			s.Outbox.Subscribe("capture", func(ctx context.Context, env models.Envelope) error {
				if _, ok := env.Event.(models.AnnouncementPosted); ok {
					mu.Lock()
					envs = append(envs, env)
					mu.Unlock()
				}
				return nil
			})
			s.Dispatch(t)
			if len(envs) != 3 {
				t.Fatalf("dispatched %d announcements, want 3", len(envs))
			}
			for _, env := range envs {
				stored, err := s.Notifications.Record(ctx, env)
				if err != nil {
					t.Fatal(err)
				}
				if want := map[string]int{"To all": 6, "To patients": 3, "To doctors": 2}[env.Event.(models.AnnouncementPosted).Title]; len(stored) != want {
					t.Fatalf("Record of %+v returned %d notifications, want %d", env.Event, len(stored), want)
				}
			}

			check := func(u models.User, titles ...string) {
				t.Helper()
				var got []string
				for _, n := range outboxNotifications(t, s, u) {
					if n.Kind != models.NotifyAnnouncement {
						t.Errorf("%s got a %s notification", u.Email, n.Kind)
						continue
					}
					if n.Body != ok.Body || n.Data["audience"] != strings.TrimPrefix(n.Title, "To ") {
						t.Errorf("%s got %+v", u.Email, n)
					}
					got = append(got, n.Title)
				}
				slices.Sort(got)
				slices.Sort(titles)
				if !slices.Equal(got, titles) {
					t.Errorf("%s got announcements %q, want %q", u.Email, got, titles)
				}
			}
			check(admin, "To all")
			for _, p := range pats {
				check(p, "To all", "To patients")
			}
			for _, d := range docs {
				check(d, "To all", "To doctors")
			}
			for _, u := range disabled {
				check(u)
			}

			entries, err := s.Audit.List(ctx, adminA, models.AuditFilter{TargetType: "announcement"})
			if err != nil {
				t.Fatal(err)
			}
			if len(entries.Items) != 3 {
				t.Fatalf("%d announcement audit entries, want 3", len(entries.Items))
			}
			for _, e := range entries.Items {
				want := map[string]float64{"all": 6, "patients": 3, "doctors": 2}[fmt.Sprint(e.Details["audience"])]
				if e.Action != "announcement.create" || e.ActorID != admin.ID || e.Details["recipients"] != want {
					t.Errorf("audit entry %+v", e)
				}
			}
		})
	}
}

// notifyReminderWorld is two nodes on one database, a doctor who takes
// hourly appointments round the clock and an admin; the clock starts at
// outboxStart.
type notifyReminderWorld struct {
	nodes []*modeltest.Services
	clock *modeltest.Clock
	doc   models.User
	admin models.User
	n     int // patients made so far
}

func newNotifyReminderWorld(t *testing.T, open func(testing.TB) *database.DB) *notifyReminderWorld {
	t.Helper()
	db := open(t)
	clock := outboxClock(t)
	w := &notifyReminderWorld{clock: clock}
	for range 2 {
		w.nodes = append(w.nodes, modeltest.NewServices(db, modeltest.DefaultOptions(t, clock)))
	}
	w.nodes[0].RecordNotifications()
	w.doc = outboxDoctor(t, w.nodes[0], "rem-doc@example.com")
	w.admin = modeltest.MustUser(t, w.nodes[0], models.RoleAdmin, "rem-admin@example.com")
	return w
}

// book makes a new patient and books start for them now.
func (w *notifyReminderWorld) book(t *testing.T, start time.Time) (models.User, models.Appointment) {
	t.Helper()
	w.n++
	p := modeltest.MustUser(t, w.nodes[0], models.RolePatient, fmt.Sprintf("rem-p%d@example.com", w.n))
	return p, outboxBook(t, w.nodes[0], p, w.doc, start)
}

// send runs SendReminders on every node, three times each, all at once,
// and returns how many reminders they raised together.
func (w *notifyReminderWorld) send(t *testing.T) int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
		errs  []error
	)
	for _, n := range w.nodes {
		for range 3 {
			wg.Go(func() {
				k, err := n.Notifications.SendReminders(t.Context())
				mu.Lock()
				defer mu.Unlock()
				total += k
				if err != nil {
					errs = append(errs, err)
				}
			})
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("SendReminders: %v", errs)
	}
	return total
}

// expectSent sets the clock to at and checks how many reminders go out.
func (w *notifyReminderWorld) expectSent(t *testing.T, at time.Time, want int) {
	t.Helper()
	w.clock.Set(at)
	if got := w.send(t); got != want {
		t.Fatalf("at %s: %d reminders sent, want %d", at.Format(time.RFC3339), got, want)
	}
}

// notifyReminder is what a reminder notification says, in short.
type notifyReminder struct {
	AppointmentID string
	StartsAt      string
	OffsetSeconds float64
}

// reminders delivers pending events and returns u's reminders, oldest first.
func (w *notifyReminderWorld) reminders(t *testing.T, u models.User) []notifyReminder {
	t.Helper()
	w.nodes[0].Dispatch(t)
	var out []notifyReminder
	ns := outboxNotifications(t, w.nodes[0], u)
	slices.Reverse(ns)
	for _, n := range ns {
		if n.Kind != models.NotifyReminder {
			continue
		}
		off, _ := n.Data["offset_seconds"].(float64)
		out = append(out, notifyReminder{fmt.Sprint(n.Data["appointment_id"]), fmt.Sprint(n.Data["starts_at"]), off})
	}
	return out
}

func notifyRem(a models.Appointment, offset time.Duration) notifyReminder {
	return notifyReminder{a.ID, a.StartsAt.UTC().Format(time.RFC3339), float64(offset / time.Second)}
}

func TestNotificationsSendReminders(t *testing.T) {
	const day = 24 * time.Hour
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			t.Run("24 hours before, once across racing nodes", func(t *testing.T) {
				w := newNotifyReminderWorld(t, d.Open)
				s := w.clock.Now().Add(3 * day)
				var pats []models.User
				var appts []models.Appointment
				for k := range 4 {
					p, a := w.book(t, s.Add(time.Duration(k)*time.Hour))
					pats, appts = append(pats, p), append(appts, a)
				}
				w.expectSent(t, s.Add(-2*day), 0)
				w.expectSent(t, s.Add(-day-time.Second), 0)
				w.expectSent(t, s.Add(-day), 1)
				w.expectSent(t, s.Add(3*time.Hour-day), 3)
				w.expectSent(t, s.Add(3*time.Hour-day), 0)
				w.expectSent(t, s.Add(-time.Hour), 0)
				if n := len(outboxEvents(t, w.nodes[0], models.KindReminderDue)); n != 4 {
					t.Fatalf("%d ReminderDue events, want 4", n)
				}
				for k, p := range pats {
					if got, want := w.reminders(t, p), []notifyReminder{notifyRem(appts[k], day)}; !slices.Equal(got, want) {
						t.Errorf("patient %d reminders = %+v, want %+v", k, got, want)
					}
				}
				if got := w.reminders(t, w.doc); len(got) != 4 {
					t.Errorf("doctor has %d reminders, want 4: %+v", len(got), got)
				}
				ns := outboxNotifications(t, w.nodes[0], pats[0])
				if len(ns) != 1 || !strings.Contains(ns[0].Body, "in 24 hours") || !strings.Contains(ns[0].Body, "Test doctor") {
					t.Errorf("reminder = %+v", ns)
				}
			})

			t.Run("only the nearest of several due offsets", func(t *testing.T) {
				w := newNotifyReminderWorld(t, d.Open)
				s := w.clock.Now().Add(3 * day)
				p, a := w.book(t, s)
				w.expectSent(t, s.Add(-10*time.Minute), 1)
				w.expectSent(t, s.Add(-5*time.Minute), 0)
				w.expectSent(t, s.Add(-time.Second), 0)
				evs := outboxEvents(t, w.nodes[0], models.KindReminderDue)
				if len(evs) != 1 || !strings.Contains(evs[0].Payload, fmt.Sprintf(`"Offset":%d`, int64(15*time.Minute))) {
					t.Fatalf("ReminderDue events = %+v, want one for 15 minutes", evs)
				}
				if got, want := w.reminders(t, p), []notifyReminder{notifyRem(a, 15*time.Minute)}; !slices.Equal(got, want) {
					t.Fatalf("reminders = %+v, want %+v", got, want)
				}
				if ns := outboxNotifications(t, w.nodes[0], p); !strings.Contains(ns[0].Body, "in 10 minutes") {
					t.Fatalf("reminder says %q", ns[0].Body)
				}
			})

			t.Run("a late reminder goes out once", func(t *testing.T) {
				w := newNotifyReminderWorld(t, d.Open)
				s := w.clock.Now().Add(3 * day)
				p, a := w.book(t, s)
				// No node ran at s-24h; the reminder goes out late, once.
				w.expectSent(t, s.Add(-23*time.Hour), 1)
				w.expectSent(t, s.Add(-22*time.Hour), 0)
				w.expectSent(t, s.Add(-16*time.Minute), 0)
				w.expectSent(t, s.Add(-15*time.Minute), 1)
				w.expectSent(t, s.Add(-time.Minute), 0)
				if got, want := w.reminders(t, p), []notifyReminder{notifyRem(a, day), notifyRem(a, 15*time.Minute)}; !slices.Equal(got, want) {
					t.Fatalf("reminders = %+v, want %+v", got, want)
				}
			})

			t.Run("an offset already past at booking is skipped", func(t *testing.T) {
				w := newNotifyReminderWorld(t, d.Open)
				s := w.clock.Now().Add(20 * time.Hour)
				p, a := w.book(t, s)
				w.expectSent(t, w.clock.Now(), 0)
				w.expectSent(t, s.Add(-time.Hour), 0)
				w.expectSent(t, s.Add(-15*time.Minute), 1)
				if got, want := w.reminders(t, p), []notifyReminder{notifyRem(a, 15*time.Minute)}; !slices.Equal(got, want) {
					t.Fatalf("reminders = %+v, want %+v", got, want)
				}
			})

			t.Run("rescheduling resets the reminders", func(t *testing.T) {
				w := newNotifyReminderWorld(t, d.Open)
				s := w.clock.Now().Add(3 * day)
				p, a := w.book(t, s)
				w.expectSent(t, s.Add(-day), 1)
				moved, err := w.nodes[1].Appointments.Reschedule(t.Context(), outboxActor(p), a.ID, models.RescheduleInput{StartsAt: s.Add(day).Format(time.RFC3339)})
				if err != nil {
					t.Fatal(err)
				}
				w.expectSent(t, s.Add(-day+time.Minute), 0)
				w.expectSent(t, s.Add(-time.Second), 0)
				w.expectSent(t, s, 1) // 24 hours before the new start
				w.expectSent(t, s.Add(time.Hour), 0)
				w.expectSent(t, moved.StartsAt.Add(-15*time.Minute), 1)
				want := []notifyReminder{notifyRem(a, day), notifyRem(moved, day), notifyRem(moved, 15*time.Minute)}
				if got := w.reminders(t, p); !slices.Equal(got, want) {
					t.Fatalf("reminders = %+v, want %+v", got, want)
				}
			})

			t.Run("none for started, cancelled or past appointments", func(t *testing.T) {
				w := newNotifyReminderWorld(t, d.Open)
				s := w.clock.Now().Add(3 * day)
				ctx := t.Context()
				startedP, started := w.book(t, s)
				if _, err := w.nodes[0].Appointments.Start(ctx, outboxActor(w.admin), started.ID); err != nil {
					t.Fatal(err)
				}
				cancelledP, cancelled := w.book(t, s.Add(time.Hour))
				if _, err := w.nodes[0].Appointments.Cancel(ctx, outboxActor(cancelledP), cancelled.ID, models.CancelInput{}); err != nil {
					t.Fatal(err)
				}
				pastP, _ := w.book(t, s.Add(-time.Hour))
				controlP, control := w.book(t, s.Add(2*time.Hour))
				// At s-10m every one of them would have its reminders due.
				w.expectSent(t, s.Add(-10*time.Minute), 1)
				for _, p := range []models.User{startedP, cancelledP, pastP} {
					if got := w.reminders(t, p); len(got) != 0 {
						t.Errorf("%s got reminders %+v", p.Email, got)
					}
				}
				if got, want := w.reminders(t, controlP), []notifyReminder{notifyRem(control, day)}; !slices.Equal(got, want) {
					t.Errorf("the booked appointment's reminders = %+v, want %+v", got, want)
				}
			})
		})
	}
}
