package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"teleconsult/database"
	"teleconsult/faults"
	"teleconsult/models"
	"teleconsult/models/store"
	"teleconsult/modeltest"
)

// gcWorld is a database with many booked rooms: one doctor, four patients
// (room i belongs to patient i%4), an admin, a patient with no room and a
// cancelled consultation.
type gcWorld struct {
	p         *modeltest.Services
	doctor    models.User
	patients  []models.User
	admin     models.User
	stranger  models.User
	rooms     []models.Appointment
	cancelled models.Appointment
}

func newGCWorld(t testing.TB, db *database.DB, rooms int, gc store.GroupCommit) *gcWorld {
	t.Helper()
	clock := &modeltest.Clock{}
	clock.Set(apptBase)
	return newGCWorldAt(t, db, rooms, gc, clock)
}

// newGCWorldAt is newGCWorld on clock (a zero Clock reads the real time;
// the rooms are booked in 2030 either way, so their chat is open).
func newGCWorldAt(t testing.TB, db *database.DB, rooms int, gc store.GroupCommit, clock *modeltest.Clock) *gcWorld {
	t.Helper()
	p := modeltest.NewServices(db, modeltest.DefaultOptions(t, clock))
	p.Chat.GroupCommit = gc
	t.Cleanup(p.Chat.Close)
	w := &gcWorld{p: p}
	w.doctor = modeltest.MustUser(t, p, models.RoleDoctor, "doctor@example.com")
	for i := range 4 {
		w.patients = append(w.patients, modeltest.MustUser(t, p, models.RolePatient, fmt.Sprintf("patient%d@example.com", i)))
	}
	w.admin = modeltest.MustUser(t, p, models.RoleAdmin, "admin@example.com")
	w.stranger = modeltest.MustUser(t, p, models.RolePatient, "stranger@example.com")
	day := apptBase.Add(24 * time.Hour)
	for i := range rooms {
		w.rooms = append(w.rooms, modeltest.MustAppointment(t, p, w.doctor, w.patients[i%4], day.Add(time.Duration(i)*30*time.Minute), models.StatusBooked))
	}
	w.cancelled = modeltest.MustAppointment(t, p, w.doctor, w.patients[0], day.Add(-time.Hour), models.StatusCancelled)
	return w
}

// member returns the patient (even n) or the doctor (odd n) of room i.
func (w *gcWorld) member(i, n int) models.User {
	if n%2 == 0 {
		return w.patients[i%4]
	}
	return w.doctor
}

