// Package migrations holds the versioned schema history and applies it with
// goose. One set of SQL files serves Postgres and SQLite: the files are
// written for Postgres, and the few type names SQLite spells differently are
// translated when the files are read (see sqliteTypes), so both databases
// share one numbered history.
package migrations

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"testing/fstest"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed sql/*.sql
var files embed.FS

// Dialect names the database flavour a migration runs against.
type Dialect string

// Supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Up applies every migration that has not run yet and returns how many ran.
// Running it again is a no-op.
func Up(ctx context.Context, db *sql.DB, dialect Dialect, log *slog.Logger) (int, error) {
	p, err := provider(db, dialect, log)
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate up: %w", err)
	}
	for _, r := range res {
		log.InfoContext(ctx, "migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return len(res), nil
}

// Version returns the newest applied version.
func Version(ctx context.Context, db *sql.DB, dialect Dialect) (int64, error) {
	p, err := provider(db, dialect, slog.New(slog.DiscardHandler))
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

func provider(db *sql.DB, dialect Dialect, log *slog.Logger) (*goose.Provider, error) {
	sub, err := fs.Sub(files, "sql")
	if err != nil {
		return nil, err
	}
	gd := goose.DialectPostgres
	var fsys fs.FS = sub
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true), goose.WithSlog(log)}
	if dialect == Postgres {
		// Nodes starting together take turns: an advisory lock serialises them.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	if dialect == SQLite {
		gd = goose.DialectSQLite3
		if fsys, err = translate(sub); err != nil {
			return nil, err
		}
	}
	return goose.NewProvider(gd, db, fsys, opts...)
}

// sqliteTypes maps Postgres type names to the names that SQLite and its Go
// driver understand (the driver parses TIMESTAMP columns back into time.Time).
var sqliteTypes = [][2]string{
	{"TIMESTAMPTZ", "TIMESTAMP"},
	{"JSONB", "TEXT"},
	{"BYTEA", "BLOB"},
}

// translate returns an in-memory copy of fsys with the SQLite type names.
func translate(fsys fs.FS) (fs.FS, error) {
	out := fstest.MapFS{}
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		for _, r := range sqliteTypes {
			b = bytes.ReplaceAll(b, []byte(r[0]), []byte(r[1]))
		}
		out[path] = &fstest.MapFile{Data: b, Mode: 0o444}
		return nil
	})
	return out, err
}
