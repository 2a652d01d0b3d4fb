package store

import (
	"context"
	"database/sql"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"teleconsult/models"
)

// Group commit defaults. Two transactions at once kept a 2-core machine
// (database included) busiest: with more, each took fewer messages and
// the work per transaction dominated (see BenchmarkChatSendGroupCommitWorkers).
const (
	DefaultCommitWorkers  = 2
	DefaultCommitMaxBatch = 256
	DefaultCommitTimeout  = 10 * time.Second
)

// GroupCommit tunes how Chat.Send stores messages on Postgres. Messages
// sent while a transaction is running queue up and are stored together by
// the next one: one commit (one WAL flush) for many rooms' messages, each
// sender answered only after that commit. An idle store starts a
// transaction as soon as a message arrives; nothing waits for a timer.
// SQLite, and messages with attachments, commit one message at a time.
type GroupCommit struct {
	// Off stores every message in a transaction of its own.
	Off bool
	// Workers is how many transactions may run at once (default 2); each
	// holds one connection of the pool while it runs.
	Workers int
	// MaxBatch caps the messages of one transaction (default 256).
	MaxBatch int
	// Timeout bounds one transaction (default 10 s). A transaction also
	// ends when the last deadline among its senders passes.
	Timeout time.Duration
	// Log receives transactions that failed on something other than an
	// outage, whose messages are then stored one by one.
	Log *slog.Logger
}

// CommitStats counts what group commit stored: committed transactions
// that inserted messages, and the messages they inserted.
type CommitStats struct {
	Transactions int64
	Messages     int64
}

// CommitStats returns the group commit counters (zero when messages are
// committed one by one).
func (c *Chat) CommitStats() CommitStats {
	gc := c.groupCommitter()
	if gc == nil {
		return CommitStats{}
	}
	return CommitStats{Transactions: gc.transactions.Load(), Messages: gc.messages.Load()}
}

// Close stops group commit: it waits for the transactions in flight and
// answers their senders; later messages are stored one at a time. Call it
// before the database is closed.
func (c *Chat) Close() {
	if gc := c.groupCommitter(); gc != nil {
		gc.close()
	}
}

// groupCommitter returns the committer, or nil where messages are stored
// one at a time (SQLite, or GroupCommit.Off).
func (c *Chat) groupCommitter() *committer {
	c.commitOnce.Do(func() {
		if c.GroupCommit.Off || c.db.Dialector.Name() != "postgres" {
			return
		}
		c.committer = newCommitter(c, c.GroupCommit)
	})
	return c.committer
}

// sendRequest is one message waiting for a transaction.
type sendRequest struct {
	ctx   context.Context
	actor models.Actor
	row   messageRow
	done  chan sendResult // buffered: the committer never blocks on it
}

type sendResult struct {
	msg     models.Message
	created bool
	err     error
}

// committer runs the group-commit transactions. Workers are started when
// messages queue and there are fewer than cfg.Workers of them; a worker
// takes what is queued (see take), stores it in one transaction, and ends
// when nothing is left for it to take.
type committer struct {
	chat *Chat
	cfg  GroupCommit
	log  *slog.Logger

	mu     sync.Mutex
	queue  []*sendRequest
	busy   map[string]bool // rooms of the transactions running
	active int
	closed bool
	wg     sync.WaitGroup

	transactions atomic.Int64
	messages     atomic.Int64
}

func newCommitter(c *Chat, cfg GroupCommit) *committer {
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultCommitWorkers
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultCommitMaxBatch
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultCommitTimeout
	}
	return &committer{chat: c, cfg: cfg, log: discardIfNil(cfg.Log), busy: map[string]bool{}}
}

// send queues a message and waits for its transaction. A sender whose ctx
// ends while the message is still queued leaves the queue; once its
// transaction has started the commit decides, and a sender that stopped
// waiting gets ctx's error (a retry with the same client_msg_id answers
// the stored message, if it was stored).
func (gc *committer) send(ctx context.Context, actor models.Actor, appointmentID, clientMsgID, text string) (models.Message, bool, error) {
	r := &sendRequest{ctx: ctx, actor: actor, done: make(chan sendResult, 1), row: messageRow{
		ID: uuid.NewString(), AppointmentID: appointmentID, SenderID: actor.UserID, ClientMsgID: clientMsgID,
		Text: text, CreatedAt: gc.chat.clock.Now().UTC(),
	}}
	gc.mu.Lock()
	if gc.closed {
		gc.mu.Unlock()
		return gc.chat.storeRow(ctx, actor, r.row, nil)
	}
	gc.queue = append(gc.queue, r)
	if gc.active < gc.cfg.Workers {
		gc.active++
		gc.wg.Add(1)
		go gc.work()
	}
	gc.mu.Unlock()
	select {
	case res := <-r.done:
		return res.msg, res.created, res.err
	case <-ctx.Done():
		select {
		case res := <-r.done:
			return res.msg, res.created, res.err
		default:
			return models.Message{}, false, ctx.Err()
		}
	}
}

