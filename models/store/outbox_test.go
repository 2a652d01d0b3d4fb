package store_test

import (
	"context"
	"errors"
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

// The outbox tests play the nodes of a deployment on one database: each
// modeltest.NewServices is a process with its own dispatcher (its own node
// id), wired the way cmd/teleconsult wires it: the notification store
// first, then a push of what it stored. The push is counted by an
// outboxLedger instead of reaching the realtime edge.

// outboxStart is the fixed time outbox tests begin at (a Monday, whole second).
const outboxStart = "2026-03-02T08:00:00Z"

// outboxClock returns a clock set to outboxStart.
func outboxClock(t *testing.T) *modeltest.Clock {
	t.Helper()
	c := &modeltest.Clock{}
	c.Set(mustTime(t, outboxStart))
	return c
}

func outboxActor(u models.User) models.Actor { return models.Actor{UserID: u.ID, Role: u.Role} }

// outboxDoctor creates a doctor who takes hourly appointments round the clock, in UTC.
func outboxDoctor(t *testing.T, s *modeltest.Services, email string) models.User {
	t.Helper()
	d := modeltest.MustUser(t, s, models.RoleDoctor, email)
	in := models.ScheduleInput{TimeZone: "UTC", SlotMinutes: 60, Rules: everyDayRule("00:00", "24:00")}
	if err := s.Schedules.SeedSchedule(t.Context(), d.ID, in); err != nil {
		t.Fatalf("schedule of %s: %v", email, err)
	}
	return d
}

// outboxBook books start with doctor for patient through the booking rules.
func outboxBook(t *testing.T, s *modeltest.Services, patient, doctor models.User, start time.Time) models.Appointment {
	t.Helper()
	a, err := s.Appointments.Book(t.Context(), outboxActor(patient), models.BookInput{DoctorID: doctor.ID, StartsAt: start.UTC().Format(time.RFC3339)})
	if err != nil {
		t.Fatalf("book %s for %s: %v", start.Format(time.RFC3339), patient.Email, err)
	}
	return a
}

// outboxEventRow is a row of outbox_events as the tests read it.
type outboxEventRow struct {
	ID          string
	Kind        string
	Payload     string
	CreatedAt   time.Time
	AvailableAt time.Time
	Attempts    int
	ClaimedBy   *string
	DoneAt      *time.Time
	LastError   *string
}

// outboxEvents returns the stored events, oldest first; kind "" means all.
func outboxEvents(t *testing.T, s *modeltest.Services, kind models.EventKind) []outboxEventRow {
	t.Helper()
	q := s.DB.WithContext(t.Context()).Table("outbox_events")
	if kind != "" {
		q = q.Where("kind = ?", string(kind))
	}
	var rows []outboxEventRow
	if err := q.Order("created_at, id").Find(&rows).Error; err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	return rows
}

// outboxEvent returns one stored event.
func outboxEvent(t *testing.T, s *modeltest.Services, id string) outboxEventRow {
	t.Helper()
	var r outboxEventRow
	if err := s.DB.WithContext(t.Context()).Table("outbox_events").Where("id = ?", id).Take(&r).Error; err != nil {
		t.Fatalf("read outbox event %s: %v", id, err)
	}
	return r
}

// outboxOnlyEvent returns the one stored event, failing unless there is exactly one.
func outboxOnlyEvent(t *testing.T, s *modeltest.Services) outboxEventRow {
	t.Helper()
	rows := outboxEvents(t, s, "")
	if len(rows) != 1 {
		t.Fatalf("outbox holds %d events, want 1: %+v", len(rows), rows)
	}
	return rows[0]
}

// outboxInsertRaw writes an event row directly, as an older or newer
// version of the program might have, without kicking any dispatcher. It is
// due at once; at orders it among the others.
func outboxInsertRaw(t *testing.T, s *modeltest.Services, kind, payload string, at time.Time) string {
	t.Helper()
	id := uuid.NewString()
	row := map[string]any{"id": id, "kind": kind, "payload": payload, "created_at": at.UTC(), "available_at": at.UTC().Add(-time.Hour), "attempts": 0}
	if err := s.DB.WithContext(t.Context()).Table("outbox_events").Create(row).Error; err != nil {
		t.Fatalf("insert outbox row: %v", err)
	}
	return id
}

// outboxInsertEvent writes ev as a raw row (no kick).
func outboxInsertEvent(t *testing.T, s *modeltest.Services, ev models.Event, at time.Time) string {
	t.Helper()
	kind, payload, err := models.EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	return outboxInsertRaw(t, s, string(kind), string(payload), at)
}

// outboxPending returns Outbox.Pending.
func outboxPending(t *testing.T, s *modeltest.Services) int64 {
	t.Helper()
	n, err := s.Outbox.Pending(t.Context())
	if err != nil {
		t.Fatalf("pending: %v", err)
	}
	return n
}

// outboxDispatchOnce runs one round on s and checks how many events it claimed.
func outboxDispatchOnce(t *testing.T, s *modeltest.Services, wantClaimed int) {
	t.Helper()
	n, err := s.Outbox.DispatchOnce(t.Context())
	if err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	if n != wantClaimed {
		t.Fatalf("dispatch claimed %d events, want %d", n, wantClaimed)
	}
}

// outboxNotifications returns every notification of u, newest first.
func outboxNotifications(t *testing.T, s *modeltest.Services, u models.User) []models.Notification {
	t.Helper()
	var out []models.Notification
	cursor := ""
	for {
		p, err := s.Notifications.List(t.Context(), outboxActor(u), models.NotificationFilter{Limit: models.MaxPageSize, Cursor: cursor})
		if err != nil {
			t.Fatalf("notifications of %s: %v", u.Email, err)
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out
		}
		cursor = p.NextCursor
	}
}

// outboxKinds counts u's notifications by kind.
func outboxKinds(t *testing.T, s *modeltest.Services, u models.User) map[models.NotificationKind]int {
	t.Helper()
	m := map[models.NotificationKind]int{}
	for _, n := range outboxNotifications(t, s, u) {
		m[n.Kind]++
	}
	return m
}

// outboxLedger counts, across nodes, how often each event reached the
// notification subscriber and how often each notification was pushed.
type outboxLedger struct {
	mu       sync.Mutex
	calls    map[string]int    // envelope id → subscriber calls
	byNode   map[string]int    // node → subscriber calls
	pushed   map[string]int    // notification key → pushes
	pushedAt map[string][]int  // notification key → attempts it was pushed on
	pushNode map[string]string // notification key → node that pushed it last
}

func newOutboxLedger() *outboxLedger {
	return &outboxLedger{calls: map[string]int{}, byNode: map[string]int{}, pushed: map[string]int{},
		pushedAt: map[string][]int{}, pushNode: map[string]string{}}
}

func (l *outboxLedger) call(node string, env models.Envelope) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls[env.ID]++
	l.byNode[node]++
}

