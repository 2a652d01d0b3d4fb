package realtime

import "github.com/zishang520/socket.io/servers/engine/v3/transports"

// pollingCtor builds the HTTP long-polling transport.
func pollingCtor() transports.TransportCtor { return &transports.PollingBuilder{} }
