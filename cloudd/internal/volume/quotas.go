package volume

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/quota"
	"github.com/stratus-cloud/stratus/internal/token"
)

// QuotaDefaults are Cinder's default per-project limits. Backups and
// groups do not exist here; their limits are reported for clients that
// read them and never consumed. Every volume type adds volumes_<type>,
// gigabytes_<type> and snapshots_<type>, unlimited by default.
var QuotaDefaults = map[string]int64{
	"volumes":              10,
	"snapshots":            10,
	"gigabytes":            1000,
	"per_volume_gigabytes": quota.Unlimited,
	"backups":              10,
	"backup_gigabytes":     1000,
	"groups":               10,
}

// perType are the resources each volume type has a quota for.
var perType = []string{"volumes", "gigabytes", "snapshots"}

// quotas is the quota store for the current set of volume types.
func (s *Service) quotas(ctx context.Context, q db.Querier) (*quota.Store, error) {
	rows, _ := q.Query(ctx, "SELECT name FROM volume_types WHERE NOT deleted")
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	defaults := maps.Clone(QuotaDefaults)
	for _, name := range names {
		for _, r := range perType {
			defaults[r+"_"+name] = quota.Unlimited
		}
	}
	return &quota.Store{Pool: s.pool, Defaults: defaults}, nil
}

// usage counts what project uses: volumes and snapshots not deleted, and
// their gigabytes together (Cinder counts snapshots against gigabytes),
// in all and per volume type.
func (s *Service) usage(ctx context.Context, q db.Querier, project string) (map[string]int64, error) {
	rows, _ := q.Query(ctx, `
		SELECT t.name, 'volumes', count(*), coalesce(sum(v.size_gb), 0)
		  FROM volumes v JOIN volume_types t ON t.id = v.type_id WHERE v.project_id = $1 AND NOT v.deleted GROUP BY t.name
		UNION ALL
		SELECT t.name, 'snapshots', count(*), coalesce(sum(s.size_gb), 0)
		  FROM volume_snapshots s JOIN volumes v ON v.id = s.volume_id JOIN volume_types t ON t.id = v.type_id
		 WHERE s.project_id = $1 AND NOT s.deleted GROUP BY t.name`, project)
	used := map[string]int64{}
	var typ, kind string
	var n, gb int64
	_, err := pgx.ForEachRow(rows, []any{&typ, &kind, &n, &gb}, func() error {
		used[kind] += n
		used[kind+"_"+typ] += n
		used["gigabytes"] += gb
		used["gigabytes_"+typ] += gb
		return nil
	})
	return used, err
}

// reserve checks deltas (and the same for typeName's own resources) under
// the project's quota lock, and sizeGB (when non-zero) against
// per_volume_gigabytes.
func (s *Service) reserve(ctx context.Context, tx pgx.Tx, project, typeName string, deltas map[string]int64, sizeGB int) error {
	store, err := s.quotas(ctx, tx)
	if err != nil {
		return err
	}
	if sizeGB > 0 {
		limits, err := store.Limits(ctx, tx, project)
		if err != nil {
			return err
		}
		if l := limits["per_volume_gigabytes"]; l != quota.Unlimited && int64(sizeGB) > l {
			return osapi.Errorf(http.StatusRequestEntityTooLarge,
				"Requested volume size %dG is larger than maximum allowed limit %dG.", sizeGB, l)
		}
	}
	all := maps.Clone(deltas)
	for r, d := range deltas {
		if _, ok := store.Defaults[r+"_"+typeName]; ok { // a deleted type has no quota of its own
			all[r+"_"+typeName] = d
		}
	}
	return store.ReserveMany(ctx, tx, project, all, func(ctx context.Context, tx pgx.Tx) (map[string]int64, error) {
		return s.usage(ctx, tx, project)
	})
}

// overQuota renders a *quota.OverError as Cinder does: 413 with Cinder's
// words for the resource (per-type resources read like their kind).
func overQuota(err error) error {
	var over *quota.OverError
	if !errors.As(err, &over) {
		return err
	}
	switch {
	case strings.HasPrefix(over.Resource, "gigabytes"):
		return osapi.Errorf(http.StatusRequestEntityTooLarge,
			"VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed %s quota. Requested %dG, quota is %dG and %dG has been consumed.",
			over.Resource, over.Requested, over.Limit, over.Used)
	case strings.HasPrefix(over.Resource, "snapshots"):
		return osapi.Errorf(http.StatusRequestEntityTooLarge, "SnapshotLimitExceeded: Maximum number of snapshots allowed (%d) exceeded for quota '%s'.", over.Limit, over.Resource)
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
	store, err := s.quotas(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	limits, err := store.Limits(ctx, s.pool, project)
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

// QuotaDefaultSet returns the default limits, per-type ones included.
func (s *Service) QuotaDefaultSet(ctx context.Context, c *token.Claims) (map[string]int64, error) {
	if err := policy.Authorize(c, policy.Read, "", "quotas"); err != nil {
		return nil, err
	}
	store, err := s.quotas(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	return store.Defaults, nil
}

// SetQuotas overrides project's limits (admin).
func (s *Service) SetQuotas(ctx context.Context, c *token.Claims, project string, limits map[string]int64) error {
	if err := policy.Authorize(c, policy.Admin, "", "quotas"); err != nil {
		return err
	}
	store, err := s.quotas(ctx, s.pool)
	if err != nil {
		return err
	}
	return store.Set(ctx, project, limits)
}

// ResetQuotas returns project to the defaults (admin).
func (s *Service) ResetQuotas(ctx context.Context, c *token.Claims, project string) error {
	if err := policy.Authorize(c, policy.Admin, "", "quotas"); err != nil {
		return err
	}
	store, err := s.quotas(ctx, s.pool)
	if err != nil {
		return err
	}
	return store.Reset(ctx, project)
}
