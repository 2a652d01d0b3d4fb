package realtime_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/realtime"
)

// The official JavaScript client (socket.io-client 4.x) connects, joins,
// sends and receives against this server, over WebSocket and over
// polling upgraded to WebSocket.
func TestJavaScriptClientCompat(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: the compatibility check runs the official socket.io-client under Node 20+")
	}
	dir, _ := filepath.Abs("compat")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io-client")); err != nil {
		t.Fatalf("socket.io-client is not installed: run `npm ci` in %s (make test does)", dir)
	}
	r := newRig(t, modeltest.NewPostgres(t), func(o *realtime.Options) { o.RecoveryWindow = time.Minute })
	c := r.people(models.StatusBooked)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "compat.mjs", r.URL, c.PatientT, c.DoctorT, c.Appt.ID)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	t.Logf("socket.io-client:\n%s", out)
	if err != nil {
		t.Fatalf("the JavaScript client check failed: %v", err)
	}
}
