// Package password hashes passwords with argon2id (github.com/alexedwards/argon2id).
// It implements models.PasswordHasher.
package password

import (
	"github.com/alexedwards/argon2id"

	"teleconsult/models"
)

// Hasher hashes passwords with argon2id.
type Hasher struct {
	params *argon2id.Params
	// dummy is compared against when an account does not exist, so that a
	// wrong email costs as much time as a wrong password.
	dummy string
}

var _ models.PasswordHasher = (*Hasher)(nil)

// DefaultParams follow OWASP's argon2id recommendation (19 MiB, 2 passes).
var DefaultParams = argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// FastParams are cheap parameters for tests only.
var FastParams = argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// New builds a hasher with params.
func New(params argon2id.Params) *Hasher {
	h := &Hasher{params: &params}
	h.dummy, _ = argon2id.CreateHash("not a real password", h.params)
	return h
}

// Hash returns an encoded argon2id hash of password.
func (h *Hasher) Hash(password string) (string, error) {
	return argon2id.CreateHash(password, h.params)
}

// Verify reports whether password matches hash. An empty hash burns the same
// time as a real comparison and fails.
func (h *Hasher) Verify(password, hash string) bool {
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(password, h.dummy)
		return false
	}
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	return err == nil && ok
}
