// Package realtime is the Socket.IO edge: authenticated connections,
// consultation rooms, chat events, call signaling and live pushes.
package realtime

// Server is the Socket.IO server.
type Server struct{}