func (l *outboxLedger) push(node string, env models.Envelope, ns []models.Notification) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range ns {
		l.pushed[n.Key]++
		l.pushedAt[n.Key] = append(l.pushedAt[n.Key], env.Attempt)
		l.pushNode[n.Key] = node
	}
}

// snapshot copies the counters.
func (l *outboxLedger) snapshot() (calls, byNode, pushed map[string]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cp := func(m map[string]int) map[string]int {
		out := make(map[string]int, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	return cp(l.calls), cp(l.byNode), cp(l.pushed)
}

// outboxWire subscribes s like cmd/teleconsult: Record, then push what was
// stored. before, when set, runs between the two (after Record) and may
// fail, panic or hang, like a realtime edge in trouble.
func outboxWire(s *modeltest.Services, node string, l *outboxLedger, before func(ctx context.Context, env models.Envelope) error) {
	s.Outbox.Subscribe("notifications", func(ctx context.Context, env models.Envelope) error {
		l.call(node, env)
		stored, err := s.Notifications.Record(ctx, env)
		if err != nil {
			return err
		}
		if before != nil {
			if err := before(ctx, env); err != nil {
				return err
			}
		}
		l.push(node, env, stored)
		return nil
	})
}

// TestOutboxCrashBetweenCommitAndDispatch: node 1 commits changes and their
// events, then dies before its dispatcher runs. Node 2, started afterwards
// on the same database, delivers each event: every notification is stored
// once and pushed once, and a second round changes nothing.
func TestOutboxCrashBetweenCommitAndDispatch(t *testing.T) {
	db := modeltest.NewPostgres(t)
	clock := outboxClock(t)
	ctx := t.Context()

	node1 := modeltest.NewServices(db, modeltest.DefaultOptions(t, clock))
	node1.RecordNotifications() // wired, but its dispatcher never runs
	doc := outboxDoctor(t, node1, "crash-doc@example.com")
	p1 := modeltest.MustUser(t, node1, models.RolePatient, "crash-p1@example.com")
	p2 := modeltest.MustUser(t, node1, models.RolePatient, "crash-p2@example.com")
	start := clock.Now().Add(48 * time.Hour)
	a1 := outboxBook(t, node1, p1, doc, start)
	a2 := outboxBook(t, node1, p2, doc, start.Add(time.Hour))
	if _, err := node1.Appointments.Cancel(ctx, outboxActor(doc), a2.ID, models.CancelInput{Reason: "away"}); err != nil {
		t.Fatal(err)
	}
	// Node 1 dies here. Its changes are committed, and so are their events.
	if got, err := node1.Appointments.Get(ctx, outboxActor(p1), a1.ID); err != nil || got.Status != models.StatusBooked {
		t.Fatalf("booking not committed: %+v, %v", got, err)
	}
	if n := outboxPending(t, node1); n != 4 {
		t.Fatalf("pending after the crash = %d, want 4 (two bookings, one cancellation and its record in the room)", n)
	}
	if n := len(outboxNotifications(t, node1, doc)); n != 0 {
		t.Fatalf("doctor has %d notifications before any dispatch", n)
	}

	// Node 2 starts on the same database.
	node2 := modeltest.NewServices(db, modeltest.DefaultOptions(t, clock))
	ledger := newOutboxLedger()
	outboxWire(node2, "node2", ledger, nil)
	outboxDispatchOnce(t, node2, 4)

	check := func(t *testing.T) {
		t.Helper()
		if got := outboxKinds(t, node2, doc); got[models.NotifyBooked] != 2 || len(got) != 1 {
			t.Errorf("doctor's notifications = %v, want 2 %s", got, models.NotifyBooked)
		}
		if got := outboxKinds(t, node2, p2); got[models.NotifyCancelled] != 1 || len(got) != 1 {
			t.Errorf("patient 2's notifications = %v, want 1 %s", got, models.NotifyCancelled)
		}
		if got := outboxKinds(t, node2, p1); len(got) != 0 {
			t.Errorf("patient 1 (who booked) got %v, want nothing", got)
		}
		calls, _, pushed := ledger.snapshot()
		if len(pushed) != 3 {
			t.Errorf("pushed %d distinct notifications, want 3: %v", len(pushed), pushed)
		}
		for k, n := range pushed {
			if n != 1 {
				t.Errorf("notification %s pushed %d times, want once", k, n)
			}
		}
		for _, r := range outboxEvents(t, node2, "") {
			if r.DoneAt == nil || r.Attempts != 1 || r.LastError != nil {
				t.Errorf("event %s (%s): done_at %v, attempts %d, last_error %v; want done on the first attempt", r.ID, r.Kind, r.DoneAt, r.Attempts, r.LastError)
			}
			if calls[r.ID] != 1 {
				t.Errorf("event %s (%s) handled %d times, want once", r.ID, r.Kind, calls[r.ID])
			}
		}
		if n := outboxPending(t, node2); n != 0 {
			t.Errorf("pending = %d, want 0", n)
		}
	}
	check(t)
	got := outboxNotifications(t, node2, doc)
	for _, n := range got {
		if n.Data["appointment_id"] != a1.ID && n.Data["appointment_id"] != a2.ID {
			t.Errorf("notification %+v is about no appointment of the test", n)
		}
	}

	// Dispatching again, on either node, changes nothing.
	outboxDispatchOnce(t, node2, 0)
	outboxDispatchOnce(t, node1, 0)
	clock.Advance(time.Hour)
	outboxDispatchOnce(t, node2, 0)
	check(t)
}

// TestOutboxLeaseTakeover: node 1 claims an event, stores its notification
// and then fails to finish (it hangs past its lease, or panics). Node 2
// delivers the event once the lease or the backoff allows; the notification
// is stored once and pushed once, and node 1's late outcome does not undo
// node 2's.
func TestOutboxLeaseTakeover(t *testing.T) {
	cases := []struct {
		name string
		// hang: node 1's push blocks until released and then fails;
		// otherwise it panics right after Record.
		hang bool
	}{
		{name: "hangs past its lease", hang: true},
		{name: "panics after Record", hang: false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := modeltest.NewPostgres(t)
			clock := outboxClock(t)
			ctx := t.Context()
			ledger := newOutboxLedger()

			node1 := modeltest.NewServices(db, modeltest.DefaultOptions(t, clock))
			node1.Outbox.Lease = 10 * time.Second
			recorded := make(chan struct{})
			release := make(chan struct{})
			outboxWire(node1, "node1", ledger, func(ctx context.Context, env models.Envelope) error {
				close(recorded)
				if !c.hang {
					panic("push client bug")
				}
				select {
				case <-release:
				case <-ctx.Done():
				}
				return errors.New("node 1 lost its connection mid-way")
			})
			node2 := modeltest.NewServices(db, modeltest.DefaultOptions(t, clock))
			node2.Outbox.Lease = 10 * time.Second
			outboxWire(node2, "node2", ledger, nil)

			doc := outboxDoctor(t, node1, "lease-doc@example.com")
			pat := modeltest.MustUser(t, node1, models.RolePatient, "lease-pat@example.com")
			a := outboxBook(t, node1, pat, doc, clock.Now().Add(48*time.Hour))
			ev := outboxOnlyEvent(t, node1)

			type result struct {
				n   int
				err error
			}
			node1Done := make(chan result, 1)
			go func() {
				n, err := node1.Outbox.DispatchOnce(ctx)
				node1Done <- result{n, err}
			}()
			select {
			case <-recorded:
			case <-time.After(10 * time.Second):
				t.Fatal("node 1 never reached its push")
			}
			var wait time.Duration
			if c.hang {
				// Node 1 holds the claim: its lease keeps node 2 off.
				claimed := outboxEvent(t, node2, ev.ID)
				if claimed.Attempts != 1 || claimed.ClaimedBy == nil || claimed.DoneAt != nil {
					t.Fatalf("claimed row = %+v, want attempt 1 claimed by node 1", claimed)
				}
				if want := clock.Now().Add(10 * time.Second); !claimed.AvailableAt.Equal(want) {
					t.Fatalf("lease ends %v, want %v", claimed.AvailableAt, want)
				}
				wait = 10 * time.Second
			} else {
				r := <-node1Done
				if r.err != nil || r.n != 1 {
					t.Fatalf("node 1 dispatch = %d, %v; a panicking subscriber must count as a failed attempt", r.n, r.err)
				}
				failed := outboxEvent(t, node2, ev.ID)
				if failed.DoneAt != nil || failed.Attempts != 1 || failed.LastError == nil || !strings.Contains(*failed.LastError, "panic: push client bug") {
					t.Fatalf("after the panic: %+v, want a failed first attempt recording the panic", failed)
				}
				wait = time.Second // the backoff after attempt 1
			}
			outboxDispatchOnce(t, node2, 0)
			clock.Advance(wait - time.Millisecond)
			outboxDispatchOnce(t, node2, 0)
			clock.Advance(time.Millisecond)
			outboxDispatchOnce(t, node2, 1)

			done := outboxEvent(t, node2, ev.ID)
			if done.DoneAt == nil || done.Attempts != 2 || done.LastError != nil {
				t.Fatalf("after node 2's attempt: done_at %v, attempts %d, last_error %v; want done on attempt 2", done.DoneAt, done.Attempts, done.LastError)
			}
			close(release)
			if c.hang {
				r := <-node1Done
				if r.err != nil || r.n != 1 {
					t.Fatalf("node 1 dispatch = %d, %v", r.n, r.err)
				}
			}
			// Node 1's late failure is not recorded over node 2's success.
			after := outboxEvent(t, node2, ev.ID)
			if after.DoneAt == nil || !after.DoneAt.Equal(*done.DoneAt) || after.Attempts != 2 || after.LastError != nil || *after.ClaimedBy != *done.ClaimedBy {
				t.Fatalf("node 1's outcome overwrote node 2's: before %+v, after %+v", done, after)
			}
			outboxDispatchOnce(t, node1, 0)
			outboxDispatchOnce(t, node2, 0)

			ns := outboxNotifications(t, node2, doc)
			if len(ns) != 1 || ns[0].Kind != models.NotifyBooked || ns[0].Data["appointment_id"] != a.ID {
				t.Fatalf("doctor's notifications = %+v, want the one booking", ns)
			}
			calls, byNode, pushed := ledger.snapshot()
			if calls[ev.ID] != 2 || byNode["node1"] != 1 || byNode["node2"] != 1 {
				t.Errorf("subscriber calls = %v by node %v, want one per node", calls, byNode)
			}
			if len(pushed) != 1 || pushed[ns[0].Key] != 1 || ledger.pushNode[ns[0].Key] != "node2" {
				t.Errorf("pushes = %v (last by %q), want the notification pushed once, by node 2", pushed, ledger.pushNode[ns[0].Key])
			}
		})
	}
}

// TestOutboxTwoNodesDeliverEachEventOnce: two nodes run their dispatchers
// at once on one database while events arrive; every event is handled by
// exactly one of them, exactly once, and the notification counts are exact.
func TestOutboxTwoNodesDeliverEachEventOnce(t *testing.T) {
	db := modeltest.NewPostgres(t)
	clock := outboxClock(t)
	ledger := newOutboxLedger()
	nodes := []*modeltest.Services{
		modeltest.NewServices(db, modeltest.DefaultOptions(t, clock)),
		modeltest.NewServices(db, modeltest.DefaultOptions(t, clock)),
	}
	for i, n := range nodes {
		n.Outbox.Batch = 7 // several rounds per node
		outboxWire(n, fmt.Sprintf("node%d", i+1), ledger, nil)
	}
	s := nodes[0]
	doctors := []models.User{outboxDoctor(t, s, "two-d1@example.com"), outboxDoctor(t, s, "two-d2@example.com")}
	const patients = 30
	pats := make([]models.User, patients)
	for i := range pats {
		pats[i] = modeltest.MustUser(t, s, models.RolePatient, fmt.Sprintf("two-p%02d@example.com", i))
	}
	want := map[string]map[models.NotificationKind]int{}
	tell := func(u models.User, k models.NotificationKind) {
		if want[u.ID] == nil {
			want[u.ID] = map[models.NotificationKind]int{}
		}
		want[u.ID][k]++
	}
	base := clock.Now().Add(24 * time.Hour)
	appts := make([]models.Appointment, patients)
	book := func(i int) {
		appts[i] = outboxBook(t, nodes[i%2], pats[i], doctors[i%2], base.Add(time.Duration(i/2)*time.Hour))
		tell(doctors[i%2], models.NotifyBooked)
	}
	// A backlog before any dispatcher runs: both nodes start on the same rows.
	for i := range 20 {
		book(i)
	}

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(func() { n.Outbox.Run(ctx) })
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			wg.Wait()
		}
	}
	defer stop()

	for i := 20; i < patients; i++ {
		book(i)
	}
	// Every third appointment is cancelled, alternately by its patient and
	// by its doctor; the other party is told.
	for i := 0; i < patients; i += 3 {
		by, told := pats[i], doctors[i%2]
		if (i/3)%2 == 1 {
			by, told = doctors[i%2], pats[i]
		}
		if _, err := nodes[(i/3)%2].Appointments.Cancel(ctx, outboxActor(by), appts[i].ID, models.CancelInput{Reason: "plans changed"}); err != nil {
			t.Fatalf("cancel %d: %v", i, err)
		}
		tell(told, models.NotifyCancelled)
	}

	deadline := time.Now().Add(30 * time.Second)
	for outboxPending(t, s) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending after 30s", outboxPending(t, s))
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()

	events := outboxEvents(t, s, "")
	// A booking each; a cancellation and its record in the room for every third.
	if want := patients + 2*((patients+2)/3); len(events) != want {
		t.Fatalf("outbox holds %d events, want %d", len(events), want)
	}
	calls, byNode, pushed := ledger.snapshot()
	if len(calls) != len(events) {
		t.Errorf("%d distinct events handled, want %d", len(calls), len(events))
	}
	for _, r := range events {
		if calls[r.ID] != 1 {
			t.Errorf("event %s (%s) handled %d times, want exactly once", r.ID, r.Kind, calls[r.ID])
		}
		if r.DoneAt == nil || r.Attempts != 1 || r.ClaimedBy == nil {
			t.Errorf("event %s: done_at %v, attempts %d, claimed_by %v; want done in one claim", r.ID, r.DoneAt, r.Attempts, r.ClaimedBy)
		}
	}
	if byNode["node1"]+byNode["node2"] != len(events) {
		t.Errorf("handled by node %v, want %d in all", byNode, len(events))
	}
	t.Logf("events handled by node: %v", byNode)

	total := 0
	for _, u := range append(slices.Clone(doctors), pats...) {
		got := outboxKinds(t, s, u)
		w := want[u.ID]
		for _, k := range []models.NotificationKind{models.NotifyBooked, models.NotifyCancelled} {
			if got[k] != w[k] {
				t.Errorf("%s has %d %s notifications, want %d", u.Email, got[k], k, w[k])
			}
			total += got[k]
		}
		if len(got) > 2 || (len(got) == 2 && (got[models.NotifyBooked] == 0 || got[models.NotifyCancelled] == 0)) {
			t.Errorf("%s has unexpected notifications %v", u.Email, got)
		}
	}
	// 30 bookings tell the doctors, 10 cancellations tell one party each.
	if total != patients+patients/3 {
		t.Errorf("%d notifications stored, want %d", total, patients+patients/3)
	}
	if len(pushed) != total {
		t.Errorf("%d distinct notifications pushed, want %d", len(pushed), total)
	}
	for k, n := range pushed {
		if n != 1 {
			t.Errorf("notification %s pushed %d times, want once", k, n)
		}
	}
}

