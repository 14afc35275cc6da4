package neutron_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/attachinterfaces"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/secgroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsecurity"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/cloudd/internal/dataplane"
	"github.com/stratus-cloud/stratus/cloudd/internal/network"
)

// bootImage uploads a small public qcow2 image as admin and returns its id.
func bootImage(t *testing.T, cloud *cloudtest.Cloud) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-f", "qcow2", path, "64M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img (install qemu-utils): %v: %s", err, out)
	}
	data, err := os.ReadFile(path)
	must(t, err)
	ic, err := openstack.NewImageV2(cloud.Admin(t), gophercloud.EndpointOpts{})
	must(t, err)
	public := images.ImageVisibilityPublic
	img, err := images.Create(ctx, ic, images.CreateOpts{Name: "tiny", DiskFormat: "qcow2", ContainerFormat: "bare", Visibility: &public}).Extract()
	must(t, err)
	must(t, imagedata.Upload(ctx, ic, img.ID, strings.NewReader(string(data))).ExtractErr())
	return img.ID
}

func waitActive(t *testing.T, cc *gophercloud.ServiceClient, id string) *servers.Server {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		srv, err := servers.Get(ctx, cc, id).Extract()
		must(t, err)
		if srv.Status == "ACTIVE" {
			return srv
		}
		if srv.Status == "ERROR" || time.Now().After(deadline) {
			t.Fatalf("server %s is %s: %+v", id, srv.Status, srv.Fault)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitGone(t *testing.T, cc *gophercloud.ServiceClient, id string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := servers.Get(ctx, cc, id).Extract()
		if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s not deleted: %v", id, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serverPorts lists the ports whose device is the server.
func serverPorts(t *testing.T, nc *gophercloud.ServiceClient, serverID string) []ports.Port {
	t.Helper()
	page, err := ports.List(nc, ports.ListOpts{DeviceID: serverID}).AllPages(ctx)
	must(t, err)
	list, err := ports.ExtractPorts(page)
	must(t, err)
	return list
}

func TestServersGetPorts(t *testing.T) {
	cloud := cloudtest.Start(t)
	imageID := bootImage(t, cloud)
	pc := cloud.Member(t, "vm")
	nc := networkV2(t, pc)
	cc, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{})
	must(t, err)
	admin := networkV2(t, cloud.Admin(t))
	boot := func(name string, nets ...servers.Network) (string, error) {
		opts := servers.CreateOpts{Name: name, ImageRef: imageID, FlavorRef: "42", Networks: nets}
		srv, err := servers.Create(ctx, cc, opts, nil).Extract()
		if err != nil {
			return "", err
		}
		return srv.ID, nil
	}

	// No network usable: the server boots without NICs.
	bare, err := boot("bare")
	must(t, err)
	if srv := waitActive(t, cc, bare); len(srv.Addresses) != 0 {
		t.Fatalf("addresses without networks: %v", srv.Addresses)
	}

	// One network: a server without "networks" gets a port on it, bound to
	// its host, with the address shown in "addresses".
	n1, s1 := newNet(t, nc, "net1", "10.50.0.0/24")
	auto, err := boot("auto")
	must(t, err)
	srv := waitActive(t, cc, auto)
	list := serverPorts(t, nc, auto)
	if len(list) != 1 || list[0].NetworkID != n1.ID || list[0].DeviceOwner != "compute:nova" {
		t.Fatalf("auto-attached ports %+v", list)
	}
	bound, err := ports.Get(ctx, admin, list[0].ID).Extract()
	must(t, err)
	var binding struct {
		HostID string `json:"binding:host_id"`
	}
	must(t, ports.Get(ctx, admin, bound.ID).ExtractInto(&binding))
	addrs, _ := srv.Addresses["net1"].([]any)
	if binding.HostID == "" || len(addrs) != 1 {
		t.Fatalf("binding %q, addresses %v", binding.HostID, srv.Addresses)
	}
	first := addrs[0].(map[string]any)
	if first["addr"] != list[0].FixedIPs[0].IPAddress || first["OS-EXT-IPS:type"] != "fixed" ||
		first["OS-EXT-IPS-MAC:mac_addr"] != list[0].MACAddress || first["version"] != float64(4) {
		t.Fatalf("address %v for port %+v", first, list[0])
	}

	// Two networks: Nova's 409 unless one is named.
	n2, _ := newNet(t, nc, "net2", "10.51.0.0/24")
	_, err = boot("ambiguous")
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) || !strings.Contains(err.Error(), "Multiple possible networks found") {
		t.Fatalf("ambiguous networks: %v", err)
	}

	// A fixed IP, and a port passed in.
	mine, err := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: n2.ID, Name: "mine"}).Extract()
	must(t, err)
	picky, err := boot("picky", servers.Network{UUID: n1.ID, FixedIP: "10.50.0.50"}, servers.Network{Port: mine.ID})
	must(t, err)
	srv = waitActive(t, cc, picky)
	if a := srv.Addresses["net1"].([]any)[0].(map[string]any); a["addr"] != "10.50.0.50" || len(srv.Addresses["net2"].([]any)) != 1 {
		t.Fatalf("addresses %v", srv.Addresses)
	}
	// A floating IP on the server's port shows up after its fixed address.
	public, _ := externalNet(t, admin, "203.0.113.0/24")
	rt, err := routers.Create(ctx, nc, routers.CreateOpts{Name: "r", GatewayInfo: &routers.GatewayInfo{NetworkID: public.ID}}).Extract()
	must(t, err)
	_, err = routers.AddInterface(ctx, nc, rt.ID, routers.AddInterfaceOpts{SubnetID: s1.ID}).Extract()
	must(t, err)
	var picked string
	for _, p := range serverPorts(t, nc, picky) {
		if p.NetworkID == n1.ID {
			picked = p.ID
		}
	}
	fip, err := floatingips.Create(ctx, nc, floatingips.CreateOpts{FloatingNetworkID: public.ID, PortID: picked}).Extract()
	must(t, err)
	srv, err = servers.Get(ctx, cc, picky).Extract()
	must(t, err)
	if a := srv.Addresses["net1"].([]any); len(a) != 2 || a[1].(map[string]any)["addr"] != fip.FloatingIP || a[1].(map[string]any)["OS-EXT-IPS:type"] != "floating" {
		t.Fatalf("addresses with a floating IP: %v", srv.Addresses)
	}

	// Synchronous errors: the address and the port are taken.
	_, err = boot("clash", servers.Network{UUID: n1.ID, FixedIP: "10.50.0.50"})
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("fixed IP in use: %v", err)
	}
	_, err = boot("thief", servers.Network{Port: mine.ID})
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("port in use: %v", err)
	}
	_, err = boot("nowhere", servers.Network{UUID: "5f2d7c4e-0000-4000-8000-000000000000"})
	if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Fatalf("unknown network: %v", err)
	}
	// A refused create leaves no port behind.
	page, err := ports.List(nc, ports.ListOpts{NetworkID: n1.ID}).AllPages(ctx)
	must(t, err)
	if all, _ := ports.ExtractPorts(page); len(all) != 3 { // two servers' and the router's
		t.Fatalf("ports on net1 after refused creates: %d, want 3", len(all))
	}
	wantError(t, networks.Delete(ctx, nc, n1.ID).ExtractErr(), http.StatusConflict, "NetworkInUse")

	// Delete: ports created for the server go, the one passed in stays, unbound.
	for _, id := range []string{bare, auto, picky} {
		must(t, servers.Delete(ctx, cc, id).ExtractErr())
		waitGone(t, cc, id)
	}
	if left := serverPorts(t, nc, picky); len(left) != 0 {
		t.Fatalf("ports still attached to a deleted server: %+v", left)
	}
	// The server's port went, and with it the floating IP's association.
	if f, err := floatingips.Get(ctx, nc, fip.ID).Extract(); err != nil || f.PortID != "" {
		t.Fatalf("floating ip after its port went: %+v %v", f, err)
	}
	must(t, floatingips.Delete(ctx, nc, fip.ID).ExtractErr())
	_, err = routers.RemoveInterface(ctx, nc, rt.ID, routers.RemoveInterfaceOpts{SubnetID: s1.ID}).Extract()
	must(t, err)
	kept, err := ports.Get(ctx, nc, mine.ID).Extract()
	must(t, err)
	if kept.DeviceID != "" || kept.DeviceOwner != "" {
		t.Fatalf("passed-in port not unbound: %+v", kept)
	}
	must(t, ports.Delete(ctx, nc, mine.ID).ExtractErr())
	must(t, networks.Delete(ctx, nc, n1.ID).ExtractErr())

	// Every port create and delete became a lifecycle event.
	var created, deleted int
	must(t, cloud.Server.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE type = 'stratus.network.port.created'),
		count(*) FILTER (WHERE type = 'stratus.network.port.deleted') FROM events`).Scan(&created, &deleted))
	// Ports: auto, picky's two (one passed in), the router's gateway and
	// interface, the floating IP's; all but the gateway are gone.
	if created != 6 || deleted != 5 {
		t.Fatalf("port events: %d created, %d deleted; want 6 and 5", created, deleted)
	}
	var fipEvents int
	must(t, cloud.Server.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE type LIKE 'stratus.network.floatingip.%'`).Scan(&fipEvents))
	if fipEvents != 4 { // created, associated, disassociated, deleted
		t.Fatalf("%d floating IP events, want 4", fipEvents)
	}
}

