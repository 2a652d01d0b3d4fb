package main

// The REST edge (api/) and the Socket.IO edge (realtime/) both ask the one
// access policy (models/access.go). These tests start the whole server the
// way main_test.go does, create everyone through REST, and then ask both
// edges the same question for each actor:
//
//   - an appointment that is not yours is not_found on both edges, with the
//     same error body, and exactly the answer an id that does not exist
//     gets (ids do not leak);
//   - an admin may view and read (REST, audited) but not take part (join,
//     sync, send, call): forbidden;
//   - a database failure is never dressed up as forbidden or not_found.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/realtime/sioclient"
	"teleconsult/wire"
)

// The actors of the table, in the order they are asked.
const (
	edgeOwnerPatient    = "owner patient"
	edgeOwnerDoctor     = "owner doctor"
	edgeStrangerPatient = "stranger patient"
	edgeStrangerDoctor  = "stranger doctor"
	edgeAdmin           = "admin"
)

var edgeActors = []string{edgeOwnerPatient, edgeOwnerDoctor, edgeStrangerPatient, edgeStrangerDoctor, edgeAdmin}

const (
	edgeOK        = "ok"
	edgeNotFound  = models.ENOTFOUND
	edgeForbidden = models.EFORBIDDEN

	edgePassword   = "correct-horse-battery-9"
	edgeAdminEmail = "edges-admin@example.com"
)

// edgeWant is the expected answer of each edge ("ok" or an error code).
type edgeWant struct{ rest, socket string }

// edgeBoth: the edges must agree, on this answer.
func edgeBoth(code string) edgeWant { return edgeWant{code, code} }

// edgeCase is one action asked on both edges. want says, per actor, what
// each edge answers about the booked appointment; an actor missing from
// want is not asked about it (the action would change the appointment, or
// start a real call), only about an unknown id.
type edgeCase struct {
	name   string
	rest   edgeCall
	socket edgeCall
	want   map[string]edgeWant
}

// The answers for the admin where the edges differ on purpose: viewing and
// reading the history are REST-only admin powers (audited); joining the
// room, syncing it, sending and calling are taking part, which only the
// patient and the doctor do.
var (
	edgeAdminViewsOnly    = edgeWant{rest: edgeOK, socket: edgeForbidden}
	edgeOwnersOK          = edgeBoth(edgeOK)
	edgeStrangersNotFound = edgeBoth(edgeNotFound)
)

