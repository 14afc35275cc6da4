package network

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/dataplane"
)

// HostState computes what one host's dataplane must realise: the ports
// bound to it, their networks (with subnets), their security groups with
// remote groups resolved to member addresses, the routers attached to
// those networks (and the networks the routers reach), and the routers'
// floating IPs. Everything is ordered by id, so equal states compare equal.
//
// Each network's subnets carry their DHCP server's address from the
// network's DHCP port, which HostState creates or repairs first when it is
// missing or out of date (only hosts with a dataplane run a DHCP server,
// and only they get here). A port that cannot be repaired (a full subnet)
// is logged and leaves the dataplane to pick the server's address.
func (s *Service) HostState(ctx context.Context, host string) (dataplane.State, error) {
	st, stale, err := s.hostState(ctx, host)
	if err != nil || len(stale) == 0 {
		return st, err
	}
	for _, id := range stale {
		if err := s.ensureDHCPPort(ctx, id, host); err != nil {
			slog.Warn("network's DHCP port not updated", "network", id, "host", host, "err", err)
		}
	}
	st, _, err = s.hostState(ctx, host)
	return st, err
}

// hostState reads the state, and the networks whose DHCP port does not
// match their DHCP-enabled subnets.
func (s *Service) hostState(ctx context.Context, host string) (st dataplane.State, stale []string, err error) {
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, "SELECT "+portCols+" FROM ports p WHERE p.binding_host_id = $1 AND p.device_owner <> $2 ORDER BY p.id",
			host, OwnerDHCP)
		ports, err := pgx.CollectRows(rows, scanPort)
		if err != nil {
			return err
		}
		if err := fillPorts(ctx, tx, ports); err != nil {
			return err
		}
		networks := map[string]bool{}
		groups := map[string]bool{}
		for _, p := range ports {
			networks[p.NetworkID] = true
			dp := dataplane.Port{ID: p.ID, NetworkID: p.NetworkID, MAC: p.MACAddress, PortSecurity: p.PortSecurityEnabled,
				SecurityGroups: p.SecurityGroups, FixedIPs: addrs(p.FixedIPs)}
			for _, g := range p.SecurityGroups {
				groups[g] = true
			}
			st.Ports = append(st.Ports, dp)
		}
		if st.Routers, err = s.hostRouters(ctx, tx, networks); err != nil {
			return err
		}
		for _, r := range st.Routers {
			if r.ExternalNetworkID != "" {
				networks[r.ExternalNetworkID] = true
			}
			for _, i := range r.Interfaces {
				networks[i.NetworkID] = true
			}
		}
		if st.Networks, stale, err = s.stateNetworks(ctx, tx, networks); err != nil {
			return err
		}
		if st.SecurityGroups, err = stateGroups(ctx, tx, groups); err != nil {
			return err
		}
		st.FloatingIPs, err = stateFloatingIPs(ctx, tx, st.Routers)
		return err
	})
	return st, stale, err
}

