// Package modeltest gives tests real databases: a fresh Postgres database
// (dropped afterwards) or a fresh SQLite file, both migrated, and the URL of
// a reachable Redis. Nothing is mocked; when a service cannot be reached the
// test fails with instructions instead of skipping.
package modeltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for admin statements

	"teleconsult/database"
)

// DefaultPostgresURL is used when TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// DefaultRedisURL is used when TEST_REDIS_URL is unset.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

const pgHelp = `Postgres is not reachable at %s (%v).
Tests need a real Postgres. Start the local one:
    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
or point TEST_DATABASE_URL at a server where the user may CREATE DATABASE.`

const redisHelp = `Redis is not reachable at %s (%v).
Tests need a real Redis. Start one:
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
or point TEST_REDIS_URL at one.`

// PostgresURL returns the admin URL of the test Postgres server.
func PostgresURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// RedisURL returns the URL of a reachable Redis or fails the test.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		u = DefaultRedisURL
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	c, err := net.DialTimeout("tcp", pu.Host, 3*time.Second)
	if err != nil {
		t.Fatalf(redisHelp, u, err)
	}
	_ = c.Close()
	return u
}

// NewPostgresURL creates a fresh, empty database and returns its URL; the
// database is dropped when the test ends.
func NewPostgresURL(t testing.TB) string {
	t.Helper()
	admin := PostgresURL()
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf(pgHelp, admin, err)
	}
	t.Cleanup(func() { _ = adb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := adb.PingContext(ctx); err != nil {
		t.Fatalf(pgHelp, admin, err)
	}
	name := "tc_test_" + randomHex(6)
	if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := adb.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}

// NewPostgres returns a migrated database on a fresh Postgres database.
func NewPostgres(t testing.TB) *database.DB {
	t.Helper()
	return open(t, database.Config{URL: NewPostgresURL(t), MaxOpenConns: 20})
}

// NewSQLite returns a migrated database on a fresh SQLite file.
func NewSQLite(t testing.TB) *database.DB {
	t.Helper()
	return open(t, database.Config{DataDir: t.TempDir()})
}

// Drivers lists the database constructors, for tests that run on both.
var Drivers = []struct {
	Name string
	Open func(testing.TB) *database.DB
}{
	{"postgres", NewPostgres},
	{"sqlite", NewSQLite},
}

func open(t testing.TB, cfg database.Config) *database.DB {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	db, err := database.Open(ctx, cfg, log)
	if err != nil {
		if cfg.URL != "" {
			t.Fatalf(pgHelp, redact(cfg.URL), err)
		}
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx, log); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

func redact(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return pu.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}

// UniqueName returns a short random name with prefix, for Redis keys and the like.
func UniqueName(prefix string) string { return fmt.Sprintf("%s%s", prefix, randomHex(6)) }
