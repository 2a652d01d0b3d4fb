// Package token issues and verifies access JWTs. The algorithm is pinned to
// HS256, every token names the key that signed it (kid) so keys can rotate,
// and issuer, audience, expiry and issued-at are all required.
package token

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"teleconsult/models"
)

// Claims are the access token's claims.
type Claims struct {
	Role string `json:"role"`
	// Sid names the sign-in session (the refresh-token family) the token
	// belongs to, so a session's sockets can be told apart.
	Sid string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

// Issuer signs and verifies access tokens.
type Issuer struct {
	keys     map[string][]byte
	current  string
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
	parser   *jwt.Parser
}

// ErrInvalid is returned for every token that must not be accepted.
var ErrInvalid = errors.New("invalid token")

// NewIssuer builds an issuer that signs with secret and also accepts tokens
// signed with any of previous (for key rotation).
func NewIssuer(secret string, previous []string, issuer, audience string, ttl time.Duration, now func() time.Time) (*Issuer, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("JWT secret must be at least 32 bytes")
	}
	i := &Issuer{keys: map[string][]byte{}, issuer: issuer, audience: audience, ttl: ttl, now: now}
	i.current = KeyID(secret)
	i.keys[i.current] = []byte(secret)
	for _, p := range previous {
		if p != "" {
			i.keys[KeyID(p)] = []byte(p)
		}
	}
	i.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(now),
		jwt.WithLeeway(5*time.Second),
	)
	return i, nil
}

var _ models.TokenIssuer = (*Issuer)(nil)

// IssueAccess signs an access token for a user (models.TokenIssuer).
func (i *Issuer) IssueAccess(userID string, role models.Role, sessionID string) (string, error) {
	now := i.now()
	c := Claims{Role: string(role), Sid: sessionID, RegisteredClaims: jwt.RegisteredClaims{
		Subject: userID, Issuer: i.issuer, Audience: jwt.ClaimStrings{i.audience},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(i.ttl)), ID: uuid.NewString(),
	}}
	return i.sign(c)
}

// VerifyAccess checks raw and returns its claims (models.TokenIssuer).
func (i *Issuer) VerifyAccess(raw string) (models.AccessClaims, error) {
	c, err := i.Parse(raw)
	if err != nil {
		return models.AccessClaims{}, err
	}
	return models.AccessClaims{UserID: c.Subject, Role: models.Role(c.Role), TokenID: c.ID, SessionID: c.Sid, ExpiresAt: c.ExpiresAt.Time}, nil
}

// KeyID derives a public, stable key id from a secret.
func KeyID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:6])
}

// TTL is how long issued tokens live.
func (i *Issuer) TTL() time.Duration { return i.ttl }

// Issue signs a token for subject with role.
func (i *Issuer) Issue(subject, role string) (string, Claims, error) {
	return i.IssueWithTTL(subject, role, i.ttl)
}

// IssueWithTTL signs a token that lives for ttl.
func (i *Issuer) IssueWithTTL(subject, role string, ttl time.Duration) (string, Claims, error) {
	now := i.now()
	c := Claims{
		Role: role,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   subject,
			Issuer:    i.issuer,
			Audience:  jwt.ClaimStrings{i.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        uuid.NewString(),
		},
	}
	s, err := i.sign(c)
	return s, c, err
}

func (i *Issuer) sign(c Claims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	t.Header["kid"] = i.current
	return t.SignedString(i.keys[i.current])
}

// Parse verifies raw and returns its claims, or ErrInvalid.
func (i *Issuer) Parse(raw string) (Claims, error) {
	var c Claims
	_, err := i.parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, ok := i.keys[kid]
		if !ok {
			return nil, errors.New("unknown kid")
		}
		return key, nil
	})
	if err != nil || c.Subject == "" || c.ID == "" {
		return Claims{}, ErrInvalid
	}
	return c, nil
}
