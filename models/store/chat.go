package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // decoders for DecodeConfig
	_ "image/jpeg" // decoders for DecodeConfig
	_ "image/png"  // decoders for DecodeConfig
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	_ "golang.org/x/image/webp" // decoder for DecodeConfig
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"teleconsult/models"
)

// Chat is the consultation room's message store.
type Chat struct {
	db     *gorm.DB
	clock  models.Clock
	policy models.Policy
	audit  *Audit
	outbox *Outbox
	files  models.FileStore
	// AttachmentMaxBytes caps one uploaded file.
	AttachmentMaxBytes int64
	// Limits on uploads (0: none): pixels of one image, and bytes per
	// uploader and per room over the last 24 hours.
	MaxImagePixels int64
	UserDailyBytes int64
	RoomDailyBytes int64
	// GroupCommit tunes how sent messages share transactions on Postgres;
	// it is read when the first message is sent.
	GroupCommit GroupCommit

	commitOnce sync.Once
	committer  *committer
}

// NewChat builds the chat service; files may be nil (no attachments). An
// upload is announced through the outbox (its room learns of it at least
// once); a sent text is relayed by the realtime edge as it is acked.
func NewChat(db *gorm.DB, clock models.Clock, policy models.Policy, audit *Audit, outbox *Outbox, files models.FileStore, attachmentMaxBytes int64) *Chat {
	return &Chat{db: db, clock: clock, policy: policy, audit: audit, outbox: outbox, files: files, AttachmentMaxBytes: attachmentMaxBytes}
}

// room loads the appointment and checks the actor may enter its room.
func (c *Chat) room(ctx context.Context, actor models.Actor, appointmentID string) (models.Appointment, error) {
	a, err := loadAppointment(ctx, c.db, appointmentID)
	if err != nil {
		return models.Appointment{}, err
	}
	if err := c.policy.CanJoinRoom(actor, a); err != nil {
		return models.Appointment{}, err
	}
	return a, nil
}

// access checks the actor may enter the room, from the appointment row
// alone (no participants loaded): for the frequent calls that need no more.
func (c *Chat) access(ctx context.Context, actor models.Actor, appointmentID string) (models.Appointment, error) {
	a, err := loadBare(ctx, c.db, appointmentID)
	if err != nil {
		return models.Appointment{}, err
	}
	if err := c.policy.CanJoinRoom(actor, a); err != nil {
		return models.Appointment{}, err
	}
	return a, nil
}

// Join returns the room of an appointment for its patient or doctor.
func (c *Chat) Join(ctx context.Context, actor models.Actor, appointmentID string) (models.Room, error) {
	a, err := c.room(ctx, actor, appointmentID)
	if err != nil {
		return models.Room{}, err
	}
	r := models.Room{Appointment: a, LastSeq: a.LastSeq}
	if c.files != nil {
		r.AttachmentMaxBytes = c.AttachmentMaxBytes
	}
	if a.Patient != nil {
		r.Members = append(r.Members, models.Member{UserID: a.PatientID, Role: models.RolePatient, Name: a.Patient.Name})
	}
	if a.Doctor != nil {
		r.Members = append(r.Members, models.Member{UserID: a.DoctorID, Role: models.RoleDoctor, Name: a.Doctor.Name})
	}
	if r.Reads, err = c.reads(ctx, appointmentID); err != nil {
		return models.Room{}, err
	}
	var calls []callStateRow
	if err := c.db.WithContext(ctx).Where("appointment_id = ?", appointmentID).Limit(1).Find(&calls).Error; err != nil {
		return models.Room{}, err
	}
	if len(calls) > 0 {
		cs := calls[0].toModel()
		r.Call = &cs
	}
	return r, nil
}

// Unread returns what the actor has not read in a room.
func (c *Chat) Unread(ctx context.Context, actor models.Actor, appointmentID string) (models.Unread, error) {
	a, err := loadBare(ctx, c.db, appointmentID)
	if err != nil {
		return models.Unread{}, err
	}
	if !a.IsParticipant(actor.UserID) {
		return models.Unread{}, models.ErrAppointmentNotFound
	}
	us, err := unreadFor(ctx, c.db, actor.UserID, []string{appointmentID})
	if err != nil {
		return models.Unread{}, err
	}
	return us[appointmentID], nil
}