func (gc *committer) close() {
	gc.mu.Lock()
	gc.closed = true
	gc.mu.Unlock()
	gc.wg.Wait()
}

// work stores queued messages, a batch per transaction, until none are
// left that it may take.
func (gc *committer) work() {
	defer gc.wg.Done()
	var rooms map[string]bool
	for {
		gc.mu.Lock()
		for id := range rooms {
			delete(gc.busy, id)
		}
		var batch []*sendRequest
		batch, rooms = gc.take()
		if len(batch) == 0 {
			gc.active--
			gc.mu.Unlock()
			return
		}
		gc.mu.Unlock()
		gc.run(batch)
	}
}

// take removes a batch from the queue (under mu): queued messages in
// order, up to MaxBatch, leaving those of rooms another transaction of
// this node is storing. A room's messages are thus stored in the order
// they were sent, and transactions of one node never wait for each
// other's row locks. Senders that stopped waiting are dropped. It returns
// the batch and its rooms, which stay busy until the next take.
func (gc *committer) take() ([]*sendRequest, map[string]bool) {
	var (
		batch []*sendRequest
		rooms map[string]bool
		rest  = gc.queue[:0]
	)
	for _, r := range gc.queue {
		if r.ctx.Err() != nil {
			continue
		}
		id := r.row.AppointmentID
		if len(batch) == gc.cfg.MaxBatch || (gc.busy[id] && !rooms[id]) {
			rest = append(rest, r)
			continue
		}
		if rooms == nil {
			batch = make([]*sendRequest, 0, min(len(gc.queue), gc.cfg.MaxBatch))
			rooms = map[string]bool{}
		}
		if !rooms[id] {
			rooms[id] = true
			gc.busy[id] = true
		}
		batch = append(batch, r)
	}
	clear(gc.queue[len(rest):])
	gc.queue = rest
	return batch, rooms
}

// batchContext bounds a transaction by the latest deadline among its
// senders, and by cfg.Timeout. No sender's cancellation ends it.
func (gc *committer) batchContext(batch []*sendRequest) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(gc.cfg.Timeout)
	var latest time.Time
	for _, r := range batch {
		d, ok := r.ctx.Deadline()
		if !ok {
			latest = deadline
			break
		}
		if d.After(latest) {
			latest = d
		}
	}
	if latest.After(deadline) {
		latest = deadline
	}
	return context.WithDeadline(context.Background(), latest)
}

// run stores a batch and answers its senders. An outage fails the whole
// batch (the senders retry); any other failure of the shared transaction
// (a constraint one message broke, say) is retried one message per
// transaction, so that one message cannot fail the others.
func (gc *committer) run(batch []*sendRequest) {
	ctx, cancel := gc.batchContext(batch)
	defer cancel()
	results, err := gc.commit(ctx, batch)
	if err == nil {
		for i, r := range batch {
			r.done <- results[i]
		}
		return
	}
	if models.Unavailable(err) || ctx.Err() != nil {
		for _, r := range batch {
			r.done <- sendResult{err: err}
		}
		return
	}
	gc.log.WarnContext(ctx, "group commit failed; storing its messages one by one", "err", err, "messages", len(batch))
	for _, r := range batch {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(r.ctx), gc.cfg.Timeout)
		m, created, err := gc.chat.storeRow(rctx, r.actor, r.row, nil)
		rcancel()
		r.done <- sendResult{msg: m, created: created, err: err}
	}
}

