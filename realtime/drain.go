package realtime

import (
	"context"
	"sync"

	"teleconsult/models"
)

var errDraining = models.Errorf(models.EUNAVAILABLE, "this server is restarting; connect again")

// enter admits an event handler, unless the server is draining.
func (s *Server) enter() bool {
	s.flight.Lock()
	defer s.flight.Unlock()
	if s.draining {
		return false
	}
	s.inflight++
	return true
}

// leave ends what enter admitted.
func (s *Server) leave() {
	s.flight.Lock()
	defer s.flight.Unlock()
	s.inflight--
	if s.inflight == 0 && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
}

// drain refuses new events and waits (bounded by ctx) for the running
// handlers to hand over their acks.
func (s *Server) drain(ctx context.Context) {
	s.flight.Lock()
	s.draining = true
	var idle chan struct{}
	if s.inflight > 0 {
		idle = make(chan struct{})
		s.idle = idle
	}
	s.flight.Unlock()
	if idle == nil {
		return
	}
	select {
	case <-idle:
	case <-ctx.Done():
		s.log.Warn("socket drain cut short: some event handlers were still running")
	}
}

// Shutdown drains this node, bounded by ctx: new connections are refused
// (503 unavailable) and new events answered unavailable; handlers already
// running finish and their acks are written; then every socket gets
// disconnect:reason {code: "shutdown", reconnect: true} and its connection
// is closed, which official clients take as a dropped connection: they
// reconnect, to another node behind the balancer. Last the engine stops.
func (s *Server) Shutdown(ctx context.Context) {
	s.stopOnce.Do(func() {
		close(s.closed)
		s.drain(ctx)
		var wg sync.WaitGroup
		for _, m := range s.members() {
			done := s.end(m.sock, m.sess, reasonShutdown, func() { m.sock.Conn().Close(false) })
			wg.Go(func() {
				select {
				case <-done:
				case <-ctx.Done():
				}
			})
		}
		wg.Wait()
		s.fan.close(ctx)
		closed := make(chan struct{})
		go func() {
			s.io.Close(nil)
			close(closed)
		}()
		select {
		case <-closed:
		case <-ctx.Done():
		}
	})
}
