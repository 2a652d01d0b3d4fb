package api

import (
	"time"

	"teleconsult/models"
)

// Wire types: what clients see. Domain structs never reach JSON directly.

type userDTO struct {
	ID        string            `json:"id"`
	Email     string            `json:"email"`
	Name      string            `json:"name"`
	Role      models.Role       `json:"role"`
	TimeZone  string            `json:"time_zone"`
	Disabled  bool              `json:"disabled"`
	CreatedAt time.Time         `json:"created_at"`
	Doctor    *doctorProfileDTO `json:"doctor"`
}

type doctorProfileDTO struct {
	Specialty string `json:"specialty"`
	Bio       string `json:"bio"`
}

func toUser(u models.User) userDTO {
	d := userDTO{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, TimeZone: u.TimeZone, Disabled: u.Disabled, CreatedAt: u.CreatedAt.UTC()}
	if u.Doctor != nil {
		d.Doctor = &doctorProfileDTO{Specialty: u.Doctor.Specialty, Bio: u.Doctor.Bio}
	}
	return d
}

type userEnvelope struct {
	User userDTO `json:"user"`
}

type sessionDTO struct {
	AccessToken  string  `json:"access_token"`
	RefreshToken string  `json:"refresh_token"`
	TokenType    string  `json:"token_type"`
	ExpiresIn    int     `json:"expires_in"`
	User         userDTO `json:"user"`
}

// listDTO is every list's shape.
type listDTO[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// toList converts a page with f.
func toList[M, T any](p models.Page[M], f func(M) T) listDTO[T] {
	out := listDTO[T]{Items: make([]T, len(p.Items))}
	for i, m := range p.Items {
		out.Items[i] = f(m)
	}
	if p.NextCursor != "" {
		c := p.NextCursor
		out.NextCursor = &c
	}
	return out
}

type auditEntryDTO struct {
	ID         string      `json:"id"`
	ActorID    string      `json:"actor_id"`
	ActorRole  models.Role `json:"actor_role"`
	Action     string      `json:"action"`
	TargetType string      `json:"target_type"`
	TargetID   string      `json:"target_id"`
	RequestID  string      `json:"request_id"`
	Details    any         `json:"details"`
	CreatedAt  time.Time   `json:"created_at"`
}
