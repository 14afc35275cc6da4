package network

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// HostRoute is a route DHCP hands to the subnet's ports.
type HostRoute struct {
	Destination string `json:"destination"`
	NextHop     string `json:"nexthop"`
}

// Subnet is an address range on a network.
type Subnet struct {
	ID              string      `json:"id"`
	Name            string      `json:"name"`
	Description     string      `json:"description"`
	NetworkID       string      `json:"network_id"`
	ProjectID       string      `json:"project_id"`
	TenantID        string      `json:"tenant_id"`
	IPVersion       int         `json:"ip_version"`
	CIDR            string      `json:"cidr"`
	GatewayIP       *string     `json:"gateway_ip"`
	EnableDHCP      bool        `json:"enable_dhcp"`
	DNSNameservers  []string    `json:"dns_nameservers"`
	HostRoutes      []HostRoute `json:"host_routes"`
	AllocationPools []Pool      `json:"allocation_pools"`
	IPv6AddressMode *string     `json:"ipv6_address_mode"`
	IPv6RAMode      *string     `json:"ipv6_ra_mode"`
	SubnetPoolID    *string     `json:"subnetpool_id"`
	ServiceTypes    []string    `json:"service_types"`
	Tags            []string    `json:"tags"`
	RevisionNumber  int64       `json:"revision_number"`
	CreatedAt       Time        `json:"created_at"`
	UpdatedAt       Time        `json:"updated_at"`

	prefix  netip.Prefix
	gateway netip.Addr
	pools   []addrRange
}

// SubnetUpdate holds the fields of a subnet create or update. GatewaySet
// distinguishes "gateway_ip": null (no gateway) from an absent field.
type SubnetUpdate struct {
	ProjectID       string
	NetworkID       string
	Name            *string
	Description     *string
	IPVersion       int
	CIDR            string
	GatewaySet      bool
	GatewayIP       *string
	EnableDHCP      *bool
	DNSNameservers  *[]string
	HostRoutes      *[]HostRoute
	AllocationPools *[]Pool
}

const subnetCols = `id, network_id, project_id, name, description, ip_version, cidr, gateway_ip, enable_dhcp,
	dns_nameservers, host_routes, allocation_pools, revision_number, created_at, updated_at`

func scanSubnet(row pgx.CollectableRow) (Subnet, error) {
	var s Subnet
	var gw *netip.Addr
	err := row.Scan(&s.ID, &s.NetworkID, &s.ProjectID, &s.Name, &s.Description, &s.IPVersion, &s.prefix, &gw, &s.EnableDHCP,
		&s.DNSNameservers, &s.HostRoutes, &s.AllocationPools, &s.RevisionNumber, (*time.Time)(&s.CreatedAt), (*time.Time)(&s.UpdatedAt))
	if err != nil {
		return s, err
	}
	s.TenantID, s.CIDR, s.ServiceTypes = s.ProjectID, s.prefix.String(), []string{}
	if gw != nil {
		s.gateway = *gw
		g := gw.String()
		s.GatewayIP = &g
	}
	for _, p := range s.AllocationPools {
		s.pools = append(s.pools, addrRange{netip.MustParseAddr(p.Start), netip.MustParseAddr(p.End)})
	}
	return s, nil
}

// ListSubnets returns the subnets of networks c may see.
func (s *Service) ListSubnets(ctx context.Context, c *token.Claims) ([]Subnet, error) {
	if err := policy.Authorize(c, policy.Read, "", "subnets"); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+subnetCols+` FROM subnets WHERE network_id IN
		(SELECT n.id FROM networks n WHERE `+visibleNetworks+") ORDER BY created_at, id", policy.ProjectFilter(c))
	list, err := pgx.CollectRows(rows, scanSubnet)
	if err != nil {
		return nil, err
	}
	return list, fillTags(ctx, s.pool, list, subnetTags)
}

// GetSubnet returns a subnet of a network c may see.
func (s *Service) GetSubnet(ctx context.Context, c *token.Claims, id string) (Subnet, error) {
	sub, err := s.getSubnet(ctx, s.pool, id)
	if err != nil {
		return Subnet{}, err
	}
	if _, err := s.GetNetwork(ctx, c, sub.NetworkID); err != nil {
		return Subnet{}, notFound("Subnet", id)
	}
	list := []Subnet{sub}
	return list[0], fillTags(ctx, s.pool, list, subnetTags)
}

