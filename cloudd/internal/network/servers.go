package network

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// What compute asks of networking: ports for a server at API time, bound
// to its host when it is scheduled, released when it is deleted, and the
// addresses Nova shows.

// ServerNetwork is one entry of a server create's "networks": a network
// (optionally with a fixed IP) or an existing port.
type ServerNetwork struct {
	NetworkID string
	PortID    string
	FixedIP   string

	securityGroups *[]string // for a port created on NetworkID; nil: the default group
}

// novaError turns a networking error into the Nova error a server create
// answers with (Nova's fault names, its statuses for missing things).
func novaError(err error) error {
	var e *osapi.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Kind {
	case "NetworkNotFound", "PortNotFound", "SubnetNotFound", "InvalidInput", "InvalidIpForSubnet":
		return osapi.Errorf(http.StatusBadRequest, "%s", e.Message)
	}
	return osapi.Errorf(e.Status, "%s", e.Message)
}

// AttachServer gives a new server its ports before the server is stored,
// so networking errors answer the create synchronously. With no requests
// (auto), the server gets a port on the one network its project can use,
// none if there is none, and a 409 if there are several. On error nothing
// is left attached.
func (s *Service) AttachServer(ctx context.Context, c *token.Claims, serverID, zone string, reqs []ServerNetwork, groups []string) (err error) {
	defer func() {
		if err != nil {
			_ = s.ReleaseServer(context.WithoutCancel(ctx), serverID)
			err = novaError(err)
		}
	}()
	if reqs == nil {
		nets, err := s.ListNetworks(ctx, c)
		if err != nil {
			return err
		}
		var usable []string
		for _, n := range nets {
			if !n.External && (n.Shared || n.ProjectID == c.ProjectID) {
				usable = append(usable, n.ID)
			}
		}
		switch len(usable) {
		case 0:
			return nil
		case 1:
			reqs = []ServerNetwork{{NetworkID: usable[0]}}
		default:
			return osapi.Errorf(http.StatusConflict, "Multiple possible networks found, use a Network ID to be more specific.")
		}
	}
	groupIDs, err := s.groupIDs(ctx, c.ProjectID, groups)
	if err != nil {
		return err
	}
	for _, r := range reqs {
		r.securityGroups = groupIDs
		if _, err := s.attach(ctx, c, serverID, c.ProjectID, zone, r); err != nil {
			return err
		}
	}
	return nil
}

