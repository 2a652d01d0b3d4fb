package main

import (
	"context"

	"teleconsult/models"
)

// buildChat wires chat and attachments.
func (a *app) buildChat(ctx context.Context) error { return nil }

// fileStore is where attachment bytes live.
func (a *app) fileStore() (models.FileStore, error) { return nil, nil }
