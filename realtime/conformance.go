package realtime

import (
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Stack is the wire stack Server runs on (the gated polling and WebSocket
// transports, the engine listeners that release the gate and repair the
// heartbeat, and the Socket.IO parser), for servers other than Server:
// cmd/conformance runs the official Engine.IO and Socket.IO protocol test
// suites against it.
//
// Wiring order matters as it does in New: set Transports on the engine
// options, register the application's "connection" listeners, then Bind;
// a Socket.IO connection handler calls Connected once its listeners are
// in place.
type Stack struct{ gate *handshakeGate }

// NewStack returns a stack for one engine.
func NewStack() *Stack { return &Stack{gate: newHandshakeGate()} }

// Transports returns the transport constructors for the engine options.
func (s *Stack) Transports() *types.Set[transports.TransportCtor] { return s.gate.transports() }

// Bind attaches the engine listeners: a connection's packets flow once it
// is announced, and its heartbeat is watched.
func (s *Stack) Bind(eio engine.BaseServer, pingTimeout time.Duration) {
	s.gate.bind(eio, pingTimeout)
}

// Parser returns the Socket.IO parser for the server options.
func (s *Stack) Parser() parser.Parser { return wireParser{} }

// Connected lets a Socket.IO connection's later packets through: its
// namespace connection is complete.
func (s *Stack) Connected(sock *socket.Socket) { s.gate.open(sock) }
