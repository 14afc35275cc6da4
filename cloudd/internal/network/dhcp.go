package network

import (
	"context"
	"errors"
	"net/netip"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// OwnerDHCP owns a network's DHCP port: the addresses its DHCP server
// answers from, one per DHCP-enabled subnet, reserved through IPAM so no
// other port is given them. As in Neutron, the port is made when a host's
// dataplane first serves the network, follows its subnets' enable_dhcp at
// every HostState, loses its address when a subnet goes, and goes with its
// network.
const OwnerDHCP = "network:dhcp"

// dhcpServers returns the DHCP port's address per subnet of a network.
func dhcpServers(ctx context.Context, tx pgx.Tx, networkID string) (map[string]netip.Addr, error) {
	rows, _ := tx.Query(ctx, `SELECT a.subnet_id, a.address FROM ip_allocations a JOIN ports p ON p.id = a.port_id
		WHERE p.network_id = $1 AND p.device_owner = $2`, networkID, OwnerDHCP)
	out := map[string]netip.Addr{}
	var subnet string
	var addr netip.Addr
	_, err := pgx.ForEachRow(rows, []any{&subnet, &addr}, func() error {
		out[subnet] = addr
		return nil
	})
	return out, err
}

// ensureDHCPPort makes the network's DHCP port hold exactly one address on
// each DHCP-enabled subnet, creating it (bound to host) when missing. Two
// replicas may race to create it: the unique index ports_network_dhcp lets
// one win, and the loser retries and finds the winner's port.
func (s *Service) ensureDHCPPort(ctx context.Context, networkID, host string) error {
	for attempt := 0; ; attempt++ {
		err := s.tx(ctx, func(tx pgx.Tx) error {
			subnets, err := s.networkSubnets(ctx, tx, networkID)
			if err != nil {
				return err
			}
			want := []FixedIP{}
			for _, sub := range subnets {
				if sub.EnableDHCP {
					want = append(want, FixedIP{SubnetID: sub.ID})
				}
			}
			// The lock keeps a concurrent repair from giving the port a
			// second address on the same subnet.
			rows, _ := tx.Query(ctx, "SELECT "+portCols+" FROM ports p WHERE p.network_id = $1 AND p.device_owner = $2 FOR UPDATE",
				networkID, OwnerDHCP)
			found, err := pgx.CollectRows(rows, scanPort)
			if err != nil || len(found) == 0 && len(want) == 0 {
				return err
			}
			if len(found) == 0 {
				n, err := s.getNetwork(ctx, tx, networkID)
				if err != nil {
					return err
				}
				device := "dhcp" + host + "-" + networkID
				_, err = s.createPort(ctx, tx, uuid.NewString(), n, n.ProjectID, PortRequest{NetworkID: networkID,
					DeviceID: &device, DeviceOwner: ptr(OwnerDHCP), HostID: &host, FixedIPs: &want, managed: true})
				return err
			}
			if err := fillPorts(ctx, tx, found); err != nil {
				return err
			}
			return s.updatePort(ctx, tx, found[0], PortRequest{FixedIPs: &want})
		})
		var pgErr *pgconn.PgError
		if attempt == 0 && errors.As(err, &pgErr) && pgErr.ConstraintName == "ports_network_dhcp" {
			continue
		}
		return err
	}
}