func edgeCases() []edgeCase {
	get := edgeREST(http.MethodGet, "/api/v1/appointments/%s", nil)
	// An admin states why they read (break-glass); the others need not.
	messages := edgeREST(http.MethodGet, "/api/v1/appointments/%s/messages?reason=quality%%20review", nil)
	room := func(event string) edgeCall {
		return edgeSocket(event, func(id string) map[string]any { return map[string]any{"appointment_id": id} })
	}
	join := room("consultation:join")
	sync := edgeSocket("chat:sync", func(id string) map[string]any { return map[string]any{"appointment_id": id, "after_seq": 0} })
	read := edgeSocket("chat:read", func(id string) map[string]any { return map[string]any{"appointment_id": id, "seq": 0} })
	send := edgeSocket("chat:send", func(id string) map[string]any {
		return map[string]any{"appointment_id": id, "client_msg_id": uuid.NewString(), "text": "hello from the edges test"}
	})
	invite := edgeSocket("rtc:invite", func(id string) map[string]any { return map[string]any{"appointment_id": id, "media": "video"} })

	// everyone: the owners may, strangers get not_found, and the admin gets admin.
	everyone := func(admin edgeWant) map[string]edgeWant {
		return map[string]edgeWant{edgeOwnerPatient: edgeOwnersOK, edgeOwnerDoctor: edgeOwnersOK,
			edgeStrangerPatient: edgeStrangersNotFound, edgeStrangerDoctor: edgeStrangersNotFound, edgeAdmin: admin}
	}
	// strangers: only the strangers (and maybe the admin) are asked, since
	// the owners would change the appointment or ring a real call.
	strangers := func(admin ...edgeWant) map[string]edgeWant {
		m := map[string]edgeWant{edgeStrangerPatient: edgeStrangersNotFound, edgeStrangerDoctor: edgeStrangersNotFound}
		for _, a := range admin {
			m[edgeAdmin] = a
		}
		return m
	}
	// The lifecycle exists only on REST; the socket's answer it must match
	// is join's.
	lifecycle := func(action string, body any) edgeCase {
		return edgeCase{name: action + "=POST " + action + "|consultation:join",
			rest: edgeREST(http.MethodPost, "/api/v1/appointments/%s/"+action, body), socket: join, want: strangers()}
	}
	return []edgeCase{
		{name: "view=GET appointment|consultation:join", rest: get, socket: join, want: everyone(edgeAdminViewsOnly)},
		{name: "read=GET messages|chat:sync", rest: messages, socket: sync, want: everyone(edgeAdminViewsOnly)},
		{name: "read=GET messages|chat:read", rest: messages, socket: read, want: everyone(edgeAdminViewsOnly)},
		{name: "send=POST attachments|chat:send", rest: edgeUpload(), socket: send, want: everyone(edgeBoth(edgeForbidden))},
		// There is no REST call action: the call events must not tell a
		// stranger what GET does not.
		{name: "call=GET appointment|rtc:invite", rest: get, socket: invite, want: strangers(edgeAdminViewsOnly)},
		{name: "call=GET appointment|rtc:accept", rest: get, socket: room("rtc:accept"), want: strangers(edgeAdminViewsOnly)},
		{name: "call=GET appointment|rtc:reject", rest: get, socket: room("rtc:reject"), want: strangers(edgeAdminViewsOnly)},
		{name: "call=GET appointment|rtc:hangup", rest: get, socket: room("rtc:hangup"), want: strangers(edgeAdminViewsOnly)},
		lifecycle("start", nil),
		lifecycle("complete", nil),
		lifecycle("cancel", map[string]any{"reason": "edges test"}),
		lifecycle("no-show", nil),
		lifecycle("reschedule", map[string]any{"starts_at": time.Now().UTC().Add(48 * time.Hour).Truncate(time.Hour).Format(time.RFC3339)}),
		lifecycle("diagnosis", map[string]any{"summary": "edges test"}),
	}
}

