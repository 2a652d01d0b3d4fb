package models

// Chat is a placeholder until its operations land.
type Chat struct{}

func newChat(p *Platform) *Chat { return &Chat{} }
