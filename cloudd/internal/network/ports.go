package network

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Device owners Neutron uses for ports it manages itself.
const (
	OwnerRouterInterface = "network:router_interface"
	OwnerRouterGateway   = "network:router_gateway"
	OwnerFloatingIP      = "network:floatingip"
)

// FixedIP is an address of a port, or a request for one (either field may
// be empty in a request).
type FixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

// Port is an interface on a network.
type Port struct {
	ID                  string           `json:"id"`
	Name                string           `json:"name"`
	Description         string           `json:"description"`
	NetworkID           string           `json:"network_id"`
	ProjectID           string           `json:"project_id"`
	TenantID            string           `json:"tenant_id"`
	MACAddress          string           `json:"mac_address"`
	AdminStateUp        bool             `json:"admin_state_up"`
	Status              string           `json:"status"`
	FixedIPs            []FixedIP        `json:"fixed_ips"`
	DeviceID            string           `json:"device_id"`
	DeviceOwner         string           `json:"device_owner"`
	SecurityGroups      []string         `json:"security_groups"`
	PortSecurityEnabled bool             `json:"port_security_enabled"`
	HostID              string           `json:"binding:host_id"`
	VIFType             string           `json:"binding:vif_type"`
	VNICType            string           `json:"binding:vnic_type"`
	VIFDetails          map[string]any   `json:"binding:vif_details"`
	Profile             map[string]any   `json:"binding:profile"`
	AllowedAddressPairs []map[string]any `json:"allowed_address_pairs"`
	ExtraDHCPOpts       []map[string]any `json:"extra_dhcp_opts"`
	Tags                []string         `json:"tags"`
	RevisionNumber      int64            `json:"revision_number"`
	CreatedAt           Time             `json:"created_at"`
	UpdatedAt           Time             `json:"updated_at"`
}

// PortRequest holds the fields of a port create or update; nil pointers
// are left alone (create: defaults).
type PortRequest struct {
	NetworkID      string
	ProjectID      string
	MACAddress     string
	Name           *string
	Description    *string
	AdminStateUp   *bool
	FixedIPs       *[]FixedIP // nil: one address chosen by IPAM
	DeviceID       *string
	DeviceOwner    *string
	SecurityGroups *[]string // nil: the project's default group
	PortSecurity   *bool
	HostID         *string
	// deleteWithDevice marks a port compute creates for a server.
	deleteWithDevice bool
	// managed marks a port Neutron creates for itself (router legs, DHCP,
	// floating IPs): no port security and no port quota. Only internal
	// callers set it; the API refuses network:* owners to non-admins.
	managed bool
}

// checkDeviceOwner refuses non-admins a network:* device owner, and moving
// a network:* port to another device: the dataplane trusts both to find a
// router's interfaces (Neutron's network_device policy).
func checkDeviceOwner(c *token.Claims, current Port, req PortRequest) error {
	if policy.IsAdmin(c) {
		return nil
	}
	if strings.HasPrefix(deref(req.DeviceOwner), "network:") {
		return neutronError(http.StatusForbidden, "PolicyNotAuthorized", "(rule:%s_port:device_owner) is disallowed by policy", verb(current))
	}
	if strings.HasPrefix(current.DeviceOwner, "network:") && req.DeviceID != nil && *req.DeviceID != current.DeviceID {
		return neutronError(http.StatusForbidden, "PolicyNotAuthorized", "(rule:update_port:device_id) is disallowed by policy")
	}
	return nil
}

// checkNetworkOwnerFields refuses a caller who neither owns n nor is an
// admin the port fields Neutron keeps to the network's owner (rule
// admin_or_network_owner): on a shared network they would let a tenant
// take the gateway's address or a neighbour's MAC, or lift the anti-spoofing
// filter. Port security may still be turned on, and an update may name the
// addresses the port already has.
func checkNetworkOwnerFields(c *token.Claims, n Network, current Port, req PortRequest) error {
	if policy.IsAdmin(c) || c.ProjectID == n.ProjectID {
		return nil
	}
	field := ""
	switch {
	case req.MACAddress != "" && current.ID == "":
		field = "mac_address"
	case req.PortSecurity != nil && !*req.PortSecurity:
		field = "port_security_enabled"
	case req.FixedIPs != nil && slices.ContainsFunc(*req.FixedIPs, func(f FixedIP) bool { return f.IPAddress != "" && !hasAddress(current, f.IPAddress) }):
		field = "fixed_ips:ip_address"
	default:
		return nil
	}
	return neutronError(http.StatusForbidden, "PolicyNotAuthorized", "(rule:%s_port:%s) is disallowed by policy", verb(current), field)
}

