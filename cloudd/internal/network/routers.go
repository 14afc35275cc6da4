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

// GatewayInfo is a router's external gateway.
type GatewayInfo struct {
	NetworkID        string    `json:"network_id"`
	EnableSNAT       bool      `json:"enable_snat"`
	ExternalFixedIPs []FixedIP `json:"external_fixed_ips"`
}

// Router routes between its interfaces' subnets and, through its gateway,
// to an external network with SNAT.
type Router struct {
	ID                string       `json:"id"`
	Name              string       `json:"name"`
	Description       string       `json:"description"`
	ProjectID         string       `json:"project_id"`
	TenantID          string       `json:"tenant_id"`
	AdminStateUp      bool         `json:"admin_state_up"`
	Status            string       `json:"status"`
	GatewayInfo       *GatewayInfo `json:"external_gateway_info"`
	Routes            []HostRoute  `json:"routes"`
	Distributed       bool         `json:"distributed"`
	HA                bool         `json:"ha"`
	AvailabilityZones []string     `json:"availability_zones"`
	Tags              []string     `json:"tags"`
	RevisionNumber    int64        `json:"revision_number"`
	CreatedAt         Time         `json:"created_at"`
	UpdatedAt         Time         `json:"updated_at"`
	gwPortID          string
}

// RouterUpdate holds the fields of a router create or update. GatewaySet
// with a nil Gateway clears the gateway.
type RouterUpdate struct {
	ProjectID    string
	Name         *string
	Description  *string
	AdminStateUp *bool
	GatewaySet   bool
	Gateway      *GatewayRequest
}

// GatewayRequest asks for an external gateway.
type GatewayRequest struct {
	NetworkID        string     `json:"network_id"`
	EnableSNAT       *bool      `json:"enable_snat"`
	ExternalFixedIPs *[]FixedIP `json:"external_fixed_ips"`
}

const routerCols = `r.id, r.project_id, r.name, r.description, r.admin_state_up, coalesce(r.external_network_id, ''), r.enable_snat,
	coalesce(r.gw_port_id, ''), r.revision_number, r.created_at, r.updated_at`

func scanRouter(row pgx.CollectableRow) (Router, error) {
	var r Router
	var ext string
	var snat bool
	err := row.Scan(&r.ID, &r.ProjectID, &r.Name, &r.Description, &r.AdminStateUp, &ext, &snat, &r.gwPortID, &r.RevisionNumber,
		(*time.Time)(&r.CreatedAt), (*time.Time)(&r.UpdatedAt))
	r.TenantID, r.Status, r.Routes, r.AvailabilityZones = r.ProjectID, "ACTIVE", []HostRoute{}, []string{"nova"}
	if ext != "" {
		r.GatewayInfo = &GatewayInfo{NetworkID: ext, EnableSNAT: snat, ExternalFixedIPs: []FixedIP{}}
	}
	return r, err
}

func (s *Service) fillRouters(ctx context.Context, q db.Querier, list []Router) error {
	ids := make([]string, len(list))
	for i := range list {
		ids[i] = list[i].ID
		if list[i].gwPortID != "" {
			p, err := s.getPort(ctx, q, list[i].gwPortID)
			if err != nil {
				return err
			}
			list[i].GatewayInfo.ExternalFixedIPs = p.FixedIPs
		}
	}
	return fillTags(ctx, q, list, routerTags)
}

// ListRouters returns the routers c may see.
func (s *Service) ListRouters(ctx context.Context, c *token.Claims) ([]Router, error) {
	if err := policy.Authorize(c, policy.Read, "", "routers"); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+routerCols+" FROM routers r WHERE ($1 = '' OR r.project_id = $1) ORDER BY r.created_at, r.id",
		policy.ProjectFilter(c))
	list, err := pgx.CollectRows(rows, scanRouter)
	if err != nil {
		return nil, err
	}
	return list, s.fillRouters(ctx, s.pool, list)
}

// GetRouter returns a router c may see.
func (s *Service) GetRouter(ctx context.Context, c *token.Claims, id string) (Router, error) {
	r, err := s.getRouter(ctx, s.pool, id)
	if err != nil {
		return Router{}, err
	}
	return r, authorizeIn(c, policy.Read, r.ProjectID, "Router", id)
}

func (s *Service) getRouter(ctx context.Context, q db.Querier, id string) (Router, error) {
	rows, _ := q.Query(ctx, "SELECT "+routerCols+" FROM routers r WHERE r.id = $1", id)
	r, err := pgx.CollectExactlyOneRow(rows, scanRouter)
	if err == pgx.ErrNoRows {
		return Router{}, notFound("Router", id)
	}
	if err != nil {
		return Router{}, err
	}
	list := []Router{r}
	return list[0], s.fillRouters(ctx, q, list)
}

