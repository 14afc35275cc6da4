package neutron_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

func TestNetworksSubnetsPorts(t *testing.T) {
	cloud, admin := startCloud(t)
	member := networkV2(t, cloud.Member(t, "alpha"))

	n, err := networks.Create(ctx, member, networks.CreateOpts{Name: "net1", Description: "first"}).Extract()
	must(t, err)
	if n.Status != "ACTIVE" || !n.AdminStateUp || n.Shared || n.RevisionNumber != 1 {
		t.Fatalf("network %+v", n)
	}
	var ext struct {
		networks.Network
		external.NetworkExternalExt
	}
	must(t, networks.Get(ctx, member, n.ID).ExtractInto(&ext))
	if ext.External {
		t.Fatal("a new network is not external")
	}

	// A subnet with defaults: the gateway is the first address and the
	// pool is the rest of the CIDR.
	s, err := subnets.Create(ctx, member, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.1.0.0/24", IPVersion: gophercloud.IPv4,
		DNSNameservers: []string{"192.0.2.53"}, HostRoutes: []subnets.HostRoute{{DestinationCIDR: "192.0.2.0/24", NextHop: "10.1.0.254"}}}).Extract()
	must(t, err)
	if s.GatewayIP != "10.1.0.1" || !s.EnableDHCP || len(s.AllocationPools) != 1 ||
		s.AllocationPools[0] != (subnets.AllocationPool{Start: "10.1.0.2", End: "10.1.0.254"}) || s.DNSNameservers[0] != "192.0.2.53" {
		t.Fatalf("subnet %+v", s)
	}
	// gateway_ip null: no gateway, the whole range is the pool.
	n2, err := networks.Create(ctx, member, networks.CreateOpts{Name: "net2"}).Extract()
	must(t, err)
	status, body := raw(t, member, "POST", "subnets", map[string]any{"subnet": map[string]any{
		"network_id": n2.ID, "cidr": "10.2.0.0/29", "ip_version": 4, "gateway_ip": nil}}, nil)
	if status != http.StatusCreated || !contains(body, `"gateway_ip":null`) || !contains(body, `[{"end":"10.2.0.6","start":"10.2.0.1"}]`) {
		t.Fatalf("subnet without gateway: %d %s", status, body)
	}

	// Ports: IPAM picks a free address; a fixed address can be asked for.
	p1, err := ports.Create(ctx, member, ports.CreateOpts{NetworkID: n.ID, Name: "p1"}).Extract()
	must(t, err)
	if len(p1.FixedIPs) != 1 || p1.FixedIPs[0].SubnetID != s.ID || p1.MACAddress[:9] != "fa:16:3e:" || len(p1.SecurityGroups) != 1 {
		t.Fatalf("port %+v", p1)
	}
	p2, err := ports.Create(ctx, member, ports.CreateOpts{NetworkID: n.ID, FixedIPs: []ports.IP{{SubnetID: s.ID, IPAddress: "10.1.0.77"}}}).Extract()
	must(t, err)
	if p2.FixedIPs[0].IPAddress != "10.1.0.77" || p2.MACAddress == p1.MACAddress {
		t.Fatalf("port with fixed ip %+v", p2)
	}
	_, err = ports.Create(ctx, member, ports.CreateOpts{NetworkID: n.ID, FixedIPs: []ports.IP{{IPAddress: "10.1.0.77"}}}).Extract()
	wantError(t, err, http.StatusConflict, "IpAddressAlreadyAllocated")

	// Changing fixed_ips releases the old address for others.
	p2, err = ports.Update(ctx, member, p2.ID, ports.UpdateOpts{FixedIPs: []ports.IP{{SubnetID: s.ID, IPAddress: "10.1.0.78"}}}).Extract()
	must(t, err)
	if p2.FixedIPs[0].IPAddress != "10.1.0.78" {
		t.Fatalf("updated fixed ips %+v", p2.FixedIPs)
	}
	p3, err := ports.Create(ctx, member, ports.CreateOpts{NetworkID: n.ID, FixedIPs: []ports.IP{{IPAddress: "10.1.0.77"}}}).Extract()
	must(t, err)

	// Filters, fields, sorting, pagination.
	page, err := ports.List(member, ports.ListOpts{NetworkID: n.ID, FixedIPs: []ports.FixedIPOpts{{IPAddress: "10.1.0.77"}}}).AllPages(ctx)
	must(t, err)
	found, err := ports.ExtractPorts(page)
	must(t, err)
	if len(found) != 1 || found[0].ID != p3.ID {
		t.Fatalf("filter by fixed ip: %+v", found)
	}
	var seen []string
	pages := 0
	err = ports.List(member, ports.ListOpts{Limit: 2, SortKey: "name", SortDir: "asc"}).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
		list, err := ports.ExtractPorts(page)
		for _, p := range list {
			seen = append(seen, p.Name+"/"+p.ID)
		}
		pages++
		return true, err
	})
	must(t, err)
	if len(seen) != 3 || pages < 2 || !slices.IsSorted(seen) || seen[2] != "p1/"+p1.ID {
		t.Fatalf("paged, sorted listing: %v in %d pages", seen, pages)
	}
	status, body = raw(t, member, "GET", "ports?fields=id&fields=mac_address&network_id="+n.ID, nil, nil)
	if status != 200 || contains(body, "fixed_ips") || !contains(body, "mac_address") {
		t.Fatalf("fields: %d %s", status, body)
	}

	// Another project sees none of it; admin sees all.
	other := networkV2(t, cloud.Member(t, "beta"))
	_, err = networks.Get(ctx, other, n.ID).Extract()
	wantError(t, err, http.StatusNotFound, "NetworkNotFound")
	_, err = ports.Create(ctx, other, ports.CreateOpts{NetworkID: n.ID}).Extract()
	wantError(t, err, http.StatusNotFound, "NetworkNotFound")
	if _, err := ports.Get(ctx, admin, p1.ID).Extract(); err != nil {
		t.Fatal(err)
	}

	// In-use deletes are 409; after the ports go, the network goes.
	wantError(t, networks.Delete(ctx, member, n.ID).ExtractErr(), http.StatusConflict, "NetworkInUse")
	wantError(t, subnets.Delete(ctx, member, s.ID).ExtractErr(), http.StatusConflict, "SubnetInUse")
	for _, p := range []string{p1.ID, p2.ID, p3.ID} {
		must(t, ports.Delete(ctx, member, p).ExtractErr())
	}
	must(t, networks.Delete(ctx, member, n.ID).ExtractErr())
	_, err = subnets.Get(ctx, member, s.ID).Extract()
	wantError(t, err, http.StatusNotFound, "SubnetNotFound")
}