func hasAddress(p Port, addr string) bool {
	return slices.ContainsFunc(p.FixedIPs, func(f FixedIP) bool { return f.IPAddress == addr })
}

// verb names the policy action for a port request: create for a port not
// yet stored, else update.
func verb(current Port) string {
	if current.ID == "" {
		return "create"
	}
	return "update"
}

const portCols = `p.id, p.network_id, p.project_id, p.name, p.description, p.mac_address, p.admin_state_up, p.device_id,
	p.device_owner, p.port_security_enabled, p.binding_host_id, p.revision_number, p.created_at, p.updated_at`

func scanPort(row pgx.CollectableRow) (Port, error) {
	var p Port
	err := row.Scan(&p.ID, &p.NetworkID, &p.ProjectID, &p.Name, &p.Description, &p.MACAddress, &p.AdminStateUp, &p.DeviceID,
		&p.DeviceOwner, &p.PortSecurityEnabled, &p.HostID, &p.RevisionNumber, (*time.Time)(&p.CreatedAt), (*time.Time)(&p.UpdatedAt))
	p.TenantID, p.VNICType = p.ProjectID, "normal"
	p.Status, p.VIFType = "DOWN", "unbound"
	if p.HostID != "" {
		p.VIFType = "bridge"
		if p.AdminStateUp {
			p.Status = "ACTIVE"
		}
	}
	p.VIFDetails, p.Profile = map[string]any{}, map[string]any{}
	p.AllowedAddressPairs, p.ExtraDHCPOpts = []map[string]any{}, []map[string]any{}
	p.FixedIPs, p.SecurityGroups = []FixedIP{}, []string{}
	return p, err
}

// fillPorts adds addresses, security groups and tags to ports.
func fillPorts(ctx context.Context, q db.Querier, list []Port) error {
	ids := make([]string, len(list))
	index := make(map[string]*Port, len(list))
	for i := range list {
		ids[i] = list[i].ID
		index[list[i].ID] = &list[i]
	}
	rows, _ := q.Query(ctx, `SELECT a.port_id, a.subnet_id, host(a.address) FROM ip_allocations a
		JOIN subnets s ON s.id = a.subnet_id WHERE a.port_id = ANY($1) ORDER BY s.ip_version, a.address`, ids)
	var portID, subnetID, addr string
	if _, err := pgx.ForEachRow(rows, []any{&portID, &subnetID, &addr}, func() error {
		p := index[portID]
		p.FixedIPs = append(p.FixedIPs, FixedIP{SubnetID: subnetID, IPAddress: addr})
		return nil
	}); err != nil {
		return err
	}
	rows, _ = q.Query(ctx, "SELECT port_id, security_group_id FROM port_security_groups WHERE port_id = ANY($1) ORDER BY security_group_id", ids)
	var groupID string
	if _, err := pgx.ForEachRow(rows, []any{&portID, &groupID}, func() error {
		p := index[portID]
		p.SecurityGroups = append(p.SecurityGroups, groupID)
		return nil
	}); err != nil {
		return err
	}
	return fillTags(ctx, q, list, portTags)
}

// PortFilter narrows ListPorts in SQL; the API layer filters the rest.
type PortFilter struct {
	DeviceID  string
	NetworkID string
}

// ListPorts returns the ports c may see: its project's, or all for admins.
func (s *Service) ListPorts(ctx context.Context, c *token.Claims, f PortFilter) ([]Port, error) {
	if err := policy.Authorize(c, policy.Read, "", "ports"); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+portCols+` FROM ports p WHERE ($1 = '' OR p.project_id = $1)
		AND ($2 = '' OR p.device_id = $2) AND ($3 = '' OR p.network_id = $3) ORDER BY p.created_at, p.id`,
		policy.ProjectFilter(c), f.DeviceID, f.NetworkID)
	list, err := pgx.CollectRows(rows, scanPort)
	if err != nil {
		return nil, err
	}
	return list, fillPorts(ctx, s.pool, list)
}