func TestInterfaceAttach(t *testing.T) {
	cloud := cloudtest.Start(t)
	imageID := bootImage(t, cloud)
	pc := cloud.Member(t, "ifaces")
	nc := networkV2(t, pc)
	cc, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{})
	must(t, err)
	srv, err := servers.Create(ctx, cc, servers.CreateOpts{Name: "plain", ImageRef: imageID, FlavorRef: "42", Networks: "none"}, nil).Extract()
	must(t, err)
	waitActive(t, cc, srv.ID)
	n, s := newNet(t, nc, "extra", "10.55.0.0/24")

	// By network, with a fixed address: a port is created for the server.
	att, err := attachinterfaces.Create(ctx, cc, srv.ID, attachinterfaces.CreateOpts{NetworkID: n.ID,
		FixedIPs: []attachinterfaces.FixedIP{{IPAddress: "10.55.0.9"}}}).Extract()
	must(t, err)
	if att.NetID != n.ID || len(att.FixedIPs) != 1 || att.FixedIPs[0].IPAddress != "10.55.0.9" || att.FixedIPs[0].SubnetID != s.ID || att.PortState != "ACTIVE" {
		t.Fatalf("attachment %+v", att)
	}
	// By port: the user's port is claimed.
	mine, err := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: n.ID}).Extract()
	must(t, err)
	_, err = attachinterfaces.Create(ctx, cc, srv.ID, attachinterfaces.CreateOpts{PortID: mine.ID}).Extract()
	must(t, err)
	page, err := attachinterfaces.List(cc, srv.ID).AllPages(ctx)
	must(t, err)
	list, err := attachinterfaces.ExtractInterfaces(page)
	must(t, err)
	if len(list) != 2 || list[0].PortID != att.PortID || list[1].PortID != mine.ID {
		t.Fatalf("interfaces %+v", list)
	}
	got, err := attachinterfaces.Get(ctx, cc, srv.ID, mine.ID).Extract()
	must(t, err)
	if got.MACAddr != mine.MACAddress {
		t.Fatalf("interface %+v", got)
	}
	shown, err := servers.Get(ctx, cc, srv.ID).Extract()
	must(t, err)
	if len(shown.Addresses["extra"].([]any)) != 2 {
		t.Fatalf("addresses after attaching %v", shown.Addresses)
	}
	// Detach: the created port goes, the user's port stays unbound.
	must(t, attachinterfaces.Delete(ctx, cc, srv.ID, att.PortID).ExtractErr())
	must(t, attachinterfaces.Delete(ctx, cc, srv.ID, mine.ID).ExtractErr())
	_, err = ports.Get(ctx, nc, att.PortID).Extract()
	wantError(t, err, http.StatusNotFound, "PortNotFound")
	kept, err := ports.Get(ctx, nc, mine.ID).Extract()
	must(t, err)
	if kept.DeviceID != "" {
		t.Fatalf("detached port still bound: %+v", kept)
	}
	err = attachinterfaces.Delete(ctx, cc, srv.ID, mine.ID).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("detaching a detached port: %v", err)
	}

	// An admin's attachment creates the port in the server's project.
	adminCompute, err := openstack.NewComputeV2(cloud.Admin(t), gophercloud.EndpointOpts{})
	must(t, err)
	byAdmin, err := attachinterfaces.Create(ctx, adminCompute, srv.ID, attachinterfaces.CreateOpts{NetworkID: n.ID}).Extract()
	must(t, err)
	port, err := ports.Get(ctx, nc, byAdmin.PortID).Extract()
	must(t, err)
	if port.ProjectID != mine.ProjectID {
		t.Fatalf("admin-attached port in project %s, the server's is %s", port.ProjectID, mine.ProjectID)
	}
}

