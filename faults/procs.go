// Package faults holds the end-to-end fault tests (databases and Redis
// stopped and restarted under a running server) and the helpers they share
// with other packages' tests: a private redis-server and a private Postgres
// cluster on random ports, each started and stopped by process id. Nothing
// here touches the shared Postgres (5432) or Redis (6379).
package faults

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proc is one run of a server process, stopped by its pid.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func startProc(cmd *exec.Cmd) (*proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop sends sig to the process and waits for it to exit, killing it when
// it does not within the grace period.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := syscall.Kill(p.cmd.Process.Pid, sig); err != nil && err != syscall.ESRCH {
		return err
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.exited:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("pid %d did not exit", p.cmd.Process.Pid)
	}
}

// waitTCP waits until addr accepts connections and check passes, or the
// process exits, or timeout passes.
func waitTCP(p *proc, addr string, timeout time.Duration, check func(net.Conn) bool) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("process exited before %s answered", addr)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err == nil {
			ok := check == nil || check(c)
			_ = c.Close()
			if ok {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer within %s", addr, timeout)
}

// Redis is a private redis-server on a random port.
type Redis struct {
	Port int
	t    testing.TB
	dir  string
	mu   sync.Mutex
	p    *proc
}

// StartRedis starts a redis-server (no persistence) on a random port; it is
// stopped when the test ends.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed; the fault tests start their own (apt-get install redis-server)")
	}
	r := &Redis{Port: FreePort(t), t: t, dir: t.TempDir()}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Logf("stop redis: %v", err)
		}
	})
	r.Start()
	return r
}

// URL is the redis:// URL of the server.
func (r *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.Port) }

// Addr is host:port.
func (r *Redis) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.Port) }

// Start (re)starts the server on its port and waits until it answers PING.
func (r *Redis) Start() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p != nil {
		return
	}
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", r.dir, "--loglevel", "warning")
	log, err := os.OpenFile(filepath.Join(r.dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		r.t.Fatal(err)
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	p, err := startProc(cmd)
	if err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	if err := waitTCP(p, r.Addr(), 10*time.Second, redisPing); err != nil {
		_ = p.stop(syscall.SIGKILL, time.Second)
		b, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
		r.t.Fatalf("redis-server: %v\n%s", err, b)
	}
	r.p = p
}

// Stop kills the server (SIGKILL: an outage, not a shutdown) by its pid.
func (r *Redis) Stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p == nil {
		return nil
	}
	err := r.p.stop(syscall.SIGKILL, 5*time.Second)
	r.p = nil
	return err
}

func redisPing(c net.Conn) bool {
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// Postgres is a private Postgres cluster on a random port, trusting local
// connections as user postgres.
type Postgres struct {
	Port int
	t    testing.TB
	bin  string
	dir  string
	cred *syscall.Credential
	mu   sync.Mutex
	p    *proc
}

// StartPostgres creates a cluster in a temporary directory with initdb and
// starts it on a random port; it is stopped and removed when the test ends.
// As root the cluster runs as the postgres user (initdb refuses root).
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bin := postgresBin()
	if bin == "" {
		t.Fatal("Postgres server binaries (/usr/lib/postgresql/*/bin) are not installed; the fault tests start their own cluster (apt-get install postgresql)")
	}
	pg := &Postgres{Port: FreePort(t), t: t, bin: bin}
	dir, err := os.MkdirTemp("", "tc-faults-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg.dir = dir
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal("running as root without a postgres user to run the cluster as (initdb refuses root)")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	initdb := pg.command(filepath.Join(bin, "initdb"), "-D", pg.dataDir(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if err := pg.Stop(); err != nil {
			t.Logf("stop postgres: %v", err)
		}
	})
	pg.Start()
	return pg
}

// postgresBin returns the newest /usr/lib/postgresql/*/bin holding initdb.
func postgresBin() string {
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(m, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(a))))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(b))))
		return va - vb
	})
	if len(m) == 0 {
		return ""
	}
	return filepath.Dir(m[len(m)-1])
}

func (pg *Postgres) dataDir() string { return filepath.Join(pg.dir, "data") }

