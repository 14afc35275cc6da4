package compute

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// ServerGroup places its member servers by Policy: together (affinity)
// or on different hosts (anti-affinity), strictly or, for the soft
// policies, as far as the hosts allow.
type ServerGroup struct {
	ID        string
	Name      string
	Policy    string
	ProjectID string
	UserID    string
	Members   []string // ids of the group's servers that are not deleted
	CreatedAt time.Time
}

// Server group policies.
const (
	PolicyAffinity         = "affinity"
	PolicyAntiAffinity     = "anti-affinity"
	PolicySoftAffinity     = "soft-affinity"
	PolicySoftAntiAffinity = "soft-anti-affinity"
)

const serverGroupCols = `g.id, g.name, g.policy, g.project_id, g.user_id, g.created_at,
	coalesce((SELECT array_agg(s.id ORDER BY s.created_at, s.id) FROM servers s
		WHERE s.server_group_id = g.id AND NOT s.deleted), '{}')`

func scanServerGroup(row pgx.CollectableRow) (ServerGroup, error) {
	var g ServerGroup
	err := row.Scan(&g.ID, &g.Name, &g.Policy, &g.ProjectID, &g.UserID, &g.CreatedAt, &g.Members)
	return g, err
}

func serverGroupNotFound(id string) error {
	return osapi.Errorf(http.StatusNotFound, "Instance group %s could not be found.", id)
}

// GetServerGroup returns a server group of c's project (any, for an
// admin); other projects' groups are reported missing.
func (s *Service) GetServerGroup(ctx context.Context, c *token.Claims, id string) (ServerGroup, error) {
	return s.authorizedServerGroup(ctx, c, policy.Read, id)
}

func (s *Service) authorizedServerGroup(ctx context.Context, c *token.Claims, action policy.Action, id string) (ServerGroup, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+serverGroupCols+" FROM server_groups g WHERE g.id = $1", id)
	g, err := pgx.CollectExactlyOneRow(rows, scanServerGroup)
	if errors.Is(err, pgx.ErrNoRows) {
		return ServerGroup{}, serverGroupNotFound(id)
	}
	if err != nil {
		return ServerGroup{}, err
	}
	if err := policy.Authorize(c, action, g.ProjectID, "server group"); err != nil {
		if errors.Is(err, osapi.ErrNotFound) {
			return ServerGroup{}, serverGroupNotFound(id)
		}
		return ServerGroup{}, err
	}
	return g, nil
}

// ListServerGroups returns the server groups of c's project, or of every
// project for an admin asking for all, oldest first, skipping offset and
// returning at most limit (0: all).
func (s *Service) ListServerGroups(ctx context.Context, c *token.Claims, allProjects bool, limit, offset int) ([]ServerGroup, error) {
	if err := policy.Authorize(c, policy.Read, c.ProjectID, "server groups"); err != nil {
		return nil, err
	}
	project := c.ProjectID
	if allProjects && policy.IsAdmin(c) {
		project = ""
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+serverGroupCols+` FROM server_groups g WHERE ($1 = '' OR g.project_id = $1)
		ORDER BY g.created_at, g.id LIMIT nullif($2, 0) OFFSET $3`, project, limit, offset)
	return pgx.CollectRows(rows, scanServerGroup)
}

// CreateServerGroup stores a new, empty server group in c's project,
// counted against its server_groups quota.
func (s *Service) CreateServerGroup(ctx context.Context, c *token.Claims, name, groupPolicy string) (ServerGroup, error) {
	if err := policy.Authorize(c, policy.Write, c.ProjectID, "server groups"); err != nil {
		return ServerGroup{}, err
	}
	if err := validName("name", name); err != nil {
		return ServerGroup{}, err
	}
	switch groupPolicy {
	case PolicyAffinity, PolicyAntiAffinity, PolicySoftAffinity, PolicySoftAntiAffinity:
	default:
		return ServerGroup{}, osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute policy. Value: %s. "+
			"It must be one of affinity, anti-affinity, soft-affinity or soft-anti-affinity.", groupPolicy)
	}
	g := ServerGroup{ID: uuid.NewString(), Name: name, Policy: groupPolicy, ProjectID: c.ProjectID, UserID: c.UserID, Members: []string{}}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := s.Quotas.Reserve(ctx, tx, g.ProjectID, "server_groups", 1, func(ctx context.Context, tx pgx.Tx) (n int64, err error) {
			err = tx.QueryRow(ctx, "SELECT count(*) FROM server_groups WHERE project_id = $1", g.ProjectID).Scan(&n)
			return n, err
		})
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO server_groups (id, name, policy, project_id, user_id)
			VALUES ($1, $2, $3, $4, $5) RETURNING created_at`, g.ID, g.Name, g.Policy, g.ProjectID, g.UserID).Scan(&g.CreatedAt)
	})
	if err != nil {
		return ServerGroup{}, overQuota(err)
	}
	return g, nil
}

// DeleteServerGroup removes a server group. Its servers stay where they
// are and simply stop belonging to a group.
func (s *Service) DeleteServerGroup(ctx context.Context, c *token.Claims, id string) error {
	if _, err := s.authorizedServerGroup(ctx, c, policy.Write, id); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, "DELETE FROM server_groups WHERE id = $1", id)
	if err == nil && tag.RowsAffected() == 0 {
		err = serverGroupNotFound(id)
	}
	return err
}
