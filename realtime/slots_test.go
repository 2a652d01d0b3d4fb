package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/realtime"
	"teleconsult/realtime/sioclient"
)

// Connections dropped abruptly, at every moment of the handshake, never
// leave a place taken nor the connected gauge off: afterwards the user
// still opens SOCKET_MAX_PER_USER sockets, and the gauge counts them.
func TestAbruptDisconnectsNeverLeakSlots(t *testing.T) {
	const maxPerUser = 8
	reg := prometheus.NewRegistry()
	r := newRig(t, modeltest.NewPostgres(t), func(o *realtime.Options) {
		o.Registry, o.MaxPerUser = reg, maxPerUser
		o.EventRate, o.EventBurst = 1e6, 1e6
	})
	u := modeltest.MustUser(t, r.P, models.RolePatient, modeltest.UniqueName("slots")+"@example.com")
	tok := modeltest.MustToken(t, r.P, u)
	c := r.people(models.StatusBooked)

	// Watch the gauge while the connections come and go.
	var lowest atomic.Int64
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			if v, err := gauge(reg, "teleconsult_sockets_connected"); err == nil && int64(v) < lowest.Load() {
				lowest.Store(int64(v))
			}
			select {
			case <-stopWatch:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()

	const cycles, workers = 800, 8
	var wg sync.WaitGroup
	var refused, reset, failed atomic.Int64
	errs := make(chan error, cycles)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < cycles; i += workers {
				var err error
				switch i % 4 {
				case 0: // connected, then the network goes
					err = dialAndAbort(r, tok, false)
				case 1: // an event on its way, then the network goes
					err = dialAndAbort(r, c.PatientT, true)
				case 2: // gone somewhere in the middle of the handshake
					err = abortHandshake(r.URL, tok, 0, time.Duration(rand.IntN(3000))*time.Microsecond)
				default: // events queued behind the CONNECT, gone as soon as it is acknowledged
					err = abortHandshake(r.URL, tok, 200, -1)
				}
				var ce *sioclient.ConnectError
				switch {
				case errors.As(err, &ce) && ce.Message == models.ERATELIMITED:
					refused.Add(1) // sockets not yet noticed gone count against the cap
				case err != nil && i%4 == 3:
					// Refused at the cap, the server then closes on the queued
					// events of a namespace never joined, and the reset
					// discards its answer before it is read.
					reset.Add(1)
				case err != nil:
					failed.Add(1)
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Log(err)
	}
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d cycles failed", n, cycles)
	}
	// The server notices every drop.
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := gauge(reg, "teleconsult_sockets_connected")
		if err != nil {
			t.Fatal(err)
		}
		if v == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v sockets counted connected after every connection dropped", v)
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stopWatch)
	<-watched
	t.Logf("%d cycles, %d refused at the cap while drops were being noticed, %d reset", cycles, refused.Load(), reset.Load())
	if l := lowest.Load(); l < 0 {
		t.Fatalf("the connected gauge went down to %d", l)
	}
	for i := range maxPerUser {
		if _, err := r.tryDial(tok); err != nil {
			t.Fatalf("socket %d of %d after the drops: %v", i+1, maxPerUser, err)
		}
	}
	var ce *sioclient.ConnectError
	if _, err := r.tryDial(tok); !errors.As(err, &ce) || ce.Message != models.ERATELIMITED {
		t.Fatalf("socket %d over the cap: %v", maxPerUser+1, err)
	}
	if v, err := gauge(reg, "teleconsult_sockets_connected"); err != nil || v != maxPerUser {
		t.Fatalf("gauge %v (%v), want %d", v, err, maxPerUser)
	}
}

// dialAndAbort connects and drops the connection (after sending an event
// without waiting, when busy).
func dialAndAbort(r *rig, tok string, busy bool) error {
	cl, err := r.tryDial(tok)
	if err != nil {
		return err
	}
	if busy {
		_ = cl.Emit("chat:typing", map[string]any{"appointment_id": "x", "typing": true})
	}
	return cl.Abort()
}

// abortHandshake opens a WebSocket, asks for the namespace connection,
// sends burst events right behind it (the server holds them until the
// connection is set up, then delivers them in order), and drops the
// connection after wait, answered or not, or (wait < 0) as soon as the
// connection is acknowledged.
func abortHandshake(base, tok string, burst int, wait time.Duration) error {
	u, _ := url.Parse(base)
	u.Scheme, u.Path, u.RawQuery = "ws", "/socket.io/", "EIO=4&transport=websocket"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, u.String(), nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, msg, err := conn.ReadMessage(); err != nil || len(msg) == 0 || msg[0] != '0' {
		return errors.New("no open packet")
	}
	auth, _ := json.Marshal(map[string]any{"token": tok})
	if err := conn.WriteMessage(websocket.TextMessage, append([]byte("40"), auth...)); err != nil {
		return err
	}
	for range burst {
		if err := conn.WriteMessage(websocket.TextMessage, []byte(`42["chat:typing",{"appointment_id":"x","typing":true}]`)); err != nil {
			return err
		}
	}
	if wait >= 0 {
		time.Sleep(wait)
		return nil
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		if s := string(msg); strings.HasPrefix(s, "40") {
			return nil
		} else if strings.HasPrefix(s, "44") {
			var ce sioclient.ConnectError
			_ = json.Unmarshal(msg[2:], &ce)
			return &ce
		}
	}
}