func contains(body []byte, s string) bool { return strings.Contains(string(body), s) }

func TestIPv6(t *testing.T) {
	_, admin := startCloud(t)
	n, v4 := newNet(t, admin, "dual", "10.90.0.0/24")
	v6, err := subnets.Create(ctx, admin, subnets.CreateOpts{NetworkID: n.ID, CIDR: "2001:db8:90::/64", IPVersion: gophercloud.IPv6}).Extract()
	must(t, err)
	if v6.GatewayIP != "2001:db8:90::1" || v6.AllocationPools[0] != (subnets.AllocationPool{Start: "2001:db8:90::2", End: "2001:db8:90:0:ffff:ffff:ffff:ffff"}) {
		t.Fatalf("IPv6 subnet %+v", v6)
	}
	// A port gets one address of each version.
	p, err := ports.Create(ctx, admin, ports.CreateOpts{NetworkID: n.ID}).Extract()
	must(t, err)
	if len(p.FixedIPs) != 2 || p.FixedIPs[0].SubnetID != v4.ID || p.FixedIPs[1].SubnetID != v6.ID {
		t.Fatalf("dual-stack port %+v", p.FixedIPs)
	}
	p, err = ports.Create(ctx, admin, ports.CreateOpts{NetworkID: n.ID, FixedIPs: []ports.IP{{IPAddress: "2001:db8:90::abcd"}}}).Extract()
	must(t, err)
	if len(p.FixedIPs) != 1 || p.FixedIPs[0].IPAddress != "2001:db8:90::abcd" {
		t.Fatalf("fixed IPv6 %+v", p.FixedIPs)
	}
}

// TestMACSpelling: any spelling of a MAC is stored in the canonical one,
// which the dataplane requires and the uniqueness check compares.
func TestMACSpelling(t *testing.T) {
	cloud, _ := startCloud(t)
	member := networkV2(t, cloud.Member(t, "alpha"))
	n, _ := newNet(t, member, "macs", "10.42.0.0/24")
	p, err := ports.Create(ctx, member, ports.CreateOpts{NetworkID: n.ID, MACAddress: "FA-16-3E-00-00-01"}).Extract()
	must(t, err)
	if p.MACAddress != "fa:16:3e:00:00:01" {
		t.Fatalf("MAC stored as %q", p.MACAddress)
	}
	_, err = ports.Create(ctx, member, ports.CreateOpts{NetworkID: n.ID, MACAddress: "fa16.3e00.0001"}).Extract()
	wantError(t, err, http.StatusConflict, "MacAddressInUse")
}

// TestConcurrentUpdates: concurrent updates of one port or subnet each
// apply to the row as the other left it; none is lost.
func TestConcurrentUpdates(t *testing.T) {
	cloud, _ := startCloud(t)
	member := networkV2(t, cloud.Member(t, "alpha"))
	n, s := newNet(t, member, "racy", "10.46.0.0/24")
	for round := 0; round < 5; round++ {
		p, err := ports.Create(ctx, member, ports.CreateOpts{NetworkID: n.ID}).Extract()
		must(t, err)
		name, description := fmt.Sprintf("name-%d", round), fmt.Sprintf("description-%d", round)
		var wg sync.WaitGroup
		wg.Add(4)
		for i := range 2 {
			go func() {
				defer wg.Done()
				ip := fmt.Sprintf("10.46.0.%d", 100+10*round+i)
				_, err := ports.Update(ctx, member, p.ID, ports.UpdateOpts{FixedIPs: []ports.IP{{SubnetID: s.ID, IPAddress: ip}}}).Extract()
				if err != nil {
					t.Error(err)
				}
			}()
		}
		go func() {
			defer wg.Done()
			_, err := subnets.Update(ctx, member, s.ID, subnets.UpdateOpts{Name: &name}).Extract()
			if err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			_, err := subnets.Update(ctx, member, s.ID, subnets.UpdateOpts{Description: &description}).Extract()
			if err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		got, err := ports.Get(ctx, member, p.ID).Extract()
		must(t, err)
		if len(got.FixedIPs) != 1 {
			t.Fatalf("round %d: two updates each asking for one address left %v", round, got.FixedIPs)
		}
		sub, err := subnets.Get(ctx, member, s.ID).Extract()
		must(t, err)
		if sub.Name != name || sub.Description != description {
			t.Fatalf("round %d: subnet %q %q, want %q %q", round, sub.Name, sub.Description, name, description)
		}
	}
}
