package store_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"teleconsult/files"
	"teleconsult/models"
	"teleconsult/modeltest"
)

// chatEachDriver runs fn on a fresh appointment fixture per database with
// one booked appointment (tomorrow 10:00) of f.patient with f.doctor.
func chatEachDriver(t *testing.T, mutate func(*modeltest.Options), fn func(t *testing.T, f *apptFixture, a models.Appointment)) {
	t.Helper()
	apptEachDriver(t, mutate, func(t *testing.T, f *apptFixture) {
		fn(t, f, apptBook(t, f, f.patient, f.doctor, "2030-03-05T10:00:00Z"))
	})
}

// chatSend sends text as u and fails the test on error.
func chatSend(t *testing.T, f *apptFixture, u models.User, appointmentID, clientID, text string) models.Message {
	t.Helper()
	m, created, err := f.p.Chat.Send(t.Context(), apptActor(u), models.SendInput{AppointmentID: appointmentID, ClientMsgID: clientID, Text: text})
	if err != nil {
		t.Fatalf("send %q: %v", clientID, err)
	}
	if !created {
		t.Fatalf("send %q: created = false for a new message", clientID)
	}
	return m
}

func chatLastSeq(t *testing.T, f *apptFixture, appointmentID string) int64 {
	t.Helper()
	var n int64
	if err := f.p.DB.Table("appointments").Select("last_seq").Where("id = ?", appointmentID).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func chatSeqs(ms []models.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

// chatPNG returns a small valid PNG.
func chatPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// chatFilesIn counts the regular files under dir.
func chatFilesIn(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestChatJoin(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		for _, u := range []models.User{f.patient, f.doctor} {
			room, err := p.Chat.Join(ctx, apptActor(u), a.ID)
			if err != nil {
				t.Fatalf("%s join: %v", u.Role, err)
			}
			if room.Appointment.ID != a.ID || room.LastSeq != 0 || len(room.Members) != 2 {
				t.Fatalf("%s room: %+v", u.Role, room)
			}
			members := map[string]models.Member{}
			for _, m := range room.Members {
				members[m.UserID] = m
			}
			if m := members[f.patient.ID]; m.Role != models.RolePatient || m.Name != f.patient.Name {
				t.Fatalf("patient member %+v", m)
			}
			if m := members[f.doctor.ID]; m.Role != models.RoleDoctor || m.Name != f.doctor.Name {
				t.Fatalf("doctor member %+v", m)
			}
		}
		chatSend(t, f, f.patient, a.ID, "c1", "hello")
		if room, err := p.Chat.Join(ctx, apptActor(f.doctor), a.ID); err != nil || room.LastSeq != 1 {
			t.Fatalf("join after a message: last_seq %d, %v", room.LastSeq, err)
		}

		_, err := p.Chat.Join(ctx, apptActor(f.patient2), a.ID)
		apptWantCode(t, err, models.ENOTFOUND)
		_, err = p.Chat.Join(ctx, apptActor(f.doctor2), a.ID)
		apptWantCode(t, err, models.ENOTFOUND)
		_, err = p.Chat.Join(ctx, apptActor(f.patient), "no-such-room")
		apptWantCode(t, err, models.ENOTFOUND)
		_, err = p.Chat.Join(ctx, apptActor(f.admin), a.ID)
		apptWantCode(t, err, models.EFORBIDDEN)

		// A completed consultation's room can still be entered; a cancelled one cannot.
		done := modeltest.MustAppointment(t, p, f.doctor, f.patient, mustTime(t, "2030-03-03T10:00:00Z"), models.StatusCompleted)
		if _, err := p.Chat.Join(ctx, apptActor(f.patient), done.ID); err != nil {
			t.Fatalf("join a completed room: %v", err)
		}
		if _, err := p.Appointments.Cancel(ctx, apptActor(f.patient), a.ID, models.CancelInput{}); err != nil {
			t.Fatal(err)
		}
		for _, u := range []models.User{f.patient, f.doctor} {
			_, err = p.Chat.Join(ctx, apptActor(u), a.ID)
			apptWantCode(t, err, models.EFORBIDDEN)
		}
		_, err = p.Chat.Join(ctx, apptActor(f.patient2), a.ID)
		apptWantCode(t, err, models.ENOTFOUND) // still not_found for strangers
	})
}

func TestChatSend(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		m1 := chatSend(t, f, f.patient, a.ID, "c1", "  hello doctor  ")
		if m1.Seq != 1 || m1.Text != "hello doctor" || m1.SenderID != f.patient.ID || m1.ClientMsgID != "c1" ||
			m1.AppointmentID != a.ID || m1.ID == "" || !m1.CreatedAt.Equal(f.clock.Now()) {
			t.Fatalf("first message %+v", m1)
		}
		m2 := chatSend(t, f, f.doctor, a.ID, "d1", "hello")
		if m2.Seq != 2 {
			t.Fatalf("second message seq %d", m2.Seq)
		}

		// A retry returns the stored message and takes no number.
		again, created, err := p.Chat.Send(ctx, apptActor(f.patient), models.SendInput{AppointmentID: a.ID, ClientMsgID: "c1", Text: "something else"})
		if err != nil || created || again.ID != m1.ID || again.Seq != 1 || again.Text != "hello doctor" {
			t.Fatalf("retry: %+v, created %v, %v", again, created, err)
		}
		// client_msg_id is per sender: the doctor's c1 is a new message.
		if m := chatSend(t, f, f.doctor, a.ID, "c1", "mine"); m.Seq != 3 {
			t.Fatalf("doctor's c1 got seq %d, want 3", m.Seq)
		}
		if n := chatLastSeq(t, f, a.ID); n != 3 {
			t.Fatalf("last_seq %d, want 3", n)
		}

		// The longest message, counted in characters.
		if m := chatSend(t, f, f.patient, a.ID, "long", strings.Repeat("é", models.MaxMessageRunes)); m.Seq != 4 {
			t.Fatalf("longest message seq %d", m.Seq)
		}

		bad := []struct {
			name  string
			in    models.SendInput
			field string
		}{
			{"empty", models.SendInput{AppointmentID: a.ID, ClientMsgID: "x1", Text: ""}, "text"},
			{"blank", models.SendInput{AppointmentID: a.ID, ClientMsgID: "x2", Text: " \n\t "}, "text"},
			{"too long", models.SendInput{AppointmentID: a.ID, ClientMsgID: "x3", Text: strings.Repeat("a", models.MaxMessageRunes+1)}, "text"},
			{"not utf-8", models.SendInput{AppointmentID: a.ID, ClientMsgID: "x4", Text: "bad \xff byte"}, "text"},
			{"NUL", models.SendInput{AppointmentID: a.ID, ClientMsgID: "x6", Text: "nul \x00 inside"}, "text"},
			{"no client id", models.SendInput{AppointmentID: a.ID, Text: "hi"}, "client_msg_id"},
			{"client id too long", models.SendInput{AppointmentID: a.ID, ClientMsgID: strings.Repeat("k", 65), Text: "hi"}, "client_msg_id"},
			{"no appointment", models.SendInput{ClientMsgID: "x5", Text: "hi"}, "appointment_id"},
		}
		for _, c := range bad {
			t.Run(c.name, func(t *testing.T) {
				_, _, err := p.Chat.Send(ctx, apptActor(f.patient), c.in)
				apptWantField(t, err, c.field)
			})
		}

		// Who may send.
		for _, c := range []struct {
			u    models.User
			code string
		}{{f.patient2, models.ENOTFOUND}, {f.doctor2, models.ENOTFOUND}, {f.admin, models.EFORBIDDEN}} {
			_, _, err := p.Chat.Send(ctx, apptActor(c.u), models.SendInput{AppointmentID: a.ID, ClientMsgID: "c1", Text: "hi"})
			apptWantCode(t, err, c.code)
		}
		_, _, err = p.Chat.Send(ctx, apptActor(f.patient), models.SendInput{AppointmentID: "no-such-room", ClientMsgID: "z", Text: "hi"})
		apptWantCode(t, err, models.ENOTFOUND)
		if n := chatLastSeq(t, f, a.ID); n != 4 {
			t.Fatalf("refused sends moved last_seq to %d, want 4", n)
		}

		// Not in a cancelled or no-show consultation.
		cancelled := modeltest.MustAppointment(t, p, f.doctor, f.patient, mustTime(t, "2030-03-05T12:00:00Z"), models.StatusCancelled)
		noShow := modeltest.MustAppointment(t, p, f.doctor, f.patient, mustTime(t, "2030-03-03T12:00:00Z"), models.StatusNoShow)
		for _, id := range []string{cancelled.ID, noShow.ID} {
			_, _, err := p.Chat.Send(ctx, apptActor(f.patient), models.SendInput{AppointmentID: id, ClientMsgID: "c1", Text: "hi"})
			apptWantCode(t, err, models.EFORBIDDEN)
			if n := chatLastSeq(t, f, id); n != 0 {
				t.Fatalf("refused send moved last_seq to %d", n)
			}
		}
	})
}