// The statements of one group-commit transaction. Arrays carry the batch,
// so each statement's text is the same whatever the batch size.
const (
	// Each statement is planned for the arrays it is given: a plan cached
	// while the tables were small (a hash join over a sequential scan of
	// messages) would otherwise stay in use as they grow.
	gcCustomPlans = `SET LOCAL plan_cache_mode = force_custom_plan`
	// The senders' user rows are locked (in id order) for the foreign
	// key before any appointment row: a reschedule locks its patient's
	// row before the appointment's, and taking them in the other order
	// (the insert's foreign-key check after the room lock) could deadlock
	// with it.
	gcLockSenders = `SELECT id FROM users WHERE id = ANY($1::text[]) ORDER BY id FOR KEY SHARE`
	// Rooms are locked in id order, so that transactions locking several
	// rooms cannot deadlock one another; a room is thereby serialised
	// with every other writer of its messages, on any node.
	gcLockRooms = `SELECT id, last_seq, status, completed_at, patient_id, doctor_id FROM appointments
WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`
	// Read after the locks are held (a statement of its own, with its own
	// snapshot): a message committed by the previous holder of a room's
	// lock, on any node, is seen.
	gcExisting = `SELECT m.id, m.appointment_id, m.seq, m.sender_id, m.client_msg_id, m.text, m.attachment_id, m.created_at,
       f.id, f.uploader_id, f.file_name, f.content_type, f.size_bytes, f.storage_key, f.created_at
FROM unnest($1::text[], $2::text[], $3::text[]) AS k(appointment_id, sender_id, client_msg_id)
JOIN messages m ON m.appointment_id = k.appointment_id AND m.sender_id = k.sender_id AND m.client_msg_id = k.client_msg_id
LEFT JOIN attachments f ON f.id = m.attachment_id`
	gcInsert = `WITH rooms AS (
    UPDATE appointments a SET last_seq = r.last_seq
    FROM unnest($1::text[], $2::bigint[]) AS r(id, last_seq) WHERE a.id = r.id
)
INSERT INTO messages (id, appointment_id, seq, sender_id, client_msg_id, text, created_at)
SELECT * FROM unnest($3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::timestamptz[])`
)

// msgKey is the idempotency key of a message.
type msgKey struct{ appointmentID, senderID, clientMsgID string }

// lockedRoom is a room's appointment as read under its row lock.
type lockedRoom struct {
	appt    models.Appointment
	lastSeq int64
}

