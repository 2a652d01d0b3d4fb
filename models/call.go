package models

// Calls is a placeholder until its operations land.
type Calls struct{}

func newCalls(p *Platform) *Calls { return &Calls{} }