// TestOutboxRetriesFailingSubscriber: a push that fails twice is retried
// after 1 s, then after 2 s, and succeeds on the third attempt; the
// notification is stored once and pushed once. A panicking subscriber
// counts as a failed attempt, not a crash.
func TestOutboxRetriesFailingSubscriber(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			t.Run("failing push", func(t *testing.T) {
				s, clock, doc, ev, ledger := outboxRetryFixture(t, d.Open(t), func(ctx context.Context, env models.Envelope) error {
					if env.Attempt <= 2 {
						return fmt.Errorf("push gateway down (attempt %d)", env.Attempt)
					}
					return nil
				})
				outboxDispatchOnce(t, s, 1)
				r := outboxEvent(t, s, ev)
				if r.DoneAt != nil || r.Attempts != 1 || r.LastError == nil || !strings.Contains(*r.LastError, "notifications: push gateway down (attempt 1)") {
					t.Fatalf("after attempt 1: %+v, want pending with the error recorded", r)
				}
				if want := clock.Now().Add(time.Second); !r.AvailableAt.Equal(want) {
					t.Fatalf("retry at %v, want %v (1 s backoff)", r.AvailableAt, want)
				}
				if n := len(outboxNotifications(t, s, doc)); n != 1 {
					t.Fatalf("stored %d notifications after attempt 1, want 1 (Record ran before the push)", n)
				}
				outboxDispatchOnce(t, s, 0) // not due yet
				clock.Advance(999 * time.Millisecond)
				outboxDispatchOnce(t, s, 0)
				clock.Advance(time.Millisecond)
				outboxDispatchOnce(t, s, 1)
				r = outboxEvent(t, s, ev)
				if r.DoneAt != nil || r.Attempts != 2 || r.LastError == nil || !strings.Contains(*r.LastError, "attempt 2") {
					t.Fatalf("after attempt 2: %+v", r)
				}
				if want := clock.Now().Add(2 * time.Second); !r.AvailableAt.Equal(want) {
					t.Fatalf("retry at %v, want %v (2 s backoff)", r.AvailableAt, want)
				}
				clock.Advance(time.Second)
				outboxDispatchOnce(t, s, 0)
				clock.Advance(time.Second)
				outboxDispatchOnce(t, s, 1)
				r = outboxEvent(t, s, ev)
				if r.DoneAt == nil || !r.DoneAt.Equal(clock.Now()) || r.Attempts != 3 || r.LastError != nil {
					t.Fatalf("after attempt 3: done_at %v, attempts %d, last_error %v; want done at %v on attempt 3", r.DoneAt, r.Attempts, r.LastError, clock.Now())
				}
				clock.Advance(time.Hour)
				outboxDispatchOnce(t, s, 0)

				ns := outboxNotifications(t, s, doc)
				if len(ns) != 1 {
					t.Fatalf("stored %d notifications, want 1", len(ns))
				}
				calls, _, pushed := ledger.snapshot()
				if calls[ev] != 3 {
					t.Errorf("subscriber called %d times, want 3", calls[ev])
				}
				if len(pushed) != 1 || pushed[ns[0].Key] != 1 || !slices.Equal(ledger.pushedAt[ns[0].Key], []int{3}) {
					t.Errorf("pushes = %v on attempts %v, want one push on attempt 3", pushed, ledger.pushedAt)
				}
			})
			t.Run("panicking push", func(t *testing.T) {
				s, clock, doc, ev, ledger := outboxRetryFixture(t, d.Open(t), func(ctx context.Context, env models.Envelope) error {
					if env.Attempt == 1 {
						panic(fmt.Sprintf("nil map in push client (attempt %d)", env.Attempt))
					}
					return nil
				})
				outboxDispatchOnce(t, s, 1) // a panic here would crash the test binary
				r := outboxEvent(t, s, ev)
				if r.DoneAt != nil || r.Attempts != 1 || r.LastError == nil || !strings.Contains(*r.LastError, "panic: nil map in push client (attempt 1)") {
					t.Fatalf("after the panic: %+v, want a failed attempt recording the panic", r)
				}
				clock.Advance(time.Second)
				outboxDispatchOnce(t, s, 1)
				r = outboxEvent(t, s, ev)
				if r.DoneAt == nil || r.Attempts != 2 || r.LastError != nil {
					t.Fatalf("after the retry: %+v, want done on attempt 2", r)
				}
				ns := outboxNotifications(t, s, doc)
				_, _, pushed := ledger.snapshot()
				if len(ns) != 1 || len(pushed) != 1 || pushed[ns[0].Key] != 1 {
					t.Fatalf("notifications %d, pushes %v; want one of each", len(ns), pushed)
				}
			})
		})
	}
}