func (pg *Postgres) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = pg.dir
	if pg.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	}
	return cmd
}

// URL is the postgres:// URL of the cluster's postgres database.
func (pg *Postgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.Port)
}

// Start (re)starts the postmaster on its port and waits until it accepts
// connections.
func (pg *Postgres) Start() {
	pg.t.Helper()
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if pg.p != nil {
		return
	}
	logPath := filepath.Join(pg.dir, "postgres.log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		pg.t.Fatal(err)
	}
	defer log.Close()
	cmd := pg.command(filepath.Join(pg.bin, "postgres"), "-D", pg.dataDir(), "-p", strconv.Itoa(pg.Port),
		// fsync=off only matters when the machine crashes; commits stay
		// synchronous, so an immediate stop loses nothing committed.
		"-k", pg.dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=100")
	cmd.Stdout, cmd.Stderr = log, log
	p, err := startProc(cmd)
	if err != nil {
		pg.t.Fatalf("start postgres: %v", err)
	}
	if err := pg.waitReady(p, 30*time.Second); err != nil {
		_ = p.stop(syscall.SIGQUIT, 5*time.Second)
		b, _ := os.ReadFile(logPath)
		pg.t.Fatalf("postgres: %v\n%s", err, b)
	}
	pg.p = p
}

// waitReady polls pg_isready until the cluster accepts connections.
func (pg *Postgres) waitReady(p *proc, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("postmaster exited during start")
		default:
		}
		cmd := exec.CommandContext(ctx, filepath.Join(pg.bin, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(pg.Port), "-U", "postgres", "-d", "postgres", "-t", "1")
		if cmd.Run() == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready within %s", timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop shuts the cluster down at once (SIGQUIT to the postmaster's pid:
// pg_ctl's "immediate" mode): open connections are cut, no checkpoint.
func (pg *Postgres) Stop() error {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if pg.p == nil {
		return nil
	}
	err := pg.p.stop(syscall.SIGQUIT, 10*time.Second)
	pg.p = nil
	return err
}

// Pause freezes the postmaster and its backends (SIGSTOP): connections stay
// open but nothing answers, the way a hung database looks. Resume undoes it.
func (pg *Postgres) Pause() error { return pg.signalAll(syscall.SIGSTOP) }

// Resume continues a paused cluster.
func (pg *Postgres) Resume() error { return pg.signalAll(syscall.SIGCONT) }

// signalAll signals the postmaster and its children (the backends).
func (pg *Postgres) signalAll(sig syscall.Signal) error {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if pg.p == nil {
		return fmt.Errorf("postgres is not running")
	}
	pid := pg.p.cmd.Process.Pid
	pids := append(childPids(pid), pid)
	for _, p := range pids {
		if err := syscall.Kill(p, sig); err != nil && err != syscall.ESRCH {
			return err
		}
	}
	return nil
}

// childPids lists the direct children of pid from /proc.
func childPids(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 {
			if ppid, _ := strconv.Atoi(f[1]); ppid == pid {
				out = append(out, n)
			}
		}
	}
	return out
}

// Log returns what the cluster logged so far (for failing tests).
func (pg *Postgres) Log() string {
	b, _ := os.ReadFile(filepath.Join(pg.dir, "postgres.log"))
	return string(b)
}

// Freeze stops the server's process (SIGSTOP): connections stay open and
// nothing answers, as when a host hangs.
func (r *Redis) Freeze() error { return r.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server (SIGCONT).
func (r *Redis) Thaw() error { return r.signal(syscall.SIGCONT) }

func (r *Redis) signal(sig syscall.Signal) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p == nil {
		return fmt.Errorf("redis-server is not running")
	}
	return r.p.cmd.Process.Signal(sig)
}

// LogBuffer collects log lines (JSON, one per line); safe for concurrent use.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Count counts the log lines whose msg is msg.
func (l *LogBuffer) Count(msg string) int { return strings.Count(l.String(), `"msg":"`+msg+`"`) }

// CountText counts the occurrences of text anywhere in the log.
func (l *LogBuffer) CountText(text string) int { return strings.Count(l.String(), text) }