// CreateRouter creates a router, with its gateway port when asked.
func (s *Service) CreateRouter(ctx context.Context, c *token.Claims, u RouterUpdate) (Router, error) {
	project, err := ownerFor(c, u.ProjectID)
	if err != nil {
		return Router{}, err
	}
	if err := policy.Authorize(c, policy.Write, project, "routers"); err != nil {
		return Router{}, err
	}
	id := uuid.NewString()
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := s.reserve(ctx, tx, project, "router"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO routers (id, project_id, name, description, admin_state_up)
			VALUES ($1, $2, coalesce($3, ''), coalesce($4, ''), coalesce($5, true))`, id, project, u.Name, u.Description, u.AdminStateUp); err != nil {
			return err
		}
		if u.Gateway != nil {
			return s.setGateway(ctx, tx, c, id, project, u.Gateway)
		}
		return nil
	})
	if err != nil {
		return Router{}, err
	}
	return s.GetRouter(ctx, c, id)
}

// setGateway replaces the router's gateway (nil: none) inside tx.
func (s *Service) setGateway(ctx context.Context, tx pgx.Tx, c *token.Claims, routerID, project string, gw *GatewayRequest) error {
	r, err := s.getRouter(ctx, tx, routerID)
	if err != nil {
		return err
	}
	if gw != nil && r.GatewayInfo != nil && gw.NetworkID == r.GatewayInfo.NetworkID && gw.ExternalFixedIPs == nil {
		_, err := tx.Exec(ctx, "UPDATE routers SET enable_snat = coalesce($2, enable_snat) WHERE id = $1", routerID, gw.EnableSNAT)
		return err
	}
	if r.gwPortID != "" {
		var used bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM floatingips WHERE router_id = $1)", routerID).Scan(&used); err != nil {
			return err
		}
		if used {
			return neutronError(http.StatusConflict, "RouterExternalGatewayInUseByFloatingIp",
				"Gateway cannot be updated for router %s, since a gateway to external network %s is required by one or more floating IPs.",
				routerID, r.GatewayInfo.NetworkID)
		}
		p, err := s.getPort(ctx, tx, r.gwPortID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE routers SET gw_port_id = NULL, external_network_id = NULL WHERE id = $1", routerID); err != nil {
			return err
		}
		if err := s.deletePort(ctx, tx, p); err != nil {
			return err
		}
	}
	if gw == nil || gw.NetworkID == "" {
		return nil
	}
	n, err := s.getNetwork(ctx, tx, gw.NetworkID)
	if err != nil {
		return err
	}
	if !n.External {
		return neutronError(http.StatusBadRequest, "BadRequest", "Bad router request: Network %s is not an external network.", n.ID)
	}
	if gw.ExternalFixedIPs != nil && !policy.IsAdmin(c) {
		return neutronError(http.StatusForbidden, "PolicyNotAuthorized", "(rule:create_router:external_gateway_info:external_fixed_ips) is disallowed by policy")
	}
	portID := uuid.NewString()
	if _, err := s.createPort(ctx, tx, portID, n, project, PortRequest{FixedIPs: gw.ExternalFixedIPs,
		DeviceID: &routerID, DeviceOwner: ptr(OwnerRouterGateway), managed: true}); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "UPDATE routers SET gw_port_id = $2, external_network_id = $3, enable_snat = coalesce($4, true) WHERE id = $1",
		routerID, portID, n.ID, gw.EnableSNAT)
	return err
}

// UpdateRouter changes a router; revision is the If-Match constraint.
func (s *Service) UpdateRouter(ctx context.Context, c *token.Claims, id string, u RouterUpdate, revision int64) (Router, error) {
	r, err := s.GetRouter(ctx, c, id)
	if err != nil {
		return Router{}, err
	}
	if err := authorizeIn(c, policy.Write, r.ProjectID, "Router", id); err != nil {
		return Router{}, err
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := checkRevision(ctx, tx, "routers", id, revision); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE routers SET name = coalesce($2, name), description = coalesce($3, description),
			admin_state_up = coalesce($4, admin_state_up) WHERE id = $1`, id, u.Name, u.Description, u.AdminStateUp); err != nil {
			return err
		}
		if u.GatewaySet {
			return s.setGateway(ctx, tx, c, id, r.ProjectID, u.Gateway)
		}
		return nil
	})
	if err != nil {
		return Router{}, err
	}
	return s.GetRouter(ctx, c, id)
}

