package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// account is one line of a -clients file: "TOKEN APPT" (seed.py writes two
// per room, patient then doctor).
type account struct{ token, appt string }

func readClients(path string, n int) ([]account, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []account
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() && len(out) < n {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s: want \"TOKEN APPT\" per line, got %d fields", path, len(fields))
		}
		out = append(out, account{fields[0], fields[1]})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) < n {
		return nil, fmt.Errorf("%s has %d clients, %d wanted", path, len(out), n)
	}
	return out, nil
}

// parseSrcIPs reads -src-ips: a comma-separated list of loopback addresses
// or ranges (127.0.0.1-127.0.0.8). Empty: the kernel chooses.
func parseSrcIPs(spec string) ([]net.IP, error) {
	var out []net.IP
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, b := net.ParseIP(lo).To4(), net.ParseIP(lo).To4()
		if isRange {
			b = net.ParseIP(hi).To4()
		}
		if a == nil || b == nil || !a.IsLoopback() || !b.IsLoopback() {
			return nil, fmt.Errorf("-src-ips: %q is not a loopback IPv4 address or range", part)
		}
		x, y := ip4int(a), ip4int(b)
		if y < x || y-x > 1024 {
			return nil, fmt.Errorf("-src-ips: bad range %q", part)
		}
		for v := x; v <= y; v++ {
			out = append(out, net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)).To4())
		}
	}
	return out, nil
}

func ip4int(ip net.IP) uint32 {
	return uint32(ip[0])<<24 | uint32(ip[1])<<16 | uint32(ip[2])<<8 | uint32(ip[3])
}

// srcFor spreads socket i over the source addresses.
func srcFor(ips []net.IP, i int) net.IP {
	if len(ips) == 0 {
		return nil
	}
	return ips[i%len(ips)]
}

// procStatus reads VmRSS and VmHWM (KiB) of a process.
func procStatus(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		if len(f) == 0 {
			continue
		}
		v, _ := strconv.ParseInt(f[0], 10, 64)
		switch name {
		case "VmRSS":
			rss = v
		case "VmHWM":
			hwm = v
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return rss, hwm, nil
}

// forceGC asks the server to collect garbage: GET on its pprof heap
// endpoint with gc=1 runs runtime.GC() first. The profile itself is
// discarded. Empty url: nothing (the server's own GC cycles must do).
func forceGC(ctx context.Context, url string) error {
	if url == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d", url, res.StatusCode)
	}
	return nil
}

// reason names a failure for grouping: phase, then a short class.
func reason(phase string, err error) string {
	return phase + ":" + classify(err)
}

func classify(err error) string {
	var ce *connectError
	var ae *ackError
	var he *httpError
	var ne net.Error
	var ws *websocket.CloseError
	switch {
	case errors.As(err, &ce):
		return "connect_error_" + ce.message
	case errors.As(err, &ae):
		return "ack_" + ae.code
	case errors.As(err, &he):
		return "http_" + strconv.Itoa(he.status)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "conn_refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "conn_reset"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "addr_not_avail"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too_many_files"
	case errors.Is(err, syscall.EPIPE):
		return "broken_pipe"
	case errors.Is(err, errClosed):
		return "closed"
	case errors.As(err, &ws):
		return "ws_close_" + strconv.Itoa(ws.Code)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	s := err.Error()
	if len(s) > 60 {
		s = s[:60]
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '#'
		}
		return r
	}, s)
}

// failures counts failures by reason, safely from many goroutines.
type failures struct {
	mu sync.Mutex
	m  map[string]int
	n  int
}

func (f *failures) add(r string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]int{}
	}
	f.m[r]++
	f.n++
}

func (f *failures) snapshot() (int, map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]int{}
	for k, v := range f.m {
		m[k] = v
	}
	return f.n, m
}

// dist is p50/p99/max of durations, in milliseconds.
type dist struct {
	N     int     `json:"n"`
	P50ms float64 `json:"p50_ms"`
	P99ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
}

func distOf(d []time.Duration) dist {
	if len(d) == 0 {
		return dist{}
	}
	d = slices.Clone(d)
	slices.Sort(d)
	return dist{N: len(d), P50ms: ms(pct(d, .50)), P99ms: ms(pct(d, .99)), MaxMs: ms(d[len(d)-1])}
}

// pct is the nearest-rank percentile of sorted d.
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[max(0, min(len(d)-1, i))]
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 2) }

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// pacer lets callers start at most rate per second (0: no pacing).
type pacer struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

func newPacer(rate int) *pacer {
	p := &pacer{next: time.Now()}
	if rate > 0 {
		p.every = time.Second / time.Duration(rate)
	}
	return p
}

func (p *pacer) wait(ctx context.Context) error {
	if p.every == 0 {
		return ctx.Err()
	}
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(p.every)
	p.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return ctx.Err()
}

// cpuTimes is the CPU time (user+system) of process pid (0: this one).
func cpuTimes(pid int) time.Duration {
	if pid == 0 {
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
			return 0
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}
