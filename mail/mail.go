// Package mail sends the server's mail: over SMTP with go-mail when
// SMTP_URL is set, otherwise into the log (the embedded default, so that
// a reset link can still be followed on a development machine).
package mail

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"

	"teleconsult/models"
)

// New returns the mailer for smtpURL: smtp://[user:pass@]host[:port]
// (STARTTLS when the server offers it; port 587 by default), smtps://
// (TLS from the start; port 465), or "" for the log. logText says whether
// the log may show a mail's text (it carries reset links: never in
// production, where only the recipient and subject are logged).
func New(smtpURL, from string, log *slog.Logger, logText bool) (models.Mailer, error) {
	if smtpURL == "" {
		return logMailer{log: log, text: logText}, nil
	}
	u, err := url.Parse(smtpURL)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("SMTP_URL: not a URL like smtp://user:pass@host:587")
	}
	opts := []gomail.Option{gomail.WithTimeout(10 * time.Second)}
	port := 587
	switch u.Scheme {
	case "smtp":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case "smtps":
		port = 465
		opts = append(opts, gomail.WithSSL())
	default:
		return nil, fmt.Errorf("SMTP_URL: scheme %q is not smtp or smtps", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("SMTP_URL: bad port %q", p)
		}
	}
	opts = append(opts, gomail.WithPort(port))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	if from == "" {
		return nil, fmt.Errorf("MAIL_FROM is required with SMTP_URL")
	}
	return smtpMailer{host: u.Hostname(), opts: opts, from: from}, nil
}

type smtpMailer struct {
	host string
	opts []gomail.Option
	from string
}

// Send opens a connection per mail: mails are rare (resets, opted-in
// notifications), and a fresh connection never finds a stale one.
func (m smtpMailer) Send(ctx context.Context, mail models.Mail) error {
	msg := gomail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := msg.To(mail.To); err != nil {
		return fmt.Errorf("mail to: %w", err)
	}
	msg.Subject(mail.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, mail.Text)
	c, err := gomail.NewClient(m.host, m.opts...)
	if err != nil {
		return fmt.Errorf("mail client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send mail: %w", err)
	}
	return nil
}

type logMailer struct {
	log  *slog.Logger
	text bool
}

// Send writes the mail to the log: with no SMTP server configured this is
// how a development machine sees it (and follows a reset link).
func (m logMailer) Send(ctx context.Context, mail models.Mail) error {
	if !m.text {
		m.log.WarnContext(ctx, "mail not sent: SMTP_URL is not configured", "to", mail.To, "subject", mail.Subject)
		return nil
	}
	m.log.InfoContext(ctx, "mail (no SMTP_URL configured; written here instead of sent)", "to", mail.To, "subject", mail.Subject, "text", mail.Text)
	return nil
}
