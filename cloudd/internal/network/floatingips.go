package network

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// FloatingIP is an external address mapped one-to-one onto a port's fixed
// address through a router.
type FloatingIP struct {
	ID                string   `json:"id"`
	Description       string   `json:"description"`
	ProjectID         string   `json:"project_id"`
	TenantID          string   `json:"tenant_id"`
	FloatingNetworkID string   `json:"floating_network_id"`
	FloatingIPAddress string   `json:"floating_ip_address"`
	PortID            *string  `json:"port_id"`
	FixedIPAddress    *string  `json:"fixed_ip_address"`
	RouterID          *string  `json:"router_id"`
	Status            string   `json:"status"`
	Tags              []string `json:"tags"`
	RevisionNumber    int64    `json:"revision_number"`
	CreatedAt         Time     `json:"created_at"`
	UpdatedAt         Time     `json:"updated_at"`
	floatingPortID    string
}

// FloatingIPRequest is a floating IP create or update. PortSet with an
// empty PortID disassociates.
type FloatingIPRequest struct {
	ProjectID         string
	FloatingNetworkID string
	FloatingIPAddress string
	SubnetID          string
	Description       *string
	PortSet           bool
	PortID            string
	FixedIPAddress    string
}

const fipCols = `f.id, f.project_id, f.description, f.floating_network_id, host(f.floating_ip_address), f.port_id,
	host(f.fixed_ip_address), f.router_id, f.floating_port_id, f.revision_number, f.created_at, f.updated_at`

func scanFIP(row pgx.CollectableRow) (FloatingIP, error) {
	var f FloatingIP
	err := row.Scan(&f.ID, &f.ProjectID, &f.Description, &f.FloatingNetworkID, &f.FloatingIPAddress, &f.PortID, &f.FixedIPAddress,
		&f.RouterID, &f.floatingPortID, &f.RevisionNumber, (*time.Time)(&f.CreatedAt), (*time.Time)(&f.UpdatedAt))
	f.TenantID, f.Status = f.ProjectID, "DOWN"
	if f.PortID != nil {
		f.Status = "ACTIVE"
	}
	return f, err
}

// ListFloatingIPs returns the floating IPs c may see.
func (s *Service) ListFloatingIPs(ctx context.Context, c *token.Claims) ([]FloatingIP, error) {
	if err := policy.Authorize(c, policy.Read, "", "floating IPs"); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+fipCols+" FROM floatingips f WHERE ($1 = '' OR f.project_id = $1) ORDER BY f.created_at, f.id",
		policy.ProjectFilter(c))
	list, err := pgx.CollectRows(rows, scanFIP)
	if err != nil {
		return nil, err
	}
	return list, fillTags(ctx, s.pool, list, floatingIPTags)
}

// GetFloatingIP returns a floating IP c may see.
func (s *Service) GetFloatingIP(ctx context.Context, c *token.Claims, id string) (FloatingIP, error) {
	f, err := s.getFIP(ctx, s.pool, id)
	if err != nil {
		return f, err
	}
	return f, authorizeIn(c, policy.Read, f.ProjectID, "FloatingIP", id)
}

func (s *Service) getFIP(ctx context.Context, q db.Querier, id string) (FloatingIP, error) {
	rows, _ := q.Query(ctx, "SELECT "+fipCols+" FROM floatingips f WHERE f.id = $1", id)
	f, err := pgx.CollectExactlyOneRow(rows, scanFIP)
	if err == pgx.ErrNoRows {
		return f, notFound("FloatingIP", id)
	}
	if err != nil {
		return f, err
	}
	list := []FloatingIP{f}
	return list[0], fillTags(ctx, q, list, floatingIPTags)
}

