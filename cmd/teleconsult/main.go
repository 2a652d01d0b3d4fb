// Command teleconsult runs the Teleconsult server.
//
//	teleconsult [serve]   run the HTTP, REST and Socket.IO server (default)
//	teleconsult migrate   apply pending database migrations and exit
//	teleconsult seed      create the demo users and schedules and exit
//	teleconsult health    exit 0 when the local server answers /healthz (for containers)
//
// Configuration comes from the environment; see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // time zones of schedules and notifications, whatever the host has
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "teleconsult:", err)
		os.Exit(1)
	}
}

// run is the whole program; tests call it with their own environment. When
// ready is not nil, serve sends the listening address on it once accepting.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, ready chan<- string) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	switch cmd {
	case "health":
		return checkHealth(ctx, cfg.Addr)
	case "serve", "migrate", "seed":
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: teleconsult [serve|migrate|seed|health]")
		return nil
	default:
		return fmt.Errorf("unknown command %q (want serve, migrate or seed)", cmd)
	}
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	switch cmd {
	case "migrate":
		return nil // newApp migrated
	case "seed":
		return seedDemo(ctx, a, stdout)
	}
	return serve(ctx, a, ready)
}

func serve(ctx context.Context, a *app, ready chan<- string) error {
	if a.cfg.SeedDemo {
		seeded, err := a.demoSeeded(ctx)
		if err != nil {
			return err
		}
		if !seeded {
			if err := seedDemo(ctx, a, io.Discard); err != nil {
				return fmt.Errorf("seed demo data: %w", err)
			}
			a.log.Info("seeded demo data; see README.md for the accounts")
		}
	}
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on ADDR %s: %w", a.cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, w := range a.workers {
		wg.Go(func() { w(bg) })
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if a.cfg.PprofAddr != "" {
		stop, err := servePprof(a.cfg.PprofAddr, a.log)
		if err != nil {
			stopBG()
			return err
		}
		defer stop()
	}
	a.log.Info("listening", "addr", ln.Addr().String(), "database", string(a.db.Dialect), "redis", a.cfg.RedisURL != "")
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case err := <-errc:
		stopBG()
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	// Stop taking new work, let sockets go, then drain HTTP requests.
	stopBG()
	for _, f := range a.beforeShutdown {
		f(sctx)
	}
	err = srv.Shutdown(sctx)
	wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	a.log.Info("stopped")
	return nil
}

// checkHealth asks the server on addr's port for /healthz.
func checkHealth(ctx context.Context, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("ADDR: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %d", res.StatusCode)
	}
	return nil
}
