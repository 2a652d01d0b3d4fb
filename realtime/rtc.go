package realtime

import "github.com/zishang520/socket.io/servers/socket/v3"

// registerCallHandlers adds the rtc:* events.
func (s *Server) registerCallHandlers(sock *socket.Socket, sess *session) {}
