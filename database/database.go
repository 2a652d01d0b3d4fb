// Package database opens the GORM connection (Postgres, or the embedded
// pure-Go SQLite when no URL is given) and applies the schema migrations.
package database

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"teleconsult/migrations"
)

// Config selects and tunes the database.
type Config struct {
	// URL is a Postgres URL; empty selects SQLite in DataDir.
	URL string
	// DataDir holds the SQLite file when URL is empty.
	DataDir         string
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	// SlowQuery logs queries slower than this; zero disables.
	SlowQuery time.Duration
}

// DB is an open database with its dialect.
type DB struct {
	*gorm.DB
	Dialect migrations.Dialect
}

// Open connects and checks the connection. It does not migrate.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*DB, error) {
	gcfg := &gorm.Config{
		Logger:                 newLogger(log, cfg.SlowQuery),
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true,
		TranslateError:         true,
	}
	var (
		g       *gorm.DB
		err     error
		dialect migrations.Dialect
	)
	if cfg.URL == "" {
		dir := cfg.DataDir
		if dir == "" {
			dir = "data"
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create DATA_DIR %s: %w", dir, err)
		}
		dsn := "file:" + filepath.Join(dir, "teleconsult.db") +
			"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		g, err = gorm.Open(sqlite.Open(dsn), gcfg)
		dialect = migrations.SQLite
	} else {
		if !strings.HasPrefix(cfg.URL, "postgres://") && !strings.HasPrefix(cfg.URL, "postgresql://") {
			return nil, fmt.Errorf("DATABASE_URL must be a postgres:// URL")
		}
		g, err = gorm.Open(postgres.Open(cfg.URL), gcfg)
		dialect = migrations.Postgres
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	if dialect == migrations.SQLite {
		// SQLite allows one writer; a small pool with immediate transactions
		// queues writers on busy_timeout instead of failing them.
		sqlDB.SetMaxOpenConns(4)
	} else if cfg.MaxOpenConns > 0 {
		sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
	}
	if cfg.MaxIdleConns > 0 {
		sqlDB.SetMaxIdleConns(cfg.MaxIdleConns)
	}
	if cfg.ConnMaxLifetime > 0 {
		sqlDB.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &DB{DB: g, Dialect: dialect}, nil
}

// Migrate applies pending migrations and returns how many ran.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) (int, error) {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return 0, err
	}
	return migrations.Up(ctx, sqlDB, db.Dialect, log)
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close releases the connection pool.
func (db *DB) Close() error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

func newLogger(log *slog.Logger, slow time.Duration) logger.Interface {
	if slow <= 0 {
		return logger.Discard
	}
	return logger.NewSlogLogger(log, logger.Config{SlowThreshold: slow, LogLevel: logger.Warn, IgnoreRecordNotFoundError: true})
}
