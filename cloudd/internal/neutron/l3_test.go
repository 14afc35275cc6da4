package neutron_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

func TestSecurityGroups(t *testing.T) {
	cloud, _ := startCloud(t)
	member := networkV2(t, cloud.Member(t, "sg"))

	// Two first requests at once create one default group between them.
	var wg sync.WaitGroup
	ids := make([]string, 4)
	for i := range ids {
		wg.Go(func() { ids[i] = defaultGroup(t, member) })
	}
	wg.Wait()
	if ids[0] != ids[1] || ids[1] != ids[2] || ids[2] != ids[3] {
		t.Fatalf("racing first listings made several default groups: %v", ids)
	}
	def, err := groups.Get(ctx, member, ids[0]).Extract()
	must(t, err)
	var egress, ingressFromSelf int
	for _, r := range def.Rules {
		switch {
		case r.Direction == "egress" && r.RemoteGroupID == "" && r.RemoteIPPrefix == "":
			egress++
		case r.Direction == "ingress" && r.RemoteGroupID == def.ID:
			ingressFromSelf++
		}
	}
	if len(def.Rules) != 4 || egress != 2 || ingressFromSelf != 2 {
		t.Fatalf("default group rules: %+v", def.Rules)
	}

	web, err := groups.Create(ctx, member, groups.CreateOpts{Name: "web", Description: "http"}).Extract()
	must(t, err)
	if len(web.Rules) != 2 {
		t.Fatalf("a new group has the two egress rules, got %+v", web.Rules)
	}
	r, err := rules.Create(ctx, member, rules.CreateOpts{SecGroupID: web.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
		Protocol: rules.ProtocolTCP, PortRangeMin: 80, PortRangeMax: 443, RemoteIPPrefix: "192.0.2.0/24"}).Extract()
	must(t, err)
	if r.PortRangeMin != 80 || r.PortRangeMax != 443 || r.Protocol != "tcp" || r.RemoteIPPrefix != "192.0.2.0/24" {
		t.Fatalf("rule %+v", r)
	}
	_, err = rules.Create(ctx, member, rules.CreateOpts{SecGroupID: web.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
		Protocol: rules.ProtocolTCP, PortRangeMin: 80, PortRangeMax: 443, RemoteIPPrefix: "192.0.2.0/24"}).Extract()
	wantError(t, err, http.StatusConflict, "SecurityGroupRuleExists")
	// IPv6-only protocols do not fit IPv4 (icmp fits both: ICMPv6 on IPv6).
	for _, proto := range []rules.RuleProtocol{"icmpv6", rules.ProtocolIPv6ICMP, "58", rules.ProtocolIPv6Route} {
		_, err = rules.Create(ctx, member, rules.CreateOpts{SecGroupID: web.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
			Protocol: proto}).Extract()
		wantError(t, err, http.StatusBadRequest, "SecurityGroupEthertypeConflictWithProtocol")
	}
	_, err = rules.Create(ctx, member, rules.CreateOpts{SecGroupID: web.ID, Direction: rules.DirIngress, EtherType: rules.EtherType6,
		Protocol: rules.ProtocolICMP}).Extract()
	must(t, err)
	icmp, err := rules.Create(ctx, member, rules.CreateOpts{SecGroupID: web.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
		Protocol: rules.ProtocolICMP, RemoteGroupID: def.ID}).Extract()
	must(t, err)

	// A port in the group; the group cannot go while the port uses it.
	n, _ := newNet(t, member, "sgnet", "10.20.0.0/24")
	p, err := ports.Create(ctx, member, ports.CreateOpts{NetworkID: n.ID, SecurityGroups: &[]string{web.ID, def.ID}}).Extract()
	must(t, err)
	if len(p.SecurityGroups) != 2 {
		t.Fatalf("port groups %v", p.SecurityGroups)
	}
	wantError(t, groups.Delete(ctx, member, web.ID).ExtractErr(), http.StatusConflict, "SecurityGroupInUse")
	wantError(t, groups.Delete(ctx, member, def.ID).ExtractErr(), http.StatusConflict, "SecurityGroupCannotRemoveDefault")
	_, err = ports.Update(ctx, member, p.ID, ports.UpdateOpts{SecurityGroups: &[]string{}}).Extract()
	must(t, err)
	must(t, rules.Delete(ctx, member, icmp.ID).ExtractErr())
	must(t, groups.Delete(ctx, member, web.ID).ExtractErr())
	_, err = rules.Get(ctx, member, r.ID).Extract()
	wantError(t, err, http.StatusNotFound, "SecurityGroupRuleNotFound")
}