func TestServerSecurityGroups(t *testing.T) {
	cloud := cloudtest.Start(t)
	imageID := bootImage(t, cloud)
	pc := cloud.Member(t, "guarded")
	nc := networkV2(t, pc)
	cc, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{})
	must(t, err)
	net, _ := newNet(t, nc, "only", "10.56.0.0/24")
	web, err := groups.Create(ctx, nc, groups.CreateOpts{Name: "web"}).Extract()
	must(t, err)
	srv, err := servers.Create(ctx, cc, servers.CreateOpts{Name: "g", ImageRef: imageID, FlavorRef: "42", SecurityGroups: []string{"web"}}, nil).Extract()
	must(t, err)
	got := waitActive(t, cc, srv.ID)
	if len(got.SecurityGroups) != 1 || got.SecurityGroups[0]["name"] != "web" {
		t.Fatalf("server security groups %v", got.SecurityGroups)
	}
	if list := serverPorts(t, nc, srv.ID); len(list) != 1 || len(list[0].SecurityGroups) != 1 || list[0].SecurityGroups[0] != web.ID {
		t.Fatalf("server ports %+v", list)
	}
	_, err = servers.Create(ctx, cc, servers.CreateOpts{Name: "h", ImageRef: imageID, FlavorRef: "42", SecurityGroups: []string{"nope"}}, nil).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Fatalf("unknown security group: %v", err)
	}

	// addSecurityGroup and removeSecurityGroup change every port in place.
	second, err := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: net.ID, SecurityGroups: &[]string{web.ID}}).Extract()
	must(t, err)
	_, err = attachinterfaces.Create(ctx, cc, srv.ID, attachinterfaces.CreateOpts{PortID: second.ID}).Extract()
	must(t, err)
	must(t, secgroups.AddServer(ctx, cc, srv.ID, "default").ExtractErr())
	page, err := groups.List(nc, groups.ListOpts{Name: "default"}).AllPages(ctx)
	must(t, err)
	defaults, err := groups.ExtractGroups(page)
	must(t, err)
	defaultID := defaults[0].ID
	for _, p := range serverPorts(t, nc, srv.ID) {
		if len(p.SecurityGroups) != 2 || !slices.Contains(p.SecurityGroups, defaultID) || !slices.Contains(p.SecurityGroups, web.ID) {
			t.Fatalf("port %s after addSecurityGroup: %v", p.ID, p.SecurityGroups)
		}
	}
	must(t, secgroups.AddServer(ctx, cc, srv.ID, defaultID).ExtractErr()) // by id, and again: a no-op
	page, err = secgroups.ListByServer(cc, srv.ID).AllPages(ctx)
	must(t, err)
	listed, err := secgroups.ExtractSecurityGroups(page)
	must(t, err)
	if len(listed) != 2 || listed[0].Name != "default" || listed[1].Name != "web" {
		t.Fatalf("os-security-groups: %+v", listed)
	}
	// The default group's ingress rules admit its own members, by name.
	if r := listed[0].Rules; len(r) != 2 || r[0].Group.Name != "default" || r[0].ParentGroupID != defaultID || r[0].IPRange.CIDR != "" {
		t.Fatalf("default group rules in Nova's view: %+v", r)
	}
	if g, err := secgroups.Get(ctx, cc, web.ID).Extract(); err != nil || g.Name != "web" || g.TenantID != web.TenantID {
		t.Fatalf("os-security-groups/%s: %+v, %v", web.ID, g, err)
	}
	if err := secgroups.AddServer(ctx, cc, srv.ID, "nope").ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("adding an unknown group: %v", err)
	}
	changed := cloud.Server.Network.Changed()
	must(t, secgroups.RemoveServer(ctx, cc, srv.ID, "web").ExtractErr())
	for _, p := range serverPorts(t, nc, srv.ID) {
		if len(p.SecurityGroups) != 1 || p.SecurityGroups[0] != defaultID {
			t.Fatalf("port %s after removeSecurityGroup: %v", p.ID, p.SecurityGroups)
		}
	}
	// The change wakes the dataplane loop, which gives the server's host
	// the ports' new groups.
	select {
	case <-changed:
	default:
		t.Fatal("removeSecurityGroup did not signal the dataplane loop")
	}
	ac, err := openstack.NewComputeV2(cloud.Admin(t), gophercloud.EndpointOpts{})
	must(t, err)
	host, err := servers.Get(ctx, ac, srv.ID).Extract()
	must(t, err)
	rec := &recorder{}
	loop := &network.Dataplanes{Network: cloud.Server.Network,
		Hosts: func(context.Context) ([]network.Host, error) {
			return []network.Host{{Name: host.Host, URI: "qemu:///system"}}, nil
		},
		Applier: func(network.Host) dataplane.Applier { return rec }}
	must(t, loop.RunOnce(ctx))
	if len(rec.last.Ports) != 2 || len(rec.last.SecurityGroups) != 1 || rec.last.SecurityGroups[0].ID != defaultID {
		t.Fatalf("dataplane state after removeSecurityGroup: ports %+v, groups %+v", rec.last.Ports, rec.last.SecurityGroups)
	}
	for _, p := range rec.last.Ports {
		if !slices.Equal(p.SecurityGroups, []string{defaultID}) {
			t.Fatalf("dataplane port %s has groups %v", p.ID, p.SecurityGroups)
		}
	}
	if got, _ := servers.Get(ctx, cc, srv.ID).Extract(); len(got.SecurityGroups) != 1 || got.SecurityGroups[0]["name"] != "default" {
		t.Fatalf("server security groups after remove: %v", got.SecurityGroups)
	}
	if err := secgroups.RemoveServer(ctx, cc, srv.ID, "web").ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("removing a group the server is not in: %v", err)
	}

	// A port without port security refuses groups, and then no port changes.
	off := false
	open, err := ports.Create(ctx, nc, portsecurity.PortCreateOptsExt{CreateOptsBuilder: ports.CreateOpts{NetworkID: net.ID}, PortSecurityEnabled: &off}).Extract()
	must(t, err)
	_, err = attachinterfaces.Create(ctx, cc, srv.ID, attachinterfaces.CreateOpts{PortID: open.ID}).Extract()
	must(t, err)
	if err := secgroups.AddServer(ctx, cc, srv.ID, "web").ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Fatalf("adding a group to a port without port security: %v", err)
	}
	for _, p := range serverPorts(t, nc, srv.ID) {
		if p.ID != open.ID && (len(p.SecurityGroups) != 1 || p.SecurityGroups[0] != defaultID) {
			t.Fatalf("port %s changed by a refused addSecurityGroup: %v", p.ID, p.SecurityGroups)
		}
	}

	// A server without ports has no groups to change.
	bare := cloud.Member(t, "bare")
	bc, err := openstack.NewComputeV2(bare, gophercloud.EndpointOpts{})
	must(t, err)
	lone, err := servers.Create(ctx, bc, servers.CreateOpts{Name: "lone", ImageRef: imageID, FlavorRef: "42"}, nil).Extract()
	must(t, err)
	waitActive(t, bc, lone.ID)
	if err := secgroups.AddServer(ctx, bc, lone.ID, "default").ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("adding a group to a server without ports: %v", err)
	}
}

