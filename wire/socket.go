package wire

// Socket.IO payloads: what clients send (with an ack) and what the server
// emits. Acks are {ok: true, ...fields} or {ok: false, error}.

// RoomRequest names an appointment's room (consultation:join/leave,
// rtc:accept/reject/hangup).
type RoomRequest struct {
	AppointmentID string `json:"appointment_id"`
}

// SendRequest is chat:send.
type SendRequest struct {
	AppointmentID string `json:"appointment_id"`
	ClientMsgID   string `json:"client_msg_id"`
	Text          string `json:"text"`
}

// TypingRequest is chat:typing.
type TypingRequest struct {
	AppointmentID string `json:"appointment_id"`
	Typing        *bool  `json:"typing"`
}

// ReadRequest is chat:read.
type ReadRequest struct {
	AppointmentID string `json:"appointment_id"`
	Seq           *int64 `json:"seq"`
}

// SyncRequest is chat:sync.
type SyncRequest struct {
	AppointmentID string `json:"appointment_id"`
	AfterSeq      int64  `json:"after_seq"`
}

// InviteRequest is rtc:invite.
type InviteRequest struct {
	AppointmentID string `json:"appointment_id"`
	Media         string `json:"media"`
}

// Ack is a failed acknowledgement.
type Ack struct {
	OK    bool   `json:"ok"`
	Error *Error `json:"error,omitempty"`
}

// OKAck is a bare successful acknowledgement.
type OKAck struct {
	OK bool `json:"ok"`
}

// Member is a participant in a join ack.
type Member struct {
	UserID string `json:"user_id"`
	Role   string `json:"role"`
	Name   string `json:"name"`
	Online bool   `json:"online"`
}

// ReadMarker is how far a member has read.
type ReadMarker struct {
	UserID string `json:"user_id"`
	Seq    int64  `json:"seq"`
}

// JoinAck answers consultation:join.
type JoinAck struct {
	OK          bool         `json:"ok"`
	Appointment Appointment  `json:"appointment"`
	Members     []Member     `json:"members"`
	LastSeq     int64        `json:"last_seq"`
	Reads       []ReadMarker `json:"reads"`
	// Call is the call ringing or running in the room (null when idle):
	// a device that reloads during a call rejoins it from here.
	Call *CallInfo `json:"call"`
	// Limits are what the room accepts, to say so before a user tries.
	Limits RoomLimits `json:"limits"`
}

// RoomLimits are a room's sizes: a message's characters, an upload's
// bytes (0 when uploads are off).
type RoomLimits struct {
	MessageMaxRunes    int   `json:"message_max_runes"`
	AttachmentMaxBytes int64 `json:"attachment_max_bytes"`
}

// CallInfo is a room's current call.
type CallInfo struct {
	CallID   string `json:"call_id"`
	State    string `json:"state"`
	Media    string `json:"media"`
	CallerID string `json:"caller_id"`
}

// MessageAck answers chat:send.
type MessageAck struct {
	OK      bool    `json:"ok"`
	Message Message `json:"message"`
}

// SeqAck answers chat:read.
type SeqAck struct {
	OK  bool  `json:"ok"`
	Seq int64 `json:"seq"`
}

// SyncAck answers chat:sync.
type SyncAck struct {
	OK       bool      `json:"ok"`
	Messages []Message `json:"messages"`
	HasMore  bool      `json:"has_more"`
}

// CallAck answers rtc:invite, accept, reject and hangup.
type CallAck struct {
	OK     bool   `json:"ok"`
	CallID string `json:"call_id"`
}

// Presence is consultation:presence.
type Presence struct {
	AppointmentID string `json:"appointment_id"`
	UserID        string `json:"user_id"`
	Online        bool   `json:"online"`
}

// Typing is chat:typing from the server.
type Typing struct {
	AppointmentID string `json:"appointment_id"`
	UserID        string `json:"user_id"`
	Typing        bool   `json:"typing"`
}

// Read is chat:read from the server.
type Read struct {
	AppointmentID string `json:"appointment_id"`
	UserID        string `json:"user_id"`
	Seq           int64  `json:"seq"`
}

// Status is consultation:status.
type Status struct {
	AppointmentID string      `json:"appointment_id"`
	Status        string      `json:"status"`
	Appointment   Appointment `json:"appointment"`
}

// SessionExpired is session:expired.
type SessionExpired struct {
	Reason string `json:"reason"`
}

// Signal is an rtc:* event relayed to the other party. Fields not used by
// an event are left out.
type Signal struct {
	AppointmentID string `json:"appointment_id"`
	FromUserID    string `json:"from_user_id"`
	CallID        string `json:"call_id,omitempty"`
	Media         string `json:"media,omitempty"`
	FromName      string `json:"from_name,omitempty"`
	Reason        string `json:"reason,omitempty"`
	SDP           any    `json:"sdp,omitempty"`
	Candidate     any    `json:"candidate,omitempty"`
}
