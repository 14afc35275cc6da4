package neutron_test

import (
	"context"
	"net/http"
	"net/netip"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/stratus-cloud/stratus/cloudd/internal/dataplane"
	"github.com/stratus-cloud/stratus/cloudd/internal/network"
)

// dhcpPorts lists a network's network:dhcp ports.
func dhcpPorts(t *testing.T, nc *gophercloud.ServiceClient, networkID string) []ports.Port {
	t.Helper()
	page, err := ports.List(nc, ports.ListOpts{NetworkID: networkID}).AllPages(ctx)
	must(t, err)
	all, err := ports.ExtractPorts(page)
	must(t, err)
	var out []ports.Port
	for _, p := range all {
		if p.DeviceOwner == "network:dhcp" {
			out = append(out, p)
		}
	}
	return out
}

// subnetState finds a subnet in a host's state.
func subnetState(st dataplane.State, id string) dataplane.Subnet {
	for _, n := range st.Networks {
		for _, s := range n.Subnets {
			if s.ID == id {
				return s
			}
		}
	}
	return dataplane.Subnet{}
}

// The DHCP server's address is a network:dhcp port's, reserved by IPAM, as
// soon as a host with a dataplane serves the network.
func TestDHCPPort(t *testing.T) {
	cloud, admin := startCloud(t)
	n, s := newNet(t, admin, "dhcp", "10.72.0.0/24")
	guest, err := ports.Create(ctx, admin, ports.CreateOpts{NetworkID: n.ID}).Extract()
	must(t, err)
	bindPort(t, admin, guest.ID, "hostA")

	// Replicas computing the state at once make one DHCP port between them.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := cloud.Server.Network.HostState(ctx, "hostA"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	rec := &recorder{}
	loop := &network.Dataplanes{Network: cloud.Server.Network,
		Hosts: func(context.Context) ([]network.Host, error) {
			return []network.Host{{Name: "hostA", URI: "qemu+ssh://hostA/system"}}, nil
		},
		Applier: func(network.Host) dataplane.Applier { return rec }}
	must(t, loop.RunOnce(ctx))
	dhcp := dhcpPorts(t, admin, n.ID)
	if len(dhcp) != 1 || len(dhcp[0].FixedIPs) != 1 || dhcp[0].ProjectID != n.ProjectID {
		t.Fatalf("DHCP ports %+v", dhcp)
	}
	server := dhcp[0].FixedIPs[0].IPAddress
	if server == guest.FixedIPs[0].IPAddress || server == s.GatewayIP {
		t.Fatalf("DHCP server %s shares an address with the guest %s or the gateway", server, guest.FixedIPs[0].IPAddress)
	}
	if got := subnetState(rec.last, s.ID).DHCPServer; got != netip.MustParseAddr(server) {
		t.Fatalf("state's DHCP server %v, DHCP port has %s", got, server)
	}
	if len(rec.last.Ports) != 1 || rec.last.Ports[0].ID != guest.ID {
		t.Fatalf("the DHCP port is no guest port: %+v", rec.last.Ports)
	}
	// IPAM never hands the address out again.
	_, err = ports.Create(ctx, admin, ports.CreateOpts{NetworkID: n.ID, FixedIPs: []ports.IP{{IPAddress: server}}}).Extract()
	wantError(t, err, http.StatusConflict, "IpAddressAlreadyAllocated")

	// A subnet added later gets its own address; DHCP off releases it.
	s2, err := subnets.Create(ctx, admin, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.73.0.0/24", IPVersion: gophercloud.IPv4}).Extract()
	must(t, err)
	must(t, loop.RunOnce(ctx))
	if dhcp = dhcpPorts(t, admin, n.ID); len(dhcp) != 1 || len(dhcp[0].FixedIPs) != 2 || !subnetState(rec.last, s2.ID).DHCPServer.IsValid() {
		t.Fatalf("DHCP port %+v after a second subnet; state %+v", dhcp, rec.last.Networks)
	}
	off := false
	_, err = subnets.Update(ctx, admin, s2.ID, subnets.UpdateOpts{EnableDHCP: &off}).Extract()
	must(t, err)
	must(t, loop.RunOnce(ctx))
	if dhcp = dhcpPorts(t, admin, n.ID); len(dhcp[0].FixedIPs) != 1 || dhcp[0].FixedIPs[0].IPAddress != server ||
		subnetState(rec.last, s2.ID).DHCPServer.IsValid() {
		t.Fatalf("DHCP port %+v after DHCP off; state %+v", dhcp, rec.last.Networks)
	}

	// The DHCP port keeps neither its subnet nor its network in use.
	must(t, ports.Delete(ctx, admin, guest.ID).ExtractErr())
	must(t, subnets.Delete(ctx, admin, s.ID).ExtractErr())
	must(t, networks.Delete(ctx, admin, n.ID).ExtractErr())
	_, err = ports.Get(ctx, admin, dhcp[0].ID).Extract()
	wantError(t, err, http.StatusNotFound, "PortNotFound")
}