func (s *Service) getSubnet(ctx context.Context, q db.Querier, id string) (Subnet, error) {
	rows, _ := q.Query(ctx, "SELECT "+subnetCols+" FROM subnets WHERE id = $1", id)
	sub, err := pgx.CollectExactlyOneRow(rows, scanSubnet)
	if err == pgx.ErrNoRows {
		return Subnet{}, notFound("Subnet", id)
	}
	return sub, err
}

func (s *Service) networkSubnets(ctx context.Context, q db.Querier, networkID string) ([]Subnet, error) {
	rows, _ := q.Query(ctx, "SELECT "+subnetCols+" FROM subnets WHERE network_id = $1 ORDER BY created_at, id", networkID)
	return pgx.CollectRows(rows, scanSubnet)
}

// applySubnet validates u on top of sub (a new subnet's defaults or the
// stored one) and returns the result.
func applySubnet(sub Subnet, u SubnetUpdate, creating bool) (Subnet, error) {
	if creating {
		if u.CIDR == "" {
			return sub, badRequest("Invalid input for operation: cidr is required (subnet pools are not supported).")
		}
		p, err := netip.ParsePrefix(u.CIDR)
		if err != nil {
			return sub, invalidInput("'%s' is not a valid IP subnet.", u.CIDR)
		}
		if p.Masked() != p {
			return sub, invalidInput("'%s' isn't a recognized IP subnet cidr, '%s' is recommended.", u.CIDR, p.Masked())
		}
		version := 4
		if p.Addr().Is6() {
			version = 6
		}
		if u.IPVersion == 0 {
			u.IPVersion = version
		}
		if u.IPVersion != version {
			return sub, invalidInput("Cidr %s does not match ip_version %d.", u.CIDR, u.IPVersion)
		}
		if hostBits := p.Addr().BitLen() - p.Bits(); hostBits < 2 {
			return sub, invalidInput("The CIDR %s leaves no room for hosts.", u.CIDR)
		}
		sub.prefix, sub.IPVersion, sub.CIDR = p, version, p.String()
		if !u.GatewaySet {
			gw := p.Addr().Next()
			u.GatewayIP, u.GatewaySet = ptr(gw.String()), true
		}
	}
	if u.Name != nil {
		sub.Name = *u.Name
	}
	if u.Description != nil {
		sub.Description = *u.Description
	}
	if u.EnableDHCP != nil {
		sub.EnableDHCP = *u.EnableDHCP
	}
	hosts := hostRange(sub.prefix)
	if u.GatewaySet {
		sub.gateway, sub.GatewayIP = netip.Addr{}, nil
		if u.GatewayIP != nil {
			gw, err := netip.ParseAddr(*u.GatewayIP)
			if err != nil || gw.Zone() != "" {
				return sub, invalidInput("'%s' is not a valid IP address.", *u.GatewayIP)
			}
			if !hosts.contains(gw) {
				return sub, invalidInput("Gateway IP %s is not a usable address in subnet %s.", gw, sub.CIDR)
			}
			sub.gateway, sub.GatewayIP = gw, ptr(gw.String())
		}
	}
	switch {
	case u.AllocationPools != nil:
		pools, err := parsePools(*u.AllocationPools, sub.prefix)
		if err != nil {
			return sub, err
		}
		sub.pools = pools
	case creating || u.GatewaySet && sub.gateway.IsValid() && poolsContain(sub.pools, sub.gateway):
		sub.pools = defaultPools(sub.prefix, sub.gateway)
	}
	if sub.gateway.IsValid() && poolsContain(sub.pools, sub.gateway) {
		return sub, neutronError(http.StatusConflict, "GatewayConflictWithAllocationPools",
			"Gateway ip %s conflicts with allocation pool.", sub.gateway)
	}
	sub.AllocationPools = make([]Pool, len(sub.pools))
	for i, r := range sub.pools {
		sub.AllocationPools[i] = Pool{Start: r.start.String(), End: r.end.String()}
	}
	if u.DNSNameservers != nil {
		seen := map[netip.Addr]bool{}
		for _, d := range *u.DNSNameservers {
			a, err := netip.ParseAddr(d)
			if err != nil {
				return sub, invalidInput("'%s' is not a valid nameserver.", d)
			}
			if seen[a] {
				return sub, invalidInput("Duplicate nameserver '%s'.", d)
			}
			seen[a] = true
		}
		sub.DNSNameservers = *u.DNSNameservers
	}
	if u.HostRoutes != nil {
		for _, r := range *u.HostRoutes {
			d, err1 := netip.ParsePrefix(r.Destination)
			h, err2 := netip.ParseAddr(r.NextHop)
			if err1 != nil || err2 != nil || d.Addr().Is4() != h.Is4() {
				return sub, invalidInput("Invalid host route %s via %s.", r.Destination, r.NextHop)
			}
		}
		sub.HostRoutes = *u.HostRoutes
	}
	if sub.DNSNameservers == nil {
		sub.DNSNameservers = []string{}
	}
	if sub.HostRoutes == nil {
		sub.HostRoutes = []HostRoute{}
	}
	return sub, nil
}

