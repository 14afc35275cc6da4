package network

import (
	"context"
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/quota"
	"github.com/stratus-cloud/stratus/internal/token"
)

// QuotaDefaults are Neutron's default per-project limits.
var QuotaDefaults = map[string]int64{
	"network": 100, "subnet": 100, "port": 500, "router": 10, "floatingip": 50,
	"security_group": 10, "security_group_rule": 100,
}

// quotaUsage counts what a project uses of each networking resource.
var quotaUsage = map[string]string{
	"network":             "SELECT count(*) FROM networks WHERE project_id = $1",
	"subnet":              "SELECT count(*) FROM subnets WHERE project_id = $1",
	"port":                "SELECT count(*) FROM ports WHERE project_id = $1 AND device_owner NOT LIKE 'network:%'",
	"router":              "SELECT count(*) FROM routers WHERE project_id = $1",
	"floatingip":          "SELECT count(*) FROM floatingips WHERE project_id = $1",
	"security_group":      "SELECT count(*) FROM security_groups WHERE project_id = $1",
	"security_group_rule": "SELECT count(*) FROM security_group_rules WHERE project_id = $1",
}

// reserve checks, inside tx, that project may have one more resource. An
// unlimited resource takes no lock, so unlimited projects never queue.
func (s *Service) reserve(ctx context.Context, tx pgx.Tx, project, resource string) error {
	limits, err := s.Quotas.Limits(ctx, tx, project)
	if err != nil || limits[resource] == quota.Unlimited {
		return err
	}
	err = s.Quotas.Reserve(ctx, tx, project, resource, 1, func(ctx context.Context, tx pgx.Tx) (n int64, err error) {
		err = tx.QueryRow(ctx, quotaUsage[resource], project).Scan(&n)
		return n, err
	})
	var over *quota.OverError
	if errors.As(err, &over) {
		return neutronError(http.StatusConflict, "OverQuota", "Quota exceeded for resources: ['%s'].", over.Resource)
	}
	return err
}

// QuotaDetail is one resource's limit and usage.
type QuotaDetail struct {
	Limit    int64 `json:"limit"`
	Used     int64 `json:"used"`
	Reserved int64 `json:"reserved"`
}

// usageDetails returns project's limits and usage.
func (s *Service) usageDetails(ctx context.Context, q db.Querier, project string) (map[string]QuotaDetail, error) {
	limits, err := s.Quotas.Limits(ctx, q, project)
	if err != nil {
		return nil, err
	}
	out := map[string]QuotaDetail{}
	for r, l := range limits {
		var n int64
		if err := q.QueryRow(ctx, quotaUsage[r], project).Scan(&n); err != nil {
			return nil, err
		}
		out[r] = QuotaDetail{Limit: l, Used: n}
	}
	return out, nil
}

// ProjectQuotas returns project's limits and usage, for admins or the
// project's own members.
func (s *Service) ProjectQuotas(ctx context.Context, c *token.Claims, project string) (map[string]QuotaDetail, error) {
	if err := policy.Authorize(c, policy.Read, project, "quotas"); err != nil {
		return nil, err
	}
	return s.usageDetails(ctx, s.pool, project)
}

// SetQuotas changes project's limits (admin only).
func (s *Service) SetQuotas(ctx context.Context, c *token.Claims, project string, limits map[string]int64) error {
	if err := policy.Authorize(c, policy.Admin, "", "quotas"); err != nil {
		return err
	}
	return s.Quotas.Set(ctx, project, limits)
}

// ResetQuotas returns project to the defaults (admin only).
func (s *Service) ResetQuotas(ctx context.Context, c *token.Claims, project string) error {
	if err := policy.Authorize(c, policy.Admin, "", "quotas"); err != nil {
		return err
	}
	return s.Quotas.Reset(ctx, project)
}

// QuotaProjects lists the projects with limits other than the defaults.
func (s *Service) QuotaProjects(ctx context.Context, c *token.Claims) ([]string, error) {
	if err := policy.Authorize(c, policy.Admin, "", "quotas"); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, `SELECT DISTINCT project_id FROM quotas WHERE resource = ANY($1) ORDER BY project_id`,
		[]string{"network", "subnet", "port", "router", "floatingip", "security_group", "security_group_rule"})
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
