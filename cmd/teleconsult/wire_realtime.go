package main

import (
	"context"

	"teleconsult/api"
	"teleconsult/realtime"
)

// buildRealtime wires the Socket.IO server into a.realtime.
func (a *app) buildRealtime(ctx context.Context) error {
	cfg := a.cfg
	rt, err := realtime.New(a.svc, realtime.Options{
		Log: a.log, Registry: a.registry, Redis: a.redis,
		AllowOrigin:       func(origin, host string) bool { return api.OriginAllowed(cfg.CORSOrigins, origin, host) },
		MaxHTTPBufferSize: cfg.SocketMaxHTTPBufferSize, PingInterval: cfg.SocketPingInterval, PingTimeout: cfg.SocketPingTimeout,
		EventRate: cfg.SocketEventRate, EventBurst: cfg.SocketEventBurst, MaxPerUser: cfg.SocketMaxPerUser,
		RecoveryWindow: cfg.SocketRecoveryWindow,
	})
	if err != nil {
		return err
	}
	a.realtime = rt
	a.socketsOnline = rt.SocketsOnline
	a.beforeShutdown = append(a.beforeShutdown, rt.Shutdown)
	return nil
}