// unreadFor returns, per appointment, the messages of others after the
// user's read marker and the last message: two statements for any number
// of rooms.
func unreadFor(ctx context.Context, db *gorm.DB, userID string, appointmentIDs []string) (map[string]models.Unread, error) {
	out := make(map[string]models.Unread, len(appointmentIDs))
	if len(appointmentIDs) == 0 {
		return out, nil
	}
	for _, id := range appointmentIDs {
		out[id] = models.Unread{AppointmentID: id}
	}
	var counts []struct {
		AppointmentID string
		N             int64
	}
	err := db.WithContext(ctx).Raw(`SELECT m.appointment_id, COUNT(*) AS n FROM messages m
		LEFT JOIN chat_reads r ON r.appointment_id = m.appointment_id AND r.user_id = ?
		WHERE m.appointment_id IN ? AND m.seq > COALESCE(r.seq, 0) AND m.sender_id <> ?
		GROUP BY m.appointment_id`, userID, appointmentIDs, userID).Scan(&counts).Error
	if err != nil {
		return nil, err
	}
	for _, n := range counts {
		u := out[n.AppointmentID]
		u.Count = n.N
		out[n.AppointmentID] = u
	}
	var last []messageRow
	// The last message as lists show it: no attachment row needed.
	err = db.WithContext(ctx).Joins("JOIN appointments a ON a.id = messages.appointment_id AND messages.seq = a.last_seq").
		Where("messages.appointment_id IN ?", appointmentIDs).Find(&last).Error
	if err != nil {
		return nil, err
	}
	for _, r := range last {
		u := out[r.AppointmentID]
		m := r.toModel()
		u.LastMessage = &m
		out[r.AppointmentID] = u
	}
	return out, nil
}

// Send stores a message with the next sequence number of its appointment.
// On Postgres, messages sent at the same time share one transaction (see
// GroupCommit); each call returns only after that transaction commits.
func (c *Chat) Send(ctx context.Context, actor models.Actor, in models.SendInput) (models.Message, bool, error) {
	if err := models.Validate(in); err != nil {
		return models.Message{}, false, err
	}
	text, err := models.CleanText(in.Text, false)
	if err != nil {
		return models.Message{}, false, err
	}
	if gc := c.groupCommitter(); gc != nil {
		return gc.send(ctx, actor, in.AppointmentID, in.ClientMsgID, text)
	}
	return c.store(ctx, actor, in.AppointmentID, in.ClientMsgID, text, nil)
}

// existing returns the message a sender already stored under clientMsgID.
func (c *Chat) existing(ctx context.Context, appointmentID, senderID, clientMsgID string) (models.Message, bool, error) {
	var m messageRow
	err := c.db.WithContext(ctx).Preload("Attachment").
		Where("appointment_id = ? AND sender_id = ? AND client_msg_id = ?", appointmentID, senderID, clientMsgID).
		Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.Message{}, false, nil
	}
	if err != nil {
		return models.Message{}, false, err
	}
	return m.toModel(), true, nil
}

// store writes the message in one transaction: the appointment row's
// last_seq is incremented under its row lock, which serialises the senders
// of one room and leaves no gaps; access and status are checked under
// that lock too, and a refusal rolls the number back. A retry of a stored
// client_msg_id (the insert hits the unique key) returns the stored message.
func (c *Chat) store(ctx context.Context, actor models.Actor, appointmentID, clientMsgID, text string, att *models.Attachment) (models.Message, bool, error) {
	m := messageRow{ID: uuid.NewString(), AppointmentID: appointmentID, SenderID: actor.UserID, ClientMsgID: clientMsgID, Text: text, CreatedAt: c.clock.Now().UTC()}
	return c.storeRow(ctx, actor, m, att)
}

// storeRow is store for a message whose id and time are already chosen.
func (c *Chat) storeRow(ctx context.Context, actor models.Actor, m messageRow, att *models.Attachment) (models.Message, bool, error) {
	appointmentID, clientMsgID, now := m.AppointmentID, m.ClientMsgID, m.CreatedAt
	err := c.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row struct {
			LastSeq     int64
			Status      string
			CompletedAt *time.Time
			PatientID   string
			DoctorID    string
		}
		res := tx.Raw("UPDATE appointments SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq, status, completed_at, patient_id, doctor_id", appointmentID).Scan(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.ErrAppointmentNotFound
		}
		a := models.Appointment{ID: appointmentID, Status: models.AppointmentStatus(row.Status), CompletedAt: row.CompletedAt, PatientID: row.PatientID, DoctorID: row.DoctorID}
		if err := c.policy.CanSend(actor, a, now); err != nil {
			return err
		}
		m.Seq = row.LastSeq
		if att != nil {
			m.Kind = string(models.MessageAttachment)
			ar := attachmentFromModel(*att)
			if err := tx.Create(&ar).Error; err != nil {
				return err
			}
			m.AttachmentID = &att.ID
		}
		if err := tx.Omit("Attachment").Create(&m).Error; err != nil {
			return err
		}
		if att == nil {
			return nil
		}
		posted := m.toModel()
		posted.Attachment = att
		return c.outbox.add(tx, models.MessagePosted{Message: posted, PatientID: row.PatientID, DoctorID: row.DoctorID})
	})
	if err != nil {
		if models.ErrorCode(err) != models.ENOTFOUND {
			// A retry of a stored message (perhaps after the chat closed).
			if prev, ok, lookErr := c.existing(ctx, appointmentID, actor.UserID, clientMsgID); lookErr == nil && ok {
				return prev, false, nil
			}
		}
		return models.Message{}, false, err
	}
	if att != nil {
		c.outbox.Kick()
	}
	out := m.toModel()
	out.Attachment = att
	return out, true, nil
}

