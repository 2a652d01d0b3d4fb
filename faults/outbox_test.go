package faults_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"teleconsult/faults"
)

// The process is killed between the commit of a change and the delivery of
// what it raised: after a restart the notification still arrives, stored
// once and pushed once.
func TestOutboxSurvivesAKilledProcess(t *testing.T) {
	pg := faults.StartPostgres(t)
	rd := faults.StartRedis(t)
	admin := []string{"ADMIN_EMAIL=root@example.com", "ADMIN_PASSWORD=" + password}
	a := startServer(t, pg, rd, admin...)
	a.register(t, "pat@example.com")
	adminTok, _ := a.login("root@example.com", password).Body["access_token"].(string)

	db, err := sql.Open("pgx", pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	// Delivery cannot happen while this trigger stands: the change commits,
	// its event waits in the outbox.
	if _, err := db.ExecContext(ctx, `CREATE FUNCTION block_notifications() RETURNS trigger AS $$
		BEGIN RAISE EXCEPTION 'notifications are blocked by the test'; END $$ LANGUAGE plpgsql;
		CREATE TRIGGER block BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION block_notifications();`); err != nil {
		t.Fatal(err)
	}
	if r := a.do(t, "POST", "/api/v1/admin/announcements", adminTok, map[string]any{"title": "Closed on Friday", "body": "The clinic is closed.", "audience": "patients"}); r.Status != 202 {
		t.Fatalf("announce: %d %s", r.Status, r.Raw)
	}
	eventually(t, "a failed delivery attempt", 10*time.Second, func() error {
		var attempts int
		if err := db.QueryRowContext(ctx, `SELECT attempts FROM outbox_events WHERE kind = 'announcement_posted'`).Scan(&attempts); err != nil || attempts == 0 {
			return fmt.Errorf("attempts %d, %v", attempts, err)
		}
		return nil
	})
	a.kill()

	b := startServer(t, pg, rd, admin...)
	patTok, _ := b.login("pat@example.com", password).Body["access_token"].(string)
	live, err := b.dial(patTok)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = live.Close() })
	if _, err := db.ExecContext(ctx, `DROP TRIGGER block ON notifications`); err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	raw, err := live.Next(wait, "notification")
	if err != nil {
		t.Fatalf("no notification pushed after the restart: %v\n%s", err, tail(b.logs.String(), 30))
	}
	var n struct{ Kind, Title string }
	_ = json.Unmarshal(raw, &n)
	if n.Kind != "announcement" || n.Title != "Closed on Friday" {
		t.Fatalf("pushed %s", raw)
	}
	time.Sleep(2 * time.Second) // a second delivery would show now
	if c := live.Count("notification"); c != 1 {
		t.Fatalf("pushed %d times, want once", c)
	}
	var stored int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE kind = 'announcement'`).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("stored %d announcements (%v), want exactly one", stored, err)
	}
	var pending int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox_events WHERE done_at IS NULL`).Scan(&pending); err != nil || pending != 0 {
		t.Fatalf("%d events still pending (%v)", pending, err)
	}
}
