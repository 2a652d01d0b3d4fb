package models

import (
	"encoding/base64"
	"strings"
	"time"
)

// Page is one page of a list and the cursor of the next page ("" at the end).
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// Pagination limits shared by every list.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// PageLimit normalises a requested page size.
func PageLimit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultPageSize, nil
	case n < 0 || n > MaxPageSize:
		return 0, InvalidFields(map[string]any{"limit": "must be between 1 and 200"})
	}
	return n, nil
}

// Cursor is a keyset position: the sort time and id of the last item seen.
type Cursor struct {
	At time.Time
	ID string
}

// EncodeCursor makes an opaque cursor string.
func EncodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

// DecodeCursor parses a cursor made by EncodeCursor; "" yields nil.
func DecodeCursor(s string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	bad := InvalidFields(map[string]any{"cursor": "is not a cursor from this list"})
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	at, id, ok := strings.Cut(string(b), "|")
	if !ok {
		return nil, bad
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return nil, bad
	}
	return &Cursor{At: t, ID: id}, nil
}

// PageOf trims a limit+1 result to limit and derives the next cursor.
func PageOf[T any](rows []T, limit int, key func(T) (time.Time, string)) Page[T] {
	p := Page[T]{Items: rows}
	if len(rows) > limit {
		p.Items = rows[:limit]
		at, id := key(rows[limit-1])
		p.NextCursor = EncodeCursor(at, id)
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}