// DeleteRouter removes a router without interfaces, and its gateway.
func (s *Service) DeleteRouter(ctx context.Context, c *token.Claims, id string) error {
	r, err := s.GetRouter(ctx, c, id)
	if err != nil {
		return err
	}
	if err := authorizeIn(c, policy.Write, r.ProjectID, "Router", id); err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT 1 FROM routers WHERE id = $1 FOR UPDATE", id); err != nil {
			return err
		}
		var inUse bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM ports WHERE device_id = $1 AND device_owner = $2)", id, OwnerRouterInterface).Scan(&inUse); err != nil {
			return err
		}
		if inUse {
			return neutronError(http.StatusConflict, "RouterInUse", "Router %s still has ports", id)
		}
		if err := s.setGateway(ctx, tx, c, id, r.ProjectID, nil); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM network_tags WHERE resource_id = $1", id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM routers WHERE id = $1", id)
		return err
	})
}

// InterfaceInfo is the answer to add/remove_router_interface.
type InterfaceInfo struct {
	ID        string   `json:"id"`
	SubnetID  string   `json:"subnet_id"`
	SubnetIDs []string `json:"subnet_ids"`
	PortID    string   `json:"port_id"`
	NetworkID string   `json:"network_id"`
	ProjectID string   `json:"project_id"`
	TenantID  string   `json:"tenant_id"`
}

// AddInterface attaches the router to a subnet (taking its gateway
// address) or to an existing unbound port.
func (s *Service) AddInterface(ctx context.Context, c *token.Claims, routerID, subnetID, portID string) (InterfaceInfo, error) {
	r, err := s.GetRouter(ctx, c, routerID)
	if err != nil {
		return InterfaceInfo{}, err
	}
	if err := authorizeIn(c, policy.Write, r.ProjectID, "Router", routerID); err != nil {
		return InterfaceInfo{}, err
	}
	if (subnetID == "") == (portID == "") {
		return InterfaceInfo{}, badRequest("Bad router request: Either subnet_id or port_id must be specified.")
	}
	// Reads that check visibility happen before the transaction, which
	// must not wait for a second pool connection.
	var p Port
	var sub Subnet
	var n Network
	if portID != "" {
		if p, err = s.GetPort(ctx, c, portID); err != nil {
			return InterfaceInfo{}, err
		}
		if len(p.FixedIPs) == 0 {
			return InterfaceInfo{}, badRequest("Bad router request: Router port must have at least one fixed IP.")
		}
		subnetID = p.FixedIPs[0].SubnetID
		if n, err = s.getNetwork(ctx, s.pool, p.NetworkID); err != nil {
			return InterfaceInfo{}, err
		}
	} else {
		if sub, err = s.GetSubnet(ctx, c, subnetID); err != nil {
			return InterfaceInfo{}, err
		}
		if sub.GatewayIP == nil {
			return InterfaceInfo{}, badRequest("Bad router request: Subnet for router interface must have a gateway IP.")
		}
		if n, err = s.GetNetwork(ctx, c, sub.NetworkID); err != nil {
			return InterfaceInfo{}, err
		}
	}
	// An external subnet's gateway is the host's uplink: a router leg
	// there would take it from every tenant.
	if n.External {
		return InterfaceInfo{}, neutronError(http.StatusBadRequest, "BadRequest", "Bad router request: Router interface for subnet %s on router %s cannot be attached: the subnet belongs to an external network.", subnetID, routerID)
	}
	// A shared subnet's gateway address is its owner's to give.
	if portID == "" && n.ProjectID != c.ProjectID && !policy.IsAdmin(c) {
		return InterfaceInfo{}, notFound("Subnet", subnetID)
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT 1 FROM routers WHERE id = $1 FOR UPDATE", routerID); err != nil {
			return err
		}
		if err := s.checkNewInterface(ctx, tx, routerID, subnetID); err != nil {
			return err
		}
		if portID != "" {
			var device string
			if err := tx.QueryRow(ctx, "SELECT device_id FROM ports WHERE id = $1 FOR UPDATE", portID).Scan(&device); err != nil {
				return err
			}
			if device != "" {
				return neutronError(http.StatusConflict, "PortInUse", "Unable to complete operation on port %s for network %s. Port already has an attached device %s.", p.ID, p.NetworkID, device)
			}
			owner := OwnerRouterInterface
			return s.updatePort(ctx, tx, p, PortRequest{DeviceID: &routerID, DeviceOwner: &owner, SecurityGroups: &[]string{}, PortSecurity: ptr(false)})
		}
		var err error
		p, err = s.createPort(ctx, tx, uuid.NewString(), n, r.ProjectID, PortRequest{
			FixedIPs: &[]FixedIP{{SubnetID: sub.ID, IPAddress: *sub.GatewayIP}},
			DeviceID: &routerID, DeviceOwner: ptr(OwnerRouterInterface), managed: true})
		return err
	})
	if err != nil {
		return InterfaceInfo{}, err
	}
	return InterfaceInfo{ID: routerID, SubnetID: subnetID, SubnetIDs: []string{subnetID}, PortID: p.ID, NetworkID: p.NetworkID,
		ProjectID: r.ProjectID, TenantID: r.ProjectID}, nil
}

