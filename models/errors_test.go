package models_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"teleconsult/models"
)

// pgError stands in for a Postgres driver's error (pgconn.PgError,
// pq.Error): all models may know of it is the SQLState method.
type pgError struct{ code string }

func (e *pgError) Error() string    { return "ERROR: something (SQLSTATE " + e.code + ")" }
func (e *pgError) SQLState() string { return e.code }

// refusedDial is a real refused dial: a port nobody listens on.
func refusedDial(t *testing.T) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		_ = c.Close()
		t.Fatalf("dial %s succeeded; want refused", addr)
	}
	return err
}

func TestErrorCodeClassifiesDependencyOutages(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("store: load user: %w", err) }
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"refused dial", wrap(refusedDial(t)), models.EUNAVAILABLE},
		{"network timeout", wrap(timeout), models.EUNAVAILABLE},
		{"connection reset", wrap(reset), models.EUNAVAILABLE},
		{"deadline", wrap(context.DeadlineExceeded), models.EUNAVAILABLE},
		{"bad conn", wrap(driver.ErrBadConn), models.EUNAVAILABLE},
		{"conn done", wrap(sql.ErrConnDone), models.EUNAVAILABLE},
		{"database closed", wrap(errors.New("sql: database is closed")), models.EUNAVAILABLE},
		{"08006 connection failure", wrap(&pgError{"08006"}), models.EUNAVAILABLE},
		{"08001 cannot connect", wrap(&pgError{"08001"}), models.EUNAVAILABLE},
		{"57P01 admin shutdown", wrap(&pgError{"57P01"}), models.EUNAVAILABLE},
		{"57P02 crash shutdown", wrap(&pgError{"57P02"}), models.EUNAVAILABLE},
		{"57P03 cannot connect now", wrap(&pgError{"57P03"}), models.EUNAVAILABLE},
		{"53300 too many connections", wrap(&pgError{"53300"}), models.EUNAVAILABLE},
		{"53100 disk full", wrap(&pgError{"53100"}), models.EUNAVAILABLE},
		{"joined", errors.Join(errors.New("rollback failed"), wrap(&pgError{"57P01"})), models.EUNAVAILABLE},

		{"unique violation", wrap(&pgError{"23505"}), models.EINTERNAL},
		{"undefined table", wrap(&pgError{"42P01"}), models.EINTERNAL},
		{"query canceled by user", wrap(&pgError{"57014"}), models.EINTERNAL},
		{"57P04 dropped database", wrap(&pgError{"57P04"}), models.EINTERNAL},
		{"client went away", wrap(context.Canceled), models.EINTERNAL},
		{"plain", errors.New("boom"), models.EINTERNAL},
		{"connection cut mid-answer", wrap(io.ErrUnexpectedEOF), models.EUNAVAILABLE},
		{"plain eof", wrap(io.EOF), models.EINTERNAL},

		// A domain error says what it means, whatever else is in the chain.
		{"domain error first", wrap(models.Errorf(models.ENOTFOUND, "no such user")), models.ENOTFOUND},
		{"domain error beside an outage", errors.Join(models.Errorf(models.ECONFLICT, "taken"), context.DeadlineExceeded), models.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := models.ErrorCode(tt.err); got != tt.want {
				t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.want)
			}
			if got := models.AsError(tt.err).Code; got != tt.want {
				t.Errorf("AsError(%v).Code = %q, want %q", tt.err, got, tt.want)
			}
			if tt.want != models.EUNAVAILABLE && tt.want != models.EINTERNAL {
				return // Unavailable looks at the cause alone; the domain error wins above
			}
			if got := models.Unavailable(tt.err); got != (tt.want == models.EUNAVAILABLE) {
				t.Errorf("Unavailable(%v) = %v", tt.err, got)
			}
		})
	}
	if models.Unavailable(nil) {
		t.Error("Unavailable(nil) = true")
	}
}

func TestAsErrorUnavailableHidesTheCause(t *testing.T) {
	err := fmt.Errorf("dial tcp 10.0.0.7:5432: %w", &pgError{"57P03"})
	e := models.AsError(err)
	if e.Code != models.EUNAVAILABLE {
		t.Fatalf("code %q", e.Code)
	}
	if e.RetryAfterSeconds <= 0 {
		t.Errorf("RetryAfterSeconds = %d, want a hint", e.RetryAfterSeconds)
	}
	for _, leak := range []string{"10.0.0.7", "5432", "57P03", "dial"} {
		if strings.Contains(e.Message, leak) {
			t.Errorf("message %q exposes %q", e.Message, leak)
		}
	}
	// Each call gets its own value: changing one never changes the next.
	e.Message = "changed"
	if models.AsError(err).Message == "changed" {
		t.Error("AsError shares its unavailable error between calls")
	}
}