// TestChatClosesAfterCompletion: the chat stays open 72 hours after the
// consultation completes; afterwards sending is forbidden, while a retry
// of a message already stored still answers with it.
func TestChatClosesAfterCompletion(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		at := mustTime(t, "2030-03-05T10:00:00Z")
		f.clock.Set(at)
		if _, err := p.Appointments.Start(ctx, apptActor(f.doctor), a.ID); err != nil {
			t.Fatal(err)
		}
		chatSend(t, f, f.patient, a.ID, "during", "during the consultation")
		f.clock.Set(at.Add(30 * time.Minute))
		if _, err := p.Appointments.Complete(ctx, apptActor(f.doctor), a.ID); err != nil {
			t.Fatal(err)
		}
		completed := f.clock.Now()

		f.clock.Set(completed.Add(72*time.Hour - time.Second))
		last := chatSend(t, f, f.patient, a.ID, "after", "one more question")
		chatSend(t, f, f.doctor, a.ID, "answer", "an answer")

		f.clock.Set(completed.Add(72 * time.Hour))
		for _, u := range []models.User{f.patient, f.doctor} {
			_, _, err := p.Chat.Send(ctx, apptActor(u), models.SendInput{AppointmentID: a.ID, ClientMsgID: "late", Text: "too late"})
			apptWantCode(t, err, models.EFORBIDDEN)
		}
		// Five: the start and the completion are recorded in the room too.
		if n := chatLastSeq(t, f, a.ID); n != 5 {
			t.Fatalf("refused send moved last_seq to %d, want 5", n)
		}

		// The client never heard back for "after" and retries it now.
		got, created, err := p.Chat.Send(ctx, apptActor(f.patient), models.SendInput{AppointmentID: a.ID, ClientMsgID: "after", Text: "one more question"})
		if err != nil || created || got.ID != last.ID || got.Seq != last.Seq {
			t.Fatalf("retry after closing: %+v, created %v, %v; want the stored message", got, created, err)
		}
		// The room can still be read.
		ms, err := p.Chat.Sync(ctx, apptActor(f.doctor), a.ID, 0)
		if err != nil || len(ms) != 5 {
			t.Fatalf("sync after closing: %d messages (three written, two recorded), %v", len(ms), err)
		}
	})
}

