package compute

import (
	"context"
	"fmt"
	"net/http"

	"github.com/stratus-cloud/stratus/cloudd/internal/configdrive"
	"github.com/stratus-cloud/stratus/cloudd/internal/dataplane"
	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor"
	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Networking is what compute needs of the network service: ports for a
// server at create time, bound to its host when it is scheduled, released
// when it is deleted, and the addresses shown with it.
type Networking interface {
	AttachServer(ctx context.Context, c *token.Claims, serverID, zone string, reqs []network.ServerNetwork, groups []string) error
	BindServer(ctx context.Context, serverID, host string) ([]network.NIC, error)
	ReleaseServer(ctx context.Context, serverID string) error
	ServerAddresses(ctx context.Context, serverIDs []string) (map[string]map[string][]network.ServerAddress, error)
	AttachServerPort(ctx context.Context, c *token.Claims, serverID, project, zone string, req network.ServerNetwork) (network.Port, error)
	DetachServerPort(ctx context.Context, serverID, portID string) error
	ServerPorts(ctx context.Context, serverID string) ([]network.Port, error)
	ServerGroupNames(ctx context.Context, serverIDs []string) (map[string][]string, error)
	ServerGroups(ctx context.Context, serverID string) ([]network.SecurityGroup, map[string]network.SecurityGroup, error)
	AddServerGroup(ctx context.Context, project, serverID, group string) error
	RemoveServerGroup(ctx context.Context, project, serverID, group string) error
	ListSecurityGroups(ctx context.Context, c *token.Claims) ([]network.SecurityGroup, error)
}

// attachPorts gives a server being created its ports (see
// network.Service.AttachServer); without a network service servers have
// no NICs.
func (s *Service) attachPorts(ctx context.Context, c *token.Claims, srv Server, req CreateRequest) error {
	if s.Networking == nil {
		return nil
	}
	return s.Networking.AttachServer(ctx, c, srv.ID, zoneOf(srv), req.Networks, req.SecurityGroups)
}

// zoneOf is the zone in a server's ports' device_owner (compute:<zone>).
func zoneOf(srv Server) string {
	if srv.AvailabilityZone == "" {
		return "nova"
	}
	return srv.AvailabilityZone
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

// SecurityGroupNames returns the security groups of servers' ports.
func (s *Service) SecurityGroupNames(ctx context.Context, serverIDs []string) (map[string][]string, error) {
	if s.Networking == nil {
		return map[string][]string{}, nil
	}
	return s.Networking.ServerGroupNames(ctx, serverIDs)
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

// networkData is the config drive's network_data.json, as Nova writes it:
// IPv4 by DHCP where the subnet has DHCP (which hands out exactly the IPAM
// address), static addresses from IPAM otherwise.
func networkData(nics []network.NIC) configdrive.NetworkData {
	var d configdrive.NetworkData
	for _, n := range nics {
		itf := configdrive.Interface{PortID: n.PortID, NetworkID: n.NetworkID, MAC: n.MAC, MTU: n.MTU,
			DHCP: n.DHCP, Gateway: n.Gateway4, Gateway6: n.Gateway6, DNS: n.DNS}
		for _, a := range n.Addresses {
			if n.DHCP && a.Addr().Is4() {
				continue
			}
			itf.Addresses = append(itf.Addresses, a.String())
		}
		for _, r := range n.Routes {
			itf.Routes = append(itf.Routes, configdrive.Route{Destination: r.Destination, Gateway: r.NextHop})
		}
		d.Interfaces = append(d.Interfaces, itf)
	}
	return d
}

// Interfaces lists a server's ports (os-interface).
func (s *Service) Interfaces(ctx context.Context, c *token.Claims, serverID string) ([]network.Port, error) {
	srv, err := s.Get(ctx, c, serverID)
	if err != nil {
		return nil, err
	}
	if s.Networking == nil {
		return nil, nil
	}
	return s.Networking.ServerPorts(ctx, srv.ID)
}

// interfaceTarget is a server whose NICs may change: active or stopped,
// on a host, with nothing else in flight.
func (s *Service) interfaceTarget(ctx context.Context, c *token.Claims, serverID, action string) (Server, error) {
	srv, err := s.networkingTarget(ctx, c, serverID)
	if err != nil {
		return srv, err
	}
	if srv.VMState != VMActive && srv.VMState != VMStopped || srv.TaskState != "" || srv.HostID == "" {
		return srv, conflict(srv, action)
	}
	return srv, nil
}

// AttachInterface gives a server one more port (os-interface), bound to
// its host and plugged into the guest. Simulated hosts have no guest to
// plug into; the port is attached and bound all the same.
func (s *Service) AttachInterface(ctx context.Context, c *token.Claims, serverID string, req network.ServerNetwork) (network.Port, error) {
	srv, err := s.interfaceTarget(ctx, c, serverID, "attach_interface")
	if err != nil {
		return network.Port{}, err
	}
	p, err := s.Networking.AttachServerPort(ctx, c, srv.ID, srv.ProjectID, zoneOf(srv), req)
	if err != nil {
		return network.Port{}, err
	}
	err = s.plugNIC(ctx, srv, p.ID, true)
	if err != nil {
		_ = s.Networking.DetachServerPort(context.WithoutCancel(ctx), srv.ID, p.ID)
		return network.Port{}, err
	}
	ports, err := s.Networking.ServerPorts(ctx, srv.ID)
	for _, q := range ports {
		if q.ID == p.ID {
			return q, err
		}
	}
	return p, err
}

// DetachInterface unplugs a port from a server and releases it.
func (s *Service) DetachInterface(ctx context.Context, c *token.Claims, serverID, portID string) error {
	srv, err := s.interfaceTarget(ctx, c, serverID, "detach_interface")
	if err != nil {
		return err
	}
	if err := s.plugNIC(ctx, srv, portID, false); err != nil {
		return err
	}
	return s.Networking.DetachServerPort(ctx, srv.ID, portID)
}

// plugNIC binds the server's ports to its host and plugs (or unplugs) the
// NIC of portID on real hosts.
func (s *Service) plugNIC(ctx context.Context, srv Server, portID string, plug bool) error {
	nics, err := s.bindPorts(ctx, srv)
	if err != nil {
		return err
	}
	var nic *hypervisor.NIC
	for i, n := range nics {
		if n.PortID == portID {
			nic = &domainNICs(nics)[i]
		}
	}
	if nic == nil {
		return osapi.Errorf(http.StatusNotFound, "Port %s is not attached", portID)
	}
	host, err := s.host(srv)
	if err != nil || host.Simulated() {
		return err
	}
	if plug {
		err = host.PlugNIC(ctx, srv.ID, *nic)
	} else {
		err = host.UnplugNIC(ctx, srv.ID, *nic)
	}
	if err != nil {
		return fmt.Errorf("changing NICs of %s on %s: %w", srv.ID, srv.HostName, err)
	}
	return nil
}
