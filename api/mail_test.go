package api

import (
	"bytes"
	"encoding/base64"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	tmail "teleconsult/mail"
	"teleconsult/models"
	"teleconsult/modeltest"
)

// mailbox is a real SMTP server in this process: what it receives is
// what the server really sent over SMTP.
type mailbox struct{ got chan received }

type received struct {
	to      string
	subject string
	text    string
}

func newMailbox(t *testing.T) (*mailbox, string) {
	t.Helper()
	mb := &mailbox{got: make(chan received, 16)}
	s := smtp.NewServer(mb)
	s.Domain = "mail.test"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return mb, "smtp://" + l.Addr().String()
}

func (mb *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{mb: mb}, nil }

type mailSession struct {
	mb *mailbox
	to string
}

func (s *mailSession) Reset()                                    {}
func (s *mailSession) Logout() error                             { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }
func (s *mailSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(m.Body)
	switch strings.ToLower(m.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body, _ = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
	case "base64":
		body, _ = base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\r\n", ""))
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	s.mb.got <- received{to: s.to, subject: subject, text: string(body)}
	return nil
}

// next waits for a mail.
func (mb *mailbox) next(t *testing.T) received {
	t.Helper()
	select {
	case m := <-mb.got:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no mail arrived in 10 s")
	}
	return received{}
}

var resetLink = regexp.MustCompile(`http://teleconsult\.test/reset-password\?token=(\S+)`)

func resetToken(t *testing.T, m received) string {
	t.Helper()
	found := resetLink.FindStringSubmatch(m.text)
	if found == nil {
		t.Fatalf("no reset link in the mail: %q", m.text)
	}
	tok, err := url.QueryUnescape(found[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// A forgotten password is reset from the mailed link: once, within the
// hour, and every session of the account ends. Asking never says whether
// the address has an account.
func TestPasswordResetByEmail(t *testing.T) {
	mb, smtpURL := newMailbox(t)
	a := newTestAPI(t, modeltest.NewPostgres(t), func(o *modeltest.Options, _ *Config) {
		m, err := tmail.New(smtpURL, "Teleconsult <no-reply@teleconsult.test>", slog.New(slog.DiscardHandler), false)
		if err != nil {
			t.Fatal(err)
		}
		o.Mailer = m
	})
	a.Clock.Set(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	u, _ := a.user(models.RolePatient, "forgetful@example.com")
	_, refresh := login(t, a, u.Email, modeltest.TestPassword)

	// An unknown address is answered the same, and nobody is mailed.
	a.do("POST", "/api/v1/auth/password/forgot", "", map[string]any{"email": "nobody@example.com"}).must(t, 202)
	a.do("POST", "/api/v1/auth/password/forgot", "", map[string]any{"email": " Forgetful@Example.com "}).must(t, 202)
	m := mb.next(t)
	if !strings.Contains(m.to, "forgetful@example.com") || m.subject != "Reset your Teleconsult password" {
		t.Fatalf("mail to %q about %q", m.to, m.subject)
	}
	select {
	case other := <-mb.got:
		t.Fatalf("a second mail went to %q", other.to)
	case <-time.After(300 * time.Millisecond):
	}
	tok := resetToken(t, m)

	// A weak password is refused on its field and uses nothing up.
	if r := a.do("POST", "/api/v1/auth/password/reset", "", map[string]any{"token": tok, "password": "password1"}); r.Status != 422 || r.Fields()["password"] == nil {
		t.Fatalf("weak password: %d %s", r.Status, r.Raw)
	}
	a.do("POST", "/api/v1/auth/password/reset", "", map[string]any{"token": tok, "password": "juniper-lantern-42"}).must(t, 204)
	// Once only.
	if r := a.do("POST", "/api/v1/auth/password/reset", "", map[string]any{"token": tok, "password": "another-lantern-43"}); r.Status != 400 || r.ErrorCode() != models.EINVALID {
		t.Fatalf("second use: %d %s", r.Status, r.Raw)
	}
	if r := a.do("POST", "/api/v1/auth/password/reset", "", map[string]any{"token": "made-up", "password": "another-lantern-43"}); r.Status != 400 {
		t.Fatalf("unknown token: %d %s", r.Status, r.Raw)
	}
	// Every session ended; the new password works, the old one not.
	if r := a.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": refresh}); r.Status != 401 {
		t.Fatalf("refresh after the reset: %d %s", r.Status, r.Raw)
	}
	if r := a.do("POST", "/api/v1/auth/login", "", map[string]any{"email": u.Email, "password": modeltest.TestPassword}); r.Status != 401 {
		t.Fatalf("old password: %d", r.Status)
	}
	login(t, a, u.Email, "juniper-lantern-42")

	// An admin may send the link (audited); nobody else may.
	_, adminTok := a.user(models.RoleAdmin, "admin@example.com")
	_, otherTok := a.user(models.RolePatient, "other@example.com")
	a.do("POST", "/api/v1/admin/users/"+u.ID+"/password-reset", otherTok, nil).must(t, 403)
	a.do("POST", "/api/v1/admin/users/no-such-user/password-reset", adminTok, nil).must(t, 404)
	a.do("POST", "/api/v1/admin/users/"+u.ID+"/password-reset", adminTok, nil).must(t, 202)
	if m := mb.next(t); !strings.Contains(m.to, u.Email) || resetToken(t, m) == "" {
		t.Fatalf("admin's reset mail: %+v", m)
	}

	// A link older than an hour does not work; the mail is in the user's language.
	a.do("PATCH", "/api/v1/me", modeltest.MustToken(t, a.P, u), map[string]any{"locale": "zh"}).must(t, 200)
	a.do("POST", "/api/v1/auth/password/forgot", "", map[string]any{"email": u.Email}).must(t, 202)
	m = mb.next(t)
	if m.subject != "重置您的 Teleconsult 密码" {
		t.Fatalf("subject for a Chinese reader: %q", m.subject)
	}
	late := resetToken(t, m)
	a.Clock.Set(a.Clock.Now().Add(models.PasswordResetTTL + time.Second))
	if r := a.do("POST", "/api/v1/auth/password/reset", "", map[string]any{"token": late, "password": "copper-meadow-77"}); r.Status != 400 {
		t.Fatalf("expired token: %d %s", r.Status, r.Raw)
	}
}

// Notifications also go out by mail to those who opted in (and only to
// them), once, over SMTP.
func TestNotificationMails(t *testing.T) {
	mb, smtpURL := newMailbox(t)
	c := newClinic(t, modeltest.NewPostgres(t), func(o *modeltest.Options, _ *Config) {
		m, err := tmail.New(smtpURL, "Teleconsult <no-reply@teleconsult.test>", slog.New(slog.DiscardHandler), false)
		if err != nil {
			t.Fatal(err)
		}
		o.Mailer = m
	})
	ctx := t.Context()
	if got := c.do("PATCH", "/api/v1/me", c.patTok, map[string]any{"email_notifications": true}).must(t, 200).Body["user"].(map[string]any)["email_notifications"]; got != true {
		t.Fatalf("opting in: %v", got)
	}
	if got := c.do("GET", "/api/v1/me", c.pat2Tok, nil).must(t, 200).Body["user"].(map[string]any)["email_notifications"]; got != false {
		t.Fatalf("default: %v", got)
	}
	mine := c.mustBook(t, c.patTok, c.doctor.ID, "2026-03-03T10:00:00Z")
	theirs := c.mustBook(t, c.pat2Tok, c.doctor.ID, "2026-03-03T11:00:00Z")
	for _, id := range []string{mine, theirs} {
		c.do("POST", "/api/v1/appointments/"+id+"/cancel", c.docTok, map[string]any{"reason": "the clinic is closed"}).must(t, 200)
	}
	for {
		n, err := c.P.Outbox.DispatchOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	sent, err := c.P.Notifications.SendMails(ctx)
	if err != nil || sent != 1 {
		t.Fatalf("sent %d mails, %v; want 1 (the patient who opted in)", sent, err)
	}
	m := mb.next(t)
	if !strings.Contains(m.to, "pat@example.com") || m.subject != "Appointment cancelled" || !strings.Contains(m.text, "Reason: the clinic is closed") ||
		!strings.Contains(m.text, "http://teleconsult.test/profile") {
		t.Fatalf("mail %+v", m)
	}
	// Once: a second pass sends nothing; the other patient got none.
	if sent, err := c.P.Notifications.SendMails(ctx); err != nil || sent != 0 {
		t.Fatalf("second pass sent %d, %v", sent, err)
	}
	select {
	case other := <-mb.got:
		t.Fatalf("an unexpected mail to %q", other.to)
	case <-time.After(300 * time.Millisecond):
	}
}
