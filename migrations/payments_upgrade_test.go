package migrations_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"teleconsult/database"
	"teleconsult/migrations"
)

func TestEveryFileReadsOnBothDatabases(t *testing.T) {
	// A file whose "-- +only" block is not ended, or nested, is refused.
	for _, d := range []migrations.Dialect{migrations.Postgres, migrations.SQLite} {
		if err := migrations.CheckFiles(d); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}

// An existing clinic upgrades in place: appointments, their messages and
// their notifications survive the rebuild that admits pending_payment, and
// the double-booking index then counts held slots.
func TestPaymentsMigrationKeepsAppointmentsAndTheirRooms(t *testing.T) {
	for _, tc := range databases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := database.Open(ctx, tc.cfg(t), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			sqlDB, err := db.DB.DB()
			if err != nil {
				t.Fatal(err)
			}
			if err := migrations.UpTo(ctx, sqlDB, db.Dialect, 10); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			start := now.Add(48 * time.Hour).Truncate(time.Hour)
			exec := func(q string, args ...any) {
				t.Helper()
				if err := db.DB.Exec(q, args...).Error; err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			for _, id := range []string{"doc", "pat", "pat2"} {
				exec(`INSERT INTO users (id, email, password_hash, name, role, created_at, updated_at) VALUES (?, ?, 'x', ?, ?, ?, ?)`,
					id, id+"@example.test", id, map[bool]string{true: "doctor", false: "patient"}[id == "doc"], now, now)
			}
			exec(`INSERT INTO appointments (id, doctor_id, patient_id, starts_at, ends_at, status, created_at, updated_at) VALUES ('a1', 'doc', 'pat', ?, ?, 'booked', ?, ?)`,
				start, start.Add(30*time.Minute), now, now)
			exec(`INSERT INTO messages (id, appointment_id, seq, sender_id, text, client_msg_id, created_at) VALUES ('m1', 'a1', 1, 'pat', 'hello', 'c1', ?)`, now)

			if _, err := db.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
				t.Fatal(err)
			}
			var n int64
			db.DB.Raw(`SELECT count(*) FROM messages m JOIN appointments a ON a.id = m.appointment_id WHERE a.status = 'booked'`).Scan(&n)
			if n != 1 {
				t.Fatalf("the appointment and its message did not survive: %d joined rows", n)
			}
			// A hold is a status now, and it takes the slot.
			err = db.DB.Exec(`INSERT INTO appointments (id, doctor_id, patient_id, starts_at, ends_at, status, created_at, updated_at) VALUES ('a2', 'doc', 'pat2', ?, ?, 'pending_payment', ?, ?)`,
				start.Add(time.Hour), start.Add(90*time.Minute), now, now).Error
			if err != nil {
				t.Fatalf("pending_payment refused: %v", err)
			}
			err = db.DB.Exec(`INSERT INTO appointments (id, doctor_id, patient_id, starts_at, ends_at, status, created_at, updated_at) VALUES ('a3', 'doc', 'pat', ?, ?, 'booked', ?, ?)`,
				start.Add(time.Hour), start.Add(90*time.Minute), now, now).Error
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "unique") && !strings.Contains(err.Error(), "duplicated key") {
				t.Fatalf("a held slot was booked again: %v", err)
			}
			// The foreign keys still hold after the rebuild.
			if err := db.DB.Exec(`INSERT INTO messages (id, appointment_id, seq, sender_id, text, client_msg_id, created_at) VALUES ('m2', 'nope', 1, 'pat', 'x', 'c2', ?)`, now).Error; err == nil {
				t.Fatal("a message for no appointment was accepted")
			}
		})
	}
}

func TestOnlyBlocksAreCheckedAndDropped(t *testing.T) {
	for _, bad := range []string{"-- +only sqlite\nX;\n", "-- +only end\n", "-- +only sqlite\n-- +only postgres\n-- +only end\n", "-- +only mysql\n-- +only end\n"} {
		if _, err := migrations.OnlyFor([]byte(bad), migrations.SQLite); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	src := "A;\n-- +only postgres\nB;\n-- +only end\n-- +only sqlite\nC;\n-- +only end\nD;\n"
	for d, want := range map[migrations.Dialect]string{migrations.Postgres: "A;\nB;\nD;\n", migrations.SQLite: "A;\nC;\nD;\n"} {
		got, err := migrations.OnlyFor([]byte(src), d)
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", d, got, err, want)
		}
	}
}