// recordMessage stores a message the room records itself, in the
// transaction of what it records (the appointment's row lock hands out
// the next seq), and announces it through the outbox.
func recordMessage(ctx context.Context, tx *gorm.DB, outbox *Outbox, m *messageRow) error {
	var row struct {
		LastSeq   int64
		PatientID string
		DoctorID  string
	}
	res := tx.WithContext(ctx).Raw("UPDATE appointments SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq, patient_id, doctor_id", m.AppointmentID).Scan(&row)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return models.ErrAppointmentNotFound
	}
	m.Seq = row.LastSeq
	if err := tx.Omit("Attachment").Create(m).Error; err != nil {
		return err
	}
	return outbox.add(tx, models.MessagePosted{Message: m.toModel(), PatientID: row.PatientID, DoctorID: row.DoctorID})
}

// Sync returns up to MaxSyncMessages messages after afterSeq, oldest first:
// what a client missed while it was away.
func (c *Chat) Sync(ctx context.Context, actor models.Actor, appointmentID string, afterSeq int64) ([]models.Message, error) {
	if afterSeq < 0 {
		return nil, models.InvalidFields(map[string]any{"after_seq": "must not be negative"})
	}
	if _, err := c.access(ctx, actor, appointmentID); err != nil {
		return nil, err
	}
	var ms []messageRow
	err := c.db.WithContext(ctx).Preload("Attachment").
		Where("appointment_id = ? AND seq > ?", appointmentID, afterSeq).
		Order("seq ASC").Limit(models.MaxSyncMessages).Find(&ms).Error
	if err != nil {
		return nil, err
	}
	return messagesToModel(ms), nil
}

// History returns messages newest first, before BeforeSeq. Participants may
// read it whatever the status; admins too, audited; anyone else gets ENOTFOUND.
func (c *Chat) History(ctx context.Context, actor models.Actor, appointmentID string, f models.HistoryFilter) (models.Page[models.Message], error) {
	limit, err := models.PageLimit(f.Limit)
	if err != nil {
		return models.Page[models.Message]{}, err
	}
	if f.BeforeSeq < 0 {
		return models.Page[models.Message]{}, models.InvalidFields(map[string]any{"before_seq": "must not be negative"})
	}
	a, err := loadBare(ctx, c.db, appointmentID)
	if err != nil {
		return models.Page[models.Message]{}, err
	}
	if err := c.policy.Check(actor, a, models.ActionReadHistory, c.clock.Now()); err != nil {
		return models.Page[models.Message]{}, err
	}
	reason, err := models.BreakGlass(actor, f.Reason)
	if err != nil {
		return models.Page[models.Message]{}, err
	}
	if actor.IsAdmin() {
		// The read is recorded before anything is shown, or nothing is.
		if err := c.audit.record(ctx, c.db, actor, "chat.read", "appointment", appointmentID, map[string]any{"reason": reason}); err != nil {
			return models.Page[models.Message]{}, err
		}
	}
	q := c.db.WithContext(ctx).Preload("Attachment").Where("appointment_id = ?", appointmentID)
	if f.BeforeSeq > 0 {
		q = q.Where("seq < ?", f.BeforeSeq)
	}
	var ms []messageRow
	if err := q.Order("seq DESC").Limit(limit + 1).Find(&ms).Error; err != nil {
		return models.Page[models.Message]{}, err
	}
	page := models.Page[models.Message]{Items: messagesToModel(ms)}
	if len(ms) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = strconv.FormatInt(ms[limit-1].Seq, 10)
	}
	return page, nil
}

