// Command conformance serves what the official protocol test suites
// (socketio/engine.io-protocol and socketio/socket.io-protocol, directory
// test-suite/) expect, on the production transport stack of package
// realtime: an Engine.IO echo server at /engine.io/ and the reference
// Socket.IO handlers at /socket.io/. See docs/conformance.md.
//
//	go run ./cmd/conformance -addr 127.0.0.1:3000
//
// Port 0 picks a free port; the address is printed once listening
// ("listening on http://HOST:PORT").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address (port 0: a free port)")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("conformance: %v", err)
	}
	h, closeAll := newHandler(suiteOptions)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("listening on http://%s\n", ln.Addr())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Fatalf("conformance: %v", err)
		}
	case <-stop:
		closeAll()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
}
