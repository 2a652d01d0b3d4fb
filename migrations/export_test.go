package migrations

import (
	"context"
	"database/sql"
	"io/fs"
	"log/slog"
)

// UpTo applies the migrations up to version, for upgrade tests.
func UpTo(ctx context.Context, db *sql.DB, dialect Dialect, version int64) error {
	p, err := provider(db, dialect, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// CheckFiles reads every file as dialect would.
func CheckFiles(dialect Dialect) error {
	sub, err := fs.Sub(files, "sql")
	if err != nil {
		return err
	}
	_, err = translate(sub, dialect)
	return err
}

// OnlyFor exposes the dialect blocks' filter.
var OnlyFor = onlyFor