// TestChatSendConcurrently: both participants send from many goroutines;
// the room's numbers are 1..n without gaps or repeats, and another room
// counts on its own.
func TestChatSendConcurrently(t *testing.T) {
	const perSender = 12
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		other := apptBook(t, f, f.patient2, f.doctor, "2030-03-05T11:00:00Z")

		type result struct {
			m       models.Message
			created bool
			err     error
		}
		senders := []models.User{f.patient, f.doctor}
		results := make([]result, 2*perSender)
		otherResults := make([]result, perSender)
		var ready, wg sync.WaitGroup
		ready.Add(1)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ready.Wait()
				u := senders[i%2]
				m, created, err := p.Chat.Send(ctx, apptActor(u), models.SendInput{AppointmentID: a.ID, ClientMsgID: fmt.Sprintf("m%d", i), Text: fmt.Sprintf("message %d", i)})
				results[i] = result{m, created, err}
			}()
		}
		for i := range otherResults {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ready.Wait()
				m, created, err := p.Chat.Send(ctx, apptActor(f.patient2), models.SendInput{AppointmentID: other.ID, ClientMsgID: fmt.Sprintf("o%d", i), Text: "other room"})
				otherResults[i] = result{m, created, err}
			}()
		}
		ready.Done()
		wg.Wait()

		check := func(name string, rs []result) {
			t.Helper()
			var seqs []int64
			for i, r := range rs {
				if r.err != nil || !r.created {
					t.Fatalf("%s send %d: created %v, %v", name, i, r.created, r.err)
				}
				seqs = append(seqs, r.m.Seq)
			}
			slices.Sort(seqs)
			for i, s := range seqs {
				if s != int64(i+1) {
					t.Fatalf("%s seqs %v, want 1..%d", name, seqs, len(rs))
				}
			}
		}
		check("room", results)
		check("other room", otherResults)

		ms, err := p.Chat.Sync(ctx, apptActor(f.doctor), a.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != len(results) {
			t.Fatalf("sync: %d messages, want %d", len(ms), len(results))
		}
		for i, m := range ms {
			if m.Seq != int64(i+1) {
				t.Fatalf("sync seqs %v", chatSeqs(ms))
			}
			if want := results[mustAtoi(t, strings.TrimPrefix(m.ClientMsgID, "m"))].m.ID; m.ID != want {
				t.Fatalf("seq %d: stored %s, sender was told %s", m.Seq, m.ID, want)
			}
		}
		if n := chatLastSeq(t, f, a.ID); n != int64(len(results)) {
			t.Fatalf("last_seq %d, want %d", n, len(results))
		}
	})
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestChatRetryConcurrently: one client_msg_id sent many times at once is
// stored once; every call answers with that message.
func TestChatRetryConcurrently(t *testing.T) {
	const n = 8
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		ms := make([]models.Message, n)
		created := make([]bool, n)
		errs := make([]error, n)
		var ready, wg sync.WaitGroup
		ready.Add(1)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ready.Wait()
				ms[i], created[i], errs[i] = p.Chat.Send(ctx, apptActor(f.patient), models.SendInput{AppointmentID: a.ID, ClientMsgID: "same", Text: "once"})
			}()
		}
		ready.Done()
		wg.Wait()
		made := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("send %d: %v", i, errs[i])
			}
			if created[i] {
				made++
			}
			if ms[i].ID != ms[0].ID || ms[i].Seq != 1 {
				t.Fatalf("send %d answered %+v, send 0 %+v", i, ms[i], ms[0])
			}
		}
		if made != 1 {
			t.Fatalf("%d sends reported created, want 1", made)
		}
		if last := chatLastSeq(t, f, a.ID); last != 1 {
			t.Fatalf("last_seq %d, want 1", last)
		}
	})
}