// TestEdgesAgree asks every action of the table on both edges, for every
// actor, about the booked appointment and about an id that does not exist.
func TestEdgesAgree(t *testing.T) {
	w := newEdgeWorld(t)
	cases := edgeCases()

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, who := range edgeActors {
				want, asked := tc.want[who]
				if !asked {
					continue
				}
				t.Run(who, func(t *testing.T) {
					p := w.people[who]
					rest, sock := tc.rest(t, w, p, w.appt), tc.socket(t, w, p, w.appt)
					checkEdges(t, want, rest, sock)
				})
			}
		})
	}

	// An id that does not exist is not_found for everyone, on both edges,
	// and a stranger gets exactly what they get for someone else's
	// appointment: the answer tells nothing about which ids exist.
	unknown := uuid.NewString()
	for _, tc := range cases {
		t.Run("unknown id/"+tc.name, func(t *testing.T) {
			for _, who := range edgeActors {
				t.Run(who, func(t *testing.T) {
					p := w.people[who]
					rest, sock := tc.rest(t, w, p, unknown), tc.socket(t, w, p, unknown)
					checkEdges(t, edgeBoth(edgeNotFound), rest, sock)
					if _, asked := tc.want[who]; !asked || (who != edgeStrangerPatient && who != edgeStrangerDoctor) {
						return
					}
					theirs, theirsSock := tc.rest(t, w, p, w.appt), tc.socket(t, w, p, w.appt)
					if rest.status != theirs.status || !reflect.DeepEqual(rest.err, theirs.err) {
						t.Errorf("REST tells ids apart: unknown id got %s, someone else's got %s", rest, theirs)
					}
					if !reflect.DeepEqual(sock.err, theirsSock.err) {
						t.Errorf("socket tells ids apart: unknown id got %s, someone else's got %s", sock, theirsSock)
					}
				})
			}
		})
	}

	// The refusals above changed nothing: the room holds the owners' four
	// messages (one per edge each), numbered without gaps; and the admin's
	// REST reads were audited.
	t.Run("aftermath", func(t *testing.T) {
		var msgs wire.List[wire.Message]
		w.mustREST(t, http.MethodGet, "/api/v1/appointments/"+w.appt+"/messages", w.people[edgeOwnerPatient].token, nil, http.StatusOK, &msgs)
		senders := map[string]int{}
		for i, m := range msgs.Items {
			senders[m.SenderID]++
			if want := int64(len(msgs.Items) - i); m.Seq != want {
				t.Errorf("message %d has seq %d, want %d (newest first, no gaps)", i, m.Seq, want)
			}
		}
		owners := map[string]int{w.people[edgeOwnerPatient].id: 2, w.people[edgeOwnerDoctor].id: 2}
		if !reflect.DeepEqual(senders, owners) {
			t.Errorf("messages by sender %v, want two by each owner %v", senders, owners)
		}
		var audit wire.List[wire.AuditEntry]
		w.mustREST(t, http.MethodGet, "/api/v1/admin/audit-log?target_id="+w.appt+"&actor_id="+w.people[edgeAdmin].id,
			w.people[edgeAdmin].token, nil, http.StatusOK, &audit)
		actions := map[string]bool{}
		for _, e := range audit.Items {
			actions[e.Action] = true
		}
		if !actions["appointment.read"] || !actions["chat.read"] {
			t.Errorf("the admin's reads were not audited: %v", actions)
		}
	})
}

// TestEdgesSocketOnlyEventsDoNotLeak: the socket events with no REST
// counterpart answer a stranger the same for someone else's appointment as
// for an id that does not exist. (Today typing and the rtc:offer/answer/ice
// relays answer both with forbidden "join the consultation first", since
// they check the socket's rooms rather than the policy; leave answers ok.)
func TestEdgesSocketOnlyEventsDoNotLeak(t *testing.T) {
	w := newEdgeWorld(t)
	unknown := uuid.NewString()
	events := map[string]func(id string) map[string]any{
		"chat:typing": func(id string) map[string]any { return map[string]any{"appointment_id": id, "typing": true} },
		"rtc:offer": func(id string) map[string]any {
			return map[string]any{"appointment_id": id, "sdp": map[string]any{"type": "offer", "sdp": "v=0"}}
		},
		"rtc:answer": func(id string) map[string]any {
			return map[string]any{"appointment_id": id, "sdp": map[string]any{"type": "answer", "sdp": "v=0"}}
		},
		"rtc:ice": func(id string) map[string]any {
			return map[string]any{"appointment_id": id, "candidate": map[string]any{"candidate": "x"}}
		},
		"consultation:leave": func(id string) map[string]any { return map[string]any{"appointment_id": id} },
	}
	for event, payload := range events {
		for _, who := range []string{edgeStrangerPatient, edgeStrangerDoctor} {
			t.Run(event+"/"+who, func(t *testing.T) {
				call := edgeSocket(event, payload)
				theirs, none := call(t, w, w.people[who], w.appt), call(t, w, w.people[who], unknown)
				if theirs.code != none.code || !reflect.DeepEqual(theirs.err, none.err) {
					t.Errorf("someone else's appointment got %s, an unknown id got %s", theirs, none)
				}
			})
		}
	}
}