// GetPort returns a port c may see.
func (s *Service) GetPort(ctx context.Context, c *token.Claims, id string) (Port, error) {
	p, err := s.getPort(ctx, s.pool, id)
	if err != nil {
		return Port{}, err
	}
	return p, authorizeIn(c, policy.Read, p.ProjectID, "Port", id)
}

func (s *Service) getPort(ctx context.Context, q db.Querier, id string) (Port, error) {
	rows, _ := q.Query(ctx, "SELECT "+portCols+" FROM ports p WHERE p.id = $1", id)
	p, err := pgx.CollectExactlyOneRow(rows, scanPort)
	if err == pgx.ErrNoRows {
		return Port{}, notFound("Port", id)
	}
	if err != nil {
		return Port{}, err
	}
	list := []Port{p}
	err = fillPorts(ctx, q, list)
	return list[0], err
}

// ipRequest is a resolved fixed IP request: a subnet and maybe an address.
type ipRequest struct {
	subnet Subnet
	addr   netip.Addr
}

// resolveFixedIPs matches requested fixed IPs to subnets of the network;
// nil asks for one address of each IP version the network has subnets of.
func resolveFixedIPs(subnets []Subnet, networkID string, want *[]FixedIP) ([]ipRequest, error) {
	if want == nil {
		var out []ipRequest
		seen := map[int]bool{}
		for _, sub := range subnets {
			if !seen[sub.IPVersion] {
				seen[sub.IPVersion] = true
				out = append(out, ipRequest{subnet: sub})
			}
		}
		return out, nil
	}
	var out []ipRequest
	for _, f := range *want {
		var r ipRequest
		if f.IPAddress != "" {
			a, err := netip.ParseAddr(f.IPAddress)
			if err != nil {
				return nil, invalidInput("'%s' is not a valid IP address.", f.IPAddress)
			}
			r.addr = a
		}
		found := false
		for _, sub := range subnets {
			if (f.SubnetID == "" || sub.ID == f.SubnetID) && (!r.addr.IsValid() || sub.prefix.Contains(r.addr)) {
				r.subnet, found = sub, true
				break
			}
		}
		if !found {
			if f.SubnetID != "" {
				return nil, invalidInput("Failed to create port on network %s, because fixed_ips included invalid subnet %s.", networkID, f.SubnetID)
			}
			if r.addr.IsValid() {
				return nil, invalidInput("IP address %s is not in any subnet of network %s.", r.addr, networkID)
			}
			return nil, invalidInput("Each fixed IP needs a subnet_id or an ip_address.")
		}
		out = append(out, r)
	}
	return out, nil
}

// generateMAC returns a random MAC with OpenStack's fa:16:3e prefix.
func generateMAC() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", b[0], b[1], b[2])
}

// CreatePort creates a port on a network c may use.
func (s *Service) CreatePort(ctx context.Context, c *token.Claims, req PortRequest) (Port, error) {
	if req.NetworkID == "" {
		return Port{}, badRequest("Invalid input for operation: network_id is required.")
	}
	n, err := s.GetNetwork(ctx, c, req.NetworkID)
	if err != nil {
		return Port{}, err
	}
	project, err := ownerFor(c, req.ProjectID)
	if err != nil {
		return Port{}, err
	}
	if err := policy.Authorize(c, policy.Write, project, "ports"); err != nil {
		return Port{}, err
	}
	if n.ProjectID != project && !n.Shared && !policy.IsAdmin(c) {
		return Port{}, neutronError(http.StatusForbidden, "HTTPForbidden", "Ports on network %s may only be created by its owner or an admin.", n.ID)
	}
	if req.HostID != nil && !policy.IsAdmin(c) {
		return Port{}, neutronError(http.StatusForbidden, "PolicyNotAuthorized", "(rule:create_port:binding:host_id) is disallowed by policy")
	}
	if err := checkDeviceOwner(c, Port{}, req); err != nil {
		return Port{}, err
	}
	if err := checkNetworkOwnerFields(c, n, Port{}, req); err != nil {
		return Port{}, err
	}
	if err := s.resolveDefaultGroup(ctx, project, &req); err != nil {
		return Port{}, err
	}
	id := uuid.NewString()
	if err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := s.createPort(ctx, tx, id, n, project, req)
		return err
	}); err != nil {
		return Port{}, err
	}
	return s.getPort(ctx, s.pool, id)
}

