package realtime

// registerCallHandlers adds the rtc:* events.
func (s *Server) registerCallHandlers() {}