func TestChatSyncAndHistory(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		for i := 1; i <= 7; i++ {
			u := f.patient
			if i%2 == 0 {
				u = f.doctor
			}
			chatSend(t, f, u, a.ID, fmt.Sprintf("c%d", i), fmt.Sprintf("line %d", i))
		}
		pat := apptActor(f.patient)

		for _, c := range []struct {
			after int64
			want  []int64
		}{{0, []int64{1, 2, 3, 4, 5, 6, 7}}, {5, []int64{6, 7}}, {7, []int64{}}, {100, []int64{}}} {
			ms, err := p.Chat.Sync(ctx, pat, a.ID, c.after)
			if err != nil {
				t.Fatal(err)
			}
			if got := chatSeqs(ms); !slices.Equal(got, c.want) {
				t.Fatalf("sync after %d: %v, want %v", c.after, got, c.want)
			}
		}
		_, err := p.Chat.Sync(ctx, pat, a.ID, -1)
		apptWantField(t, err, "after_seq")
		_, err = p.Chat.Sync(ctx, apptActor(f.patient2), a.ID, 0)
		apptWantCode(t, err, models.ENOTFOUND)
		_, err = p.Chat.Sync(ctx, apptActor(f.admin), a.ID, 0)
		apptWantCode(t, err, models.EFORBIDDEN)

		// History pages back from the newest.
		var walked []int64
		before := int64(0)
		for _, want := range [][]int64{{7, 6, 5}, {4, 3, 2}, {1}} {
			page, err := p.Chat.History(ctx, pat, a.ID, models.HistoryFilter{BeforeSeq: before, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			if got := chatSeqs(page.Items); !slices.Equal(got, want) {
				t.Fatalf("history before %d: %v, want %v", before, got, want)
			}
			walked = append(walked, chatSeqs(page.Items)...)
			if len(want) == 1 {
				if page.NextCursor != "" {
					t.Fatalf("last page has next cursor %q", page.NextCursor)
				}
				break
			}
			if page.NextCursor == "" {
				t.Fatal("missing next cursor")
			}
			before = int64(mustAtoi(t, page.NextCursor))
		}
		if len(walked) != 7 {
			t.Fatalf("history walked %v", walked)
		}
		// A page that ends exactly at the first message has no next cursor.
		page, err := p.Chat.History(ctx, pat, a.ID, models.HistoryFilter{BeforeSeq: 4, Limit: 3})
		if err != nil || !slices.Equal(chatSeqs(page.Items), []int64{3, 2, 1}) || page.NextCursor != "" {
			t.Fatalf("history before 4: %v next %q, %v", chatSeqs(page.Items), page.NextCursor, err)
		}
		page, err = p.Chat.History(ctx, apptActor(f.doctor), a.ID, models.HistoryFilter{})
		if err != nil || len(page.Items) != 7 || page.Items[0].Seq != 7 || page.Items[0].Text != "line 7" {
			t.Fatalf("doctor history: %+v, %v", page.Items, err)
		}
		_, err = p.Chat.History(ctx, pat, a.ID, models.HistoryFilter{BeforeSeq: -1})
		apptWantField(t, err, "before_seq")
		_, err = p.Chat.History(ctx, pat, a.ID, models.HistoryFilter{Limit: 201})
		apptWantField(t, err, "limit")
		_, err = p.Chat.History(ctx, apptActor(f.doctor2), a.ID, models.HistoryFilter{})
		apptWantCode(t, err, models.ENOTFOUND)
		_, err = p.Chat.History(ctx, pat, "no-such-room", models.HistoryFilter{})
		apptWantCode(t, err, models.ENOTFOUND)
		if n := apptAudits(t, p, "chat.read", a.ID); n != 0 {
			t.Fatalf("participants' reads were audited (%d)", n)
		}

		// An admin may read only with a stated reason (break-glass), and it is recorded.
		for _, reason := range []string{"", "  ", "no"} {
			_, err = p.Chat.History(ctx, apptActor(f.admin), a.ID, models.HistoryFilter{Limit: 2, Reason: reason})
			apptWantCode(t, err, models.EFORBIDDEN)
		}
		if n := apptAudits(t, p, "chat.read", a.ID); n != 0 {
			t.Fatalf("refused admin reads were audited (%d)", n)
		}
		page, err = p.Chat.History(ctx, apptActor(f.admin), a.ID, models.HistoryFilter{Limit: 2, Reason: "complaint #4411 about the prescription"})
		if err != nil || len(page.Items) != 2 || page.NextCursor != "6" {
			t.Fatalf("admin history: %v next %q, %v", chatSeqs(page.Items), page.NextCursor, err)
		}
		var entry struct {
			ActorID    string
			TargetType string
			Details    string
		}
		if err := p.DB.Table("audit_entries").Select("actor_id, target_type, details").Where("action = ? AND target_id = ?", "chat.read", a.ID).
			Take(&entry).Error; err != nil {
			t.Fatalf("admin read not audited: %v", err)
		}
		if entry.ActorID != f.admin.ID || entry.TargetType != "appointment" || !strings.Contains(entry.Details, "complaint #4411") {
			t.Fatalf("chat.read audited as %+v", entry)
		}

		// Participants still read the history of a cancelled consultation.
		if _, err := p.Appointments.Cancel(ctx, apptActor(f.doctor), a.ID, models.CancelInput{}); err != nil {
			t.Fatal(err)
		}
		page, err = p.Chat.History(ctx, pat, a.ID, models.HistoryFilter{})
		if err != nil || len(page.Items) != 8 || page.Items[0].Kind != models.MessageSystem || page.Items[0].System.Event != models.SystemCancelled {
			t.Fatalf("history of a cancelled consultation (the cancellation recorded last): %d, %v", len(page.Items), err)
		}
	})
}

