-- +goose Up
-- Users who opted in get their notifications by mail too (when SMTP is
-- configured). A notification to mail is 'pending'; a node claims it
-- ('sending', until mail_after) before sending, then marks it 'sent', or
-- after five failures 'failed'.
ALTER TABLE users ADD COLUMN email_notifications BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE notifications ADD COLUMN mail_state TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN mail_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN mail_after TIMESTAMPTZ;
CREATE INDEX notifications_mail_idx ON notifications (mail_state, mail_after);

-- +goose Down
DROP INDEX notifications_mail_idx;
ALTER TABLE notifications DROP COLUMN mail_after;
ALTER TABLE notifications DROP COLUMN mail_attempts;
ALTER TABLE notifications DROP COLUMN mail_state;
ALTER TABLE users DROP COLUMN email_notifications;