// externalNet creates (as admin) an external network with a subnet.
func externalNet(t *testing.T, admin *gophercloud.ServiceClient, cidr string) (*networks.Network, *subnets.Subnet) {
	t.Helper()
	yes := true
	n, err := networks.Create(ctx, admin, external.CreateOptsExt{CreateOptsBuilder: networks.CreateOpts{Name: "public"}, External: &yes}).Extract()
	must(t, err)
	s, err := subnets.Create(ctx, admin, subnets.CreateOpts{NetworkID: n.ID, CIDR: cidr, IPVersion: gophercloud.IPv4}).Extract()
	must(t, err)
	return n, s
}

func TestRoutersAndFloatingIPs(t *testing.T) {
	cloud, admin := startCloud(t)
	member := networkV2(t, cloud.Member(t, "l3"))
	public, publicSubnet := externalNet(t, admin, "203.0.113.0/24")
	n, s := newNet(t, member, "private", "10.30.0.0/24")

	// The member sees the external network, but cannot create one.
	if _, err := networks.Get(ctx, member, public.ID).Extract(); err != nil {
		t.Fatal(err)
	}
	yes := true
	_, err := networks.Create(ctx, member, external.CreateOptsExt{CreateOptsBuilder: networks.CreateOpts{Name: "x"}, External: &yes}).Extract()
	wantError(t, err, http.StatusForbidden, "")

	rt, err := routers.Create(ctx, member, routers.CreateOpts{Name: "r1", GatewayInfo: &routers.GatewayInfo{NetworkID: public.ID}}).Extract()
	must(t, err)
	if rt.GatewayInfo.NetworkID != public.ID || rt.GatewayInfo.EnableSNAT == nil || !*rt.GatewayInfo.EnableSNAT ||
		len(rt.GatewayInfo.ExternalFixedIPs) != 1 || rt.GatewayInfo.ExternalFixedIPs[0].SubnetID != publicSubnet.ID {
		t.Fatalf("router gateway %+v", rt.GatewayInfo)
	}
	itf, err := routers.AddInterface(ctx, member, rt.ID, routers.AddInterfaceOpts{SubnetID: s.ID}).Extract()
	must(t, err)
	leg, err := ports.Get(ctx, member, itf.PortID).Extract()
	must(t, err)
	if leg.FixedIPs[0].IPAddress != "10.30.0.1" || leg.DeviceOwner != "network:router_interface" || leg.DeviceID != rt.ID {
		t.Fatalf("router interface port %+v", leg)
	}
	_, err = routers.AddInterface(ctx, member, rt.ID, routers.AddInterfaceOpts{SubnetID: s.ID}).Extract()
	wantError(t, err, http.StatusBadRequest, "")
	wantError(t, ports.Delete(ctx, member, leg.ID).ExtractErr(), http.StatusConflict, "PortInUse")
	wantError(t, routers.Delete(ctx, member, rt.ID).ExtractErr(), http.StatusConflict, "RouterInUse")

	vm, err := ports.Create(ctx, member, ports.CreateOpts{NetworkID: n.ID}).Extract()
	must(t, err)
	fip, err := floatingips.Create(ctx, member, floatingips.CreateOpts{FloatingNetworkID: public.ID}).Extract()
	must(t, err)
	if fip.Status != "DOWN" || fip.PortID != "" || fip.FloatingIP == "" {
		t.Fatalf("new floating ip %+v", fip)
	}
	fip, err = floatingips.Update(ctx, member, fip.ID, floatingips.UpdateOpts{PortID: &vm.ID}).Extract()
	must(t, err)
	if fip.PortID != vm.ID || fip.FixedIP != vm.FixedIPs[0].IPAddress || fip.RouterID != rt.ID || fip.Status != "ACTIVE" {
		t.Fatalf("associated floating ip %+v", fip)
	}
	_, err = routers.RemoveInterface(ctx, member, rt.ID, routers.RemoveInterfaceOpts{SubnetID: s.ID}).Extract()
	wantError(t, err, http.StatusConflict, "RouterInterfaceInUseByFloatingIP")
	// Disassociate (port_id null), then everything comes apart in order.
	fip, err = floatingips.Update(ctx, member, fip.ID, floatingips.UpdateOpts{PortID: new(string)}).Extract()
	must(t, err)
	if fip.PortID != "" || fip.RouterID != "" {
		t.Fatalf("disassociated floating ip %+v", fip)
	}
	// A port on a subnet no router reaches cannot have a floating IP.
	n2, _ := newNet(t, member, "isolated", "10.31.0.0/24")
	lonely, err := ports.Create(ctx, member, ports.CreateOpts{NetworkID: n2.ID}).Extract()
	must(t, err)
	_, err = floatingips.Update(ctx, member, fip.ID, floatingips.UpdateOpts{PortID: &lonely.ID}).Extract()
	wantError(t, err, http.StatusNotFound, "ExternalGatewayForFloatingIPNotFound")

	// An interface by port takes the port as it is; removing it deletes it.
	legPort, err := ports.Create(ctx, member, ports.CreateOpts{NetworkID: n2.ID}).Extract()
	must(t, err)
	itf2, err := routers.AddInterface(ctx, member, rt.ID, routers.AddInterfaceOpts{PortID: legPort.ID}).Extract()
	must(t, err)
	if itf2.PortID != legPort.ID || itf2.SubnetID != legPort.FixedIPs[0].SubnetID {
		t.Fatalf("interface by port %+v", itf2)
	}
	_, err = routers.AddInterface(ctx, member, rt.ID, routers.AddInterfaceOpts{PortID: lonely.ID}).Extract()
	wantError(t, err, http.StatusBadRequest, "") // a second leg on the same subnet
	_, err = routers.RemoveInterface(ctx, member, rt.ID, routers.RemoveInterfaceOpts{PortID: legPort.ID}).Extract()
	must(t, err)
	_, err = ports.Get(ctx, member, legPort.ID).Extract()
	wantError(t, err, http.StatusNotFound, "PortNotFound")

	must(t, floatingips.Delete(ctx, member, fip.ID).ExtractErr())
	_, err = routers.RemoveInterface(ctx, member, rt.ID, routers.RemoveInterfaceOpts{SubnetID: s.ID}).Extract()
	must(t, err)
	must(t, routers.Delete(ctx, member, rt.ID).ExtractErr())
	// The gateway and floating IP ports went with their owners.
	page, err := ports.List(admin, ports.ListOpts{NetworkID: public.ID}).AllPages(ctx)
	must(t, err)
	if left, _ := ports.ExtractPorts(page); len(left) != 0 {
		t.Fatalf("ports left on the external network: %+v", left)
	}
}