// MarkRead records that the actor has read up to seq (clamped to the last
// message; it never moves backwards) and returns the stored position.
func (c *Chat) MarkRead(ctx context.Context, actor models.Actor, appointmentID string, seq int64) (int64, error) {
	if seq < 0 {
		return 0, models.InvalidFields(map[string]any{"seq": "must not be negative"})
	}
	a, err := c.access(ctx, actor, appointmentID)
	if err != nil {
		return 0, err
	}
	seq = min(seq, a.LastSeq)
	now := c.clock.Now().UTC()
	var stored int64
	err = c.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r := chatReadRow{AppointmentID: appointmentID, UserID: actor.UserID, Seq: seq, UpdatedAt: now}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error; err != nil {
			return err
		}
		if err := tx.Model(&chatReadRow{}).Where("appointment_id = ? AND user_id = ? AND seq < ?", appointmentID, actor.UserID, seq).
			Updates(map[string]any{"seq": seq, "updated_at": now}).Error; err != nil {
			return err
		}
		return tx.Model(&chatReadRow{}).Select("seq").Where("appointment_id = ? AND user_id = ?", appointmentID, actor.UserID).Scan(&stored).Error
	})
	if err != nil {
		return 0, err
	}
	return stored, nil
}

// Reads returns every member's read position in a room.
func (c *Chat) Reads(ctx context.Context, actor models.Actor, appointmentID string) ([]models.ChatRead, error) {
	if _, err := c.access(ctx, actor, appointmentID); err != nil {
		return nil, err
	}
	return c.reads(ctx, appointmentID)
}

func (c *Chat) reads(ctx context.Context, appointmentID string) ([]models.ChatRead, error) {
	var rs []chatReadRow
	if err := c.db.WithContext(ctx).Where("appointment_id = ?", appointmentID).Order("user_id").Find(&rs).Error; err != nil {
		return nil, err
	}
	out := make([]models.ChatRead, len(rs))
	for i, r := range rs {
		out[i] = models.ChatRead{AppointmentID: r.AppointmentID, UserID: r.UserID, Seq: r.Seq, UpdatedAt: r.UpdatedAt.UTC()}
	}
	return out, nil
}

// Attach stores an uploaded file (size-limited, type sniffed and
// allow-listed) and announces it as a chat message in the room.
func (c *Chat) Attach(ctx context.Context, actor models.Actor, in models.AttachInput) (models.Message, bool, error) {
	if in.ClientMsgID == "" {
		in.ClientMsgID = uuid.NewString()
	}
	if len(in.ClientMsgID) > models.MaxClientMsgIDLen || !utf8.ValidString(in.ClientMsgID) {
		return models.Message{}, false, models.InvalidFields(map[string]any{"client_msg_id": "must be 1 to 64 characters"})
	}
	caption, err := models.CleanText(in.Caption, true)
	if err != nil {
		return models.Message{}, false, err
	}
	a, err := loadBare(ctx, c.db, in.AppointmentID)
	if err != nil {
		return models.Message{}, false, err
	}
	if err := c.policy.CanViewAppointment(actor, a); err != nil {
		return models.Message{}, false, err
	}
	// A retry of a stored upload answers the stored message, as Send does,
	// even once the chat has closed.
	if m, ok, err := c.existing(ctx, in.AppointmentID, actor.UserID, in.ClientMsgID); err != nil || ok {
		return m, false, err
	}
	if err := c.policy.CanSend(actor, a, c.clock.Now()); err != nil {
		return models.Message{}, false, err
	}
	if c.files == nil {
		return models.Message{}, false, models.Errorf(models.EUNAVAILABLE, "attachments are not configured")
	}
	if err := c.checkQuota(ctx, actor.UserID, in.AppointmentID); err != nil {
		return models.Message{}, false, err
	}
	// The head is enough to sniff the type and read an image's dimensions.
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(in.Body, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return models.Message{}, false, err
	}
	head = head[:n]
	if n == 0 {
		return models.Message{}, false, models.InvalidFields(map[string]any{"file": "is empty"})
	}
	ctype := http.DetectContentType(head[:min(n, 512)])
	if i := strings.IndexByte(ctype, ';'); i >= 0 {
		ctype = ctype[:i]
	}
	ext, ok := models.AllowedAttachmentTypes[ctype]
	if !ok {
		return models.Message{}, false, models.InvalidFields(map[string]any{"file": "must be an image (PNG, JPEG, GIF, WebP) or a PDF, not " + ctype})
	}
	if err := c.checkImage(ctype, head); err != nil {
		return models.Message{}, false, err
	}
	att := &models.Attachment{ID: uuid.NewString(), AppointmentID: in.AppointmentID, UploaderID: actor.UserID,
		FileName: models.CleanFileName(in.FileName, ext), ContentType: ctype, CreatedAt: c.clock.Now().UTC()}
	att.StorageKey = path.Join("attachments", in.AppointmentID, att.ID)
	limit := c.AttachmentMaxBytes
	body := io.MultiReader(bytes.NewReader(head), in.Body)
	size, err := c.files.Put(ctx, att.StorageKey, &models.LimitedReader{R: body, Left: limit})
	if errors.Is(err, models.ErrTooLarge) {
		_ = c.files.Delete(ctx, att.StorageKey)
		return models.Message{}, false, models.Errorf(models.ETOOLARGE, "attachments are limited to %d bytes", limit)
	}
	if err != nil {
		_ = c.files.Delete(ctx, att.StorageKey)
		return models.Message{}, false, err
	}
	att.SizeBytes = size
	text := caption
	if text == "" {
		text = att.FileName
	}
	m, created, err := c.store(ctx, actor, in.AppointmentID, in.ClientMsgID, text, att)
	if err != nil || !created {
		_ = c.files.Delete(ctx, att.StorageKey)
	}
	return m, created, err
}

