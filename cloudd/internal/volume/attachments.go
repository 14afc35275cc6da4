package volume

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Server is what attaching needs to know about a server (from compute).
type Server struct {
	ID, ProjectID    string
	HostID, HostName string
}

// Attach reserves volumeID for srv (available -> attaching), records the
// attachment with the device it gets, and queues the hot-plug, which moves
// the volume to in-use. The volume must be on the server's host: volumes
// are host-local, so anything else is a 409.
func (s *Service) Attach(ctx context.Context, c *token.Claims, srv Server, volumeID string, deleteOnTermination bool) (Attachment, error) {
	var att Attachment
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		v, err := s.visible(ctx, tx, c, volumeID, policy.Write, true)
		if err != nil {
			return err
		}
		if v.ProjectID != srv.ProjectID {
			return notFoundVolume(volumeID)
		}
		for _, a := range v.Attachments {
			if a.ServerID == srv.ID {
				return badRequest("Invalid volume: volume %s is already attached to server %s.", v.ID, srv.ID)
			}
		}
		if v.Status == StatusAvailable && v.HostID != srv.HostID {
			return osapi.Errorf(http.StatusConflict, "Volume %s is on host %s and server %s on host %s; volumes are host-local and can only be attached to servers on their own host.",
				v.ID, v.HostName, srv.ID, srv.HostName)
		}
		if err := s.transition(ctx, tx, &v, "attach", StatusAttaching, StatusAvailable); err != nil {
			return err
		}
		device, err := nextDevice(ctx, tx, srv.ID)
		if err != nil {
			return err
		}
		att = Attachment{ID: uuid.NewString(), VolumeID: v.ID, ServerID: srv.ID, Device: device, DeleteOnTermination: deleteOnTermination}
		if err := tx.QueryRow(ctx, `INSERT INTO volume_attachments (id, volume_id, server_id, device, delete_on_termination)
			VALUES ($1, $2, $3, $4, $5) RETURNING created_at`, att.ID, att.VolumeID, att.ServerID, att.Device, att.DeleteOnTermination).Scan(&att.AttachedAt); err != nil {
			return db.Interpret(err, "attachment of volume "+v.ID)
		}
		return s.enqueue(ctx, tx, v.ID, taskAttach, volumeArgs{VolumeID: v.ID, ServerID: srv.ID})
	})
	if err != nil {
		return Attachment{}, err
	}
	s.tasks.Nudge()
	return att, nil
}

// nextDevice is the first of /dev/vdc../dev/vdz no attachment of the server
// uses (vda is the root disk, vdb the config drive). The server's
// attachments are locked so two attaches cannot take the same device.
func nextDevice(ctx context.Context, tx pgx.Tx, serverID string) (string, error) {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('volume-attach:' || $1))", serverID); err != nil {
		return "", err
	}
	rows, _ := tx.Query(ctx, "SELECT device FROM volume_attachments WHERE server_id = $1", serverID)
	used, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	for c := 'c'; c <= 'z'; c++ {
		if dev := "/dev/vd" + string(c); !slices.Contains(used, dev) {
			return dev, nil
		}
	}
	return "", osapi.Errorf(http.StatusConflict, "Server %s has no free disk device left (vdc to vdz).", serverID)
}

// Detach starts detaching volumeID from serverID (in-use -> detaching); a
// task unplugs it and makes it available.
func (s *Service) Detach(ctx context.Context, c *token.Claims, serverID, volumeID string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		v, err := s.visible(ctx, tx, c, volumeID, policy.Write, true)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(v.Attachments, func(a Attachment) bool { return a.ServerID == serverID })
		if i < 0 {
			return osapi.Errorf(http.StatusNotFound, "Volume %s is not attached to server %s.", volumeID, serverID)
		}
		if v.Attachments[i].Device == rootDevice {
			return badRequest("Can't detach root device volume")
		}
		if err := s.transition(ctx, tx, &v, "detach", StatusDetaching, StatusInUse); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, v.ID, taskDetach, volumeArgs{VolumeID: v.ID, ServerID: serverID})
	})
	if err == nil {
		s.tasks.Nudge()
	}
	return err
}

// ServerAttachments lists the attachments of a server, oldest first.
func (s *Service) ServerAttachments(ctx context.Context, serverID string) ([]Attachment, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, volume_id, server_id, device, delete_on_termination, created_at
		FROM volume_attachments WHERE server_id = $1 ORDER BY created_at, id`, serverID)
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Attachment])
}

// ServerAttachment returns the attachment of volumeID to serverID.
func (s *Service) ServerAttachment(ctx context.Context, serverID, volumeID string) (Attachment, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, volume_id, server_id, device, delete_on_termination, created_at
		FROM volume_attachments WHERE server_id = $1 AND volume_id = $2`, serverID, volumeID)
	a, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Attachment])
	if errors.Is(err, pgx.ErrNoRows) {
		return Attachment{}, osapi.Errorf(http.StatusNotFound, "Volume %s is not attached to server %s.", volumeID, serverID)
	}
	return a, err
}

// ServerDeleted releases the volumes of a server whose domain is gone:
// each becomes available (a volume still being created once its copy is
// done), and those attached with delete_on_termination are deleted.
// Called by compute when it deletes a server; idempotent.
func (s *Service) ServerDeleted(ctx context.Context, serverID string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT id, volume_id, server_id, device, delete_on_termination, created_at
			FROM volume_attachments WHERE server_id = $1 ORDER BY volume_id`, serverID)
		atts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Attachment])
		if err != nil {
			return err
		}
		for _, a := range atts {
			v, err := s.getVolume(ctx, tx, a.VolumeID, true)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "DELETE FROM volume_attachments WHERE id = $1", a.ID); err != nil {
				return err
			}
			if v.Status == StatusCreating && !a.DeleteOnTermination {
				// A boot volume whose copy is not done: its create task
				// makes it available, now that it is attached to nothing.
				continue
			}
			v.Status = StatusAvailable
			if a.DeleteOnTermination {
				v.Status = StatusDeleting
				if err := s.enqueue(ctx, tx, v.ID, taskDelete, volumeArgs{VolumeID: v.ID}); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, "UPDATE volumes SET status = $2, updated_at = now() WHERE id = $1", v.ID, v.Status); err != nil {
				return err
			}
			if err := emit(ctx, tx, "detached", v, map[string]any{"server_id": serverID, "device": a.Device}); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.tasks.Nudge()
	}
	return err
}

// AttachedTo returns the volume ids attached to each of servers, for
// server views (one query for a whole page).
func (s *Service) AttachedTo(ctx context.Context, servers []string) (map[string][]string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT server_id, volume_id FROM volume_attachments
		WHERE server_id = ANY($1) ORDER BY created_at, id`, servers)
	out := map[string][]string{}
	var server, vol string
	_, err := pgx.ForEachRow(rows, []any{&server, &vol}, func() error {
		out[server] = append(out[server], vol)
		return nil
	})
	return out, err
}