func (s *Service) checkNewInterface(ctx context.Context, tx pgx.Tx, routerID, subnetID string) error {
	var exists bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ports p JOIN ip_allocations a ON a.port_id = p.id
		WHERE p.device_id = $1 AND p.device_owner = $2 AND a.subnet_id = $3)`, routerID, OwnerRouterInterface, subnetID).Scan(&exists)
	if err == nil && exists {
		err = badRequest("Bad router request: Router already has a port on subnet %s.", subnetID)
	}
	if err != nil {
		return err
	}
	// Overlapping subnets on one router would leave its routes ambiguous.
	var newCIDR, otherID, otherCIDR string
	err = tx.QueryRow(ctx, `SELECT n.cidr::text, o.id, o.cidr::text FROM subnets n, subnets o
		JOIN ip_allocations a ON a.subnet_id = o.id JOIN ports p ON p.id = a.port_id
		WHERE n.id = $3 AND p.device_id = $1 AND p.device_owner = $2 AND o.id <> n.id AND o.cidr && n.cidr
		ORDER BY o.id LIMIT 1`, routerID, OwnerRouterInterface, subnetID).Scan(&newCIDR, &otherID, &otherCIDR)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err == nil {
		err = neutronError(http.StatusBadRequest, "BadRequest", "Bad router request: Cidr %s of subnet %s overlaps with cidr %s of subnet %s.",
			newCIDR, subnetID, otherCIDR, otherID)
	}
	return err
}

// RemoveInterface detaches the router from a subnet or port.
func (s *Service) RemoveInterface(ctx context.Context, c *token.Claims, routerID, subnetID, portID string) (InterfaceInfo, error) {
	r, err := s.GetRouter(ctx, c, routerID)
	if err != nil {
		return InterfaceInfo{}, err
	}
	if err := authorizeIn(c, policy.Write, r.ProjectID, "Router", routerID); err != nil {
		return InterfaceInfo{}, err
	}
	if subnetID == "" && portID == "" {
		return InterfaceInfo{}, badRequest("Bad router request: Either subnet_id or port_id must be specified.")
	}
	var p Port
	err = s.tx(ctx, func(tx pgx.Tx) error {
		// Serialises with floating IP associations through this router
		// (FOR SHARE), so the in-use check below sees theirs.
		if _, err := tx.Exec(ctx, "SELECT 1 FROM routers WHERE id = $1 FOR UPDATE", routerID); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT DISTINCT p.id FROM ports p JOIN ip_allocations a ON a.port_id = p.id
			WHERE p.device_id = $1 AND p.device_owner = $2 AND ($3 = '' OR a.subnet_id = $3) AND ($4 = '' OR p.id = $4)`,
			routerID, OwnerRouterInterface, subnetID, portID)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			if portID != "" {
				return neutronError(http.StatusNotFound, "RouterInterfaceNotFound", "Router %s does not have an interface with id %s", routerID, portID)
			}
			return neutronError(http.StatusNotFound, "RouterInterfaceNotFoundForSubnet", "Router %s has no interface on subnet %s", routerID, subnetID)
		}
		if p, err = s.getPort(ctx, tx, ids[0]); err != nil {
			return err
		}
		var used bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM floatingips f JOIN ports fp ON fp.id = f.port_id
			WHERE f.router_id = $1 AND fp.network_id = $2)`, routerID, p.NetworkID).Scan(&used); err != nil {
			return err
		}
		if used {
			return neutronError(http.StatusConflict, "RouterInterfaceInUseByFloatingIP",
				"Router interface for subnet %s on router %s cannot be deleted, as it is required by one or more floating IPs.", subnetID, routerID)
		}
		return s.deletePort(ctx, tx, p)
	})
	if err != nil {
		return InterfaceInfo{}, err
	}
	info := InterfaceInfo{ID: routerID, PortID: p.ID, NetworkID: p.NetworkID, ProjectID: r.ProjectID, TenantID: r.ProjectID, SubnetIDs: []string{}}
	for _, f := range p.FixedIPs {
		info.SubnetIDs = append(info.SubnetIDs, f.SubnetID)
	}
	if len(info.SubnetIDs) > 0 {
		info.SubnetID = info.SubnetIDs[0]
	}
	return info, nil
}

func routerTags(x *Router) (string, *[]string) { return x.ID, &x.Tags }
