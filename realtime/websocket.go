package realtime

import "github.com/zishang520/socket.io/servers/engine/v3/transports"

// websocketCtor builds the WebSocket transport.
func websocketCtor() transports.TransportCtor { return &transports.WebSocketBuilder{} }
