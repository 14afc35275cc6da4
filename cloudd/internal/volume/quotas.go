package volume

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/quota"
	"github.com/stratus-cloud/stratus/internal/token"
)

// QuotaDefaults are Cinder's default per-project limits. Backups and
// groups do not exist here; their limits are reported for clients that
// read them and never consumed.
var QuotaDefaults = map[string]int64{
	"volumes":              10,
	"snapshots":            10,
	"gigabytes":            1000,
	"per_volume_gigabytes": quota.Unlimited,
	"backups":              10,
	"backup_gigabytes":     1000,
	"groups":               10,
}

// usage counts what project uses: volumes and snapshots not deleted, and
// their gigabytes together (Cinder counts snapshots against gigabytes).
func (s *Service) usage(ctx context.Context, q db.Querier, project string) (map[string]int64, error) {
	var volumes, volumeGB, snapshots, snapshotGB int64
	err := q.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM volumes WHERE project_id = $1 AND NOT deleted),
			(SELECT coalesce(sum(size_gb), 0) FROM volumes WHERE project_id = $1 AND NOT deleted),
			(SELECT count(*) FROM volume_snapshots WHERE project_id = $1 AND NOT deleted),
			(SELECT coalesce(sum(size_gb), 0) FROM volume_snapshots WHERE project_id = $1 AND NOT deleted)`, project).
		Scan(&volumes, &volumeGB, &snapshots, &snapshotGB)
	return map[string]int64{"volumes": volumes, "snapshots": snapshots, "gigabytes": volumeGB + snapshotGB}, err
}

// reserve checks deltas under the project's quota lock, and sizeGB (when
// non-zero) against per_volume_gigabytes.
func (s *Service) reserve(ctx context.Context, tx pgx.Tx, project string, deltas map[string]int64, sizeGB int) error {
	if sizeGB > 0 {
		limits, err := s.Quotas.Limits(ctx, tx, project)
		if err != nil {
			return err
		}
		if l := limits["per_volume_gigabytes"]; l != quota.Unlimited && int64(sizeGB) > l {
			return osapi.Errorf(http.StatusRequestEntityTooLarge,
				"Requested volume size %dG is larger than maximum allowed limit %dG.", sizeGB, l)
		}
	}
	return s.Quotas.ReserveMany(ctx, tx, project, deltas, func(ctx context.Context, tx pgx.Tx) (map[string]int64, error) {
		return s.usage(ctx, tx, project)
	})
}

// overQuota renders a *quota.OverError as Cinder does: 413 with Cinder's
// words for the resource.
func overQuota(err error) error {
	var over *quota.OverError
	if !errors.As(err, &over) {
		return err
	}
	switch over.Resource {
	case "gigabytes":
		return osapi.Errorf(http.StatusRequestEntityTooLarge,
			"VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested %dG, quota is %dG and %dG has been consumed.",
			over.Requested, over.Limit, over.Used)
	case "snapshots":
		return osapi.Errorf(http.StatusRequestEntityTooLarge, "SnapshotLimitExceeded: Maximum number of snapshots allowed (%d) exceeded", over.Limit)
	}
	return osapi.Errorf(http.StatusRequestEntityTooLarge, "VolumeLimitExceeded: Maximum number of volumes allowed (%d) exceeded for quota '%s'.", over.Limit, over.Resource)
}

// QuotaUsage is one resource's limit and use.
type QuotaUsage struct{ Limit, InUse int64 }

// QuotaSet returns project's limits and usage; admins read any project,
// others their own.
func (s *Service) QuotaSet(ctx context.Context, c *token.Claims, project string) (map[string]QuotaUsage, error) {
	if err := policy.Authorize(c, policy.Read, "", "quotas"); err != nil {
		return nil, err
	}
	if !policy.IsAdmin(c) && c.ProjectID != project {
		return nil, fmt.Errorf("policy does not allow reading the quotas of another project: %w", osapi.ErrForbidden)
	}
	limits, err := s.Quotas.Limits(ctx, s.pool, project)
	if err != nil {
		return nil, err
	}
	used, err := s.usage(ctx, s.pool, project)
	if err != nil {
		return nil, err
	}
	out := make(map[string]QuotaUsage, len(limits))
	for r, l := range limits {
		out[r] = QuotaUsage{Limit: l, InUse: used[r]}
	}
	return out, nil
}

// SetQuotas overrides project's limits (admin).
func (s *Service) SetQuotas(ctx context.Context, c *token.Claims, project string, limits map[string]int64) error {
	if err := policy.Authorize(c, policy.Admin, "", "quotas"); err != nil {
		return err
	}
	return s.Quotas.Set(ctx, project, limits)
}

// ResetQuotas returns project to the defaults (admin).
func (s *Service) ResetQuotas(ctx context.Context, c *token.Claims, project string) error {
	if err := policy.Authorize(c, policy.Admin, "", "quotas"); err != nil {
		return err
	}
	return s.Quotas.Reset(ctx, project)
}
