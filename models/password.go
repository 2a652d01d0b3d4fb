package models

import (
	"strings"
	"unicode/utf8"
)

// MinPasswordRunes is the shortest password accepted.
const MinPasswordRunes = 10

// CheckPassword applies the password policy (NIST SP 800-63B / OWASP): at
// least MinPasswordRunes characters, not on the common-password list, not
// the email address (or its name part). It answers EINVALID with
// details.fields.password.
func CheckPassword(password, email string, isCommon func(string) bool) error {
	bad := func(why string) error { return InvalidFields(map[string]any{"password": why}) }
	if utf8.RuneCountInString(password) < MinPasswordRunes {
		return bad("must be at least 10 characters")
	}
	if strings.TrimSpace(password) == "" {
		return bad("must not be only spaces")
	}
	lower := strings.ToLower(strings.TrimSpace(password))
	email = NormalizeEmail(email)
	name, _, _ := strings.Cut(email, "@")
	if email != "" && (lower == email || (len(name) >= 3 && lower == name)) {
		return bad("must not be your email address")
	}
	if isCommon != nil && isCommon(password) {
		return bad("is one of the most common passwords; choose another")
	}
	return nil
}
