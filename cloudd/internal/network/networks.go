package network

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Network is an L2 segment.
type Network struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	Description         string   `json:"description"`
	ProjectID           string   `json:"project_id"`
	TenantID            string   `json:"tenant_id"`
	AdminStateUp        bool     `json:"admin_state_up"`
	Shared              bool     `json:"shared"`
	External            bool     `json:"router:external"`
	MTU                 int      `json:"mtu"`
	Status              string   `json:"status"`
	Subnets             []string `json:"subnets"`
	PortSecurityEnabled bool     `json:"port_security_enabled"`
	AvailabilityZones   []string `json:"availability_zones"`
	AZHints             []string `json:"availability_zone_hints"`
	IPv4AddressScope    *string  `json:"ipv4_address_scope"`
	IPv6AddressScope    *string  `json:"ipv6_address_scope"`
	Tags                []string `json:"tags"`
	RevisionNumber      int64    `json:"revision_number"`
	CreatedAt           Time     `json:"created_at"`
	UpdatedAt           Time     `json:"updated_at"`
}

// NetworkUpdate holds the fields of a create or update; nil leaves a field
// as it is (or at its default).
type NetworkUpdate struct {
	ProjectID    string
	Name         *string
	Description  *string
	AdminStateUp *bool
	Shared       *bool
	External     *bool
	MTU          *int
}

const networkCols = `n.id, n.project_id, n.name, n.description, n.admin_state_up, n.shared, n.external, n.mtu,
	n.revision_number, n.created_at, n.updated_at,
	coalesce((SELECT array_agg(s.id ORDER BY s.created_at) FROM subnets s WHERE s.network_id = n.id), '{}')`

func scanNetwork(row pgx.CollectableRow) (Network, error) {
	var n Network
	err := row.Scan(&n.ID, &n.ProjectID, &n.Name, &n.Description, &n.AdminStateUp, &n.Shared, &n.External, &n.MTU,
		&n.RevisionNumber, (*time.Time)(&n.CreatedAt), (*time.Time)(&n.UpdatedAt), &n.Subnets)
	n.TenantID, n.Status, n.PortSecurityEnabled = n.ProjectID, "ACTIVE", true
	if !n.AdminStateUp {
		n.Status = "DOWN"
	}
	n.AvailabilityZones, n.AZHints = []string{"nova"}, []string{}
	return n, err
}

// visibleNetworks limits networks to those the project sees: its own, shared
// and external ones ("" sees all).
const visibleNetworks = "($1 = '' OR n.project_id = $1 OR n.shared OR n.external)"

// ListNetworks returns the networks c may see.
func (s *Service) ListNetworks(ctx context.Context, c *token.Claims) ([]Network, error) {
	if err := policy.Authorize(c, policy.Read, "", "networks"); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+networkCols+" FROM networks n WHERE "+visibleNetworks+" ORDER BY n.created_at, n.id",
		policy.ProjectFilter(c))
	list, err := pgx.CollectRows(rows, scanNetwork)
	if err != nil {
		return nil, err
	}
	return list, fillTags(ctx, s.pool, list, networkTags)
}

// GetNetwork returns a network c may see.
func (s *Service) GetNetwork(ctx context.Context, c *token.Claims, id string) (Network, error) {
	n, err := s.getNetwork(ctx, s.pool, id)
	if err != nil {
		return Network{}, err
	}
	if !n.Shared && !n.External {
		if err := authorizeIn(c, policy.Read, n.ProjectID, "Network", id); err != nil {
			return Network{}, err
		}
	} else if err := policy.Authorize(c, policy.Read, "", "networks"); err != nil {
		return Network{}, err
	}
	list := []Network{n}
	return list[0], fillTags(ctx, s.pool, list, networkTags)
}

func (s *Service) getNetwork(ctx context.Context, q db.Querier, id string) (Network, error) {
	rows, _ := q.Query(ctx, "SELECT "+networkCols+" FROM networks n WHERE n.id = $1", id)
	n, err := pgx.CollectExactlyOneRow(rows, scanNetwork)
	if err == pgx.ErrNoRows {
		return Network{}, notFound("Network", id)
	}
	return n, err
}

