package main

import "context"

// buildRealtime wires the Socket.IO server into a.realtime.
func (a *app) buildRealtime(ctx context.Context) error { return nil }