// resolveDefaultGroup fills in the project's default group when a port
// with port security asks for no groups. It runs before the port's
// transaction: creating the group on first use takes a connection of its own.
func (s *Service) resolveDefaultGroup(ctx context.Context, project string, req *PortRequest) error {
	if req.SecurityGroups != nil || req.PortSecurity != nil && !*req.PortSecurity {
		return nil
	}
	id, err := s.ensureDefaultGroup(ctx, project)
	req.SecurityGroups = &[]string{id}
	return err
}

// createPort does the work of a port create inside tx: quota, MAC, IPAM,
// security groups and the lifecycle event. Ports Neutron manages itself
// (req.managed: router legs, DHCP, floating IPs) have no port security and
// are not counted against quota.
func (s *Service) createPort(ctx context.Context, tx pgx.Tx, id string, n Network, project string, req PortRequest) (Port, error) {
	subnets, err := s.networkSubnets(ctx, tx, n.ID)
	if err != nil {
		return Port{}, err
	}
	ips, err := resolveFixedIPs(subnets, n.ID, req.FixedIPs)
	if err != nil {
		return Port{}, err
	}
	portSecurity := (req.PortSecurity == nil || *req.PortSecurity) && !req.managed
	groups, err := s.portGroups(ctx, tx, project, portSecurity, req.SecurityGroups, nil)
	if err != nil {
		return Port{}, err
	}
	if !req.managed {
		if err := s.reserve(ctx, tx, project, "port"); err != nil {
			return Port{}, err
		}
	}
	// Stored in the one spelling the dataplane accepts and the UNIQUE
	// constraint compares: lower-case, colon-separated.
	mac := ""
	if req.MACAddress != "" {
		hw, err := net.ParseMAC(req.MACAddress)
		if err != nil || len(hw) != 6 {
			return Port{}, invalidInput("'%s' is not a valid MAC address.", req.MACAddress)
		}
		mac = hw.String()
	}
	for attempt := 0; ; attempt++ {
		m := mac
		if m == "" {
			m = generateMAC()
		}
		tag, err := tx.Exec(ctx, `INSERT INTO ports (id, network_id, project_id, name, description, mac_address, admin_state_up,
				device_id, device_owner, port_security_enabled, binding_host_id, delete_with_device)
			VALUES ($1, $2, $3, coalesce($4, ''), coalesce($5, ''), $6, coalesce($7, true), coalesce($8, ''), coalesce($9, ''), $10, coalesce($11, ''), $12)
			ON CONFLICT (mac_address) DO NOTHING`,
			id, n.ID, project, req.Name, req.Description, m, req.AdminStateUp, req.DeviceID, req.DeviceOwner, portSecurity, req.HostID, req.deleteWithDevice)
		if err != nil {
			return Port{}, err
		}
		if tag.RowsAffected() == 1 {
			break
		}
		if mac != "" {
			return Port{}, neutronError(http.StatusConflict, "MacAddressInUse",
				"Unable to complete operation for network %s. The mac address %s is in use.", n.ID, mac)
		}
		if attempt > 8 {
			return Port{}, fmt.Errorf("no unique MAC address after %d attempts", attempt)
		}
	}
	for _, r := range ips {
		if _, err := allocate(ctx, tx, r.subnet, id, r.addr); err != nil {
			return Port{}, err
		}
	}
	if err := setPortGroups(ctx, tx, id, groups); err != nil {
		return Port{}, err
	}
	p, err := s.getPort(ctx, tx, id)
	if err != nil {
		return Port{}, err
	}
	return p, emitPort(ctx, tx, "created", p)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func emitPort(ctx context.Context, tx pgx.Tx, what string, p Port) error {
	addrs := make([]string, len(p.FixedIPs))
	for i, f := range p.FixedIPs {
		addrs[i] = f.IPAddress
	}
	return emit(ctx, tx, "port", what, p.ID, map[string]any{
		"port_id": p.ID, "project_id": p.ProjectID, "network_id": p.NetworkID, "mac_address": p.MACAddress,
		"addresses": addrs, "device_id": p.DeviceID, "device_owner": p.DeviceOwner, "host": p.HostID,
	})
}

// portGroups decides a port's security groups: the requested ones (which
// must be in the port's project), else on an update the current ones; none
// without port security, where asking for some is an error. It does not
// pick the default group: a create resolves it first (resolveDefaultGroup),
// which needs a connection of its own.
func (s *Service) portGroups(ctx context.Context, tx pgx.Tx, project string, portSecurity bool, want *[]string, current []string) ([]string, error) {
	if want == nil && current != nil {
		want = &current
	}
	if !portSecurity {
		if want != nil && len(*want) > 0 && current == nil {
			return nil, neutronError(http.StatusBadRequest, "PortSecurityAndIPRequiredForSecurityGroups",
				"Port security must be enabled and port must have an IP address in order to use security groups.")
		}
		if want != nil && len(*want) > 0 {
			return nil, neutronError(http.StatusConflict, "PortSecurityPortHasSecurityGroup",
				"Port has security group associated. Cannot disable port security or ip address until security group is removed")
		}
		return nil, nil
	}
	if want == nil {
		return nil, fmt.Errorf("port security groups not resolved") // callers resolve the default group first
	}
	for _, g := range *want {
		var owner string
		if err := tx.QueryRow(ctx, "SELECT project_id FROM security_groups WHERE id = $1", g).Scan(&owner); err != nil || owner != project {
			if err != nil && err != pgx.ErrNoRows {
				return nil, err
			}
			return nil, notFound("SecurityGroup", g)
		}
	}
	return *want, nil
}

func setPortGroups(ctx context.Context, tx pgx.Tx, portID string, groups []string) error {
	if _, err := tx.Exec(ctx, "DELETE FROM port_security_groups WHERE port_id = $1", portID); err != nil {
		return err
	}
	if len(groups) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO port_security_groups (port_id, security_group_id)
		SELECT $1, g FROM unnest($2::text[]) g ON CONFLICT DO NOTHING`, portID, groups)
	return err
}

// UpdatePort changes a port; revision is the If-Match constraint.
func (s *Service) UpdatePort(ctx context.Context, c *token.Claims, id string, req PortRequest, revision int64) (Port, error) {
	p, err := s.GetPort(ctx, c, id)
	if err != nil {
		return Port{}, err
	}
	if err := authorizeIn(c, policy.Write, p.ProjectID, "Port", id); err != nil {
		return Port{}, err
	}
	if req.HostID != nil && !policy.IsAdmin(c) {
		return Port{}, neutronError(http.StatusForbidden, "PolicyNotAuthorized", "(rule:update_port:binding:host_id) is disallowed by policy")
	}
	if err := checkDeviceOwner(c, p, req); err != nil {
		return Port{}, err
	}
	if req.PortSecurity != nil || req.FixedIPs != nil {
		n, err := s.getNetwork(ctx, s.pool, p.NetworkID)
		if err != nil {
			return Port{}, err
		}
		if err := checkNetworkOwnerFields(c, n, p, req); err != nil {
			return Port{}, err
		}
	}
	if req.PortSecurity != nil && *req.PortSecurity && !p.PortSecurityEnabled && req.SecurityGroups == nil {
		if err := s.resolveDefaultGroup(ctx, p.ProjectID, &req); err != nil {
			return Port{}, err
		}
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := checkRevision(ctx, tx, "ports", id, revision); err != nil {
			return err
		}
		// The request applies to the port as locked, not as read above: a
		// concurrent update's addresses and groups are not lost.
		current, err := s.getPort(ctx, tx, id)
		if err != nil {
			return err
		}
		return s.updatePort(ctx, tx, current, req)
	})
	if err != nil {
		return Port{}, err
	}
	return s.getPort(ctx, s.pool, id)
}

// updatePort applies req to p inside tx (p's row locked by the caller).
func (s *Service) updatePort(ctx context.Context, tx pgx.Tx, p Port, req PortRequest) error {
	portSecurity := p.PortSecurityEnabled
	if req.PortSecurity != nil {
		portSecurity = *req.PortSecurity
	}
	if req.SecurityGroups != nil || req.PortSecurity != nil {
		groups, err := s.portGroups(ctx, tx, p.ProjectID, portSecurity, req.SecurityGroups, p.SecurityGroups)
		if err != nil {
			return err
		}
		if err := setPortGroups(ctx, tx, p.ID, groups); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE ports SET name = coalesce($2, name), description = coalesce($3, description),
			admin_state_up = coalesce($4, admin_state_up), device_id = coalesce($5, device_id),
			attach_order = CASE WHEN coalesce($5, device_id) <> device_id THEN nextval('port_attach_order') ELSE attach_order END,
			device_owner = coalesce($6, device_owner), port_security_enabled = $7, binding_host_id = coalesce($8, binding_host_id)
		WHERE id = $1`, p.ID, req.Name, req.Description, req.AdminStateUp, req.DeviceID, req.DeviceOwner, portSecurity, req.HostID); err != nil {
		return err
	}
	if req.FixedIPs == nil {
		return nil
	}
	subnets, err := s.networkSubnets(ctx, tx, p.NetworkID)
	if err != nil {
		return err
	}
	ips, err := resolveFixedIPs(subnets, p.NetworkID, req.FixedIPs)
	if err != nil {
		return err
	}
	// Keep addresses asked for again; release the rest; allocate the new.
	keep := map[FixedIP]bool{}
	var fresh []ipRequest
	for _, r := range ips {
		matched := false
		for _, f := range p.FixedIPs {
			if f.SubnetID == r.subnet.ID && (!r.addr.IsValid() || f.IPAddress == r.addr.String()) && !keep[f] {
				keep[f], matched = true, true
				break
			}
		}
		if !matched {
			fresh = append(fresh, r)
		}
	}
	for _, f := range p.FixedIPs {
		if !keep[f] {
			if _, err := tx.Exec(ctx, "DELETE FROM ip_allocations WHERE subnet_id = $1 AND address = $2 AND port_id = $3",
				f.SubnetID, f.IPAddress, p.ID); err != nil {
				return err
			}
		}
	}
	for _, r := range fresh {
		if _, err := allocate(ctx, tx, r.subnet, p.ID, r.addr); err != nil {
			return err
		}
	}
	return nil
}