// CreateFloatingIP allocates an address on an external network, and
// associates it with a port when asked.
func (s *Service) CreateFloatingIP(ctx context.Context, c *token.Claims, req FloatingIPRequest) (FloatingIP, error) {
	project, err := ownerFor(c, req.ProjectID)
	if err != nil {
		return FloatingIP{}, err
	}
	if err := policy.Authorize(c, policy.Write, project, "floating IPs"); err != nil {
		return FloatingIP{}, err
	}
	if req.FloatingNetworkID == "" {
		return FloatingIP{}, badRequest("Invalid input for operation: floating_network_id is required.")
	}
	n, err := s.getNetwork(ctx, s.pool, req.FloatingNetworkID)
	if err != nil {
		return FloatingIP{}, err
	}
	if !n.External {
		return FloatingIP{}, neutronError(http.StatusBadRequest, "BadRequest",
			"Bad floatingip request: Network %s is not a valid external network.", n.ID)
	}
	if req.FloatingIPAddress != "" && !policy.IsAdmin(c) {
		return FloatingIP{}, neutronError(http.StatusForbidden, "PolicyNotAuthorized", "(rule:create_floatingip:floating_ip_address) is disallowed by policy")
	}
	// A floating IP is one address: the one asked for, or IPAM's pick on
	// the network's first IPv4 subnet (never an IPv6 one besides).
	fixed := &[]FixedIP{{SubnetID: req.SubnetID, IPAddress: req.FloatingIPAddress}}
	if req.FloatingIPAddress == "" && req.SubnetID == "" {
		subnets, err := s.networkSubnets(ctx, s.pool, n.ID)
		if err != nil {
			return FloatingIP{}, err
		}
		i := slices.IndexFunc(subnets, func(sub Subnet) bool { return sub.IPVersion == 4 })
		if i < 0 {
			return FloatingIP{}, neutronError(http.StatusBadRequest, "BadRequest",
				"Bad floatingip request: Network %s does not contain any IPv4 subnet.", n.ID)
		}
		(*fixed)[0].SubnetID = subnets[i].ID
	}
	var target Port
	if req.PortID != "" {
		if target, err = s.GetPort(ctx, c, req.PortID); err != nil {
			return FloatingIP{}, err
		}
	}
	id := uuid.NewString()
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := s.reserve(ctx, tx, project, "floatingip"); err != nil {
			return err
		}
		p, err := s.createPort(ctx, tx, uuid.NewString(), n, project, PortRequest{FixedIPs: fixed, DeviceID: &id, DeviceOwner: ptr(OwnerFloatingIP), managed: true})
		if err != nil {
			return err
		}
		if len(p.FixedIPs) != 1 {
			return neutronError(http.StatusConflict, "IpAddressGenerationFailure", "No more IP addresses available on network %s.", n.ID)
		}
		addr := p.FixedIPs[0].IPAddress
		if _, err := tx.Exec(ctx, `INSERT INTO floatingips (id, project_id, description, floating_network_id, floating_port_id, floating_ip_address)
			VALUES ($1, $2, coalesce($3, ''), $4, $5, $6)`, id, project, req.Description, n.ID, p.ID, addr); err != nil {
			return err
		}
		f, err := s.getFIP(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := emitFIP(ctx, tx, "created", f); err != nil {
			return err
		}
		if req.PortID != "" {
			return s.associateChecked(ctx, tx, c, f, target, req.FixedIPAddress)
		}
		return nil
	})
	if err != nil {
		return FloatingIP{}, err
	}
	return s.GetFloatingIP(ctx, c, id)
}

func emitFIP(ctx context.Context, tx pgx.Tx, what string, f FloatingIP) error {
	return emit(ctx, tx, "floatingip", what, f.ID, map[string]any{
		"floatingip_id": f.ID, "project_id": f.ProjectID, "network_id": f.FloatingNetworkID,
		"floating_ip_address": f.FloatingIPAddress, "port_id": f.PortID, "fixed_ip_address": f.FixedIPAddress, "router_id": f.RouterID,
	})
}

