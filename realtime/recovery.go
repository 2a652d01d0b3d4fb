package realtime

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// Connection state recovery keeps, for a while, what was broadcast, so a
// client back from a short network blip gets its rooms and the events it
// missed. The adapter that does it is ours (the library's extension point
// is SetAdapter; with the Redis adapter there is no recovery). The
// library's in-memory version keeps every broadcast for the whole window
// in one list and finds a returning client's place by scanning it: at
// thousands of events a second that is hundreds of megabytes for the
// collector to walk and, when a crowd reconnects at once, a scan of the
// whole list per client. Ours keeps a bounded ring (RecoveryMaxPackets,
// and never older than the window), indexes it by room, and finds a
// client's missed events through the rooms it was in. Events that are
// worthless after a blip (ICE candidates, typing indicators) are not kept.
// A client whose place has left the ring connects afresh (the contract
// says: join again and chat:sync), which is always correct.

// ephemeral events are not kept for recovery.
var ephemeral = map[string]bool{"rtc:ice": true, "chat:typing": true}

type recoveryBuilder struct {
	window time.Duration
	max    int
}

func (b *recoveryBuilder) New(nsp socket.Namespace) socket.Adapter {
	a := &recoveryAdapter{Adapter: socket.MakeAdapter(), window: b.window, max: b.max,
		sessions: map[socket.PrivateSessionId]keptSession{}, rooms: map[socket.Room][]uint64{},
		stop: make(chan struct{})}
	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	a.boot = hex.EncodeToString(nonce[:]) + "."
	a.Prototype(a)
	a.Construct(nsp)
	go a.sweep()
	return a
}

type keptSession struct {
	session *socket.SessionToPersist
	at      time.Time
}

type keptPacket struct {
	at     time.Time
	data   []any
	rooms  []socket.Room // empty: every socket
	except []socket.Room
}

type recoveryAdapter struct {
	socket.Adapter
	window time.Duration
	max    int
	boot   string // offsets from another process are not ours

	mu       sync.Mutex
	sessions map[socket.PrivateSessionId]keptSession
	ring     []keptPacket // circular: n packets from head, positions first..first+n-1
	head     int
	n        int
	first    uint64
	rooms    map[socket.Room][]uint64 // positions per room ("" for all)
	stop     chan struct{}
	stopOnce sync.Once
}

func (a *recoveryAdapter) Close() {
	a.stopOnce.Do(func() { close(a.stop) })
	a.Adapter.Close()
}

// sweep forgets expired sessions and packets.
func (a *recoveryAdapter) sweep() {
	t := time.NewTicker(min(a.window, 30*time.Second))
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case now := <-t.C:
			a.mu.Lock()
			for pid, s := range a.sessions {
				if now.Sub(s.at) > a.window {
					delete(a.sessions, pid)
				}
			}
			a.evictLocked(now)
			a.mu.Unlock()
		}
	}
}

func (a *recoveryAdapter) Broadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	a.record(p, opts)
	a.Adapter.Broadcast(p, opts)
}

// record keeps a broadcast (if it is to be kept) and appends its offset to
// its arguments.
func (a *recoveryAdapter) record(p *parser.Packet, opts *socket.BroadcastOptions) {
	if !a.keep(p, opts) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	pos := a.first + uint64(a.n)
	data, _ := p.Data.([]any)
	data = append(data[:len(data):len(data)], a.boot+strconv.FormatUint(pos, 36))
	p.Data = data
	k := keptPacket{at: now, data: data}
	if opts != nil {
		if opts.Rooms != nil {
			k.rooms = opts.Rooms.Keys()
		}
		if opts.Except != nil {
			k.except = opts.Except.Keys()
		}
	}
	if a.n == a.max {
		a.dropOldestLocked()
	}
	a.pushLocked(k)
	if len(k.rooms) == 0 {
		a.rooms[""] = append(a.rooms[""], pos)
	}
	for _, r := range k.rooms {
		a.rooms[r] = append(a.rooms[r], pos)
	}
	a.evictLocked(now)
}