// outboxRetryFixture books one appointment on a fresh Services wired with
// before (see outboxWire) and returns it with the event's id.
func outboxRetryFixture(t *testing.T, db *database.DB, before func(context.Context, models.Envelope) error) (*modeltest.Services, *modeltest.Clock, models.User, string, *outboxLedger) {
	t.Helper()
	clock := outboxClock(t)
	s := modeltest.NewServices(db, modeltest.DefaultOptions(t, clock))
	ledger := newOutboxLedger()
	outboxWire(s, "node", ledger, before)
	doc := outboxDoctor(t, s, "retry-doc@example.com")
	pat := modeltest.MustUser(t, s, models.RolePatient, "retry-pat@example.com")
	outboxBook(t, s, pat, doc, clock.Now().Add(48*time.Hour))
	return s, clock, doc, outboxOnlyEvent(t, s).ID, ledger
}

// TestOutboxUndecodableEventsAreRetried: an event of an unknown kind or
// with a payload that does not decode fails its attempt and is retried with
// backoff, never dropped, never calling subscribers, and without holding up
// the events behind it; once it decodes it is delivered.
func TestOutboxUndecodableEventsAreRetried(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			clock := outboxClock(t)
			s := modeltest.NewServices(d.Open(t), modeltest.DefaultOptions(t, clock))
			var mu sync.Mutex
			var seen []models.Event
			s.Outbox.Subscribe("spy", func(ctx context.Context, env models.Envelope) error {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, env.Event)
				return nil
			})
			now := clock.Now()
			unknown := outboxInsertRaw(t, s, "appointment_teleported", `{"Appointment":{}}`, now)
			garbled := outboxInsertRaw(t, s, string(models.KindUserDisabled), `{"UserID": 42`, now.Add(time.Millisecond))
			good := outboxInsertEvent(t, s, models.UserDisabled{UserID: "u-1", ActorID: "admin-1", At: now}, now.Add(2*time.Millisecond))

			outboxDispatchOnce(t, s, 3)
			if len(seen) != 1 || seen[0] != (models.UserDisabled{UserID: "u-1", ActorID: "admin-1", At: now}) {
				t.Fatalf("subscribers saw %+v, want only the good event", seen)
			}
			if r := outboxEvent(t, s, good); r.DoneAt == nil {
				t.Fatalf("the good event behind two bad ones was not delivered: %+v", r)
			}
			for id, msg := range map[string]string{unknown: `unknown event kind "appointment_teleported"`, garbled: "decode user_disabled event"} {
				r := outboxEvent(t, s, id)
				if r.DoneAt != nil || r.Attempts != 1 || r.LastError == nil || !strings.Contains(*r.LastError, msg) {
					t.Errorf("event %s: %+v, want pending after a failed attempt with %q", r.Kind, r, msg)
				}
				if want := now.Add(time.Second); !r.AvailableAt.Equal(want) {
					t.Errorf("event %s retries at %v, want %v", r.Kind, r.AvailableAt, want)
				}
			}
			if n := outboxPending(t, s); n != 2 {
				t.Fatalf("pending = %d, want the 2 bad events", n)
			}
			// Retried, not lost: each failure pushes the next try further out.
			clock.Advance(time.Second)
			outboxDispatchOnce(t, s, 2)
			clock.Advance(2 * time.Second)
			outboxDispatchOnce(t, s, 2)
			for _, id := range []string{unknown, garbled} {
				if r := outboxEvent(t, s, id); r.Attempts != 3 || r.DoneAt != nil {
					t.Errorf("event %s after 3 rounds: attempts %d, done_at %v", r.Kind, r.Attempts, r.DoneAt)
				}
			}
			// A later version reads the payload (here: the row is repaired).
			if err := s.DB.Table("outbox_events").Where("id = ?", garbled).Update("payload", `{"UserID":"u-2"}`).Error; err != nil {
				t.Fatal(err)
			}
			clock.Advance(4 * time.Second)
			outboxDispatchOnce(t, s, 2)
			if r := outboxEvent(t, s, garbled); r.DoneAt == nil || r.Attempts != 4 || r.LastError != nil {
				t.Fatalf("repaired event: %+v, want delivered on attempt 4", r)
			}
			if len(seen) != 2 || seen[1] != (models.UserDisabled{UserID: "u-2"}) {
				t.Fatalf("subscribers saw %+v", seen)
			}
			if n := outboxPending(t, s); n != 1 {
				t.Fatalf("pending = %d, want the unknown kind still waiting", n)
			}
		})
	}
}

