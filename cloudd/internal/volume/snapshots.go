package volume

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Snapshot is a point-in-time copy of a volume, kept on the volume's host.
type Snapshot struct {
	ID, Name, Description string
	ProjectID, UserID     string
	VolumeID              string
	SizeGB                int
	Status                string
	Metadata              map[string]string
	CreatedAt, UpdatedAt  time.Time
}

const snapshotCols = "id, name, description, project_id, user_id, volume_id, size_gb, status, metadata, created_at, updated_at"

func scanSnapshot(row pgx.CollectableRow) (Snapshot, error) {
	var s Snapshot
	err := row.Scan(&s.ID, &s.Name, &s.Description, &s.ProjectID, &s.UserID, &s.VolumeID, &s.SizeGB, &s.Status, &s.Metadata, &s.CreatedAt, &s.UpdatedAt)
	return s, err
}

func notFoundSnapshot(id string) error {
	return osapi.Errorf(http.StatusNotFound, "Snapshot %s could not be found.", id)
}

func (s *Service) visibleSnapshot(ctx context.Context, q db.Querier, c *token.Claims, id string, action policy.Action) (Snapshot, error) {
	rows, _ := q.Query(ctx, "SELECT "+snapshotCols+" FROM volume_snapshots WHERE id = $1 AND NOT deleted", id)
	snap, err := pgx.CollectExactlyOneRow(rows, scanSnapshot)
	if errors.Is(err, pgx.ErrNoRows) {
		return Snapshot{}, notFoundSnapshot(id)
	}
	if err != nil {
		return Snapshot{}, err
	}
	if err := policy.Authorize(c, action, snap.ProjectID, "snapshot"); err != nil {
		if e, _ := osapi.AsError(err); e.Status == http.StatusNotFound {
			return Snapshot{}, notFoundSnapshot(id)
		}
		return Snapshot{}, err
	}
	return snap, nil
}

// GetSnapshot returns a snapshot the caller may see.
func (s *Service) GetSnapshot(ctx context.Context, c *token.Claims, id string) (Snapshot, error) {
	return s.visibleSnapshot(ctx, s.pool, c, id, policy.Read)
}