func TestChatMarkRead(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		pat, doc := apptActor(f.patient), apptActor(f.doctor)

		// Nothing to read yet: clamped to 0.
		if got, err := p.Chat.MarkRead(ctx, pat, a.ID, 5); err != nil || got != 0 {
			t.Fatalf("mark read in an empty room: %d, %v", got, err)
		}
		for i := range 3 {
			chatSend(t, f, f.doctor, a.ID, fmt.Sprintf("d%d", i), "hi")
		}
		for _, c := range []struct{ seq, want int64 }{{2, 2}, {10, 3}, {1, 3}, {0, 3}, {3, 3}} {
			got, err := p.Chat.MarkRead(ctx, pat, a.ID, c.seq)
			if err != nil || got != c.want {
				t.Fatalf("mark read %d: %d, %v; want %d", c.seq, got, err, c.want)
			}
		}
		if got, err := p.Chat.MarkRead(ctx, doc, a.ID, 1); err != nil || got != 1 {
			t.Fatalf("doctor mark read: %d, %v", got, err)
		}
		_, err := p.Chat.MarkRead(ctx, pat, a.ID, -1)
		apptWantField(t, err, "seq")
		_, err = p.Chat.MarkRead(ctx, apptActor(f.patient2), a.ID, 1)
		apptWantCode(t, err, models.ENOTFOUND)
		_, err = p.Chat.MarkRead(ctx, apptActor(f.admin), a.ID, 1)
		apptWantCode(t, err, models.EFORBIDDEN)

		reads, err := p.Chat.Reads(ctx, doc, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, r := range reads {
			if r.AppointmentID != a.ID {
				t.Fatalf("read of another room %+v", r)
			}
			got[r.UserID] = r.Seq
		}
		if len(reads) != 2 || got[f.patient.ID] != 3 || got[f.doctor.ID] != 1 {
			t.Fatalf("reads %+v", reads)
		}
		if !slices.IsSortedFunc(reads, func(x, y models.ChatRead) int { return strings.Compare(x.UserID, y.UserID) }) {
			t.Fatalf("reads not ordered by user: %+v", reads)
		}
		_, err = p.Chat.Reads(ctx, apptActor(f.doctor2), a.ID)
		apptWantCode(t, err, models.ENOTFOUND)
		_, err = p.Chat.Reads(ctx, apptActor(f.admin), a.ID)
		apptWantCode(t, err, models.EFORBIDDEN)
	})
}