// keep reports whether a broadcast is kept: events without an
// acknowledgement, not volatile, not ephemeral.
func (a *recoveryAdapter) keep(p *parser.Packet, opts *socket.BroadcastOptions) bool {
	if p.Type != parser.EVENT || p.Id != nil {
		return false
	}
	if opts != nil && opts.Flags != nil && opts.Flags.Volatile {
		return false
	}
	data, ok := p.Data.([]any)
	if !ok || len(data) == 0 {
		return false
	}
	name, _ := data[0].(string)
	return !ephemeral[name]
}

// The ring is a circular buffer of n packets starting at head; it grows
// (doubling) up to max.
func (a *recoveryAdapter) pushLocked(k keptPacket) {
	if a.n == len(a.ring) {
		grown := make([]keptPacket, min(max(2*len(a.ring), 64), a.max))
		for i := range a.n {
			grown[i] = a.ring[(a.head+i)%len(a.ring)]
		}
		a.ring, a.head = grown, 0
	}
	a.ring[(a.head+a.n)%len(a.ring)] = k
	a.n++
}

func (a *recoveryAdapter) at(pos uint64) *keptPacket {
	return &a.ring[(a.head+int(pos-a.first))%len(a.ring)]
}

func (a *recoveryAdapter) dropOldestLocked() {
	k := a.ring[a.head]
	a.ring[a.head] = keptPacket{}
	if len(k.rooms) == 0 {
		a.popRoomLocked("")
	}
	for _, r := range k.rooms {
		a.popRoomLocked(r)
	}
	a.head = (a.head + 1) % len(a.ring)
	a.n--
	a.first++
}

// popRoomLocked drops a room's oldest position (the oldest packet is
// first in each of its rooms' lists).
func (a *recoveryAdapter) popRoomLocked(r socket.Room) {
	ps := a.rooms[r]
	if len(ps) <= 1 {
		delete(a.rooms, r)
		return
	}
	a.rooms[r] = ps[1:]
}

// evictLocked drops packets older than the window.
func (a *recoveryAdapter) evictLocked(now time.Time) {
	for a.n > 0 && now.Sub(a.ring[a.head].at) > a.window {
		a.dropOldestLocked()
	}
}

func (a *recoveryAdapter) PersistSession(s *socket.SessionToPersist) {
	a.mu.Lock()
	a.sessions[s.Pid] = keptSession{session: s, at: time.Now()}
	a.mu.Unlock()
}

func (a *recoveryAdapter) RestoreSession(pid socket.PrivateSessionId, offset string) (*socket.Session, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sessions[pid]
	if !ok {
		return nil, nil
	}
	delete(a.sessions, pid)
	if time.Since(s.at) > a.window {
		return nil, nil
	}
	after, ok := a.position(offset)
	if !ok {
		return nil, nil
	}
	var rooms []socket.Room
	if s.session.Rooms != nil {
		rooms = s.session.Rooms.Keys()
	}
	var missed []uint64
	for _, r := range append(rooms, "") {
		ps := a.rooms[r]
		i, _ := slices.BinarySearch(ps, after+1)
		missed = append(missed, ps[i:]...)
	}
	slices.Sort(missed)
	missed = slices.Compact(missed)
	out := make([]any, 0, len(missed))
	for _, pos := range missed {
		k := a.at(pos)
		if excluded(k.except, rooms) {
			continue
		}
		out = append(out, k.data)
	}
	return &socket.Session{SessionToPersist: s.session, MissedPackets: out}, nil
}

// position parses an offset this process gave; it must still be in the
// ring (or be the newest position given).
func (a *recoveryAdapter) position(offset string) (uint64, bool) {
	rest, ok := strings.CutPrefix(offset, a.boot)
	if !ok {
		return 0, false
	}
	pos, err := strconv.ParseUint(rest, 36, 64)
	if err != nil || pos < a.first || pos >= a.first+uint64(a.n) {
		return 0, false
	}
	return pos, true
}

func excluded(except, rooms []socket.Room) bool {
	for _, e := range except {
		if slices.Contains(rooms, e) {
			return true
		}
	}
	return false
}

var _ socket.SessionAwareAdapter = (*recoveryAdapter)(nil)
