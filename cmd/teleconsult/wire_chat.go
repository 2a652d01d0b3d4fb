package main

import (
	"context"
	"path/filepath"

	"teleconsult/models"
	"teleconsult/files"
)

// buildChat wires chat and attachments (nothing runs in the background).
func (a *app) buildChat(ctx context.Context) error { return nil }

// fileStore is where attachment bytes live: DATA_DIR/files.
func (a *app) fileStore() (models.FileStore, error) {
	return files.NewDisk(filepath.Join(a.cfg.DataDir, "files"))
}