// TestEdgesDatabaseErrorIsNeitherForbiddenNorNotFound breaks the
// appointments table under the running server: both edges must then say
// internal (or unavailable), to owners and strangers alike, and never turn
// the failure into forbidden or not_found.
func TestEdgesDatabaseErrorIsNeitherForbiddenNorNotFound(t *testing.T) {
	w := newEdgeWorld(t)
	db, err := sql.Open("pgx", w.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), "ALTER TABLE appointments RENAME TO appointments_gone"); err != nil {
		t.Fatal(err)
	}
	cases := edgeCases()
	for _, tc := range cases {
		for _, who := range edgeActors {
			t.Run(tc.name+"/"+who, func(t *testing.T) {
				p := w.people[who]
				rest, sock := tc.rest(t, w, p, w.appt), tc.socket(t, w, p, w.appt)
				for _, a := range []edgeAnswer{rest, sock} {
					if a.code != models.EINTERNAL && a.code != models.EUNAVAILABLE {
						t.Errorf("%s during a database failure, want internal or unavailable", a)
					}
				}
				if rest.code != sock.code {
					t.Errorf("edges disagree about a database failure: %s vs %s", rest, sock)
				}
			})
		}
	}
}

// checkEdges asserts what each edge said.
func checkEdges(t *testing.T, want edgeWant, rest, sock edgeAnswer) {
	t.Helper()
	if want.rest == want.socket && rest.code != sock.code {
		t.Errorf("edges disagree: %s, but %s (want %s on both)", rest, sock, want.rest)
		return
	}
	if rest.code != want.rest {
		t.Errorf("%s, want %s", rest, want.rest)
	}
	if sock.code != want.socket {
		t.Errorf("%s, want %s", sock, want.socket)
	}
	// The same refusal reads the same on both edges.
	if rest.code == sock.code && rest.code != edgeOK && !reflect.DeepEqual(rest.err, sock.err) {
		t.Errorf("same code, different error bodies: %s vs %s", rest, sock)
	}
}

// edgeAnswer is what one edge said: "ok" or an error code, and the error.
type edgeAnswer struct {
	edge   string
	status int // REST only
	code   string
	err    wire.Error
	raw    string
}

func (a edgeAnswer) String() string {
	where := a.edge
	if a.status != 0 {
		where = fmt.Sprintf("%s %d", a.edge, a.status)
	}
	if a.code == edgeOK {
		return where + " ok"
	}
	if len(a.err.Details) > 0 {
		return fmt.Sprintf("%s %s (%q, %v)", where, a.code, a.err.Message, a.err.Details)
	}
	return fmt.Sprintf("%s %s (%q)", where, a.code, a.err.Message)
}

// edgeCall asks one edge, as person p, about appointment id.
type edgeCall func(t *testing.T, w *edgeWorld, p *edgePerson, id string) edgeAnswer

// edgeRESTStatus is the HTTP status each error code must come with.
var edgeRESTStatus = map[string][]int{
	models.EINVALID:     {http.StatusBadRequest, http.StatusUnprocessableEntity},
	models.EFORBIDDEN:   {http.StatusForbidden},
	models.ENOTFOUND:    {http.StatusNotFound},
	models.ECONFLICT:    {http.StatusConflict},
	models.EBUSY:        {http.StatusConflict},
	models.EUNAVAILABLE: {http.StatusServiceUnavailable},
	models.EINTERNAL:    {http.StatusInternalServerError},
}

// edgeRESTAnswer reads a REST reply into an edgeAnswer, checking the status
// goes with the code.
func edgeRESTAnswer(t *testing.T, status int, body []byte) edgeAnswer {
	t.Helper()
	a := edgeAnswer{edge: "REST", status: status, raw: string(body)}
	if status >= 200 && status < 300 {
		a.code = edgeOK
		return a
	}
	var eb wire.ErrorBody
	if err := json.Unmarshal(body, &eb); err != nil || eb.Error.Code == "" {
		t.Fatalf("REST %d without an error body: %s", status, body)
	}
	a.code, a.err = eb.Error.Code, eb.Error
	if ok := edgeRESTStatus[a.code]; ok != nil && !slices.Contains(ok, status) {
		t.Errorf("REST answered %s with status %d, want one of %v", a.code, status, ok)
	}
	return a
}

