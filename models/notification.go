package models

// Notifications is a placeholder until its operations land.
type Notifications struct{}

func newNotifications(p *Platform) *Notifications { return &Notifications{} }