// TestOutboxKickWakesRun: a dispatcher whose poll is an hour away still
// delivers at once when kicked, and a committed change kicks by itself.
func TestOutboxKickWakesRun(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			clock := outboxClock(t)
			s := modeltest.NewServices(d.Open(t), modeltest.DefaultOptions(t, clock))
			s.Outbox.Poll = time.Hour
			seen := make(chan models.Envelope, 16)
			s.Outbox.Subscribe("seen", func(ctx context.Context, env models.Envelope) error {
				seen <- env
				return nil
			})
			expect := func(t *testing.T, what string, match func(models.Envelope) bool) {
				t.Helper()
				select {
				case env := <-seen:
					if !match(env) {
						t.Fatalf("%s: dispatched %+v instead", what, env)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("%s: not dispatched within 5s", what)
				}
			}
			admin := modeltest.MustUser(t, s, models.RoleAdmin, "kick-admin@example.com")
			pat := modeltest.MustUser(t, s, models.RolePatient, "kick-pat@example.com")
			first := outboxInsertEvent(t, s, models.UserDisabled{UserID: "first"}, clock.Now())

			ctx, cancel := context.WithCancel(t.Context())
			stopped := make(chan struct{})
			go func() {
				defer close(stopped)
				s.Outbox.Run(ctx)
			}()
			defer func() {
				cancel()
				<-stopped
			}()
			// Run looks once when it starts.
			expect(t, "pending at start", func(env models.Envelope) bool { return env.ID == first })

			second := outboxInsertEvent(t, s, models.UserDisabled{UserID: "second"}, clock.Now())
			select {
			case env := <-seen:
				t.Fatalf("dispatched %+v without a kick or a poll", env)
			case <-time.After(300 * time.Millisecond):
			}
			s.Outbox.Kick()
			expect(t, "after Kick", func(env models.Envelope) bool { return env.ID == second })

			// A change that raises an event kicks the local dispatcher itself.
			disabled := true
			if _, err := s.Users.AdminUpdate(ctx, outboxActor(admin), pat.ID, models.AdminUpdateUserInput{Disabled: &disabled}); err != nil {
				t.Fatal(err)
			}
			expect(t, "after a commit", func(env models.Envelope) bool {
				ev, ok := env.Event.(models.UserDisabled)
				return ok && ev.UserID == pat.ID && ev.ActorID == admin.ID
			})
			// The handler has run; the row is marked done right after.
			for deadline := time.Now().Add(5 * time.Second); outboxPending(t, s) != 0; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("pending = %d, want 0", outboxPending(t, s))
				}
			}
			// Kicks never block, however many.
			for range 100 {
				s.Outbox.Kick()
			}
		})
	}
}

