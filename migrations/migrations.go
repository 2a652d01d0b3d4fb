// Package migrations holds the versioned schema history and applies it with
// goose. One set of SQL files serves Postgres and SQLite: the files are
// written for Postgres, and the few type names SQLite spells differently are
// translated when the files are read (see sqliteTypes), so both databases
// share one numbered history. The rare statement one database cannot run
// (SQLite cannot alter a CHECK constraint, only rebuild the table) sits
// between "-- +only postgres" or "-- +only sqlite" and "-- +only end"; the
// other database skips those lines.
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
	fsys, err := translate(sub, dialect)
	if err != nil {
		return nil, err
	}
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

// translate returns an in-memory copy of fsys for dialect: without the
// other database's "-- +only" blocks and, for SQLite, with its type names.
func translate(fsys fs.FS, dialect Dialect) (fs.FS, error) {
	out := fstest.MapFS{}
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		if b, err = onlyFor(b, dialect); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if dialect == SQLite {
			for _, r := range sqliteTypes {
				b = bytes.ReplaceAll(b, []byte(r[0]), []byte(r[1]))
			}
		}
		out[path] = &fstest.MapFile{Data: b, Mode: 0o444}
		return nil
	})
	return out, err
}

// onlyFor drops the lines of the blocks meant for another dialect.
func onlyFor(b []byte, dialect Dialect) ([]byte, error) {
	var out [][]byte
	var in Dialect // the block being read ("" outside blocks)
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		mark, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("-- +only "))
		if !ok {
			if in == "" || in == dialect {
				out = append(out, line)
			}
			continue
		}
		switch d := Dialect(bytes.TrimSpace(mark)); {
		case d == "end" && in != "":
			in = ""
		case (d == Postgres || d == SQLite) && in == "":
			in = d
		default:
			return nil, fmt.Errorf("misplaced %q", bytes.TrimSpace(line))
		}
	}
	if in != "" {
		return nil, fmt.Errorf("block for %s not ended", in)
	}
	return bytes.Join(out, nil), nil
}
