package realtime_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"teleconsult/database"
	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/realtime"
	"teleconsult/realtime/sioclient"
)

// rig is a real Socket.IO server on a random loopback port over a real database.
type rig struct {
	t     testing.TB
	URL   string
	P     *modeltest.Services
	RT    *realtime.Server
	Clock *modeltest.Clock
}

func newRig(t testing.TB, db *database.DB, mutate ...func(*realtime.Options)) *rig {
	t.Helper()
	return newRigWith(t, db, nil, mutate...)
}

// newRigWith is newRig with the services' options changed by services.
func newRigWith(t testing.TB, db *database.DB, services func(*modeltest.Options), mutate ...func(*realtime.Options)) *rig {
	t.Helper()
	clock := &modeltest.Clock{}
	mo := modeltest.DefaultOptions(t, clock)
	if services != nil {
		services(&mo)
	}
	p := modeltest.NewServices(db, mo)
	opts := realtime.Options{Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), MaxPerUser: 100, CallGrace: p.Opts.CallGrace}
	for _, m := range mutate {
		m(&opts)
	}
	rt, err := realtime.New(realtime.Services{Auth: p.Auth, Chat: p.Chat, Calls: p.Calls, Clock: clock}, opts)
	if err != nil {
		t.Fatal(err)
	}
	// The subscriptions cmd/teleconsult wires, and a running dispatcher.
	p.Outbox.Subscribe("notifications", func(ctx context.Context, env models.Envelope) error {
		stored, err := p.Notifications.Record(ctx, env)
		if err != nil {
			return err
		}
		return rt.Notify(ctx, stored)
	})
	p.Outbox.Subscribe("live", rt.OnEvent)
	dispatch, stopDispatch := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Outbox.Run(dispatch) }()
	t.Cleanup(func() { stopDispatch(); <-done })
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", rt)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rt.Shutdown(ctx)
		hs.Close()
	})
	return &rig{t: t, URL: hs.URL, P: p, RT: rt, Clock: clock}
}

// twoNodes returns two servers on one database linked by the Redis adapter.
func twoNodes(t *testing.T) (a, b *rig) {
	t.Helper()
	db := modeltest.NewPostgres(t)
	opt, err := redis.ParseURL(modeltest.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	channel := modeltest.UniqueName("test-sio-")
	node := func() *rig {
		rc := redis.NewClient(opt)
		t.Cleanup(func() { _ = rc.Close() })
		return newRig(t, db, func(o *realtime.Options) { o.Redis, o.RedisChannel = rc, channel })
	}
	return node(), node()
}

// with returns the rig reporting to t (a subtest must not fail its parent).
func (r *rig) with(t testing.TB) *rig {
	c := *r
	c.t = t
	return &c
}

// dial connects with a token and fails the test on refusal.
func (r *rig) dial(token string) *sioclient.Client {
	r.t.Helper()
	c, err := r.tryDial(token)
	if err != nil {
		r.t.Fatalf("connect: %v", err)
	}
	r.t.Cleanup(func() { _ = c.Close() })
	return c
}

func (r *rig) tryDial(token string) (*sioclient.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	var auth any
	if token != "" {
		auth = map[string]any{"token": token}
	}
	return sioclient.Dial(ctx, r.URL, sioclient.Options{Auth: auth})
}

// people is a room's cast: its patient and doctor, and a stranger.
type people struct {
	Patient, Doctor, Stranger    models.User
	PatientT, DoctorT, StrangerT string
	Appt                         models.Appointment
}

func (r *rig) people(status models.AppointmentStatus) people {
	r.t.Helper()
	var c people
	c.Patient = modeltest.MustUser(r.t, r.P, models.RolePatient, modeltest.UniqueName("pat")+"@example.com")
	c.Doctor = modeltest.MustUser(r.t, r.P, models.RoleDoctor, modeltest.UniqueName("doc")+"@example.com")
	c.Stranger = modeltest.MustUser(r.t, r.P, models.RolePatient, modeltest.UniqueName("str")+"@example.com")
	c.PatientT, c.DoctorT, c.StrangerT = modeltest.MustToken(r.t, r.P, c.Patient), modeltest.MustToken(r.t, r.P, c.Doctor), modeltest.MustToken(r.t, r.P, c.Stranger)
	c.Appt = modeltest.MustAppointment(r.t, r.P, c.Doctor, c.Patient, time.Now().Add(time.Hour).Truncate(time.Minute), status)
	return c
}

// reply is a decoded acknowledgement.
type reply struct {
	OK    bool           `json:"ok"`
	Error *replyError    `json:"error"`
	Raw   map[string]any `json:"-"`
}

type replyError struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

func (r reply) code() string {
	if r.Error == nil {
		return ""
	}
	return r.Error.Code
}

func decodeReply(t *testing.T, raw json.RawMessage) reply {
	t.Helper()
	var r reply
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("ack %s: %v", raw, err)
	}
	_ = json.Unmarshal(raw, &r.Raw)
	return r
}

// ack emits event with payload and decodes the acknowledgement.
func ack(t *testing.T, c *sioclient.Client, event string, payload any) reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := c.Ack(ctx, event, payload)
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	return decodeReply(t, raw)
}

// mustOK is ack that fails the test unless ok.
func mustOK(t *testing.T, c *sioclient.Client, event string, payload any) reply {
	t.Helper()
	r := ack(t, c, event, payload)
	if !r.OK {
		t.Fatalf("%s: %+v", event, r.Error)
	}
	return r
}

// next waits for event (5 s).
func next(t *testing.T, c *sioclient.Client, event string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	raw, err := c.Next(ctx, event)
	if err != nil {
		t.Fatalf("waiting for %s: %v", event, err)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

var jsonUnmarshal = json.Unmarshal

var dialTimeout = 10 * time.Second