// CreateSnapshot copies an available volume. Attached volumes are refused,
// even with force: a copy of a disk a guest is writing is not consistent.
func (s *Service) CreateSnapshot(ctx context.Context, c *token.Claims, volumeID, name, description string, md map[string]string) (Snapshot, error) {
	if err := validateText("name", name, 255); err != nil {
		return Snapshot{}, err
	}
	if err := validateMetadata(md); err != nil {
		return Snapshot{}, err
	}
	if md == nil {
		md = map[string]string{}
	}
	snap := Snapshot{ID: uuid.NewString(), Name: name, Description: description, ProjectID: c.ProjectID, UserID: c.UserID,
		VolumeID: volumeID, Status: StatusCreating, Metadata: md}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		v, err := s.visible(ctx, tx, c, volumeID, policy.Write, true)
		if err != nil {
			return err
		}
		if v.Status != StatusAvailable {
			return badRequest("Invalid volume: Volume %s status must be available to snapshot, but it is %s (snapshots of attached volumes are not supported; detach it first).", v.ID, v.Status)
		}
		snap.SizeGB, snap.ProjectID = v.SizeGB, v.ProjectID
		if err := s.reserve(ctx, tx, v.ProjectID, v.TypeName, map[string]int64{"snapshots": 1, "gigabytes": int64(v.SizeGB)}, 0); err != nil {
			return err
		}
		raw, _ := json.Marshal(md)
		if _, err := tx.Exec(ctx, `INSERT INTO volume_snapshots (id, name, description, project_id, user_id, volume_id, size_gb, status, metadata)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, snap.ID, snap.Name, snap.Description, snap.ProjectID, snap.UserID,
			snap.VolumeID, snap.SizeGB, snap.Status, raw); err != nil {
			return err
		}
		// Queued behind the volume's own tasks: an attach waits for the copy.
		return s.enqueue(ctx, tx, volumeID, taskSnapshot, volumeArgs{VolumeID: volumeID, SnapshotID: snap.ID})
	})
	if err != nil {
		return Snapshot{}, overQuota(err)
	}
	s.tasks.Nudge()
	return s.GetSnapshot(ctx, c, snap.ID)
}

// SnapshotFilter narrows ListSnapshots.
type SnapshotFilter struct {
	AllProjects          bool
	ProjectID            string
	Name, Status, Volume string
	Page                 osapi.Page
}

// ListSnapshots returns snapshots newest first, limit/marker paginated.
func (s *Service) ListSnapshots(ctx context.Context, c *token.Claims, f SnapshotFilter) ([]Snapshot, error) {
	project := c.ProjectID
	if f.AllProjects && policy.IsAdmin(c) {
		project = f.ProjectID
	}
	if err := policy.Authorize(c, policy.Read, project, "snapshots"); err != nil {
		return nil, err
	}
	var markerCreated time.Time
	var markerID string
	if f.Page.Marker != "" {
		if err := s.pool.QueryRow(ctx, "SELECT created_at, id FROM volume_snapshots WHERE id = $1", f.Page.Marker).Scan(&markerCreated, &markerID); err != nil {
			return nil, badRequest("Invalid input received: marker [%s] not found.", f.Page.Marker)
		}
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+snapshotCols+` FROM volume_snapshots
		WHERE NOT deleted AND ($1 = '' OR project_id = $1) AND ($2 = '' OR name = $2) AND ($3 = '' OR status = $3)
		  AND ($4 = '' OR volume_id = $4) AND ($5 = '' OR (created_at, id) < ($6, $5))
		ORDER BY created_at DESC, id DESC LIMIT $7`, project, f.Name, f.Status, f.Volume, markerID, markerCreated, f.Page.Limit)
	return pgx.CollectRows(rows, scanSnapshot)
}

// UpdateSnapshot changes a snapshot's name or description.
func (s *Service) UpdateSnapshot(ctx context.Context, c *token.Claims, id string, name, description *string) (Snapshot, error) {
	if _, err := s.visibleSnapshot(ctx, s.pool, c, id, policy.Write); err != nil {
		return Snapshot{}, err
	}
	if _, err := s.pool.Exec(ctx, `UPDATE volume_snapshots SET name = coalesce($2, name), description = coalesce($3, description),
		updated_at = now() WHERE id = $1`, id, name, description); err != nil {
		return Snapshot{}, err
	}
	return s.GetSnapshot(ctx, c, id)
}

// SetSnapshotMetadata replaces (replace) or merges a snapshot's metadata
// in one statement, so concurrent merges lose no key.
func (s *Service) SetSnapshotMetadata(ctx context.Context, c *token.Claims, id string, md map[string]string, replace bool) (map[string]string, error) {
	if _, err := s.visibleSnapshot(ctx, s.pool, c, id, policy.Write); err != nil {
		return nil, err
	}
	if err := validateMetadata(md); err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(md)
	var out map[string]string
	err := s.pool.QueryRow(ctx, `UPDATE volume_snapshots SET metadata = CASE WHEN $3 THEN $2::jsonb ELSE metadata || $2::jsonb END,
		updated_at = now() WHERE id = $1 AND NOT deleted RETURNING metadata`, id, raw, replace).Scan(&out)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFoundSnapshot(id)
	}
	return out, err
}

// DeleteSnapshot starts removing a snapshot; its copy is removed by a task.
func (s *Service) DeleteSnapshot(ctx context.Context, c *token.Claims, id string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		snap, err := s.visibleSnapshot(ctx, tx, c, id, policy.Write)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE volume_snapshots SET status = 'deleting', updated_at = now()
			WHERE id = $1 AND status IN ('available', 'error', 'error_deleting')`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return badRequest("Invalid snapshot: Snapshot %s status must be available or error to delete, but it is %s.", id, snap.Status)
		}
		return s.enqueue(ctx, tx, snap.VolumeID, taskDeleteSnapshot, volumeArgs{VolumeID: snap.VolumeID, SnapshotID: id})
	})
	if err == nil {
		s.tasks.Nudge()
	}
	return err
}
