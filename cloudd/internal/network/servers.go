package network

import (
	"context"
	"errors"
	"net/http"
	"net/netip"

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
func (s *Service) AttachServer(ctx context.Context, c *token.Claims, serverID, zone string, reqs []ServerNetwork) (err error) {
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
	owner := "compute:" + zone
	for _, r := range reqs {
		if r.PortID != "" {
			if err := s.claimPort(ctx, c, r.PortID, serverID, owner); err != nil {
				return err
			}
			continue
		}
		req := PortRequest{NetworkID: r.NetworkID, DeviceID: &serverID, DeviceOwner: &owner}
		if r.FixedIP != "" {
			req.FixedIPs = &[]FixedIP{{IPAddress: r.FixedIP}}
		}
		p, err := s.CreatePort(ctx, c, req)
		if err != nil {
			return err
		}
		if _, err := s.pool.Exec(ctx, "UPDATE ports SET delete_with_device = true WHERE id = $1", p.ID); err != nil {
			return err
		}
	}
	return nil
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
		tag, err := tx.Exec(ctx, `UPDATE ports SET device_id = $2, device_owner = $3, revision_number = revision_number + 1, updated_at = now()
			WHERE id = $1 AND device_id = ''`, portID, serverID, owner)
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
	Addresses              []netip.Prefix // each address with its subnet's prefix length
	Gateway4, Gateway6     string
	DNS                    []string
	Routes                 []HostRoute
}

// BindServer binds a server's ports to the host it was scheduled to and
// returns its NICs in creation order.
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
	return nics, err
}

func (s *Service) serverNICs(ctx context.Context, tx pgx.Tx, serverID string) ([]NIC, error) {
	rows, _ := tx.Query(ctx, "SELECT "+portCols+" FROM ports p WHERE p.device_id = $1 AND p.device_owner LIKE 'compute:%' ORDER BY p.created_at, p.id", serverID)
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
		ORDER BY p.created_at, p.id, family(a.address), a.address`, serverIDs)
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
