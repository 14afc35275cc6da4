package volume

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// rootDevice is where a server's boot volume is attached.
const rootDevice = "/dev/vda"

// ReserveBoot makes volumeID the boot volume of srv, a server being
// created without an image: the attachment is recorded as /dev/vda and an
// available volume is reserved; a volume still being created (from an
// image, for this server) is reserved when its copy is done. The server's
// build waits for it (BootVolume) and is placed on the volume's host.
func (s *Service) ReserveBoot(ctx context.Context, c *token.Claims, srv Server, volumeID string, deleteOnTermination bool) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		v, err := s.visible(ctx, tx, c, volumeID, policy.Write, true)
		if err != nil {
			return err
		}
		if v.ProjectID != srv.ProjectID {
			return notFoundVolume(volumeID) // as Attach: an admin cannot boot one project's server from another's volume
		}
		if v.Status != StatusCreating {
			if err := s.transition(ctx, tx, &v, "boot from it", StatusReserved, StatusAvailable); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO volume_attachments (id, volume_id, server_id, device, delete_on_termination)
			VALUES (gen_random_uuid()::text, $1, $2, $3, $4)`, v.ID, srv.ID, rootDevice, deleteOnTermination)
		return err
	})
}

// BootVolume waits until the boot volume of serverID is reserved for it
// (or in use, when a build is resumed) and returns it with its host.
func (s *Service) BootVolume(ctx context.Context, serverID string) (volumeID, hostID string, err error) {
	deadline := time.Now().Add(time.Minute)
	for {
		var status string
		err := s.pool.QueryRow(ctx, `SELECT v.id, v.status, v.host_id::text FROM volume_attachments a JOIN volumes v ON v.id = a.volume_id
			WHERE a.server_id = $1 AND a.device = $2`, serverID, rootDevice).Scan(&volumeID, &status, &hostID)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			// The API records the attachment right after the server;
			// a minute without it means there will be none.
			if time.Now().After(deadline) {
				return "", "", fmt.Errorf("server %s has neither an image nor a boot volume", serverID)
			}
		case err != nil:
			return "", "", err
		case status == StatusReserved || status == StatusInUse:
			return volumeID, hostID, nil
		case status != StatusCreating:
			return "", "", fmt.Errorf("boot volume %s is %s", volumeID, status)
		}
		select {
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// BootVolumeAttached marks the boot volume of serverID in use once its
// domain runs on it.
func (s *Service) BootVolumeAttached(ctx context.Context, serverID string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id string
		if err := tx.QueryRow(ctx, "SELECT volume_id FROM volume_attachments WHERE server_id = $1 AND device = $2", serverID, rootDevice).Scan(&id); err != nil {
			return err
		}
		if ok, err := setStatus(ctx, tx, id, StatusReserved, StatusInUse); err != nil || !ok {
			return err
		}
		v, err := s.getVolume(ctx, tx, id, false)
		if err != nil {
			return err
		}
		return emit(ctx, tx, "attached", v, map[string]any{"server_id": serverID, "device": rootDevice})
	})
}

// Discard deletes a volume whatever its status: a boot volume made for a
// server that could not be created. A pending
// create finds it deleting and does nothing; then its disk is removed.
func (s *Service) Discard(ctx context.Context, id string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.discard(ctx, tx, id) })
	if err == nil {
		s.tasks.Nudge()
	}
	return err
}

func (s *Service) discard(ctx context.Context, tx pgx.Tx, id string) error {
	if _, err := tx.Exec(ctx, "UPDATE volumes SET status = $2, updated_at = now() WHERE id = $1 AND NOT deleted", id, StatusDeleting); err != nil {
		return err
	}
	return s.enqueue(ctx, tx, id, taskDelete, volumeArgs{VolumeID: id})
}