// A server's NICs follow its create request's "networks", as Nova orders
// them, even when a port passed in was created before the others.
func TestServerNICOrder(t *testing.T) {
	cloud := cloudtest.Start(t)
	imageID := bootImage(t, cloud)
	pc := cloud.Member(t, "nicorder")
	nc := networkV2(t, pc)
	cc, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{})
	must(t, err)
	first, _ := newNet(t, nc, "first", "10.56.0.0/24")
	second, _ := newNet(t, nc, "second", "10.57.0.0/24")
	early, err := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: second.ID}).Extract()
	must(t, err)
	srv, err := servers.Create(ctx, cc, servers.CreateOpts{Name: "ordered", ImageRef: imageID, FlavorRef: "42",
		Networks: []servers.Network{{UUID: first.ID}, {Port: early.ID}}}, nil).Extract()
	must(t, err)
	waitActive(t, cc, srv.ID)

	page, err := attachinterfaces.List(cc, srv.ID).AllPages(ctx)
	must(t, err)
	list, err := attachinterfaces.ExtractInterfaces(page)
	must(t, err)
	if len(list) != 2 || list[0].NetID != first.ID || list[1].PortID != early.ID {
		t.Fatalf("interfaces %+v, want one on %s then port %s", list, first.ID, early.ID)
	}
	// The NICs the host's domain is built from, in the same order.
	var binding struct {
		HostID string `json:"binding:host_id"`
	}
	must(t, ports.Get(ctx, networkV2(t, cloud.Admin(t)), early.ID).ExtractInto(&binding))
	nics, err := cloud.Server.Network.BindServer(ctx, srv.ID, binding.HostID)
	must(t, err)
	if len(nics) != 2 || nics[0].NetworkID != first.ID || nics[1].PortID != early.ID {
		t.Fatalf("NICs %+v, want one on %s then port %s", nics, first.ID, early.ID)
	}
}
