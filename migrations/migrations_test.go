package migrations_test

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"teleconsult/database"
	"teleconsult/modeltest"
)

// databases are a fresh database of each kind.
var databases = []struct {
	name string
	cfg  func(t *testing.T) database.Config
}{
	{"postgres", func(t *testing.T) database.Config { return database.Config{URL: modeltest.NewPostgresURL(t)} }},
	{"sqlite", func(t *testing.T) database.Config { return database.Config{DataDir: t.TempDir()} }},
}

func TestUpOnEmptyDatabaseThenNoop(t *testing.T) {
	files, _ := filepath.Glob("sql/*.sql")
	if len(files) == 0 {
		t.Fatal("no migration files")
	}
	for _, tc := range databases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			log := slog.New(slog.DiscardHandler)
			db, err := database.Open(ctx, tc.cfg(t), log)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			n, err := db.Migrate(ctx, log)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(files) {
				t.Fatalf("applied %d migrations, want %d", n, len(files))
			}
			again, err := db.Migrate(ctx, log)
			if err != nil || again != 0 {
				t.Fatalf("second migrate applied %d (err %v), want 0", again, err)
			}
			// The schema is usable: the tables of the first migration exist.
			for _, table := range []string{"users", "refresh_tokens", "appointments", "audit_entries"} {
				if !db.Migrator().HasTable(table) {
					t.Errorf("table %s missing", table)
				}
			}
		})
	}
}

func TestMigrationFilesAreNumberedOnce(t *testing.T) {
	seen := map[string]string{}
	err := fs.WalkDir(osDir("sql"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		v := p[:5]
		if prev, dup := seen[v]; dup {
			t.Errorf("version %s used by %s and %s", v, prev, p)
		}
		seen[v] = p
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func osDir(p string) fs.FS { return os.DirFS(p) }