// edgeREST is a JSON request; path has one %s for the appointment id.
func edgeREST(method, path string, body any) edgeCall {
	return func(t *testing.T, w *edgeWorld, p *edgePerson, id string) edgeAnswer {
		t.Helper()
		status, raw := w.rest(t, method, fmt.Sprintf(path, id), p.token, body)
		return edgeRESTAnswer(t, status, raw)
	}
}

// edgePNG is a small PNG for the attachment endpoint. It must decode:
// uploads of images that do not are refused (models/store/chat.go,
// checkImage), so the PNG signature alone will not do.
var edgePNG = func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}()

// edgeUpload posts edgePNG as multipart field "file".
func edgeUpload() edgeCall {
	return func(t *testing.T, w *edgeWorld, p *edgePerson, id string) edgeAnswer {
		t.Helper()
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, err := mw.CreateFormFile("file", "scan.png")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(edgePNG)
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		status, raw := w.send(t, http.MethodPost, "/api/v1/appointments/"+id+"/attachments", p.token, mw.FormDataContentType(), &buf)
		return edgeRESTAnswer(t, status, raw)
	}
}

// edgeSocket emits event with payload(id) on p's socket and reads the ack.
func edgeSocket(event string, payload func(id string) map[string]any) edgeCall {
	return func(t *testing.T, w *edgeWorld, p *edgePerson, id string) edgeAnswer {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		raw, err := p.sock.Ack(ctx, event, payload(id))
		if err != nil {
			t.Fatalf("%s: %v", event, err)
		}
		var ack struct {
			OK    bool        `json:"ok"`
			Error *wire.Error `json:"error"`
		}
		if err := json.Unmarshal(raw, &ack); err != nil {
			t.Fatalf("%s ack %s: %v", event, raw, err)
		}
		a := edgeAnswer{edge: "socket " + event, raw: string(raw)}
		switch {
		case ack.OK:
			a.code = edgeOK
		case ack.Error == nil || ack.Error.Code == "":
			t.Fatalf("%s: a failed ack without an error: %s", event, raw)
		default:
			a.code, a.err = ack.Error.Code, *ack.Error
		}
		return a
	}
}

// edgeWorld is a running server with the cast of the table: a patient who
// booked an appointment with a doctor, a stranger of each role and an
// admin, each signed in on REST and connected on a socket.
type edgeWorld struct {
	base   string
	dbURL  string
	appt   string
	people map[string]*edgePerson
}

type edgePerson struct {
	id    string
	token string
	sock  *sioclient.Client
}

