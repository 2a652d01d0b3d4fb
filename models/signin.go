package models

import "time"

// SignInPolicy bounds password guessing the way OWASP advises, without
// letting an attacker lock real users out:
//
//   - per account, the first FreeAttempts failures in Window cost nothing;
//     after that each attempt must wait a delay that doubles (1 s, 2 s,
//     4 s, …) up to MaxDelay — a delay, never a hard lock;
//   - per IP, a much higher limit (IPAttempts failures per Window), so a
//     clinic behind one NAT is not locked out by a few typos;
//   - a correct password from a device that signed in to the account
//     before (a signed device cookie) is never throttled.
//
// Attempts are counted before the password is checked, so parallel
// guesses cannot all be evaluated.
type SignInPolicy struct {
	FreeAttempts int
	MaxDelay     time.Duration
	IPAttempts   int
	Window       time.Duration
}

// Delay is how long the account's gate stays closed after its n-th
// attempt in the window (0 while n is within the free attempts).
func (p SignInPolicy) Delay(n int64) time.Duration {
	extra := n - int64(p.FreeAttempts)
	if extra <= 0 {
		return 0
	}
	d := time.Second << min(extra-1, 20)
	if p.MaxDelay > 0 {
		d = min(d, p.MaxDelay)
	}
	return d
}

// RateLimited is the answer to a throttled attempt.
func RateLimited(wait time.Duration, message string) *Error {
	e := Errorf(ERATELIMITED, "%s", message)
	e.RetryAfterSeconds = max(1, int((wait+time.Second-1)/time.Second))
	return e
}