// groupIDs resolves the security groups of a server create (names or
// ids, as Nova takes them) in project; nil for none asked.
func (s *Service) groupIDs(ctx context.Context, project string, names []string) (*[]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	if _, err := s.ensureDefaultGroup(ctx, project); err != nil {
		return nil, err
	}
	ids := []string{}
	for _, name := range names {
		id, err := s.findGroup(ctx, project, name)
		if err != nil {
			return nil, err
		}
		if id == "" {
			return nil, osapi.Errorf(http.StatusBadRequest, "Security group %s not found for project %s.", name, project)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return &ids, nil
}

// ServerGroupNames returns, per server, the names of its ports' security groups.
func (s *Service) ServerGroupNames(ctx context.Context, serverIDs []string) (map[string][]string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT DISTINCT p.device_id, g.name FROM ports p
		JOIN port_security_groups pg ON pg.port_id = p.id JOIN security_groups g ON g.id = pg.security_group_id
		WHERE p.device_id = ANY($1) AND p.device_owner LIKE 'compute:%' ORDER BY 1, 2`, serverIDs)
	out := map[string][]string{}
	var server, name string
	_, err := pgx.ForEachRow(rows, []any{&server, &name}, func() error {
		out[server] = append(out[server], name)
		return nil
	})
	return out, err
}

// attach creates or claims one port for a server; a port it creates
// belongs to the server's project, whoever asks (an admin, say).
func (s *Service) attach(ctx context.Context, c *token.Claims, serverID, project, zone string, r ServerNetwork) (string, error) {
	owner := "compute:" + zone
	if r.PortID != "" {
		return r.PortID, s.claimPort(ctx, c, r.PortID, serverID, owner)
	}
	req := PortRequest{NetworkID: r.NetworkID, ProjectID: project, DeviceID: &serverID, DeviceOwner: &owner, SecurityGroups: r.securityGroups, deleteWithDevice: true}
	if r.FixedIP != "" {
		req.FixedIPs = &[]FixedIP{{IPAddress: r.FixedIP}}
	}
	p, err := s.CreatePort(ctx, c, req)
	return p.ID, err
}

// AttachServerPort gives a running server of project one more port
// (os-interface).
func (s *Service) AttachServerPort(ctx context.Context, c *token.Claims, serverID, project, zone string, r ServerNetwork) (Port, error) {
	id, err := s.attach(ctx, c, serverID, project, zone, r)
	if err != nil {
		return Port{}, novaError(err)
	}
	return s.getPort(ctx, s.pool, id)
}

// DetachServerPort takes a port off a server: deleted when it was created
// for the server, unbound when the user passed it in.
func (s *Service) DetachServerPort(ctx context.Context, serverID, portID string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		var owned bool
		err := tx.QueryRow(ctx, "SELECT delete_with_device FROM ports WHERE id = $1 AND device_id = $2 FOR UPDATE", portID, serverID).Scan(&owned)
		if err == pgx.ErrNoRows {
			return osapi.Errorf(http.StatusNotFound, "Port %s is not attached", portID)
		}
		if err != nil {
			return err
		}
		if !owned {
			_, err := tx.Exec(ctx, `UPDATE ports SET device_id = '', device_owner = '', binding_host_id = '',
				revision_number = revision_number + 1, updated_at = now() WHERE id = $1`, portID)
			return err
		}
		p, err := s.getPort(ctx, tx, portID)
		if err != nil {
			return err
		}
		return s.deletePort(ctx, tx, p)
	})
}

// ServerPorts lists the ports attached to a server, in attach order.
func (s *Service) ServerPorts(ctx context.Context, serverID string) ([]Port, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+portCols+" FROM ports p WHERE p.device_id = $1 AND p.device_owner LIKE 'compute:%' ORDER BY p.attach_order", serverID)
	list, err := pgx.CollectRows(rows, scanPort)
	if err != nil {
		return nil, err
	}
	return list, fillPorts(ctx, s.pool, list)
}

// claimPort attaches an existing, unattached port of the caller's to a server.
func (s *Service) claimPort(ctx context.Context, c *token.Claims, portID, serverID, owner string) error {
	p, err := s.GetPort(ctx, c, portID)
	if err != nil {
		return err
	}
	if err := authorizeIn(c, policy.Write, p.ProjectID, "Port", portID); err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE ports SET device_id = $2, device_owner = $3, attach_order = nextval('port_attach_order'),
			revision_number = revision_number + 1, updated_at = now() WHERE id = $1 AND device_id = ''`, portID, serverID, owner)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return osapi.Errorf(http.StatusConflict, "Port %s is still in use.", portID)
		}
		return nil
	})
}

// ReleaseServer deletes the ports created for a server and unbinds the
// ones the user passed in, as Nova does when a server is deleted.
func (s *Service) ReleaseServer(ctx context.Context, serverID string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, "SELECT "+portCols+" FROM ports p WHERE p.device_id = $1 AND p.delete_with_device FOR UPDATE", serverID)
		owned, err := pgx.CollectRows(rows, scanPort)
		if err != nil {
			return err
		}
		if err := fillPorts(ctx, tx, owned); err != nil {
			return err
		}
		for _, p := range owned {
			if err := s.deletePort(ctx, tx, p); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE ports SET device_id = '', device_owner = '', binding_host_id = '',
			revision_number = revision_number + 1, updated_at = now() WHERE device_id = $1 AND device_owner LIKE 'compute:%'`, serverID)
		return err
	})
}

// NIC is a server's interface as the host and the guest need it.
type NIC struct {
	PortID, NetworkID, MAC string
	MTU                    int
	DHCP                   bool           // its IPv4 subnet has DHCP: the guest should ask for its address
	Addresses              []netip.Prefix // each address with its subnet's prefix length
	Gateway4, Gateway6     string
	DNS                    []string
	Routes                 []HostRoute
}

// BindServer binds a server's ports to the host it was scheduled to and
// returns its NICs in attach order (the order of the create request's
// "networks", then interfaces attached later).
func (s *Service) BindServer(ctx context.Context, serverID, host string) ([]NIC, error) {
	var nics []NIC
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE ports SET binding_host_id = $2, revision_number = revision_number + 1, updated_at = now()
			WHERE device_id = $1 AND device_owner LIKE 'compute:%' AND binding_host_id <> $2`, serverID, host); err != nil {
			return err
		}
		var err error
		nics, err = s.serverNICs(ctx, tx, serverID)
		return err
	})
	if err == nil && len(nics) > 0 && s.OnBind != nil {
		err = s.OnBind(ctx, host)
	}
	return nics, err
}