// commit stores a batch in one transaction and returns each sender's
// answer, in batch order. Per message, under the rooms' locks: the
// appointment must exist and the policy allow the sender; a client_msg_id
// the sender already stored answers the stored message (created false),
// as does a second copy within the batch; every other message takes the
// next seq of its room. Answers are valid only once it returns nil.
func (gc *committer) commit(ctx context.Context, batch []*sendRequest) (results []sendResult, err error) {
	sqlDB, err := gc.chat.db.DB()
	if err != nil {
		return nil, err
	}
	// Read committed: each statement sees what committed before it began,
	// so the lookup of stored messages, run once the locks are held, sees
	// those of the transaction that held a lock before.
	tx, err := sqlDB.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	if _, err := tx.ExecContext(ctx, gcCustomPlans); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(batch))
	senders := make([]string, 0, len(batch))
	keys := make(map[msgKey]struct{}, len(batch))
	var ka, ks, kc []string
	for _, r := range batch {
		ids = append(ids, r.row.AppointmentID)
		senders = append(senders, r.row.SenderID)
		k := msgKey{r.row.AppointmentID, r.row.SenderID, r.row.ClientMsgID}
		if _, ok := keys[k]; !ok {
			keys[k] = struct{}{}
			ka, ks, kc = append(ka, k.appointmentID), append(ks, k.senderID), append(kc, k.clientMsgID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	slices.Sort(senders)
	senders = slices.Compact(senders)

	if _, err := tx.ExecContext(ctx, gcLockSenders, senders); err != nil {
		return nil, err
	}
	rooms, err := lockRooms(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	stored, err := existingMessages(ctx, tx, ka, ks, kc)
	if err != nil {
		return nil, err
	}

	results = make([]sendResult, len(batch))
	fresh := make(map[msgKey]int, len(batch)) // key → index of the batch's new message
	var newRows []int                         // indexes of new messages, in seq order per room
	for i, r := range batch {
		k := msgKey{r.row.AppointmentID, r.row.SenderID, r.row.ClientMsgID}
		room, ok := rooms[r.row.AppointmentID]
		if !ok {
			results[i].err = models.ErrAppointmentNotFound
			continue
		}
		refused := gc.chat.policy.CanSend(r.actor, room.appt, r.row.CreatedAt)
		if m, ok := stored[k]; ok && (refused == nil || models.ErrorCode(refused) != models.ENOTFOUND) {
			// A retry of a stored message (perhaps after the chat closed).
			results[i] = sendResult{msg: m}
			continue
		}
		if refused != nil {
			results[i].err = refused
			continue
		}
		if j, ok := fresh[k]; ok {
			// A second copy within the batch answers the first.
			results[i] = sendResult{msg: batch[j].row.toModel()}
			continue
		}
		room.lastSeq++
		batch[i].row.Seq = room.lastSeq
		fresh[k] = i
		newRows = append(newRows, i)
	}
	if len(newRows) > 0 {
		if err := insertMessages(ctx, tx, rooms, batch, newRows); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	if len(newRows) > 0 {
		gc.transactions.Add(1)
		gc.messages.Add(int64(len(newRows)))
	}
	for _, i := range newRows {
		results[i] = sendResult{msg: batch[i].row.toModel(), created: true}
	}
	return results, nil
}

// lockRooms locks the appointments' rows (in id order) and reads what the
// policy needs and each room's last seq.
func lockRooms(ctx context.Context, tx *sql.Tx, ids []string) (map[string]*lockedRoom, error) {
	rows, err := tx.QueryContext(ctx, gcLockRooms, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	rooms := make(map[string]*lockedRoom, len(ids))
	for rows.Next() {
		var (
			r           lockedRoom
			status      string
			completedAt sql.NullTime
		)
		if err := rows.Scan(&r.appt.ID, &r.lastSeq, &status, &completedAt, &r.appt.PatientID, &r.appt.DoctorID); err != nil {
			return nil, err
		}
		r.appt.Status = models.AppointmentStatus(status)
		if completedAt.Valid {
			t := completedAt.Time.UTC()
			r.appt.CompletedAt = &t
		}
		rooms[r.appt.ID] = &r
	}
	return rooms, rows.Err()
}

// existingMessages returns the stored messages among the given keys, with
// their attachments.
func existingMessages(ctx context.Context, tx *sql.Tx, appointmentIDs, senderIDs, clientMsgIDs []string) (map[msgKey]models.Message, error) {
	rows, err := tx.QueryContext(ctx, gcExisting, appointmentIDs, senderIDs, clientMsgIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[msgKey]models.Message{}
	for rows.Next() {
		var (
			m                                  messageRow
			attID                              sql.NullString
			fID, fUploader, fName, fType, fKey sql.NullString
			fSize                              sql.NullInt64
			fCreated                           sql.NullTime
		)
		if err := rows.Scan(&m.ID, &m.AppointmentID, &m.Seq, &m.SenderID, &m.ClientMsgID, &m.Text, &attID, &m.CreatedAt,
			&fID, &fUploader, &fName, &fType, &fSize, &fKey, &fCreated); err != nil {
			return nil, err
		}
		if attID.Valid {
			m.AttachmentID = &attID.String
		}
		if fID.Valid {
			m.Attachment = &attachmentRow{ID: fID.String, AppointmentID: m.AppointmentID, UploaderID: fUploader.String,
				FileName: fName.String, ContentType: fType.String, SizeBytes: fSize.Int64, StorageKey: fKey.String, CreatedAt: fCreated.Time}
		}
		out[msgKey{m.AppointmentID, m.SenderID, m.ClientMsgID}] = m.toModel()
	}
	return out, rows.Err()
}

// insertMessages moves each room's last_seq on and inserts the new
// messages, in one statement.
func insertMessages(ctx context.Context, tx *sql.Tx, rooms map[string]*lockedRoom, batch []*sendRequest, newRows []int) error {
	roomIDs := make([]string, 0, len(rooms))
	lastSeqs := make([]int64, 0, len(rooms))
	seen := make(map[string]bool, len(rooms))
	n := len(newRows)
	var (
		ids, appts, senders, clientIDs, texts = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seqs                                  = make([]int64, n)
		times                                 = make([]time.Time, n)
	)
	for j, i := range newRows {
		m := &batch[i].row
		ids[j], appts[j], seqs[j], senders[j], clientIDs[j], texts[j], times[j] = m.ID, m.AppointmentID, m.Seq, m.SenderID, m.ClientMsgID, m.Text, m.CreatedAt
		if !seen[m.AppointmentID] {
			seen[m.AppointmentID] = true
			roomIDs = append(roomIDs, m.AppointmentID)
			lastSeqs = append(lastSeqs, rooms[m.AppointmentID].lastSeq)
		}
	}
	_, err := tx.ExecContext(ctx, gcInsert, roomIDs, lastSeqs, ids, appts, seqs, senders, clientIDs, texts, times)
	return err
}