// checkQuota refuses an upload once the uploader or the room has stored
// its daily bytes (the last 24 hours).
func (c *Chat) checkQuota(ctx context.Context, uploaderID, appointmentID string) error {
	since := c.clock.Now().Add(-24 * time.Hour)
	for _, q := range []struct {
		limit  int64
		column string
		id     string
		who    string
	}{{c.UserDailyBytes, "uploader_id", uploaderID, "you"}, {c.RoomDailyBytes, "appointment_id", appointmentID, "this consultation"}} {
		if q.limit <= 0 {
			continue
		}
		var used int64
		if err := c.db.WithContext(ctx).Model(&attachmentRow{}).Select("COALESCE(SUM(size_bytes), 0)").
			Where(q.column+" = ? AND created_at > ?", q.id, since).Scan(&used).Error; err != nil {
			return err
		}
		if used >= q.limit {
			e := models.Errorf(models.ERATELIMITED, "%s uploaded %d MB in the last 24 hours, the daily limit; try again later", q.who, used>>20).
				WithDetails(map[string]any{"limit_bytes": q.limit, "used_bytes": used})
			e.RetryAfterSeconds = 3600
			return e
		}
	}
	return nil
}

// checkImage reads an image's dimensions from its head and refuses one
// that does not decode or has more than MaxImagePixels (a 30000×30000 PNG
// would be rendered by the other party's browser).
func (c *Chat) checkImage(ctype string, head []byte) error {
	if !strings.HasPrefix(ctype, "image/") {
		return nil
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(head))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return models.InvalidFields(map[string]any{"file": "is not a readable " + strings.TrimPrefix(ctype, "image/") + " image"})
	}
	if px := int64(cfg.Width) * int64(cfg.Height); c.MaxImagePixels > 0 && px > c.MaxImagePixels {
		return models.InvalidFields(map[string]any{"file": fmt.Sprintf("is %d×%d pixels; images are limited to %d megapixels",
			cfg.Width, cfg.Height, c.MaxImagePixels/1_000_000)})
	}
	return nil
}

// OpenAttachment streams an attachment to a member of its room (or an
// admin, audited); anyone else gets ENOTFOUND.
func (c *Chat) OpenAttachment(ctx context.Context, actor models.Actor, id string) (models.Attachment, io.ReadCloser, error) {
	notFound := models.Errorf(models.ENOTFOUND, "attachment not found")
	var r attachmentRow
	err := c.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.Attachment{}, nil, notFound
	}
	if err != nil {
		return models.Attachment{}, nil, err
	}
	a, err := loadBare(ctx, c.db, r.AppointmentID)
	if err != nil {
		return models.Attachment{}, nil, err
	}
	if err := c.policy.Check(actor, a, models.ActionReadHistory, c.clock.Now()); err != nil {
		if models.ErrorCode(err) == models.ENOTFOUND {
			return models.Attachment{}, nil, notFound
		}
		return models.Attachment{}, nil, err
	}
	if actor.IsAdmin() {
		c.audit.recordAfter(ctx, actor, "attachment.read", "attachment", id, nil)
	}
	if c.files == nil {
		return models.Attachment{}, nil, models.Errorf(models.EUNAVAILABLE, "attachments are not configured")
	}
	rc, err := c.files.Open(ctx, r.StorageKey)
	return *r.toModel(), rc, err
}