// gcCheckRooms checks that the stored messages of every room are numbered
// 1..n without gaps or repeats, that last_seq is n, and returns the stored
// messages by (appointment, sender, client_msg_id).
func gcCheckRooms(t *testing.T, db *sql.DB, rooms []models.Appointment) map[[3]string]models.Message {
	t.Helper()
	ctx := context.Background()
	out := map[[3]string]models.Message{}
	for _, a := range rooms {
		rows, err := db.QueryContext(ctx, `SELECT id, seq, sender_id, client_msg_id FROM messages WHERE appointment_id = $1 ORDER BY seq`, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := int64(0)
		for rows.Next() {
			var m models.Message
			if err := rows.Scan(&m.ID, &m.Seq, &m.SenderID, &m.ClientMsgID); err != nil {
				t.Fatal(err)
			}
			n++
			if m.Seq != n {
				t.Fatalf("room %s: seq %d where %d was due (gap or repeat)", a.ID, m.Seq, n)
			}
			k := [3]string{a.ID, m.SenderID, m.ClientMsgID}
			if _, dup := out[k]; dup {
				t.Fatalf("room %s: client_msg_id %s of %s stored twice", a.ID, m.ClientMsgID, m.SenderID)
			}
			m.AppointmentID = a.ID
			out[k] = m
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		var last int64
		if err := db.QueryRowContext(ctx, `SELECT last_seq FROM appointments WHERE id = $1`, a.ID).Scan(&last); err != nil {
			t.Fatal(err)
		}
		if last != n {
			t.Fatalf("room %s: last_seq %d, %d messages", a.ID, last, n)
		}
	}
	return out
}

// gcOpen opens the Postgres database at url with a pool of its own, as
// one server node does, and migrates it if asked.
func gcOpen(t testing.TB, url string, migrate bool) *database.DB {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	db, err := database.Open(context.Background(), database.Config{URL: url, MaxOpenConns: 20}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if migrate {
		if _, err := db.Migrate(context.Background(), log); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func gcSQL(t testing.TB, p *modeltest.Services) *sql.DB {
	t.Helper()
	db, err := p.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestChatGroupCommitManyRooms: goroutines send to many rooms at once;
// every message is sent twice concurrently (two copies that may share a
// transaction or meet in two), some are retried after their answer, and
// refused sends (an admin, a stranger, a cancelled room, no room) are
// interleaved. Each message is stored once with the answer every copy got,
// and every room is numbered 1..n.
func TestChatGroupCommitManyRooms(t *testing.T) {
	const (
		rooms   = 24
		senders = 24 // each runs twice: the copies send the same messages
		perEach = 30
	)
	w := newGCWorld(t, modeltest.NewPostgres(t), rooms, store.GroupCommit{})
	ctx := t.Context()
	type answer struct {
		m       models.Message
		created bool
		err     error
	}
	type plan struct {
		room, sender int
		id           string
	}
	plans := make([][]plan, senders)
	for g := range senders {
		for j := range perEach {
			room := (g*7 + j*5) % rooms
			plans[g] = append(plans[g], plan{room: room, sender: g + j, id: fmt.Sprintf("g%d-%d", g, j)})
		}
	}
	answers := make([][2][]answer, senders)
	retries := make([][]answer, senders)
	var refusals atomic.Int64
	var wrongRefusal atomic.Value
	var ready, wg sync.WaitGroup
	ready.Add(1)
	for g := range senders {
		for copyN := range 2 {
			answers[g][copyN] = make([]answer, perEach)
			wg.Go(func() {
				ready.Wait()
				for j, pl := range plans[g] {
					u := w.member(pl.room, pl.sender)
					in := models.SendInput{AppointmentID: w.rooms[pl.room].ID, ClientMsgID: pl.id, Text: "message " + pl.id}
					m, created, err := w.p.Chat.Send(ctx, apptActor(u), in)
					answers[g][copyN][j] = answer{m, created, err}
					if copyN == 0 && j%5 == 0 && err == nil {
						m, created, err := w.p.Chat.Send(ctx, apptActor(u), in)
						retries[g] = append(retries[g], answer{m, created, err})
					}
					if (j+copyN)%4 == 0 {
						// A refused send in the same stream of batches.
						var (
							actor models.User
							room  = w.rooms[pl.room].ID
							want  = models.ENOTFOUND
						)
						switch j % 16 {
						case 0:
							actor, want = w.admin, models.EFORBIDDEN
						case 4:
							actor = w.stranger
						case 8:
							actor, room, want = w.patients[0], w.cancelled.ID, models.EFORBIDDEN
						default:
							actor, room = w.patients[0], "no-such-room"
						}
						_, _, err := w.p.Chat.Send(ctx, apptActor(actor), models.SendInput{AppointmentID: room, ClientMsgID: pl.id, Text: "refused"})
						refusals.Add(1)
						if models.ErrorCode(err) != want {
							wrongRefusal.Store(fmt.Sprintf("refused send %s: %v, want %s", pl.id, err, want))
						}
					}
				}
			})
		}
	}
	ready.Done()
	wg.Wait()
	if s, ok := wrongRefusal.Load().(string); ok {
		t.Fatal(s)
	}

	stored := gcCheckRooms(t, gcSQL(t, w.p), append(w.rooms, w.cancelled))
	created := 0
	for g := range senders {
		for j, pl := range plans[g] {
			a, b := answers[g][0][j], answers[g][1][j]
			if a.err != nil || b.err != nil {
				t.Fatalf("send %s: %v / %v", pl.id, a.err, b.err)
			}
			if a.created == b.created {
				t.Fatalf("send %s: created %v and %v, want exactly one", pl.id, a.created, b.created)
			}
			if a.m.ID != b.m.ID || a.m.Seq != b.m.Seq || a.m.Text != b.m.Text {
				t.Fatalf("send %s: copies answered %+v and %+v", pl.id, a.m, b.m)
			}
			u := w.member(pl.room, pl.sender)
			s, ok := stored[[3]string{w.rooms[pl.room].ID, u.ID, pl.id}]
			if !ok || s.ID != a.m.ID || s.Seq != a.m.Seq {
				t.Fatalf("send %s answered %s seq %d; stored %+v (found %v)", pl.id, a.m.ID, a.m.Seq, s, ok)
			}
			created++
		}
		for _, r := range retries[g] {
			if r.err != nil || r.created {
				t.Fatalf("retry: created %v, %v", r.created, r.err)
			}
			if s := stored[[3]string{r.m.AppointmentID, r.m.SenderID, r.m.ClientMsgID}]; s.ID != r.m.ID || s.Seq != r.m.Seq {
				t.Fatalf("retry answered %+v, stored %+v", r.m, s)
			}
		}
	}
	if len(stored) != created {
		t.Fatalf("%d messages stored, %d sent", len(stored), created)
	}
	if refusals.Load() == 0 {
		t.Fatal("no refused sends were made")
	}
	if st := w.p.Chat.CommitStats(); st.Messages != int64(created) {
		t.Fatalf("group commit stored %d messages, want all %d", st.Messages, created)
	}
}

// gcTransactions sends from many goroutines at once and returns how many
// messages were stored and by how many transactions (distinct xmin of the
// message rows: the transaction that inserted each).
func gcTransactions(t *testing.T, gc store.GroupCommit) (messages, transactions int64, w *gcWorld) {
	t.Helper()
	const senders, perEach = 48, 20
	w = newGCWorld(t, modeltest.NewPostgres(t), 16, gc)
	var ready, wg sync.WaitGroup
	ready.Add(1)
	errs := make(chan error, senders)
	for g := range senders {
		wg.Go(func() {
			ready.Wait()
			for j := range perEach {
				room := (g + j) % len(w.rooms)
				_, _, err := w.p.Chat.Send(t.Context(), apptActor(w.member(room, g)), models.SendInput{
					AppointmentID: w.rooms[room].ID, ClientMsgID: fmt.Sprintf("%d-%d", g, j), Text: "hello"})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	ready.Done()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("send: %v", err)
	}
	err := gcSQL(t, w.p).QueryRowContext(t.Context(), `SELECT COUNT(*), COUNT(DISTINCT xmin::text) FROM messages`).Scan(&messages, &transactions)
	if err != nil {
		t.Fatal(err)
	}
	if messages != senders*perEach {
		t.Fatalf("%d messages stored, want %d", messages, senders*perEach)
	}
	return messages, transactions, w
}

// TestChatGroupCommitBatches: concurrent sends share transactions; the
// database shows far fewer inserting transactions than messages. With one
// transaction per message the same measure shows one each.
func TestChatGroupCommitBatches(t *testing.T) {
	t.Run("group", func(t *testing.T) {
		messages, xacts, w := gcTransactions(t, store.GroupCommit{})
		t.Logf("%d messages in %d transactions", messages, xacts)
		if xacts*4 > messages {
			t.Fatalf("%d messages took %d transactions; want at least 4 messages per transaction on average", messages, xacts)
		}
		if st := w.p.Chat.CommitStats(); st.Transactions != xacts || st.Messages != messages {
			t.Fatalf("commit stats %+v; the database shows %d messages in %d transactions", st, messages, xacts)
		}
	})
	t.Run("per message", func(t *testing.T) {
		messages, xacts, _ := gcTransactions(t, store.GroupCommit{Off: true})
		if xacts != messages {
			t.Fatalf("one transaction per message: %d messages, %d transactions", messages, xacts)
		}
	})
}

// TestChatGroupCommitCancelledSenders: senders that give up (cancelled
// before or while queued, or during their transaction) get their ctx's
// error and do not fail the others; what was stored is numbered densely,
// and a retry of a given-up message answers it exactly once.
func TestChatGroupCommitCancelledSenders(t *testing.T) {
	w := newGCWorld(t, modeltest.NewPostgres(t), 8, store.GroupCommit{Workers: 2})
	const n = 400
	type answer struct {
		m       models.Message
		created bool
		err     error
	}
	answers := make([]answer, n)
	var ready, wg sync.WaitGroup
	ready.Add(1)
	for i := range n {
		wg.Go(func() {
			ready.Wait()
			ctx := t.Context()
			var cancel context.CancelFunc
			switch i % 4 {
			case 1: // gone before it is sent
				ctx, cancel = context.WithCancel(ctx)
				cancel()
			case 2: // gives up soon: while queued, in a transaction, or not at all
				ctx, cancel = context.WithTimeout(ctx, time.Duration(i%37)*time.Millisecond)
				defer cancel()
			}
			room := i % len(w.rooms)
			m, created, err := w.p.Chat.Send(ctx, apptActor(w.member(room, i)), models.SendInput{
				AppointmentID: w.rooms[room].ID, ClientMsgID: fmt.Sprintf("m%d", i), Text: "hello"})
			answers[i] = answer{m, created, err}
		})
	}
	ready.Done()
	wg.Wait()
	gave, storedAnyway := 0, 0
	for i, a := range answers {
		switch {
		case i%4 == 1 || i%4 == 2:
			if a.err != nil {
				if !errors.Is(a.err, context.Canceled) && !errors.Is(a.err, context.DeadlineExceeded) {
					t.Fatalf("send %d gave up with %v, want its ctx's error", i, a.err)
				}
				gave++
			}
		case a.err != nil || !a.created:
			t.Fatalf("send %d: created %v, %v", i, a.created, a.err)
		}
	}
	stored := gcCheckRooms(t, gcSQL(t, w.p), w.rooms)
	for i, a := range answers {
		room := i % len(w.rooms)
		k := [3]string{w.rooms[room].ID, w.member(room, i).ID, fmt.Sprintf("m%d", i)}
		s, ok := stored[k]
		if a.err == nil && (!ok || s.ID != a.m.ID || s.Seq != a.m.Seq) {
			t.Fatalf("send %d answered %+v, stored %+v (%v)", i, a.m, s, ok)
		}
		if a.err != nil {
			if ok {
				storedAnyway++
			}
			// The client retries what it did not hear back about.
			m, created, err := w.p.Chat.Send(t.Context(), apptActor(w.member(room, i)), models.SendInput{
				AppointmentID: w.rooms[room].ID, ClientMsgID: k[2], Text: "hello"})
			if err != nil || created == ok || (ok && m.ID != s.ID) {
				t.Fatalf("retry of %d: %+v created %v, %v; stored before: %v", i, m, created, err, ok)
			}
		}
	}
	t.Logf("%d of %d senders gave up; %d of those messages were stored all the same", gave, n/2, storedAnyway)
	gcCheckRooms(t, gcSQL(t, w.p), w.rooms)
}

// TestChatGroupCommitClose: Close waits for the transactions in flight;
// later messages are still stored (one at a time).
func TestChatGroupCommitClose(t *testing.T) {
	w := newGCWorld(t, modeltest.NewPostgres(t), 4, store.GroupCommit{})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 64 {
		wg.Go(func() {
			_, _, err := w.p.Chat.Send(t.Context(), apptActor(w.member(i%4, i)), models.SendInput{
				AppointmentID: w.rooms[i%4].ID, ClientMsgID: fmt.Sprintf("m%d", i), Text: "hello"})
			if err != nil {
				failed.Add(1)
			}
		})
	}
	time.Sleep(5 * time.Millisecond)
	w.p.Chat.Close()
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d sends failed across Close", failed.Load())
	}
	before := w.p.Chat.CommitStats()
	m := chatSendOK(t, w, 0, "after-close")
	if m.Seq != 17 {
		t.Fatalf("after close: seq %d, want 17", m.Seq)
	}
	if after := w.p.Chat.CommitStats(); after != before {
		t.Fatalf("a send after Close went through group commit: %+v → %+v", before, after)
	}
	gcCheckRooms(t, gcSQL(t, w.p), w.rooms)
}

func chatSendOK(t *testing.T, w *gcWorld, room int, id string) models.Message {
	t.Helper()
	m, created, err := w.p.Chat.Send(t.Context(), apptActor(w.member(room, 0)), models.SendInput{AppointmentID: w.rooms[room].ID, ClientMsgID: id, Text: "hi"})
	if err != nil || !created {
		t.Fatalf("send %s: created %v, %v", id, created, err)
	}
	return m
}

// TestChatGroupCommitSurvivesDatabaseFaults: a private Postgres whose
// connections are cut (pg_terminate_backend) while transactions are in
// flight, then which is stopped and started again. Every send answered OK
// is stored as answered; every failure says unavailable; the senders retry
// with the same client_msg_id until they succeed, and each message is
// stored exactly once, every room numbered 1..n.
func TestChatGroupCommitSurvivesDatabaseFaults(t *testing.T) {
	pg := faults.StartPostgres(t)
	ctx := context.Background()
	w := newGCWorld(t, gcOpen(t, pg.URL(), true), 12, store.GroupCommit{})
	admin, err := sql.Open("pgx", pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })

	const senders, perEach = 32, 60
	type outcome struct {
		m        models.Message
		created  bool
		failures int
	}
	outcomes := make([][]outcome, senders)
	var (
		wrong    atomic.Value
		oks      atomic.Int64
		failures atomic.Int64
		wg       sync.WaitGroup
	)
	for g := range senders {
		outcomes[g] = make([]outcome, perEach)
		wg.Go(func() {
			for j := range perEach {
				room := (g*5 + j) % len(w.rooms)
				in := models.SendInput{AppointmentID: w.rooms[room].ID, ClientMsgID: fmt.Sprintf("g%d-%d", g, j), Text: "hello"}
				deadline := time.Now().Add(60 * time.Second)
				for {
					sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
					m, created, err := w.p.Chat.Send(sctx, apptActor(w.member(room, g)), in)
					cancel()
					if err == nil {
						outcomes[g][j].m, outcomes[g][j].created = m, created
						oks.Add(1)
						break
					}
					outcomes[g][j].failures++
					failures.Add(1)
					if models.ErrorCode(err) != models.EUNAVAILABLE {
						wrong.Store(fmt.Sprintf("send %s failed with %v (code %s), want unavailable", in.ClientMsgID, err, models.ErrorCode(err)))
					}
					if time.Now().After(deadline) {
						wrong.Store(fmt.Sprintf("send %s did not succeed within 60s: %v", in.ClientMsgID, err))
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	// Cut every connection of the store while transactions are in flight.
	waitOKs := func(n int64) {
		for oks.Load() < n {
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}
	total := int64(senders * perEach)
	for round := range 4 {
		waitOKs(total * int64(round+1) / 10)
		if _, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`); err != nil {
			t.Fatalf("terminate backends: %v", err)
		}
	}
	// Then stop the cluster under them, and start it again.
	waitOKs(total / 2)
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	pg.Start()
	<-done
	if s, ok := wrong.Load().(string); ok {
		t.Fatal(s)
	}
	if failures.Load() == 0 {
		t.Fatal("no send failed: the faults did not hit any transaction")
	}
	t.Logf("%d sends, %d failed attempts (all unavailable), %d OK", total, failures.Load(), oks.Load())

	stored := gcCheckRooms(t, gcSQL(t, w.p), w.rooms)
	if len(stored) != int(total) {
		t.Fatalf("%d messages stored, %d sent", len(stored), total)
	}
	createdAfterFailure := 0
	for g := range senders {
		for j, o := range outcomes[g] {
			room := (g*5 + j) % len(w.rooms)
			s, ok := stored[[3]string{w.rooms[room].ID, w.member(room, g).ID, fmt.Sprintf("g%d-%d", g, j)}]
			if !ok || s.ID != o.m.ID || s.Seq != o.m.Seq {
				t.Fatalf("g%d-%d answered %s seq %d, stored %+v (%v)", g, j, o.m.ID, o.m.Seq, s, ok)
			}
			if !o.created && o.failures == 0 {
				t.Fatalf("g%d-%d: first attempt answered created=false", g, j)
			}
			if !o.created {
				createdAfterFailure++ // stored by an attempt whose answer was lost
			}
		}
	}
	t.Logf("%d messages were stored by an attempt that failed, and answered to the retry", createdAfterFailure)
}

// TestChatGroupCommitBesideAReschedule: a reschedule locks the patient's
// user row and then the appointment's; a batch with a message of that
// patient in that room waits for it and does not deadlock with it (which
// would fail the transaction after deadlock_timeout).
func TestChatGroupCommitBesideAReschedule(t *testing.T) {
	logs := &faults.LogBuffer{}
	w := newGCWorld(t, modeltest.NewPostgres(t), 1, store.GroupCommit{Log: slog.New(slog.NewJSONHandler(logs, nil))})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	room, patient := w.rooms[0], w.patients[0]
	tx, err := gcSQL(t, w.p).BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `SELECT id FROM users WHERE id = $1 FOR UPDATE`, patient.ID); err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() {
		_, _, err := w.p.Chat.Send(ctx, apptActor(patient), models.SendInput{AppointmentID: room.ID, ClientMsgID: "c1", Text: "hello"})
		sent <- err
	}()
	time.Sleep(200 * time.Millisecond) // the batch is waiting for a lock by now
	if _, err := tx.ExecContext(ctx, `UPDATE appointments SET updated_at = now() WHERE id = $1`, room.ID); err != nil {
		t.Fatalf("the reschedule's update: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("the reschedule's commit: %v", err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("send: %v", err)
	}
	if n := logs.Count("group commit failed; storing its messages one by one"); n != 0 {
		t.Fatalf("the batch failed (deadlock) and fell back to one transaction per message:\n%s", logs.String())
	}
}

// TestChatGroupCommitOneBadMessage: a message the database refuses (here a
// trigger raises on it) fails alone; the other messages of its batch are
// stored one by one and numbered densely.
func TestChatGroupCommitOneBadMessage(t *testing.T) {
	logs := &faults.LogBuffer{}
	w := newGCWorld(t, modeltest.NewPostgres(t), 4, store.GroupCommit{Workers: 1, Log: slog.New(slog.NewJSONHandler(logs, nil))})
	if _, err := gcSQL(t, w.p).ExecContext(t.Context(), `CREATE FUNCTION refuse_poison() RETURNS trigger AS $$
		BEGIN RAISE EXCEPTION 'poison refused by the test'; END $$ LANGUAGE plpgsql;
		CREATE TRIGGER refuse_poison BEFORE INSERT ON messages FOR EACH ROW WHEN (NEW.text = 'poison') EXECUTE FUNCTION refuse_poison();`); err != nil {
		t.Fatal(err)
	}
	const n = 64
	errs := make([]error, n)
	var ready, wg sync.WaitGroup
	ready.Add(1)
	for i := range n {
		wg.Go(func() {
			ready.Wait()
			text := "hello"
			if i%16 == 5 {
				text = "poison"
			}
			_, _, errs[i] = w.p.Chat.Send(t.Context(), apptActor(w.member(i%4, i)), models.SendInput{
				AppointmentID: w.rooms[i%4].ID, ClientMsgID: fmt.Sprintf("m%d", i), Text: text})
		})
	}
	ready.Done()
	wg.Wait()
	for i, err := range errs {
		if poison := i%16 == 5; poison != (err != nil) {
			t.Fatalf("send %d (poison %v): %v", i, poison, err)
		}
		if err != nil && models.ErrorCode(err) == models.EUNAVAILABLE {
			t.Fatalf("send %d: a refused message reported as an outage: %v", i, err)
		}
	}
	stored := gcCheckRooms(t, gcSQL(t, w.p), w.rooms)
	if len(stored) != n-n/16 {
		t.Fatalf("%d messages stored, want %d", len(stored), n-n/16)
	}
	if logs.Count("group commit failed; storing its messages one by one") == 0 {
		t.Fatal("no batch fell back to one transaction per message")
	}
}

// TestChatGroupCommitRoomOrder: messages sent to one room while an earlier
// one waits (here for the room's row lock, held by another transaction)
// are numbered in the order they were sent, though several transactions
// could run at once.
func TestChatGroupCommitRoomOrder(t *testing.T) {
	w := newGCWorld(t, modeltest.NewPostgres(t), 2, store.GroupCommit{Workers: 4})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	room := w.rooms[0]
	tx, err := gcSQL(t, w.p).BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `SELECT id FROM appointments WHERE id = $1 FOR UPDATE`, room.ID); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	got := make([]models.Message, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			got[i], _, errs[i] = w.p.Chat.Send(ctx, apptActor(w.member(0, i)), models.SendInput{AppointmentID: room.ID, ClientMsgID: fmt.Sprintf("m%d", i), Text: "hello"})
		})
		time.Sleep(30 * time.Millisecond)
	}
	// Another room is not held up meanwhile.
	chatSendOK(t, w, 1, "elsewhere")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("send %d: %v", i, errs[i])
		}
		if got[i].Seq != int64(i+1) {
			t.Fatalf("send %d got seq %d, want %d: a room's messages are numbered in the order they were sent", i, got[i].Seq, i+1)
		}
	}
}

// TestChatGroupCommitTwoNodes: two nodes (each its own pool and committer)
// on one database receive the same messages at once, as when a client
// retries through another node. Each message is stored once; both nodes
// answer it, exactly one with created, and every room is numbered 1..n.
func TestChatGroupCommitTwoNodes(t *testing.T) {
	url := modeltest.NewPostgresURL(t)
	w := newGCWorld(t, gcOpen(t, url, true), 8, store.GroupCommit{})
	other := modeltest.NewServices(gcOpen(t, url, false), w.p.Opts)
	t.Cleanup(other.Chat.Close)
	nodes := []*store.Chat{w.p.Chat, other.Chat}

	const senders, perEach = 16, 25
	type answer struct {
		m       models.Message
		created bool
		err     error
	}
	answers := make([][2][]answer, senders)
	var ready, wg sync.WaitGroup
	ready.Add(1)
	for g := range senders {
		for node := range 2 {
			answers[g][node] = make([]answer, perEach)
			wg.Go(func() {
				ready.Wait()
				for j := range perEach {
					room := (g + j) % len(w.rooms)
					m, created, err := nodes[node].Send(t.Context(), apptActor(w.member(room, g)), models.SendInput{
						AppointmentID: w.rooms[room].ID, ClientMsgID: fmt.Sprintf("g%d-%d", g, j), Text: "hello"})
					answers[g][node][j] = answer{m, created, err}
				}
			})
		}
	}
	ready.Done()
	wg.Wait()
	stored := gcCheckRooms(t, gcSQL(t, w.p), w.rooms)
	if len(stored) != senders*perEach {
		t.Fatalf("%d messages stored, want %d", len(stored), senders*perEach)
	}
	for g := range senders {
		for j := range perEach {
			a, b := answers[g][0][j], answers[g][1][j]
			if a.err != nil || b.err != nil {
				t.Fatalf("g%d-%d: %v / %v", g, j, a.err, b.err)
			}
			if a.created == b.created || a.m.ID != b.m.ID || a.m.Seq != b.m.Seq {
				t.Fatalf("g%d-%d: node 1 answered %+v (created %v), node 2 %+v (created %v)", g, j, a.m, a.created, b.m, b.created)
			}
			if s := stored[[3]string{a.m.AppointmentID, a.m.SenderID, a.m.ClientMsgID}]; s.ID != a.m.ID || s.Seq != a.m.Seq {
				t.Fatalf("g%d-%d answered %+v, stored %+v", g, j, a.m, s)
			}
		}
	}
	t.Logf("node 1: %+v, node 2: %+v", w.p.Chat.CommitStats(), other.Chat.CommitStats())
}