func TestExtensionsTagsQuotas(t *testing.T) {
	cloud, admin := startCloud(t)
	member := networkV2(t, cloud.Member(t, "meta"))

	page, err := extensions.List(member).AllPages(ctx)
	must(t, err)
	exts, err := extensions.ExtractExtensions(page)
	must(t, err)
	var aliases []string
	for _, e := range exts {
		aliases = append(aliases, e.Alias)
	}
	for _, want := range []string{"security-group", "router", "external-net", "standard-attr-tag", "quotas", "revision-if-match", "binding"} {
		if !slices.Contains(aliases, want) {
			t.Errorf("extension %s not listed: %v", want, aliases)
		}
	}
	if _, err := extensions.Get(ctx, member, "router").Extract(); err != nil {
		t.Fatal(err)
	}
	_, err = extensions.Get(ctx, member, "dvr").Extract()
	wantError(t, err, http.StatusNotFound, "ExtensionNotFound")

	// Tags: set, add, confirm, filter, remove.
	n, _ := newNet(t, member, "tagged", "10.40.0.0/24")
	other, _ := newNet(t, member, "plain", "10.41.0.0/24")
	tags, err := attributestags.ReplaceAll(ctx, member, "networks", n.ID, attributestags.ReplaceAllOpts{Tags: []string{"prod", "blue"}}).Extract()
	must(t, err)
	if !slices.Equal(tags, []string{"blue", "prod"}) {
		t.Fatalf("replaced tags %v", tags)
	}
	must(t, attributestags.Add(ctx, member, "networks", n.ID, "east").ExtractErr())
	if ok, err := attributestags.Confirm(ctx, member, "networks", n.ID, "east").Extract(); err != nil || !ok {
		t.Fatalf("confirm tag: %v %v", ok, err)
	}
	if tags, err = attributestags.List(ctx, member, "networks", n.ID).Extract(); err != nil || !slices.Equal(tags, []string{"blue", "east", "prod"}) {
		t.Fatalf("tags %v %v", tags, err)
	}
	for q, want := range map[string][]string{
		"tags=blue,prod": {n.ID}, "tags-any=blue,nothing": {n.ID}, "not-tags=blue": {other.ID}, "not-tags-any=east": {other.ID},
	} {
		status, body := raw(t, member, "GET", "networks?fields=id&"+q, nil, nil)
		var got struct{ Networks []struct{ ID string } }
		if status != 200 || json.Unmarshal(body, &got) != nil || len(got.Networks) != len(want) || got.Networks[0].ID != want[0] {
			t.Errorf("%s: %d %s, want %v", q, status, body, want)
		}
	}
	must(t, attributestags.Delete(ctx, member, "networks", n.ID, "blue").ExtractErr())
	wantError(t, attributestags.Delete(ctx, member, "networks", n.ID, "blue").ExtractErr(), http.StatusNotFound, "TagNotFound")
	must(t, attributestags.DeleteAll(ctx, member, "networks", n.ID).ExtractErr())
	got, err := networks.Get(ctx, member, n.ID).Extract()
	must(t, err)
	if len(got.Tags) != 0 || got.RevisionNumber < 5 {
		t.Fatalf("after tag changes: tags %v, revision %d", got.Tags, got.RevisionNumber)
	}

	// Quotas: members read their own, admins set them; usage in details.
	project := n.ProjectID
	q, err := quotas.Get(ctx, member, project).Extract()
	must(t, err)
	if q.Network != 100 || q.Port != 500 || q.SecurityGroupRule != 100 {
		t.Fatalf("default quotas %+v", q)
	}
	_, err = quotas.Update(ctx, member, project, quotas.UpdateOpts{Network: gophercloud.IntToPointer(2)}).Extract()
	wantError(t, err, http.StatusForbidden, "")
	_, err = quotas.Update(ctx, admin, project, quotas.UpdateOpts{Network: gophercloud.IntToPointer(2)}).Extract()
	must(t, err)
	d, err := quotas.GetDetail(ctx, member, project).Extract()
	must(t, err)
	if d.Network.Limit != 2 || d.Network.Used != 2 || d.Subnet.Used != 2 {
		t.Fatalf("quota details %+v", d)
	}
	_, err = networks.Create(ctx, member, networks.CreateOpts{Name: "third"}).Extract()
	wantError(t, err, http.StatusConflict, "OverQuota")
	must(t, quotas.Delete(ctx, admin, project).ExtractErr())
	if _, err := networks.Create(ctx, member, networks.CreateOpts{Name: "third"}).Extract(); err != nil {
		t.Fatal(err)
	}
}

