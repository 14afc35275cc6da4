package volume

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/tasks"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Task kinds. Every handler is idempotent and records its outcome only if
// the volume (or snapshot) is still in the status that asked for the
// work, so a task resumed after a crash (or overtaken by a server
// deletion or a force delete) does no harm.
const (
	taskCreate         = "create"
	taskDelete         = "delete"
	taskExtend         = "extend"
	taskAttach         = "attach"
	taskDetach         = "detach"
	taskSnapshot       = "snapshot"
	taskDeleteSnapshot = "delete_snapshot"
)

type volumeArgs struct {
	VolumeID   string `json:"volume_id"`
	SnapshotID string `json:"snapshot_id,omitempty"`
	ServerID   string `json:"server_id,omitempty"`
	OldSize    int    `json:"old_size,omitempty"`
	NewSize    int    `json:"new_size,omitempty"`
	Status     string `json:"status,omitempty"` // the status an extension returns to
}

func (s *Service) run(ctx context.Context, t tasks.Task) error {
	var a volumeArgs
	if err := json.Unmarshal(t.Args, &a); err != nil {
		return tasks.Permanent("task arguments: %v", err)
	}
	v, err := s.getVolume(ctx, s.pool, a.VolumeID, false)
	if isNotFound(err) {
		return nil // deleted meanwhile: nothing left to do
	}
	if err != nil {
		return err
	}
	host, err := s.host(v)
	if err != nil {
		return tasks.Permanent("%v", err)
	}
	switch t.Kind {
	case taskCreate:
		return s.create(ctx, host, v)
	case taskDelete:
		return s.remove(ctx, host, v)
	case taskExtend:
		return s.extend(ctx, host, v, a)
	case taskAttach:
		return s.attach(ctx, host, v, a.ServerID)
	case taskDetach:
		return s.detach(ctx, host, v, a.ServerID)
	case taskSnapshot:
		return s.snapshot(ctx, host, v, a.SnapshotID)
	case taskDeleteSnapshot:
		return s.removeSnapshot(ctx, host, a.SnapshotID)
	}
	return tasks.Permanent("unknown task kind %q", t.Kind)
}

// create makes the volume's disk (copying its source) and makes it available.
func (s *Service) create(ctx context.Context, host *hypervisor.Host, v Volume) error {
	if v.Status != StatusCreating {
		return nil
	}
	src := hypervisor.VolumeSource{VolumeID: v.SourceVolumeID, SnapshotID: v.SnapshotID, ImageID: v.SourceImageID}
	if v.SourceImageID != "" {
		owner := &token.Claims{UserID: v.UserID, ProjectID: v.ProjectID, Roles: token.RoleMember | token.RoleReader}
		img, err := s.Images.Get(ctx, owner, v.SourceImageID)
		if err != nil {
			return tasks.Permanent("image %s: %v", v.SourceImageID, err)
		}
		if err := host.EnsureImage(ctx, img.ID, img.DiskFormat, img.Size, func(ctx context.Context) (io.ReadCloser, error) {
			r, _, err := s.Images.Open(ctx, img.ID)
			return r, err
		}); err != nil {
			return fmt.Errorf("caching image %s on %s: %w", img.ID, v.HostName, err)
		}
	}
	if err := host.CreateVolume(ctx, v.ID, v.SizeGB, src); err != nil {
		if errors.Is(err, hypervisor.ErrInvalidState) {
			return tasks.Permanent("%v", err)
		}
		return err
	}
	discarded := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Read again under the row lock: a boot volume made for a server
		// (ReserveBoot may just have committed) is reserved for it.
		v, err := s.getVolume(ctx, tx, v.ID, true)
		if isNotFound(err) || (err == nil && v.Status == StatusDeleting) {
			// Deleted while the disk was made: a clone's create runs under
			// its source's subject, so the delete may have found no disk.
			discarded = true
			return nil
		}
		if err != nil || v.Status != StatusCreating {
			return err
		}
		to := StatusAvailable
		if len(v.Attachments) > 0 {
			to = StatusReserved
		}
		if _, err := setStatus(ctx, tx, v.ID, StatusCreating, to); err != nil {
			return err
		}
		v.Status = to
		return emit(ctx, tx, "created", v, map[string]any{"source_image_id": v.SourceImageID,
			"source_volume_id": v.SourceVolumeID, "snapshot_id": v.SnapshotID})
	})
	if err == nil && discarded {
		err = host.DeleteVolume(ctx, v.ID)
	}
	return err
}

// remove deletes the disk, then the record.
func (s *Service) remove(ctx context.Context, host *hypervisor.Host, v Volume) error {
	if v.Status != StatusDeleting {
		return nil
	}
	if err := host.DeleteVolume(ctx, v.ID); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE volumes SET deleted = true, updated_at = now() WHERE id = $1 AND status = $2 AND NOT deleted", v.ID, StatusDeleting)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return emit(ctx, tx, "deleted", v, nil)
	})
}

