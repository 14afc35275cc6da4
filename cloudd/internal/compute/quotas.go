package compute

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/quota"
	"github.com/stratus-cloud/stratus/internal/token"
)

// QuotaDefaults are Nova's default per-project compute limits.
var QuotaDefaults = map[string]int64{
	"instances":                   10,
	"cores":                       20,
	"ram":                         51200,
	"key_pairs":                   100,
	"server_groups":               10,
	"server_group_members":        10,
	"metadata_items":              128,
	"injected_files":              5,
	"injected_file_content_bytes": 10240,
	"injected_file_path_bytes":    255,
}

// usage counts what project uses of the project-wide resources: servers
// not deleted, their vCPUs and RAM, and server groups. key_pairs (per
// user) and server_group_members (per group) have no project-wide usage;
// Nova reports them as 0 too, and checks them where they are created.
func (s *Service) usage(ctx context.Context, q db.Querier, project string) (map[string]int64, error) {
	var instances, cores, ram, groups int64
	err := q.QueryRow(ctx, `SELECT count(*), coalesce(sum(vcpus), 0), coalesce(sum(ram_mb), 0),
			(SELECT count(*) FROM server_groups WHERE project_id = $1)
		FROM servers WHERE project_id = $1 AND NOT deleted`, project).Scan(&instances, &cores, &ram, &groups)
	if err != nil {
		return nil, err
	}
	return map[string]int64{"instances": instances, "cores": cores, "ram": ram, "server_groups": groups}, nil
}

// overQuota renders a *quota.OverError as Nova does: 403 with Nova's
// words for the resource. Any other error passes through unchanged.
func overQuota(err error) error {
	var over *quota.OverError
	if !errors.As(err, &over) {
		return err
	}
	switch over.Resource {
	case "key_pairs":
		return osapi.Errorf(http.StatusForbidden, "Quota exceeded, too many key pairs.")
	case "server_groups":
		return osapi.Errorf(http.StatusForbidden, "Quota exceeded, too many server groups.")
	case "server_group_members":
		return osapi.Errorf(http.StatusForbidden, "Quota exceeded, too many servers in group")
	}
	return osapi.Errorf(http.StatusForbidden, "Quota exceeded for %s: Requested %d, but already used %d of %d %s",
		over.Resource, over.Requested, over.Used, over.Limit, over.Resource)
}

// QuotaUsage is one resource's limit and current use.
type QuotaUsage struct {
	Limit, InUse int64
}

// authorizeQuotaRead lets admins read any project's quotas and readers
// their own. Nova forbids rather than hides here: the project is named
// in the URL and quotas exist for any id.
func authorizeQuotaRead(c *token.Claims, project string) error {
	if err := policy.Authorize(c, policy.Read, "", "quotas"); err != nil {
		return err
	}
	if !policy.IsAdmin(c) && c.ProjectID != project {
		return fmt.Errorf("policy does not allow reading the quotas of another project: %w", osapi.ErrForbidden)
	}
	return nil
}

// ProjectQuotas returns project's limit and usage of every compute quota.
func (s *Service) ProjectQuotas(ctx context.Context, c *token.Claims, project string) (map[string]QuotaUsage, error) {
	if err := authorizeQuotaRead(c, project); err != nil {
		return nil, err
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
	for name, limit := range limits {
		out[name] = QuotaUsage{Limit: limit, InUse: used[name]}
	}
	return out, nil
}

// SetQuotas changes some of project's limits (admin only). Unless force
// is set, a limit below what the project already uses is refused, as in
// Nova.
func (s *Service) SetQuotas(ctx context.Context, c *token.Claims, project string, limits map[string]int64, force bool) error {
	if err := policy.Authorize(c, policy.Admin, "", "quotas"); err != nil {
		return err
	}
	for name, limit := range limits {
		if _, known := QuotaDefaults[name]; !known {
			return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute quota_set: %s is not a compute quota.", name)
		}
		if limit < quota.Unlimited {
			return osapi.Errorf(http.StatusBadRequest, "Quota limit %d for %s must be -1 or greater.", limit, name)
		}
	}
	if !force {
		used, err := s.usage(ctx, s.pool, project)
		if err != nil {
			return err
		}
		for name, limit := range limits {
			if limit != quota.Unlimited && limit < used[name] {
				return osapi.Errorf(http.StatusBadRequest, "Quota limit %d for %s must be greater than or equal to already used and reserved %d.",
					limit, name, used[name])
			}
		}
	}
	return s.Quotas.Set(ctx, project, limits)
}

// ResetQuotas returns project to the default limits (admin only).
func (s *Service) ResetQuotas(ctx context.Context, c *token.Claims, project string) error {
	if err := policy.Authorize(c, policy.Admin, "", "quotas"); err != nil {
		return err
	}
	return s.Quotas.Reset(ctx, project)
}