func validateNetwork(c *token.Claims, u NetworkUpdate) error {
	if (u.Shared != nil && *u.Shared || u.External != nil) && !policy.IsAdmin(c) {
		return neutronError(http.StatusForbidden, "PolicyNotAuthorized", "(rule:create_network:shared or router:external) is disallowed by policy")
	}
	if u.MTU != nil && (*u.MTU < 68 || *u.MTU > 9000) {
		return invalidInput("mtu must be between 68 and 9000, got %d.", *u.MTU)
	}
	if u.Name != nil && len(*u.Name) > 255 {
		return invalidInput("name is longer than 255 characters.")
	}
	return nil
}

// CreateNetwork creates a network.
func (s *Service) CreateNetwork(ctx context.Context, c *token.Claims, u NetworkUpdate) (Network, error) {
	project, err := ownerFor(c, u.ProjectID)
	if err != nil {
		return Network{}, err
	}
	if err := policy.Authorize(c, policy.Write, project, "networks"); err != nil {
		return Network{}, err
	}
	if err := validateNetwork(c, u); err != nil {
		return Network{}, err
	}
	id := uuid.NewString()
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := s.reserve(ctx, tx, project, "network"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO networks (id, project_id, name, description, admin_state_up, shared, external, mtu)
			VALUES ($1, $2, coalesce($3, ''), coalesce($4, ''), coalesce($5, true), coalesce($6, false), coalesce($7, false), coalesce($8, 1500))`,
			id, project, u.Name, u.Description, u.AdminStateUp, u.Shared, u.External, u.MTU)
		return err
	})
	if err != nil {
		return Network{}, err
	}
	return s.GetNetwork(ctx, c, id)
}

// UpdateNetwork changes a network; revision is the If-Match constraint (0: none).
func (s *Service) UpdateNetwork(ctx context.Context, c *token.Claims, id string, u NetworkUpdate, revision int64) (Network, error) {
	n, err := s.GetNetwork(ctx, c, id)
	if err != nil {
		return Network{}, err
	}
	if err := authorizeIn(c, policy.Write, n.ProjectID, "Network", id); err != nil {
		return Network{}, err
	}
	if err := validateNetwork(c, u); err != nil {
		return Network{}, err
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := checkRevision(ctx, tx, "networks", id, revision); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE networks SET name = coalesce($2, name), description = coalesce($3, description),
			admin_state_up = coalesce($4, admin_state_up), shared = coalesce($5, shared), external = coalesce($6, external),
			mtu = coalesce($7, mtu) WHERE id = $1`, id, u.Name, u.Description, u.AdminStateUp, u.Shared, u.External, u.MTU)
		return err
	})
	if err != nil {
		return Network{}, err
	}
	return s.GetNetwork(ctx, c, id)
}

// DeleteNetwork removes a network and its subnets. Ports other than the
// network's own DHCP ports keep it in use (409 NetworkInUse).
func (s *Service) DeleteNetwork(ctx context.Context, c *token.Claims, id string) error {
	n, err := s.GetNetwork(ctx, c, id)
	if err != nil {
		return err
	}
	if err := authorizeIn(c, policy.Write, n.ProjectID, "Network", id); err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT 1 FROM networks WHERE id = $1 FOR UPDATE", id); err != nil {
			return err
		}
		var inUse bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM ports WHERE network_id = $1 AND device_owner <> $2)", id, OwnerDHCP).Scan(&inUse); err != nil {
			return err
		}
		if inUse {
			return neutronError(http.StatusConflict, "NetworkInUse",
				"Unable to complete operation on network %s. There are one or more ports still in use on the network.", id)
		}
		rows, _ := tx.Query(ctx, "SELECT "+portCols+" FROM ports p WHERE p.network_id = $1 AND p.device_owner = $2 FOR UPDATE", id, OwnerDHCP)
		dhcp, err := pgx.CollectRows(rows, scanPort)
		if err != nil {
			return err
		}
		if err := fillPorts(ctx, tx, dhcp); err != nil {
			return err
		}
		for _, p := range dhcp {
			if err := s.deletePort(ctx, tx, p); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM network_tags WHERE resource_id = $1 OR resource_id IN (SELECT id FROM subnets WHERE network_id = $1)", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM subnets WHERE network_id = $1", id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM networks WHERE id = $1", id)
		return err
	})
}

func networkTags(n *Network) (string, *[]string) { return n.ID, &n.Tags }