// edgeLogBuffer keeps the server's log for a failing test.
type edgeLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *edgeLogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *edgeLogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newEdgeWorld starts the server on its own Postgres database (run, as
// main would) and creates everyone through REST.
func newEdgeWorld(t *testing.T) *edgeWorld {
	t.Helper()
	dbURL := modeltest.NewPostgresURL(t)
	dir := t.TempDir()
	env := envOf(map[string]string{
		"DATABASE_URL": dbURL, "ADDR": "127.0.0.1:0", "DATA_DIR": dir, "WEB_DIR": dir, "LOG_LEVEL": "warn",
		"JWT_SECRET":  "edges-test-jwt-secret-0123456789-abcdefghij",
		"ADMIN_EMAIL": edgeAdminEmail, "ADMIN_PASSWORD": edgePassword,
		// Every actor asks many questions on one socket.
		"SOCKET_EVENT_RATE": "1000", "SOCKET_EVENT_BURST": "1000",
	})
	logs := &edgeLogBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, env, logs, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped early: %v\n%s", err, logs)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("shutdown: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	w := &edgeWorld{base: "http://" + addr, dbURL: dbURL, people: map[string]*edgePerson{}}

	admin := w.login(t, edgeAdminEmail)
	w.people[edgeAdmin] = admin
	for _, who := range []string{edgeOwnerPatient, edgeStrangerPatient} {
		email := modeltest.UniqueName("pat") + "@example.com"
		w.mustREST(t, http.MethodPost, "/api/v1/auth/register", "",
			wire.RegisterRequest{Email: email, Password: edgePassword, Name: who, TimeZone: "UTC"}, http.StatusCreated, nil)
		w.people[who] = w.login(t, email)
	}
	for _, who := range []string{edgeOwnerDoctor, edgeStrangerDoctor} {
		email := modeltest.UniqueName("doc") + "@example.com"
		w.mustREST(t, http.MethodPost, "/api/v1/admin/users", admin.token, wire.CreateUserRequest{Email: email, Password: edgePassword,
			Name: who, Role: models.RoleDoctor, TimeZone: "UTC", Specialty: "Cardiology"}, http.StatusCreated, nil)
		w.people[who] = w.login(t, email)
	}

	// The owner doctor opens every hour of every day; the owner patient
	// books a slot a few hours ahead.
	doctor := w.people[edgeOwnerDoctor]
	sched := wire.ScheduleRequest{TimeZone: "UTC", SlotMinutes: 30}
	for day := range 7 {
		sched.Rules = append(sched.Rules, wire.ScheduleRule{Weekday: day, Start: "00:00", End: "24:00"})
	}
	w.mustREST(t, http.MethodPut, "/api/v1/doctors/me/schedule", doctor.token, sched, http.StatusOK, nil)
	var slots wire.List[wire.Slot]
	w.mustREST(t, http.MethodGet, "/api/v1/doctors/"+doctor.id+"/slots", "", nil, http.StatusOK, &slots)
	var start time.Time
	for _, s := range slots.Items {
		if s.StartsAt.After(time.Now().Add(3 * time.Hour)) {
			start = s.StartsAt
			break
		}
	}
	if start.IsZero() {
		t.Fatalf("no free slot 3 hours ahead among %d", len(slots.Items))
	}
	var appt wire.Appointment
	w.mustREST(t, http.MethodPost, "/api/v1/appointments", w.people[edgeOwnerPatient].token,
		wire.BookRequest{DoctorID: doctor.id, StartsAt: start.Format(time.RFC3339)}, http.StatusCreated, &appt)
	w.appt = appt.ID

	for _, who := range edgeActors {
		p := w.people[who]
		dctx, dcancel := context.WithTimeout(context.Background(), 15*time.Second)
		c, err := sioclient.Dial(dctx, w.base, sioclient.Options{Auth: map[string]any{"token": p.token}})
		dcancel()
		if err != nil {
			t.Fatalf("socket for %s: %v", who, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		p.sock = c
	}
	return w
}

// login signs in with edgePassword.
func (w *edgeWorld) login(t *testing.T, email string) *edgePerson {
	t.Helper()
	var s wire.Session
	w.mustREST(t, http.MethodPost, "/api/v1/auth/login", "", wire.LoginRequest{Email: email, Password: edgePassword}, http.StatusOK, &s)
	if s.AccessToken == "" || s.User.ID == "" {
		t.Fatalf("login %s: no token or user", email)
	}
	return &edgePerson{id: s.User.ID, token: s.AccessToken}
}

// mustREST sends a JSON request, requires wantStatus and decodes into out.
func (w *edgeWorld) mustREST(t *testing.T, method, path, token string, body any, wantStatus int, out any) {
	t.Helper()
	status, raw := w.rest(t, method, path, token, body)
	if status != wantStatus {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, raw, wantStatus)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
}

// rest sends body as JSON (none when nil).
func (w *edgeWorld) rest(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	ctype := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r, ctype = bytes.NewReader(b), "application/json"
	}
	return w.send(t, method, path, token, ctype, r)
}

func (w *edgeWorld) send(t *testing.T, method, path, token, ctype string, body io.Reader) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, w.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return res.StatusCode, bytes.TrimSpace(raw)
}