// associateChecked maps f onto portID's fixed address (fixed, or the
// port's first IPv4 address) through a router that connects the port's
// subnet to f's external network.
func (s *Service) associateChecked(ctx context.Context, tx pgx.Tx, c *token.Claims, f FloatingIP, p Port, fixed string) error {
	portID := p.ID
	if p.ProjectID != f.ProjectID && !policy.IsAdmin(c) {
		return notFound("Port", portID)
	}
	var chosen *FixedIP
	for i, ip := range p.FixedIPs {
		a := netip.MustParseAddr(ip.IPAddress)
		if fixed == ip.IPAddress || fixed == "" && a.Is4() {
			chosen = &p.FixedIPs[i]
			break
		}
	}
	if chosen == nil {
		if fixed != "" {
			return badRequest("Bad floatingip request: Port %s does not have fixed ip %s.", portID, fixed)
		}
		return badRequest("Bad floatingip request: Port %s does not have any IPv4 address.", portID)
	}
	// Routers are locked before their interfaces are read, in a statement
	// of its own: RemoveInterface (FOR UPDATE) then cannot take away the
	// leg that reaches the port while this association commits.
	if _, err := tx.Exec(ctx, "SELECT 1 FROM routers WHERE external_network_id = $1 ORDER BY id FOR SHARE", f.FloatingNetworkID); err != nil {
		return err
	}
	var routerID string
	err := tx.QueryRow(ctx, `SELECT r.id FROM routers r JOIN ports rp ON rp.device_id = r.id AND rp.device_owner = $3
		JOIN ip_allocations a ON a.port_id = rp.id AND a.subnet_id = $2
		WHERE r.external_network_id = $1 ORDER BY r.created_at LIMIT 1`, f.FloatingNetworkID, chosen.SubnetID, OwnerRouterInterface).Scan(&routerID)
	if err == pgx.ErrNoRows {
		return neutronError(http.StatusNotFound, "ExternalGatewayForFloatingIPNotFound",
			"External network %s is not reachable from subnet %s. Therefore, cannot associate Port %s with a Floating IP.",
			f.FloatingNetworkID, chosen.SubnetID, portID)
	}
	if err != nil {
		return err
	}
	var taken bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM floatingips WHERE port_id = $1 AND fixed_ip_address = $2 AND id <> $3)",
		portID, chosen.IPAddress, f.ID).Scan(&taken); err != nil {
		return err
	}
	if taken {
		return neutronError(http.StatusConflict, "FloatingIPPortAlreadyAssociated",
			"Cannot associate floating IP %s with port %s using fixed IP %s, as that fixed IP already has a floating IP.",
			f.FloatingIPAddress, portID, chosen.IPAddress)
	}
	return s.associate(ctx, tx, f.ID, portID, netip.MustParseAddr(chosen.IPAddress), routerID)
}

// associate sets (portID != "") or clears f's mapping and emits the event.
func (s *Service) associate(ctx context.Context, tx pgx.Tx, id, portID string, fixed netip.Addr, routerID string) error {
	var fixedArg *netip.Addr
	if fixed.IsValid() {
		fixedArg = &fixed
	}
	if _, err := tx.Exec(ctx, `UPDATE floatingips SET port_id = nullif($2, ''), fixed_ip_address = $3, router_id = nullif($4, ''),
		revision_number = revision_number + 1, updated_at = now() WHERE id = $1`, id, portID, fixedArg, routerID); err != nil {
		return err
	}
	f, err := s.getFIP(ctx, tx, id)
	if err != nil {
		return err
	}
	what := "associated"
	if portID == "" {
		what = "disassociated"
	}
	return emitFIP(ctx, tx, what, f)
}

// UpdateFloatingIP associates, disassociates or redescribes a floating IP.
func (s *Service) UpdateFloatingIP(ctx context.Context, c *token.Claims, id string, req FloatingIPRequest, revision int64) (FloatingIP, error) {
	f, err := s.GetFloatingIP(ctx, c, id)
	if err != nil {
		return f, err
	}
	if err := authorizeIn(c, policy.Write, f.ProjectID, "FloatingIP", id); err != nil {
		return f, err
	}
	var target Port
	if req.PortSet && req.PortID != "" {
		if target, err = s.GetPort(ctx, c, req.PortID); err != nil {
			return FloatingIP{}, err
		}
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := checkRevision(ctx, tx, "floatingips", id, revision); err != nil {
			return err
		}
		if req.Description != nil {
			if _, err := tx.Exec(ctx, "UPDATE floatingips SET description = $2 WHERE id = $1", id, *req.Description); err != nil {
				return err
			}
		}
		if !req.PortSet {
			return nil
		}
		if req.PortID == "" {
			if f.PortID == nil {
				return nil
			}
			return s.associate(ctx, tx, id, "", netip.Addr{}, "")
		}
		return s.associateChecked(ctx, tx, c, f, target, req.FixedIPAddress)
	})
	if err != nil {
		return FloatingIP{}, err
	}
	return s.GetFloatingIP(ctx, c, id)
}

// DeleteFloatingIP releases a floating IP and its address.
func (s *Service) DeleteFloatingIP(ctx context.Context, c *token.Claims, id string) error {
	f, err := s.GetFloatingIP(ctx, c, id)
	if err != nil {
		return err
	}
	if err := authorizeIn(c, policy.Write, f.ProjectID, "FloatingIP", id); err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM floatingips WHERE id = $1", id)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM network_tags WHERE resource_id = $1", id); err != nil {
			return err
		}
		if err := emitFIP(ctx, tx, "deleted", f); err != nil {
			return err
		}
		p, err := s.getPort(ctx, tx, f.floatingPortID)
		if err != nil {
			return err
		}
		return s.deletePort(ctx, tx, p)
	})
}

func floatingIPTags(f *FloatingIP) (string, *[]string) { return f.ID, &f.Tags }