// TestPortPolicy: a member may not forge the ports Neutron manages itself,
// which the dataplane trusts to find a router's interfaces.
func TestPortPolicy(t *testing.T) {
	cloud, admin := startCloud(t)
	alpha := networkV2(t, cloud.Member(t, "alpha"))
	beta := networkV2(t, cloud.Member(t, "beta"))
	victim, err := routers.Create(ctx, beta, routers.CreateOpts{Name: "beta-router"}).Extract()
	must(t, err)
	n, s := newNet(t, alpha, "alpha-net", "10.40.0.0/24")

	_, err = ports.Create(ctx, alpha, ports.CreateOpts{NetworkID: n.ID, DeviceOwner: "network:router_interface", DeviceID: victim.ID}).Extract()
	wantError(t, err, http.StatusForbidden, "PolicyNotAuthorized")
	p, err := ports.Create(ctx, alpha, ports.CreateOpts{NetworkID: n.ID}).Extract()
	must(t, err)
	_, err = ports.Update(ctx, alpha, p.ID, ports.UpdateOpts{DeviceOwner: ptr("network:router_interface"), DeviceID: &victim.ID}).Extract()
	wantError(t, err, http.StatusForbidden, "PolicyNotAuthorized")
	// Nor may the member move its own router's leg to another's router.
	own, err := routers.Create(ctx, alpha, routers.CreateOpts{Name: "alpha-router"}).Extract()
	must(t, err)
	itf, err := routers.AddInterface(ctx, alpha, own.ID, routers.AddInterfaceOpts{SubnetID: s.ID}).Extract()
	must(t, err)
	_, err = ports.Update(ctx, alpha, itf.PortID, ports.UpdateOpts{DeviceID: &victim.ID}).Extract()
	wantError(t, err, http.StatusForbidden, "PolicyNotAuthorized")
	leg, err := ports.Get(ctx, alpha, itf.PortID).Extract()
	must(t, err)
	if leg.DeviceID != own.ID || len(leg.SecurityGroups) != 0 {
		t.Fatalf("router leg %+v", leg)
	}
	// An admin's network:* port is an ordinary port to the quota and to
	// port security: only Neutron's own ports are exempt.
	ap, err := ports.Create(ctx, admin, ports.CreateOpts{NetworkID: n.ID, DeviceOwner: "network:custom"}).Extract()
	must(t, err)
	if len(ap.SecurityGroups) != 1 {
		t.Fatalf("admin network:* port without port security: %+v", ap)
	}
}

