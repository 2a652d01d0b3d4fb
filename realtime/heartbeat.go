package realtime

import (
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
)

// The library's Engine.IO heartbeat (servers/engine socket.go, v3.0.5)
// has a race that drops healthy connections. Every pingInterval a timer
// goroutine runs
//
//	sendPacket(PING)     // queues the frame; another goroutine writes it
//	resetPingTimeout()   // arms "close unless a PONG clears me"
//
// and the PONG, read on the connection's goroutine, clears the pending
// timeout and re-arms the interval. When the client answers before the
// timer goroutine reaches resetPingTimeout (a fast peer, a busy or
// preempted server), the PONG clears nothing and the timeout armed just
// after it is never cleared: the connection is closed pingTimeout after
// the ping, though the client answered. With the old defaults (25 s + 20 s)
// that is exactly 45 s after connecting; when pingTimeout is longer than
// pingInterval the next ping's reset hides it, which is why it went
// unnoticed upstream. Here 300 ms + 200 ms dropped 40 to 70 of 300
// healthy sockets within 5 s (TestHealthySocketsAreNeverDropped).
//
// watchHeartbeat repairs it from the outside: a short while after each
// PONG (a quarter of pingTimeout, at most repairAfterMax) it hands the
// connection the same PONG once more, unless another ping went out in
// between. That clears a timeout armed late, and is harmless otherwise
// (it clears nothing and re-arms the interval timer that the first PONG
// armed). A dead peer sends no PONG, so nothing delays its detection.

// repairAfterMax bounds the delay of the repeated PONG (which also delays
// the next ping by as much).
const repairAfterMax = 250 * time.Millisecond

func watchHeartbeat(es engine.Socket, pingTimeout time.Duration) {
	delay := min(pingTimeout/4, repairAfterMax)
	var pings, repaired atomic.Uint64
	_ = es.On("packetCreate", func(args ...any) {
		if len(args) > 0 {
			if p, ok := args[0].(*packet.Packet); ok && p.Type == packet.PING {
				pings.Add(1)
			}
		}
	})
	// "heartbeat" follows each PONG (protocol 4; in protocol 3 the client
	// pings, the server sends no PING and pings stays 0).
	_ = es.On("heartbeat", func(...any) {
		gen := pings.Load()
		if gen == 0 || repaired.Swap(gen) == gen {
			return // no ping of ours, or this ping was repaired already
		}
		time.AfterFunc(delay, func() {
			if pings.Load() != gen || es.ReadyState() != "open" {
				return
			}
			if t := es.Transport(); t != nil {
				t.Emit("packet", &packet.Packet{Type: packet.PONG})
			}
		})
	})
}