// DeletePort removes a port and releases its addresses. Ports owned by a
// router are removed through the router (409 otherwise), as in Neutron.
func (s *Service) DeletePort(ctx context.Context, c *token.Claims, id string) error {
	p, err := s.GetPort(ctx, c, id)
	if err != nil {
		return err
	}
	if err := authorizeIn(c, policy.Write, p.ProjectID, "Port", id); err != nil {
		return err
	}
	if p.DeviceOwner == OwnerRouterInterface || p.DeviceOwner == OwnerRouterGateway || p.DeviceOwner == OwnerFloatingIP {
		return neutronError(http.StatusConflict, "PortInUse", "Port %s cannot be deleted directly via the port API: has device owner %s.", id, p.DeviceOwner)
	}
	return s.tx(ctx, func(tx pgx.Tx) error { return s.deletePort(ctx, tx, p) })
}

func (s *Service) deletePort(ctx context.Context, tx pgx.Tx, p Port) error {
	// Floating IPs on the port are disassociated, as Neutron does.
	rows, _ := tx.Query(ctx, "SELECT id FROM floatingips WHERE port_id = $1 FOR UPDATE", p.ID)
	fips, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, f := range fips {
		if err := s.associate(ctx, tx, f, "", netip.Addr{}, ""); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, "DELETE FROM network_tags WHERE resource_id = $1", p.ID); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, "DELETE FROM ports WHERE id = $1", p.ID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return notFound("Port", p.ID)
	}
	return emitPort(ctx, tx, "deleted", p)
}

func portTags(x *Port) (string, *[]string) { return x.ID, &x.Tags }