func (s *Service) serverNICs(ctx context.Context, tx pgx.Tx, serverID string) ([]NIC, error) {
	rows, _ := tx.Query(ctx, "SELECT "+portCols+" FROM ports p WHERE p.device_id = $1 AND p.device_owner LIKE 'compute:%' ORDER BY p.attach_order", serverID)
	ports, err := pgx.CollectRows(rows, scanPort)
	if err != nil {
		return nil, err
	}
	if err := fillPorts(ctx, tx, ports); err != nil {
		return nil, err
	}
	var nics []NIC
	for _, p := range ports {
		n, err := s.getNetwork(ctx, tx, p.NetworkID)
		if err != nil {
			return nil, err
		}
		nic := NIC{PortID: p.ID, NetworkID: p.NetworkID, MAC: p.MACAddress, MTU: n.MTU}
		for _, f := range p.FixedIPs {
			sub, err := s.getSubnet(ctx, tx, f.SubnetID)
			if err != nil {
				return nil, err
			}
			nic.Addresses = append(nic.Addresses, netip.PrefixFrom(netip.MustParseAddr(f.IPAddress), sub.prefix.Bits()))
			nic.DHCP = nic.DHCP || (sub.IPVersion == 4 && sub.EnableDHCP)
			if sub.GatewayIP != nil {
				if sub.IPVersion == 4 && nic.Gateway4 == "" {
					nic.Gateway4 = *sub.GatewayIP
				} else if sub.IPVersion == 6 && nic.Gateway6 == "" {
					nic.Gateway6 = *sub.GatewayIP
				}
			}
			nic.DNS = append(nic.DNS, sub.DNSNameservers...)
			nic.Routes = append(nic.Routes, sub.HostRoutes...)
		}
		nics = append(nics, nic)
	}
	return nics, nil
}

// ServerAddress is one entry of a Nova server's "addresses".
type ServerAddress struct {
	Version int    `json:"version"`
	Addr    string `json:"addr"`
	Type    string `json:"OS-EXT-IPS:type"`
	MAC     string `json:"OS-EXT-IPS-MAC:mac_addr"`
}

// ServerAddresses returns, per server, its addresses by network name:
// fixed addresses of its ports, each followed by its floating IP.
func (s *Service) ServerAddresses(ctx context.Context, serverIDs []string) (map[string]map[string][]ServerAddress, error) {
	rows, _ := s.pool.Query(ctx, `SELECT p.device_id, coalesce(nullif(n.name, ''), n.id), p.mac_address, family(a.address), host(a.address),
			host(f.floating_ip_address)
		FROM ports p JOIN networks n ON n.id = p.network_id JOIN ip_allocations a ON a.port_id = p.id
		LEFT JOIN floatingips f ON f.port_id = p.id AND f.fixed_ip_address = a.address
		WHERE p.device_id = ANY($1) AND p.device_owner LIKE 'compute:%'
		ORDER BY p.attach_order, family(a.address), a.address`, serverIDs)
	out := map[string]map[string][]ServerAddress{}
	var server, net, mac, addr string
	var family int
	var floating *string
	_, err := pgx.ForEachRow(rows, []any{&server, &net, &mac, &family, &addr, &floating}, func() error {
		if out[server] == nil {
			out[server] = map[string][]ServerAddress{}
		}
		out[server][net] = append(out[server][net], ServerAddress{Version: family, Addr: addr, Type: "fixed", MAC: mac})
		if floating != nil {
			out[server][net] = append(out[server][net], ServerAddress{Version: 4, Addr: *floating, Type: "floating", MAC: mac})
		}
		return nil
	})
	return out, err
}
