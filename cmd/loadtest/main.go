// Command loadtest drives a running Teleconsult server on this machine. It
// only targets loopback addresses and every run is bounded in time and
// count. -scenario picks what it does:
//
// chat (the default): many consultation rooms; in each, a patient and a
// doctor connected over Socket.IO send chat messages at a steady rate for
// a bounded time. It prints connection times, acknowledged messages per
// second, ack latency percentiles and delivery counts.
//
//	go run ./cmd/loadtest -url http://127.0.0.1:8080 -rooms 50 -rate 2 -duration 30s
//
// It sets up its own data through the REST API with an admin account
// (the demo admin by default): one doctor per room with an all-week
// schedule and one patient who books that doctor's first free slot.
//
// idle and storm take their accounts from a -clients file ("TOKEN APPT"
// per line, as /work/shared/bench/seed.py writes) and print one JSON line
// (see sockets.go):
//
//	loadtest -scenario idle -url http://127.0.0.1:18080 -clients clients.txt -n 15000 -pid PID -hold 30s
//	loadtest -scenario storm -url http://127.0.0.1:18080 -clients clients.txt -n 10000 -pid PID
//
// scripts/bench-sockets.sh runs both against a throwaway server.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"teleconsult/realtime/sioclient"
)

type config struct {
	url, adminEmail, adminPassword string
	rooms                          int
	rate                           float64
	duration                       time.Duration
}