// TestOutboxPrune: dispatched events older than Keep are deleted; pending
// ones and recent ones stay.
func TestOutboxPrune(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) {
			clock := outboxClock(t)
			s := modeltest.NewServices(d.Open(t), modeltest.DefaultOptions(t, clock))
			s.Outbox.Subscribe("ok", func(context.Context, models.Envelope) error { return nil })
			old := outboxInsertEvent(t, s, models.UserDisabled{UserID: "u1"}, clock.Now())
			outboxDispatchOnce(t, s, 1)
			clock.Advance(s.Outbox.Keep + time.Hour)
			recent := outboxInsertEvent(t, s, models.UserDisabled{UserID: "u2"}, clock.Now())
			outboxDispatchOnce(t, s, 1)
			pending := outboxInsertEvent(t, s, models.UserDisabled{UserID: "u3"}, clock.Now().Add(time.Hour))
			s.DB.Table("outbox_events").Where("id = ?", pending).Update("available_at", clock.Now().Add(time.Hour))
			n, err := s.Outbox.Prune(t.Context())
			if err != nil || n != 1 {
				t.Fatalf("pruned %d (%v), want the one old dispatched event", n, err)
			}
			var left []string
			s.DB.Table("outbox_events").Order("id").Pluck("id", &left)
			if len(left) != 2 || !slices.Contains(left, recent) || !slices.Contains(left, pending) || slices.Contains(left, old) {
				t.Fatalf("left %v", left)
			}
		})
	}
}