func addrs(fixed []FixedIP) []netip.Addr {
	var out []netip.Addr
	for _, f := range fixed {
		out = append(out, netip.MustParseAddr(f.IPAddress))
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// stateNetworks loads the networks with their subnets, and reports those
// whose DHCP port lacks an address on a DHCP subnet or holds one elsewhere.
func (s *Service) stateNetworks(ctx context.Context, tx pgx.Tx, ids map[string]bool) (out []dataplane.Network, stale []string, err error) {
	for _, id := range sortedKeys(ids) {
		n, err := s.getNetwork(ctx, tx, id)
		if err != nil {
			return nil, nil, err
		}
		subnets, err := s.networkSubnets(ctx, tx, id)
		if err != nil {
			return nil, nil, err
		}
		servers, err := dhcpServers(ctx, tx, id)
		if err != nil {
			return nil, nil, err
		}
		dn := dataplane.Network{ID: n.ID, MTU: n.MTU, External: n.External}
		missing, held := false, 0
		for _, sub := range subnets {
			ds := dataplane.Subnet{ID: sub.ID, CIDR: sub.prefix, Gateway: sub.gateway, DHCP: sub.EnableDHCP}
			if sub.EnableDHCP {
				ds.DHCPServer = servers[sub.ID]
				if ds.DHCPServer.IsValid() {
					held++
				} else {
					missing = true
				}
			}
			for _, d := range sub.DNSNameservers {
				ds.DNSNameservers = append(ds.DNSNameservers, netip.MustParseAddr(d))
			}
			for _, r := range sub.HostRoutes {
				ds.HostRoutes = append(ds.HostRoutes, dataplane.Route{Destination: netip.MustParsePrefix(r.Destination), NextHop: netip.MustParseAddr(r.NextHop)})
			}
			dn.Subnets = append(dn.Subnets, ds)
		}
		if missing || held < len(servers) {
			stale = append(stale, id)
		}
		out = append(out, dn)
	}
	return out, stale, nil
}

// hostRouters are the routers with an interface on one of the networks.
func (s *Service) hostRouters(ctx context.Context, tx pgx.Tx, networks map[string]bool) ([]dataplane.Router, error) {
	rows, _ := tx.Query(ctx, `SELECT DISTINCT device_id FROM ports WHERE device_owner = $1 AND network_id = ANY($2) ORDER BY device_id`,
		OwnerRouterInterface, sortedKeys(networks))
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	var out []dataplane.Router
	for _, id := range ids {
		r, err := s.getRouter(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		dr := dataplane.Router{ID: r.ID}
		if r.GatewayInfo != nil {
			dr.ExternalNetworkID, dr.SNAT = r.GatewayInfo.NetworkID, r.GatewayInfo.EnableSNAT
			for _, f := range r.GatewayInfo.ExternalFixedIPs {
				if a := netip.MustParseAddr(f.IPAddress); a.Is4() && !dr.Gateway.IsValid() {
					dr.Gateway = a
				}
			}
		}
		rows, _ := tx.Query(ctx, "SELECT "+portCols+" FROM ports p WHERE p.device_id = $1 AND p.device_owner = $2 ORDER BY p.id", id, OwnerRouterInterface)
		legs, err := pgx.CollectRows(rows, scanPort)
		if err != nil {
			return nil, err
		}
		if err := fillPorts(ctx, tx, legs); err != nil {
			return nil, err
		}
		for _, leg := range legs {
			for _, f := range leg.FixedIPs {
				sub, err := s.getSubnet(ctx, tx, f.SubnetID)
				if err != nil {
					return nil, err
				}
				dr.Interfaces = append(dr.Interfaces, dataplane.RouterInterface{PortID: leg.ID, NetworkID: leg.NetworkID, SubnetID: sub.ID,
					MAC: leg.MACAddress, IP: netip.PrefixFrom(netip.MustParseAddr(f.IPAddress), sub.prefix.Bits())})
			}
		}
		out = append(out, dr)
	}
	return out, nil
}

// stateGroups loads the groups with their rules, resolving each remote
// group to the addresses of its member ports on every host.
func stateGroups(ctx context.Context, tx pgx.Tx, ids map[string]bool) ([]dataplane.SecurityGroup, error) {
	rows, _ := tx.Query(ctx, "SELECT "+ruleCols+" FROM security_group_rules r WHERE r.security_group_id = ANY($1) ORDER BY r.security_group_id, r.id",
		sortedKeys(ids))
	rules, err := pgx.CollectRows(rows, scanRule)
	if err != nil {
		return nil, err
	}
	members := map[string][]netip.Addr{}
	for _, r := range rules {
		if r.RemoteGroupID == nil {
			continue
		}
		if _, done := members[*r.RemoteGroupID]; done {
			continue
		}
		rows, _ := tx.Query(ctx, `SELECT a.address FROM ip_allocations a JOIN port_security_groups g ON g.port_id = a.port_id
			WHERE g.security_group_id = $1 ORDER BY a.address`, *r.RemoteGroupID)
		list, err := pgx.CollectRows(rows, pgx.RowTo[netip.Addr])
		if err != nil {
			return nil, err
		}
		members[*r.RemoteGroupID] = list
	}
	byGroup := map[string]*dataplane.SecurityGroup{}
	var out []dataplane.SecurityGroup
	for _, id := range sortedKeys(ids) {
		out = append(out, dataplane.SecurityGroup{ID: id})
	}
	for i := range out {
		byGroup[out[i].ID] = &out[i]
	}
	for _, r := range rules {
		dr := dataplane.Rule{ID: r.ID, Direction: r.Direction, EtherType: r.EtherType}
		if r.Protocol != nil {
			dr.Protocol = *r.Protocol
		}
		if icmpProtocols[dr.Protocol] {
			dr.PortMin, dr.PortMax = -1, -1 // unset ICMP type or code: any
		}
		if r.PortRangeMin != nil {
			dr.PortMin = *r.PortRangeMin
		}
		if r.PortRangeMax != nil {
			dr.PortMax = *r.PortRangeMax
		}
		if r.RemoteIPPrefix != nil {
			dr.RemotePrefix = netip.MustParsePrefix(*r.RemoteIPPrefix)
		}
		if r.RemoteGroupID != nil {
			dr.RemoteGroupID = *r.RemoteGroupID
			for _, a := range members[*r.RemoteGroupID] {
				if a.Is4() == (r.EtherType == "IPv4") {
					dr.RemoteAddrs = append(dr.RemoteAddrs, a)
				}
			}
		}
		g := byGroup[r.SecurityGroupID]
		g.Rules = append(g.Rules, dr)
	}
	return out, nil
}

func stateFloatingIPs(ctx context.Context, tx pgx.Tx, routers []dataplane.Router) ([]dataplane.FloatingIP, error) {
	ids := make([]string, len(routers))
	for i, r := range routers {
		ids[i] = r.ID
	}
	rows, _ := tx.Query(ctx, `SELECT id, router_id, floating_ip_address, fixed_ip_address, port_id FROM floatingips
		WHERE router_id = ANY($1) AND port_id IS NOT NULL ORDER BY id`, ids)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (dataplane.FloatingIP, error) {
		var f dataplane.FloatingIP
		err := row.Scan(&f.ID, &f.RouterID, &f.FloatingIP, &f.FixedIP, &f.PortID)
		return f, err
	})
}