func TestChatAttachments(t *testing.T) {
	var dir string
	chatEachDriver(t, func(o *modeltest.Options) {
		dir = t.TempDir()
		disk, err := files.NewDisk(dir)
		if err != nil {
			t.Fatal(err)
		}
		o.Files = disk
		o.AttachmentMaxBytes = 4096
	}, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		pic := chatPNG(t)
		m, created, err := p.Chat.Attach(ctx, apptActor(f.patient), models.AttachInput{AppointmentID: a.ID, ClientMsgID: "img1",
			FileName: `..\..\x-ray.png`, Body: bytes.NewReader(pic)})
		if err != nil || !created {
			t.Fatalf("attach a PNG: created %v, %v", created, err)
		}
		att := m.Attachment
		if att == nil || m.AttachmentID == nil || *m.AttachmentID != att.ID {
			t.Fatalf("message without its attachment: %+v", m)
		}
		if att.ContentType != "image/png" || att.SizeBytes != int64(len(pic)) || att.FileName != "x-ray.png" ||
			att.UploaderID != f.patient.ID || att.AppointmentID != a.ID {
			t.Fatalf("attachment %+v", att)
		}
		if m.Seq != 1 || m.Text != "x-ray.png" {
			t.Fatalf("attachment message seq %d text %q", m.Seq, m.Text)
		}

		// A retry stores nothing new.
		again, created, err := p.Chat.Attach(ctx, apptActor(f.patient), models.AttachInput{AppointmentID: a.ID, ClientMsgID: "img1",
			FileName: "x-ray.png", Body: bytes.NewReader(pic)})
		if err != nil || created || again.ID != m.ID {
			t.Fatalf("attach retry: %+v, created %v, %v", again, created, err)
		}
		if n := chatFilesIn(t, dir); n != 1 {
			t.Fatalf("%d files stored, want 1", n)
		}

		// A caption becomes the text; sync carries the attachment.
		m2, _, err := p.Chat.Attach(ctx, apptActor(f.doctor), models.AttachInput{AppointmentID: a.ID, FileName: "scan.png",
			Caption: "  your scan ", Body: bytes.NewReader(pic)})
		if err != nil || m2.Text != "your scan" || m2.Seq != 2 || m2.ClientMsgID == "" {
			t.Fatalf("attach with caption: %+v, %v", m2, err)
		}
		ms, err := p.Chat.Sync(ctx, apptActor(f.doctor), a.ID, 0)
		if err != nil || len(ms) != 2 || ms[0].Attachment == nil || ms[0].Attachment.ID != att.ID || ms[1].Attachment == nil {
			t.Fatalf("sync with attachments: %+v, %v", ms, err)
		}

		// Refusals.
		for _, c := range []struct {
			name  string
			u     models.User
			in    models.AttachInput
			code  string
			field string
		}{
			{"text file", f.patient, models.AttachInput{AppointmentID: a.ID, FileName: "notes.png", Body: strings.NewReader("just some text, not an image")}, models.EINVALID, "file"},
			{"empty", f.patient, models.AttachInput{AppointmentID: a.ID, FileName: "empty.png", Body: strings.NewReader("")}, models.EINVALID, "file"},
			{"too large", f.patient, models.AttachInput{AppointmentID: a.ID, FileName: "big.png",
				Body: io.MultiReader(bytes.NewReader(pic), bytes.NewReader(make([]byte, 5000)))}, models.ETOOLARGE, ""},
			{"client id too long", f.patient, models.AttachInput{AppointmentID: a.ID, ClientMsgID: strings.Repeat("k", 65), Body: bytes.NewReader(pic)}, models.EINVALID, "client_msg_id"},
			{"caption with NUL", f.patient, models.AttachInput{AppointmentID: a.ID, Caption: "a\x00b", Body: bytes.NewReader(pic)}, models.EINVALID, "text"},
			{"caption too long", f.patient, models.AttachInput{AppointmentID: a.ID, Caption: strings.Repeat("c", 4001), Body: bytes.NewReader(pic)}, models.EINVALID, "text"},
			{"stranger", f.patient2, models.AttachInput{AppointmentID: a.ID, Body: bytes.NewReader(pic)}, models.ENOTFOUND, ""},
			{"admin", f.admin, models.AttachInput{AppointmentID: a.ID, Body: bytes.NewReader(pic)}, models.EFORBIDDEN, ""},
			{"no room", f.patient, models.AttachInput{AppointmentID: "no-such-room", Body: bytes.NewReader(pic)}, models.ENOTFOUND, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, _, err := p.Chat.Attach(ctx, apptActor(c.u), c.in)
				if c.field != "" {
					apptWantField(t, err, c.field)
				} else {
					apptWantCode(t, err, c.code)
				}
			})
		}
		if n := chatFilesIn(t, dir); n != 2 {
			t.Fatalf("%d files stored after refusals, want 2", n)
		}
		if n := chatLastSeq(t, f, a.ID); n != 2 {
			t.Fatalf("refused attachments moved last_seq to %d", n)
		}

		// Exactly the limit is accepted.
		exact := append(slices.Clone(pic), make([]byte, 4096-len(pic))...)
		if m, _, err := p.Chat.Attach(ctx, apptActor(f.patient), models.AttachInput{AppointmentID: a.ID, FileName: "exact.png",
			Body: bytes.NewReader(exact)}); err != nil || m.Attachment.SizeBytes != 4096 {
			t.Fatalf("attachment of exactly the limit: %v", err)
		}

		// Opening: the parties and admins (audited); strangers see nothing.
		for _, u := range []models.User{f.patient, f.doctor, f.admin} {
			got, rc, err := p.Chat.OpenAttachment(ctx, apptActor(u), att.ID)
			if err != nil {
				t.Fatalf("%s open: %v", u.Role, err)
			}
			body, err := io.ReadAll(rc)
			_ = rc.Close()
			if err != nil || !bytes.Equal(body, pic) || got.ID != att.ID || got.ContentType != "image/png" {
				t.Fatalf("%s open: %d bytes, %+v, %v", u.Role, len(body), got, err)
			}
		}
		if n := apptAudits(t, p, "attachment.read", att.ID); n != 1 {
			t.Fatalf("%d attachment.read audit entries, want 1 (the admin's)", n)
		}
		for _, c := range []struct {
			u  models.User
			id string
		}{{f.patient2, att.ID}, {f.doctor2, att.ID}, {f.patient, "no-such-attachment"}} {
			_, rc, err := p.Chat.OpenAttachment(ctx, apptActor(c.u), c.id)
			if rc != nil {
				_ = rc.Close()
			}
			apptWantCode(t, err, models.ENOTFOUND)
		}
	})
}