// extend grows the disk to the size the API recorded, online when the
// volume is attached.
func (s *Service) extend(ctx context.Context, host *hypervisor.Host, v Volume, a volumeArgs) error {
	if v.Status == StatusDeleting {
		return nil
	}
	server := ""
	if v.Status == StatusExtending && len(v.Attachments) > 0 {
		server = v.Attachments[0].ServerID
	}
	if err := host.ResizeVolume(ctx, v.ID, a.NewSize, server); err != nil {
		return err
	}
	if v.Status != StatusExtending {
		// Overtaken (its server was deleted meanwhile): the disk still
		// gets the size the volume records.
		return nil
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if ok, err := setStatus(ctx, tx, v.ID, StatusExtending, a.Status); err != nil || !ok {
			return err
		}
		v.Status = a.Status
		return emit(ctx, tx, "resized", v, map[string]any{"old_size_gb": a.OldSize})
	})
}

func (s *Service) attach(ctx context.Context, host *hypervisor.Host, v Volume, serverID string) error {
	if v.Status != StatusAttaching {
		return nil
	}
	att, err := s.ServerAttachment(ctx, serverID, v.ID)
	if isNotFound(err) {
		return nil // the server was deleted meanwhile and released the volume
	}
	if err != nil {
		return err
	}
	if err := host.AttachVolume(ctx, serverID, v.ID, att.Device); err != nil {
		if errors.Is(err, hypervisor.ErrNotFound) || errors.Is(err, hypervisor.ErrInvalidState) {
			return tasks.Permanent("%v", err)
		}
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if ok, err := setStatus(ctx, tx, v.ID, StatusAttaching, StatusInUse); err != nil || !ok {
			return err
		}
		v.Status = StatusInUse
		return emit(ctx, tx, "attached", v, map[string]any{"server_id": serverID, "device": att.Device})
	})
}

func (s *Service) detach(ctx context.Context, host *hypervisor.Host, v Volume, serverID string) error {
	if v.Status != StatusDetaching {
		return nil
	}
	if err := host.DetachVolume(ctx, serverID, v.ID); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if ok, err := setStatus(ctx, tx, v.ID, StatusDetaching, StatusAvailable); err != nil || !ok {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM volume_attachments WHERE volume_id = $1 AND server_id = $2", v.ID, serverID); err != nil {
			return err
		}
		v.Status = StatusAvailable
		return emit(ctx, tx, "detached", v, map[string]any{"server_id": serverID})
	})
}

func (s *Service) snapshot(ctx context.Context, host *hypervisor.Host, v Volume, snapshotID string) error {
	var status string
	err := s.pool.QueryRow(ctx, "SELECT status FROM volume_snapshots WHERE id = $1 AND NOT deleted", snapshotID).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && status != StatusCreating) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := host.SnapshotVolume(ctx, v.ID, snapshotID); err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, "UPDATE volume_snapshots SET status = 'available', updated_at = now() WHERE id = $1 AND status = 'creating'", snapshotID)
	return err
}

func (s *Service) removeSnapshot(ctx context.Context, host *hypervisor.Host, snapshotID string) error {
	if err := host.DeleteSnapshot(ctx, snapshotID); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, "UPDATE volume_snapshots SET deleted = true, updated_at = now() WHERE id = $1 AND status = 'deleting'", snapshotID)
	return err
}

// isNotFound reports whether err says the record is gone; any other
// error (a canceled or failed query) must not pass for "nothing to do".
func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	e, _ := osapi.AsError(err)
	return e.Status == http.StatusNotFound
}

// fail records what a task's final failure means for its volume.
func (s *Service) fail(ctx context.Context, tx pgx.Tx, t tasks.Task, cause error) error {
	var a volumeArgs
	_ = json.Unmarshal(t.Args, &a)
	var err error
	switch t.Kind {
	case taskCreate:
		_, err = setStatus(ctx, tx, a.VolumeID, StatusCreating, StatusError)
	case taskDelete:
		_, err = setStatus(ctx, tx, a.VolumeID, StatusDeleting, StatusErrorDeleting)
	case taskExtend:
		_, err = tx.Exec(ctx, "UPDATE volumes SET status = $2, size_gb = $3, updated_at = now() WHERE id = $1 AND status = $4",
			a.VolumeID, StatusErrorExtending, a.OldSize, StatusExtending)
	case taskAttach:
		var ok bool
		if ok, err = setStatus(ctx, tx, a.VolumeID, StatusAttaching, StatusAvailable); ok {
			_, err = tx.Exec(ctx, "DELETE FROM volume_attachments WHERE volume_id = $1 AND server_id = $2", a.VolumeID, a.ServerID)
		}
	case taskDetach:
		_, err = setStatus(ctx, tx, a.VolumeID, StatusDetaching, StatusInUse)
	case taskSnapshot:
		_, err = tx.Exec(ctx, "UPDATE volume_snapshots SET status = 'error', updated_at = now() WHERE id = $1 AND status = 'creating'", a.SnapshotID)
	case taskDeleteSnapshot:
		_, err = tx.Exec(ctx, "UPDATE volume_snapshots SET status = 'error_deleting', updated_at = now() WHERE id = $1 AND status = 'deleting'", a.SnapshotID)
	}
	return err
}
