package compute

import (
	"context"

	"github.com/stratus-cloud/stratus/cloudd/internal/configdrive"
	"github.com/stratus-cloud/stratus/cloudd/internal/dataplane"
	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor"
	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Networking is what compute needs of the network service: ports for a
// server at create time, bound to its host when it is scheduled, released
// when it is deleted, and the addresses shown with it.
type Networking interface {
	AttachServer(ctx context.Context, c *token.Claims, serverID, zone string, reqs []network.ServerNetwork) error
	BindServer(ctx context.Context, serverID, host string) ([]network.NIC, error)
	ReleaseServer(ctx context.Context, serverID string) error
	ServerAddresses(ctx context.Context, serverIDs []string) (map[string]map[string][]network.ServerAddress, error)
}

// attachPorts gives a server being created its ports (see
// network.Service.AttachServer); without a network service servers have
// no NICs.
func (s *Service) attachPorts(ctx context.Context, c *token.Claims, srv Server, reqs []network.ServerNetwork) error {
	if s.Networking == nil {
		return nil
	}
	zone := srv.AvailabilityZone
	if zone == "" {
		zone = "nova"
	}
	return s.Networking.AttachServer(ctx, c, srv.ID, zone, reqs)
}

// releasePorts undoes attachPorts when a create fails or a server is deleted.
func (s *Service) releasePorts(ctx context.Context, serverID string) error {
	if s.Networking == nil {
		return nil
	}
	return s.Networking.ReleaseServer(ctx, serverID)
}

// bindPorts binds a scheduled server's ports to its host and returns its
// NICs for the domain and the config drive.
func (s *Service) bindPorts(ctx context.Context, srv Server) ([]network.NIC, error) {
	if s.Networking == nil {
		return nil, nil
	}
	return s.Networking.BindServer(ctx, srv.ID, srv.HostName)
}

// Addresses returns the addresses of servers by network name.
func (s *Service) Addresses(ctx context.Context, serverIDs []string) (map[string]map[string][]network.ServerAddress, error) {
	if s.Networking == nil {
		return map[string]map[string][]network.ServerAddress{}, nil
	}
	return s.Networking.ServerAddresses(ctx, serverIDs)
}

// domainNICs are the guest interfaces on the host's bridges.
func domainNICs(nics []network.NIC) []hypervisor.NIC {
	var out []hypervisor.NIC
	for _, n := range nics {
		out = append(out, hypervisor.NIC{MAC: n.MAC, Bridge: dataplane.BridgeName(n.NetworkID), Tap: dataplane.TapName(n.PortID), MTU: n.MTU})
	}
	return out
}

// networkData is the config drive's network_data.json: static addresses
// from IPAM, so guests configure themselves without DHCP.
func networkData(nics []network.NIC) configdrive.NetworkData {
	var d configdrive.NetworkData
	for _, n := range nics {
		itf := configdrive.Interface{PortID: n.PortID, NetworkID: n.NetworkID, MAC: n.MAC, MTU: n.MTU,
			Gateway: n.Gateway4, Gateway6: n.Gateway6, DNS: n.DNS}
		for _, a := range n.Addresses {
			itf.Addresses = append(itf.Addresses, a.String())
		}
		for _, r := range n.Routes {
			itf.Routes = append(itf.Routes, configdrive.Route{Destination: r.Destination, Gateway: r.NextHop})
		}
		d.Interfaces = append(d.Interfaces, itf)
	}
	return d
}