// TestSharedNetworkPortPolicy: on a shared network, a tenant that does not
// own it cannot choose addresses or MACs, nor lift port security.
func TestSharedNetworkPortPolicy(t *testing.T) {
	cloud, admin := startCloud(t)
	beta := networkV2(t, cloud.Member(t, "beta"))
	yes, no := true, false
	n, err := networks.Create(ctx, admin, networks.CreateOpts{Name: "shared", Shared: &yes}).Extract()
	must(t, err)
	s, err := subnets.Create(ctx, admin, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.41.0.0/24", IPVersion: gophercloud.IPv4}).Extract()
	must(t, err)

	for name, opts := range map[string]ports.CreateOpts{
		"gateway address": {NetworkID: n.ID, FixedIPs: []ports.IP{{SubnetID: s.ID, IPAddress: s.GatewayIP}}},
		"mac address":     {NetworkID: n.ID, MACAddress: "fa:16:3e:00:00:01"},
	} {
		_, err := ports.Create(ctx, beta, opts).Extract()
		t.Log(name)
		wantError(t, err, http.StatusForbidden, "PolicyNotAuthorized")
	}
	status, body := raw(t, beta, "POST", "ports", map[string]any{"port": map[string]any{"network_id": n.ID, "port_security_enabled": false}}, nil)
	if status != http.StatusForbidden || !contains(body, "PolicyNotAuthorized") {
		t.Fatalf("port security off on a shared network: %d %s", status, body)
	}

	// A port of its own, with an address IPAM picks: updates may keep the
	// address but not take another, nor turn port security off.
	p, err := ports.Create(ctx, beta, ports.CreateOpts{NetworkID: n.ID, FixedIPs: []ports.IP{{SubnetID: s.ID}}}).Extract()
	must(t, err)
	_, err = ports.Update(ctx, beta, p.ID, ports.UpdateOpts{Name: ptr("kept"), FixedIPs: p.FixedIPs}).Extract()
	must(t, err)
	_, err = ports.Update(ctx, beta, p.ID, ports.UpdateOpts{FixedIPs: []ports.IP{{SubnetID: s.ID, IPAddress: s.GatewayIP}}}).Extract()
	wantError(t, err, http.StatusForbidden, "PolicyNotAuthorized")
	status, body = raw(t, beta, "PUT", "ports/"+p.ID, map[string]any{"port": map[string]any{"port_security_enabled": no, "security_groups": []string{}}}, nil)
	if status != http.StatusForbidden || !contains(body, "PolicyNotAuthorized") {
		t.Fatalf("port security off on a shared network: %d %s", status, body)
	}
	// The owner (here the admin) still may.
	_, err = ports.Create(ctx, admin, ports.CreateOpts{NetworkID: n.ID, FixedIPs: []ports.IP{{SubnetID: s.ID, IPAddress: "10.41.0.9"}}}).Extract()
	must(t, err)
}

// TestRouterInterfacePolicy: a router leg may not take the gateway of an
// external subnet, nor (but for admins) of a shared one it does not own.
func TestRouterInterfacePolicy(t *testing.T) {
	cloud, admin := startCloud(t)
	member := networkV2(t, cloud.Member(t, "l3"))
	_, publicSubnet := externalNet(t, admin, "203.0.113.0/24")
	yes := true
	shared, err := networks.Create(ctx, admin, networks.CreateOpts{Name: "shared", Shared: &yes}).Extract()
	must(t, err)
	sharedSubnet, err := subnets.Create(ctx, admin, subnets.CreateOpts{NetworkID: shared.ID, CIDR: "10.43.0.0/24", IPVersion: gophercloud.IPv4}).Extract()
	must(t, err)
	rt, err := routers.Create(ctx, member, routers.CreateOpts{Name: "r"}).Extract()
	must(t, err)

	_, err = routers.AddInterface(ctx, member, rt.ID, routers.AddInterfaceOpts{SubnetID: publicSubnet.ID}).Extract()
	wantError(t, err, http.StatusBadRequest, "BadRequest")
	_, err = routers.AddInterface(ctx, admin, rt.ID, routers.AddInterfaceOpts{SubnetID: publicSubnet.ID}).Extract()
	wantError(t, err, http.StatusBadRequest, "BadRequest")
	_, err = routers.AddInterface(ctx, member, rt.ID, routers.AddInterfaceOpts{SubnetID: sharedSubnet.ID}).Extract()
	wantError(t, err, http.StatusNotFound, "SubnetNotFound")
	itf, err := routers.AddInterface(ctx, admin, rt.ID, routers.AddInterfaceOpts{SubnetID: sharedSubnet.ID}).Extract()
	must(t, err)
	if itf.SubnetID != sharedSubnet.ID {
		t.Fatalf("interface %+v", itf)
	}
}

// TestFloatingIPRaces: two floating IPs raced onto one fixed address give
// one success and one 409, never a 500.
func TestFloatingIPRaces(t *testing.T) {
	cloud, admin := startCloud(t)
	member := networkV2(t, cloud.Member(t, "l3"))
	public, _ := externalNet(t, admin, "203.0.113.0/24")
	n, s := newNet(t, member, "private", "10.44.0.0/24")
	rt, err := routers.Create(ctx, member, routers.CreateOpts{Name: "r", GatewayInfo: &routers.GatewayInfo{NetworkID: public.ID}}).Extract()
	must(t, err)
	_, err = routers.AddInterface(ctx, member, rt.ID, routers.AddInterfaceOpts{SubnetID: s.ID}).Extract()
	must(t, err)
	for round := 0; round < 5; round++ {
		p, err := ports.Create(ctx, member, ports.CreateOpts{NetworkID: n.ID}).Extract()
		must(t, err)
		var fips [2]string
		for i := range fips {
			f, err := floatingips.Create(ctx, member, floatingips.CreateOpts{FloatingNetworkID: public.ID}).Extract()
			must(t, err)
			fips[i] = f.ID
		}
		var wg sync.WaitGroup
		errs := make([]error, len(fips))
		for i, id := range fips {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = floatingips.Update(ctx, member, id, floatingips.UpdateOpts{PortID: &p.ID}).Extract()
			}()
		}
		wg.Wait()
		failed := errs[0]
		if failed == nil {
			failed = errs[1]
		} else if errs[1] != nil {
			t.Fatalf("round %d: both failed: %v; %v", round, errs[0], errs[1])
		}
		wantError(t, failed, http.StatusConflict, "")
	}
}