func main() {
	var c config
	var sc sockConfig
	scenario := flag.String("scenario", "chat", "chat (rooms that chat, set up through REST) | idle (hold authenticated sockets, report server RSS per socket) | storm (drop every connection at once, reconnect all)")
	flag.StringVar(&sc.clients, "clients", "", "idle/storm: file of \"TOKEN APPT\" lines (seed.py's output)")
	flag.IntVar(&sc.n, "n", 1000, "idle/storm: sockets (the first n lines of -clients)")
	flag.IntVar(&sc.pid, "pid", 0, "idle/storm: server PID, to read its VmRSS from /proc")
	flag.StringVar(&sc.gcURL, "gc-url", "", "idle: URL whose GET makes the server collect garbage before an RSS reading, e.g. http://127.0.0.1:6061/debug/pprof/heap?gc=1 (PPROF_ADDR)")
	flag.BoolVar(&sc.join, "join", false, "idle: also join each socket's consultation")
	flag.DurationVar(&sc.hold, "hold", 30*time.Second, "idle: how long to hold the sockets before the final reading")
	flag.DurationVar(&sc.settle, "settle", 3*time.Second, "storm: pause between the last join and the drop")
	flag.StringVar(&sc.drop, "drop", "rst", "storm: how connections are dropped: rst (SO_LINGER 0, a network failure) or fin (plain close); never a Socket.IO or WebSocket goodbye")
	flag.IntVar(&sc.stormInflight, "storm-inflight", 0, "storm: most reconnects in progress at once (0: every socket reconnects at once)")
	flag.DurationVar(&sc.jitter, "jitter", 0, "storm: spread reconnect starts evenly over this (0: all immediately)")
	flag.IntVar(&sc.ramp, "ramp", 2000, "idle/storm: initial connections started per second (0: unpaced)")
	flag.IntVar(&sc.inflight, "inflight", 256, "idle/storm: most initial handshakes in progress at once")
	flag.StringVar(&sc.srcIPs, "src-ips", "", "idle/storm: loopback source addresses to spread sockets over, e.g. 127.0.0.1-127.0.0.8 or 127.0.0.2,127.0.0.3 (one address has ~28k ephemeral ports)")
	flag.DurationVar(&sc.timeout, "timeout", 30*time.Second, "idle/storm: bound on one socket's handshake (+join+sync)")
	flag.DurationVar(&sc.maxTime, "max-time", 5*time.Minute, "idle/storm: bound on the whole run")
	flag.Float64Var(&sc.target, "target", 0, "idle: KiB of RSS per socket (default 20); storm: seconds until all are back (default 10)")
	flag.StringVar(&sc.label, "label", "", "idle/storm: copied into the JSON line")
	flag.StringVar(&c.url, "url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	flag.StringVar(&c.adminEmail, "admin-email", "admin@demo.teleconsult.app", "admin account that creates the doctors")
	flag.StringVar(&c.adminPassword, "admin-password", "DemoAdmin!2026", "its password")
	flag.IntVar(&c.rooms, "rooms", 20, "consultation rooms (two sockets each)")
	flag.Float64Var(&c.rate, "rate", 2, "messages per second per socket")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "how long to send (at most 10m)")
	flag.Parse()
	var err error
	switch *scenario {
	case "chat":
		err = run(context.Background(), c)
	case "idle", "storm":
		sc.url = c.url
		if sc.target == 0 {
			sc.target = map[string]float64{"idle": 20, "storm": 10}[*scenario]
		}
		err = runSockets(*scenario, sc)
	default:
		err = fmt.Errorf("unknown -scenario %q (chat, idle or storm)", *scenario)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	if err := loopbackOnly(c.url); err != nil {
		return err
	}
	if c.duration <= 0 || c.duration > 10*time.Minute || c.rooms < 1 || c.rooms > 5000 || c.rate <= 0 || c.rate > 100 {
		return errors.New("keep -duration within (0, 10m], -rooms within 1..5000 and -rate within (0, 100]")
	}
	api := &client{base: c.url + "/api/v1"}
	admin, err := api.login(ctx, c.adminEmail, c.adminPassword)
	if err != nil {
		return fmt.Errorf("admin login: %w", err)
	}
	slog.Info("setting up rooms", "rooms", c.rooms)
	type room struct{ id, patientTok, doctorTok string }
	rooms := make([]room, c.rooms)
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	for i := range rooms {
		pw := "load-test-password-1"
		docEmail := fmt.Sprintf("load-doc-%s-%d@example.com", run, i)
		if err := api.do(ctx, admin, "POST", "/admin/users", map[string]any{"email": docEmail, "password": pw, "name": fmt.Sprintf("Load Doctor %d", i),
			"role": "doctor", "specialty": "Load testing", "time_zone": "UTC"}, nil); err != nil {
			return fmt.Errorf("create doctor: %w", err)
		}
		docTok, err := api.login(ctx, docEmail, pw)
		if err != nil {
			return err
		}
		rules := []map[string]any{}
		for d := range 7 {
			rules = append(rules, map[string]any{"weekday": d, "start": "00:00", "end": "24:00"})
		}
		if err := api.do(ctx, docTok, "PUT", "/doctors/me/schedule", map[string]any{"time_zone": "UTC", "slot_minutes": 30, "rules": rules}, nil); err != nil {
			return fmt.Errorf("schedule: %w", err)
		}
		patEmail := fmt.Sprintf("load-pat-%s-%d@example.com", run, i)
		if err := api.do(ctx, "", "POST", "/auth/register", map[string]any{"email": patEmail, "password": pw, "name": fmt.Sprintf("Load Patient %d", i)}, nil); err != nil {
			return fmt.Errorf("register: %w", err)
		}
		patTok, err := api.login(ctx, patEmail, pw)
		if err != nil {
			return err
		}
		var me struct {
			User struct{ ID string } `json:"user"`
		}
		if err := api.do(ctx, docTok, "GET", "/me", nil, &me); err != nil {
			return err
		}
		var slots struct {
			Items []struct {
				StartsAt string `json:"starts_at"`
			}
		}
		if err := api.do(ctx, patTok, "GET", "/doctors/"+me.User.ID+"/slots", nil, &slots); err != nil || len(slots.Items) == 0 {
			return fmt.Errorf("slots: %v (%d)", err, len(slots.Items))
		}
		var appt struct{ ID string }
		if err := api.do(ctx, patTok, "POST", "/appointments", map[string]any{"doctor_id": me.User.ID, "starts_at": slots.Items[0].StartsAt}, &appt); err != nil {
			return fmt.Errorf("book: %w", err)
		}
		rooms[i] = room{appt.ID, patTok, docTok}
	}

	var connects []time.Duration
	var mu sync.Mutex
	var clients []*sioclient.Client
	defer func() {
		for _, cl := range clients {
			_ = cl.Close()
		}
	}()
	dial := func(tok, apptID string) (*sioclient.Client, error) {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		t0 := time.Now()
		cl, err := sioclient.Dial(dctx, c.url, sioclient.Options{Auth: map[string]any{"token": tok}})
		if err != nil {
			return nil, err
		}
		if _, err := cl.Ack(dctx, "consultation:join", map[string]any{"appointment_id": apptID}); err != nil {
			return nil, err
		}
		mu.Lock()
		connects = append(connects, time.Since(t0))
		clients = append(clients, cl)
		mu.Unlock()
		return cl, nil
	}
	type sender struct {
		cl     *sioclient.Client
		apptID string
	}
	var senders []sender
	for _, r := range rooms {
		for _, tok := range []string{r.patientTok, r.doctorTok} {
			cl, err := dial(tok, r.id)
			if err != nil {
				return fmt.Errorf("connect: %w", err)
			}
			senders = append(senders, sender{cl, r.id})
		}
	}
	slog.Info("sending", "sockets", len(senders), "rate_per_socket", c.rate, "duration", c.duration)

	var acked, failed atomic.Int64
	var lats []time.Duration
	var latMu sync.Mutex
	stop := time.Now().Add(c.duration)
	start := time.Now()
	var wg sync.WaitGroup
	for si, s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the senders over the period so they do not all fire at once.
			period := time.Duration(float64(time.Second) / c.rate)
			time.Sleep(period * time.Duration(si) / time.Duration(len(senders)))
			tick := time.NewTicker(period)
			defer tick.Stop()
			for n := 0; time.Now().Before(stop); n++ {
				<-tick.C
				actx, cancel := context.WithTimeout(ctx, 10*time.Second)
				t0 := time.Now()
				raw, err := s.cl.Ack(actx, "chat:send", map[string]any{"appointment_id": s.apptID,
					"client_msg_id": fmt.Sprintf("load-%d-%d", si, n), "text": "load test message"})
				cancel()
				if err != nil || !bytes.Contains(raw, []byte(`"ok":true`)) {
					failed.Add(1)
					continue
				}
				acked.Add(1)
				latMu.Lock()
				lats = append(lats, time.Since(t0))
				latMu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	time.Sleep(500 * time.Millisecond) // let the last broadcasts arrive
	delivered := 0
	for _, s := range senders {
		delivered += s.cl.Count("chat:message")
	}
	slices.Sort(lats)
	slices.Sort(connects)
	pct := func(d []time.Duration, p float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		return d[min(len(d)-1, int(float64(len(d))*p))]
	}
	fmt.Printf("rooms %d, sockets %d, %.0fs\n", c.rooms, len(senders), elapsed.Seconds())
	fmt.Printf("connect+join: p50 %v, p99 %v\n", pct(connects, .5), pct(connects, .99))
	fmt.Printf("acked %d (%.0f msgs/s), failed %d\n", acked.Load(), float64(acked.Load())/elapsed.Seconds(), failed.Load())
	fmt.Printf("ack latency: p50 %v, p95 %v, p99 %v, max %v\n", pct(lats, .5), pct(lats, .95), pct(lats, .99), pct(lats, 1))
	fmt.Printf("chat:message delivered to the other member: %d of %d\n", delivered, acked.Load())
	if failed.Load() > 0 || int64(delivered) != acked.Load() {
		return errors.New("some messages were not acknowledged or not delivered")
	}
	return nil
}

// loopbackOnly refuses a base URL that is not on this machine.
func loopbackOnly(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("refusing to load %s: only loopback servers", u.Host)
	}
	return nil
}

type client struct{ base string }

func (c *client) login(ctx context.Context, email, password string) (string, error) {
	var s struct {
		AccessToken string `json:"access_token"`
	}
	err := c.do(ctx, "", "POST", "/auth/login", map[string]any{"email": email, "password": password}, &s)
	return s.AccessToken, err
}

func (c *client) do(ctx context.Context, token, method, path string, body, out any) error {
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.NewDecoder(res.Body).Decode(&e)
		return fmt.Errorf("%s %s: %d %s %s", method, path, res.StatusCode, e.Error.Code, e.Error.Message)
	}
	if out != nil {
		return json.NewDecoder(res.Body).Decode(out)
	}
	return nil
}