func ptr[T any](v T) *T { return &v }

func poolsContain(pools []addrRange, a netip.Addr) bool {
	for _, p := range pools {
		if p.contains(a) {
			return true
		}
	}
	return false
}

func parsePools(in []Pool, prefix netip.Prefix) ([]addrRange, error) {
	hosts := hostRange(prefix)
	var out []addrRange
	for _, p := range in {
		start, err1 := netip.ParseAddr(p.Start)
		end, err2 := netip.ParseAddr(p.End)
		if err1 != nil || err2 != nil || start.Is4() != prefix.Addr().Is4() {
			return nil, invalidInput("Invalid allocation pool %s - %s.", p.Start, p.End)
		}
		r := addrRange{start, end}
		if start.Compare(end) > 0 {
			return nil, invalidInput("The allocation pool %s - %s is not a valid range: start is after end.", start, end)
		}
		if !hosts.contains(start) || !hosts.contains(end) {
			return nil, neutronError(http.StatusBadRequest, "OutOfBoundsAllocationPool",
				"The allocation pool %s - %s spans beyond the subnet cidr %s.", start, end, prefix)
		}
		for _, o := range out {
			if o.overlaps(r) {
				return nil, neutronError(http.StatusBadRequest, "OverlappingAllocationPools",
					"Found overlapping allocation pools: %s - %s and %s - %s for subnet %s.", o.start, o.end, start, end, prefix)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// CreateSubnet adds a subnet to a network c may write.
func (s *Service) CreateSubnet(ctx context.Context, c *token.Claims, u SubnetUpdate) (Subnet, error) {
	if u.NetworkID == "" {
		return Subnet{}, badRequest("Invalid input for operation: network_id is required.")
	}
	n, err := s.GetNetwork(ctx, c, u.NetworkID)
	if err != nil {
		return Subnet{}, err
	}
	project, err := ownerFor(c, u.ProjectID)
	if err != nil {
		return Subnet{}, err
	}
	if n.ProjectID != project && !policy.IsAdmin(c) {
		return Subnet{}, neutronError(http.StatusForbidden, "HTTPForbidden", "Only the owner of network %s may add subnets to it.", n.ID)
	}
	if err := policy.Authorize(c, policy.Write, project, "subnets"); err != nil {
		return Subnet{}, err
	}
	sub, err := applySubnet(Subnet{ID: uuid.NewString(), NetworkID: n.ID, ProjectID: project, EnableDHCP: true}, u, true)
	if err != nil {
		return Subnet{}, err
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		// Lock the network so two overlapping subnets cannot both pass the check.
		if _, err := tx.Exec(ctx, "SELECT 1 FROM networks WHERE id = $1 FOR UPDATE", n.ID); err != nil {
			return err
		}
		var overlap string
		err := tx.QueryRow(ctx, "SELECT cidr::text FROM subnets WHERE network_id = $1 AND cidr && $2 LIMIT 1", n.ID, sub.prefix).Scan(&overlap)
		if err == nil {
			return invalidInput("Requested subnet with cidr: %s for network: %s overlaps with another subnet (%s).", sub.CIDR, n.ID, overlap)
		} else if err != pgx.ErrNoRows {
			return err
		}
		if err := s.reserve(ctx, tx, project, "subnet"); err != nil {
			return err
		}
		return s.writeSubnet(ctx, tx, sub, true)
	})
	if err != nil {
		return Subnet{}, err
	}
	return s.GetSubnet(ctx, c, sub.ID)
}

func (s *Service) writeSubnet(ctx context.Context, tx pgx.Tx, sub Subnet, insert bool) error {
	pools, _ := json.Marshal(sub.AllocationPools)
	routes, _ := json.Marshal(sub.HostRoutes)
	var gw *netip.Addr
	if sub.gateway.IsValid() {
		gw = &sub.gateway
	}
	if insert {
		_, err := tx.Exec(ctx, `INSERT INTO subnets (id, network_id, project_id, name, description, ip_version, cidr, gateway_ip,
				enable_dhcp, dns_nameservers, host_routes, allocation_pools)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			sub.ID, sub.NetworkID, sub.ProjectID, sub.Name, sub.Description, sub.IPVersion, sub.prefix, gw, sub.EnableDHCP,
			sub.DNSNameservers, routes, pools)
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE subnets SET name = $2, description = $3, gateway_ip = $4, enable_dhcp = $5,
		dns_nameservers = $6, host_routes = $7, allocation_pools = $8 WHERE id = $1`,
		sub.ID, sub.Name, sub.Description, gw, sub.EnableDHCP, sub.DNSNameservers, routes, pools)
	return err
}

// UpdateSubnet changes a subnet; revision is the If-Match constraint.
func (s *Service) UpdateSubnet(ctx context.Context, c *token.Claims, id string, u SubnetUpdate, revision int64) (Subnet, error) {
	sub, err := s.GetSubnet(ctx, c, id)
	if err != nil {
		return Subnet{}, err
	}
	if err := authorizeIn(c, policy.Write, sub.ProjectID, "Subnet", id); err != nil {
		return Subnet{}, err
	}
	if _, err = applySubnet(sub, u, false); err != nil { // bad input fails before the transaction
		return Subnet{}, err
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := checkRevision(ctx, tx, "subnets", id, revision); err != nil {
			return err
		}
		// The request applies to the row as locked, not as read above: a
		// concurrent update's fields are kept.
		current, err := s.getSubnet(ctx, tx, id)
		if err != nil {
			return err
		}
		if current, err = applySubnet(current, u, false); err != nil {
			return err
		}
		return s.writeSubnet(ctx, tx, current, false)
	})
	if err != nil {
		return Subnet{}, err
	}
	return s.GetSubnet(ctx, c, id)
}

// DeleteSubnet removes a subnet no port has an address on.
func (s *Service) DeleteSubnet(ctx context.Context, c *token.Claims, id string) error {
	sub, err := s.GetSubnet(ctx, c, id)
	if err != nil {
		return err
	}
	if err := authorizeIn(c, policy.Write, sub.ProjectID, "Subnet", id); err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		// The lock holds off a DHCP port repair taking an address here
		// between the release and the delete.
		if _, err := tx.Exec(ctx, "SELECT 1 FROM subnets WHERE id = $1 FOR UPDATE", id); err != nil {
			return err
		}
		// The DHCP port's address goes with the subnet, as Neutron removes it.
		if _, err := tx.Exec(ctx, `DELETE FROM ip_allocations a USING ports p
			WHERE a.subnet_id = $1 AND p.id = a.port_id AND p.device_owner = $2`, id, OwnerDHCP); err != nil {
			return err
		}
		var inUse bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM ip_allocations WHERE subnet_id = $1)", id).Scan(&inUse); err != nil {
			return err
		}
		if inUse {
			return neutronError(http.StatusConflict, "SubnetInUse",
				"Unable to complete operation on subnet %s: One or more ports have an IP allocation from this subnet.", id)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM network_tags WHERE resource_id = $1", id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM subnets WHERE id = $1", id)
		if err == nil && tag.RowsAffected() == 0 {
			err = notFound("Subnet", id)
		}
		return err
	})
}

func subnetTags(n *Subnet) (string, *[]string) { return n.ID, &n.Tags }
