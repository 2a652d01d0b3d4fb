package modeltest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v84/webhook"

	"teleconsult/payments/stripe"
)

// StripeMockVersion is the stripe-mock (Stripe's official API mock) the
// tests run against; .ci/run and `make test` install it.
const StripeMockVersion = "v0.203.0"

// WebhookSecret signs the test webhooks.
const WebhookSecret = "whsec_test_teleconsult"

var stripeMockAddr = regexp.MustCompile(`Listening for HTTP at address: (\S+)`)

// StripeMockServer is a stripe-mock process of one test.
type StripeMockServer struct {
	t    testing.TB
	bin  string
	addr string
	cmd  *exec.Cmd
	// URL is the API base URL (http://127.0.0.1:port).
	URL string
}

// StripeMock starts stripe-mock on a loopback port for the test; it is
// stopped when the test ends.
func StripeMock(t testing.TB) *StripeMockServer {
	t.Helper()
	bin, err := exec.LookPath("stripe-mock")
	if err != nil {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, _ := os.UserHomeDir()
			gopath = filepath.Join(home, "go")
		}
		bin = filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "bin", "stripe-mock")
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("stripe-mock not found; install it with: go install github.com/stripe/stripe-mock@%s", StripeMockVersion)
		}
	}
	m := &StripeMockServer{t: t, bin: bin, addr: "127.0.0.1:0"}
	m.Start()
	t.Cleanup(m.Stop)
	return m
}

// Start runs the mock (again, on the same port after Stop).
func (m *StripeMockServer) Start() {
	m.t.Helper()
	cmd := exec.Command(m.bin, "-http-addr", m.addr, "-https-addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		m.t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		m.t.Fatalf("start stripe-mock: %v", err)
	}
	m.cmd = cmd
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if g := stripeMockAddr.FindStringSubmatch(sc.Text()); g != nil {
				select {
				case addr <- g[1]:
				default:
				}
			}
		}
	}()
	select {
	case a := <-addr:
		m.addr, m.URL = a, "http://"+a
	case <-time.After(30 * time.Second):
		m.Stop()
		m.t.Fatal("stripe-mock did not start within 30 s")
	}
}

// Stop ends the process (Stripe is down until Start).
func (m *StripeMockServer) Stop() {
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Kill()
	_ = m.cmd.Wait()
	m.cmd = nil
}

// StripeEvent is a PaymentIntent event as Stripe sends it, signed with
// WebhookSecret at the given time: its body and its Stripe-Signature header.
func StripeEvent(t testing.TB, id, typ, intentID, paymentID string, amount int64, at time.Time) ([]byte, string) {
	t.Helper()
	intent := map[string]any{"id": intentID, "object": "payment_intent", "amount": amount, "currency": "eur",
		"status":   map[bool]string{true: "succeeded", false: "requires_payment_method"}[typ == "payment_intent.succeeded"],
		"metadata": map[string]string{"payment_id": paymentID}}
	if typ == "payment_intent.payment_failed" {
		intent["last_payment_error"] = map[string]any{"type": "card_error", "code": "card_declined"}
	}
	body, err := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "api_version": "2025-09-30.clover",
		"created": at.Unix(), "data": map[string]any{"object": intent}})
	if err != nil {
		t.Fatal(err)
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: WebhookSecret, Timestamp: at})
	return body, signed.Header
}

// EventID is a fresh Stripe-like event id.
func EventID() string { return fmt.Sprintf("evt_test_%d", time.Now().UnixNano()) }

// StripeProvider is the Stripe provider talking to the mock at baseURL,
// verifying webhooks signed with WebhookSecret.
func StripeProvider(t testing.TB, baseURL string) *stripe.Provider {
	t.Helper()
	p, err := stripe.New(stripe.Config{SecretKey: "sk_test_teleconsult", WebhookSecret: WebhookSecret, APIBase: baseURL,
		Timeout: 5 * time.Second, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