// TestFloatingIPRemoveInterfaceRace: an association and the removal of the
// router leg it relies on never both succeed.
func TestFloatingIPRemoveInterfaceRace(t *testing.T) {
	cloud, admin := startCloud(t)
	member := networkV2(t, cloud.Member(t, "l3"))
	public, _ := externalNet(t, admin, "203.0.113.0/24")
	n, s := newNet(t, member, "private", "10.45.0.0/24")
	rt, err := routers.Create(ctx, member, routers.CreateOpts{Name: "r", GatewayInfo: &routers.GatewayInfo{NetworkID: public.ID}}).Extract()
	must(t, err)
	p, err := ports.Create(ctx, member, ports.CreateOpts{NetworkID: n.ID}).Extract()
	must(t, err)
	for round := 0; round < 10; round++ {
		_, err = routers.AddInterface(ctx, member, rt.ID, routers.AddInterfaceOpts{SubnetID: s.ID}).Extract()
		must(t, err)
		f, err := floatingips.Create(ctx, member, floatingips.CreateOpts{FloatingNetworkID: public.ID}).Extract()
		must(t, err)
		var wg sync.WaitGroup
		var assocErr, removeErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, assocErr = floatingips.Update(ctx, member, f.ID, floatingips.UpdateOpts{PortID: &p.ID}).Extract()
		}()
		go func() {
			defer wg.Done()
			_, removeErr = routers.RemoveInterface(ctx, member, rt.ID, routers.RemoveInterfaceOpts{SubnetID: s.ID}).Extract()
		}()
		wg.Wait()
		switch {
		case assocErr == nil && removeErr == nil:
			t.Fatalf("round %d: the floating IP was associated through a router leg removed at the same time", round)
		case assocErr == nil:
			wantError(t, removeErr, http.StatusConflict, "RouterInterfaceInUseByFloatingIP")
		case removeErr == nil:
			wantError(t, assocErr, http.StatusNotFound, "ExternalGatewayForFloatingIPNotFound")
		default:
			t.Fatalf("round %d: both failed: %v; %v", round, assocErr, removeErr)
		}
		must(t, floatingips.Delete(ctx, member, f.ID).ExtractErr())
		if assocErr == nil {
			_, err = routers.RemoveInterface(ctx, member, rt.ID, routers.RemoveInterfaceOpts{SubnetID: s.ID}).Extract()
			must(t, err)
		}
	}
}