func TestChatAttachWithoutFileStore(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		_, _, err := f.p.Chat.Attach(t.Context(), apptActor(f.patient), models.AttachInput{AppointmentID: a.ID, FileName: "x.png",
			Body: bytes.NewReader(chatPNG(t))})
		apptWantCode(t, err, models.EUNAVAILABLE)
		if n := chatLastSeq(t, f, a.ID); n != 0 {
			t.Fatalf("last_seq %d", n)
		}
		// Access is still decided first.
		_, _, err = f.p.Chat.Attach(t.Context(), apptActor(f.patient2), models.AttachInput{AppointmentID: a.ID, Body: bytes.NewReader(chatPNG(t))})
		apptWantCode(t, err, models.ENOTFOUND)
	})
}

func TestChatDatabaseOutageIsUnavailable(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		sqlDB, err := p.DB.DB()
		if err != nil {
			t.Fatal(err)
		}
		_ = sqlDB.Close()
		calls := map[string]func() error{
			"join": func() error { _, err := p.Chat.Join(ctx, apptActor(f.patient2), a.ID); return err },
			"send": func() error {
				_, _, err := p.Chat.Send(ctx, apptActor(f.admin), models.SendInput{AppointmentID: a.ID, ClientMsgID: "x", Text: "hi"})
				return err
			},
			"sync": func() error { _, err := p.Chat.Sync(ctx, apptActor(f.patient), a.ID, 0); return err },
			"history": func() error {
				_, err := p.Chat.History(ctx, apptActor(f.doctor2), a.ID, models.HistoryFilter{})
				return err
			},
			"markread": func() error { _, err := p.Chat.MarkRead(ctx, apptActor(f.patient), a.ID, 1); return err },
			"open":     func() error { _, _, err := p.Chat.OpenAttachment(ctx, apptActor(f.patient), "x"); return err },
		}
		storeMustBeUnavailable(t, calls)
	})
}