// TestRouterOverlappingSubnets: one router cannot join two subnets whose
// CIDRs overlap, whoever's networks they are on.
func TestRouterOverlappingSubnets(t *testing.T) {
	cloud, _ := startCloud(t)
	member := networkV2(t, cloud.Member(t, "l3"))
	_, a := newNet(t, member, "a", "10.47.0.0/16")
	_, b := newNet(t, member, "b", "10.47.3.0/24")
	_, c := newNet(t, member, "c", "10.48.0.0/24")
	rt, err := routers.Create(ctx, member, routers.CreateOpts{Name: "r"}).Extract()
	must(t, err)
	_, err = routers.AddInterface(ctx, member, rt.ID, routers.AddInterfaceOpts{SubnetID: a.ID}).Extract()
	must(t, err)
	_, err = routers.AddInterface(ctx, member, rt.ID, routers.AddInterfaceOpts{SubnetID: b.ID}).Extract()
	wantError(t, err, http.StatusBadRequest, "BadRequest")
	_, err = routers.AddInterface(ctx, member, rt.ID, routers.AddInterfaceOpts{SubnetID: c.ID}).Extract()
	must(t, err)
}

// TestFloatingIPAddressFamily: a floating IP on a dual-stack external
// network takes one IPv4 address only; an IPv6-only one has none to give.
func TestFloatingIPAddressFamily(t *testing.T) {
	cloud, admin := startCloud(t)
	member := networkV2(t, cloud.Member(t, "l3"))
	// The IPv6 subnet comes first, so "the first subnet" is not IPv4.
	yes := true
	public, err := networks.Create(ctx, admin, external.CreateOptsExt{CreateOptsBuilder: networks.CreateOpts{Name: "public"}, External: &yes}).Extract()
	must(t, err)
	_, err = subnets.Create(ctx, admin, subnets.CreateOpts{NetworkID: public.ID, CIDR: "2001:db8:99::/64", IPVersion: gophercloud.IPv6}).Extract()
	must(t, err)
	_, err = floatingips.Create(ctx, member, floatingips.CreateOpts{FloatingNetworkID: public.ID}).Extract()
	wantError(t, err, http.StatusBadRequest, "BadRequest")
	v4, err := subnets.Create(ctx, admin, subnets.CreateOpts{NetworkID: public.ID, CIDR: "203.0.113.0/24", IPVersion: gophercloud.IPv4}).Extract()
	must(t, err)

	f, err := floatingips.Create(ctx, member, floatingips.CreateOpts{FloatingNetworkID: public.ID}).Extract()
	must(t, err)
	page, err := ports.List(admin, ports.ListOpts{DeviceID: f.ID}).AllPages(ctx)
	must(t, err)
	list, err := ports.ExtractPorts(page)
	must(t, err)
	if len(list) != 1 || len(list[0].FixedIPs) != 1 || list[0].FixedIPs[0].SubnetID != v4.ID || list[0].FixedIPs[0].IPAddress != f.FloatingIP {
		t.Fatalf("floating IP %s has port %+v", f.FloatingIP, list)
	}
}
