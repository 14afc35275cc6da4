package neutron_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor/hypervisortest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// webServer is the guest's user data: two web servers, on 8080 (opened by
// the test's security group) and 8081 (opened only later, live).
const webServer = `#!/bin/sh
mkdir -p /www && echo STRATUS-WEB-OK >/www/index.html
busybox httpd -p 8080 -h /www && busybox httpd -p 8081 -h /www && echo STRATUS-HTTPD-UP
`

var guestDHCP = regexp.MustCompile(`stratus-guest: dhcp eth0 (\S+)/\d+`)

// TestRealGuestNetworking drives the whole networking stack the way a user
// does: through the APIs, a real QEMU guest on a tenant network behind a
// router, with this machine's dataplane. The guest gets its IPAM address by
// DHCP; from the host, through the floating IP, the port its security group
// opens answers, another port is blocked until a rule added live opens it,
// and disassociating the floating IP cuts the path again.
func TestRealGuestNetworking(t *testing.T) {
	hypervisortest.RequireSystemLibvirt(t)
	requireRoot(t)
	cloud := cloudtest.Start(t, cloudtest.Options{Hosts: []string{"qemu:///system"}, Dataplane: true})
	admin := cloud.Admin(t)
	nc := networkV2(t, admin)
	cc, err := openstack.NewComputeV2(admin, gophercloud.EndpointOpts{})
	must(t, err)

	// Random ranges, so parallel test clouds on this machine never overlap.
	extCIDR := fmt.Sprintf("100.%d.%d.0/24", 64+rand.IntN(64), rand.IntN(256))
	iTrue := true
	ext, err := networks.Create(ctx, nc, external.CreateOptsExt{CreateOptsBuilder: networks.CreateOpts{Name: "public"}, External: &iTrue}).Extract()
	must(t, err)
	_, err = subnets.Create(ctx, nc, subnets.CreateOpts{NetworkID: ext.ID, CIDR: extCIDR, IPVersion: gophercloud.IPv4}).Extract()
	must(t, err)
	tenant, sub := newNet(t, nc, "tenant", fmt.Sprintf("10.%d.%d.0/24", rand.IntN(256), rand.IntN(256)))
	router, err := routers.Create(ctx, nc, routers.CreateOpts{Name: "r1", GatewayInfo: &routers.GatewayInfo{NetworkID: ext.ID}}).Extract()
	must(t, err)
	_, err = routers.AddInterface(ctx, nc, router.ID, routers.AddInterfaceOpts{SubnetID: sub.ID}).Extract()
	must(t, err)

	web, err := groups.Create(ctx, nc, groups.CreateOpts{Name: "web"}).Extract()
	must(t, err)
	allowTCP := func(port int) {
		_, err := rules.Create(ctx, nc, rules.CreateOpts{SecGroupID: web.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
			Protocol: rules.ProtocolTCP, PortRangeMin: port, PortRangeMax: port, RemoteIPPrefix: "0.0.0.0/0"}).Extract()
		must(t, err)
	}
	allowTCP(8080)
	port, err := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: tenant.ID, SecurityGroups: &[]string{web.ID}}).Extract()
	must(t, err)

	id := bootGuest(t, admin, cc, port.ID)
	console := waitConsole(t, cc, id, "STRATUS-HTTPD-UP")
	if m := guestDHCP.FindStringSubmatch(console); m == nil || m[1] != port.FixedIPs[0].IPAddress {
		t.Fatalf("the guest's DHCP lease is %v, want the port's IPAM address %s; console:\n%s", m, port.FixedIPs[0].IPAddress, console)
	}

	fip, err := floatingips.Create(ctx, nc, floatingips.CreateOpts{FloatingNetworkID: ext.ID, PortID: port.ID}).Extract()
	must(t, err)
	addr := fip.FloatingIP
	waitReachable(t, addr, 8080, true)
	if get(addr, 8081) == nil {
		t.Fatalf("port 8081 answers through %s although no rule opens it", addr)
	}
	allowTCP(8081)
	waitReachable(t, addr, 8081, true)

	_, err = floatingips.Update(ctx, nc, fip.ID, floatingips.UpdateOpts{PortID: new(string)}).Extract()
	must(t, err)
	waitReachable(t, addr, 8080, false)
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the dataplane test runs as root in CI")
		}
		t.Skip("the dataplane needs root")
	}
}

// bootGuest starts the tiny guest with the web servers on a port and
// returns its id once ACTIVE; the server is deleted when the test ends.
func bootGuest(t *testing.T, admin *gophercloud.ProviderClient, cc *gophercloud.ServiceClient, portID string) string {
	t.Helper()
	ic, err := openstack.NewImageV2(admin, gophercloud.EndpointOpts{})
	must(t, err)
	img, err := images.Create(ctx, ic, images.CreateOpts{Name: "tiny", DiskFormat: "qcow2", ContainerFormat: "bare"}).Extract()
	must(t, err)
	must(t, imagedata.Upload(ctx, ic, img.ID, bytes.NewReader(testenv.TinyGuestImage(t))).ExtractErr())
	flavor, err := flavors.Create(ctx, cc, flavors.CreateOpts{Name: "guest", VCPUs: 1, RAM: 256, Disk: gophercloud.IntToPointer(1)}).Extract()
	must(t, err)
	srv, err := servers.Create(ctx, cc, servers.CreateOpts{Name: "web", ImageRef: img.ID, FlavorRef: flavor.ID,
		UserData: []byte(webServer), Networks: []servers.Network{{Port: portID}}}, nil).Extract()
	must(t, err)
	t.Cleanup(func() {
		if servers.Delete(ctx, cc, srv.ID).ExtractErr() == nil {
			waitServer(t, cc, srv.ID, "DELETED")
		}
	})
	waitServer(t, cc, srv.ID, "ACTIVE")
	return srv.ID
}

func waitServer(t *testing.T, cc *gophercloud.ServiceClient, id, status string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		s, err := servers.Get(ctx, cc, id).Extract()
		if gophercloud.ResponseCodeIs(err, http.StatusNotFound) && status == "DELETED" {
			return
		}
		if err == nil && s.Status == status {
			return
		}
		if err == nil && s.Status == "ERROR" || time.Now().After(deadline) {
			t.Fatalf("server %s never became %s (last: %+v, %v)", id, status, s, err)
		}
	}
}

func waitConsole(t *testing.T, cc *gophercloud.ServiceClient, id, want string) string {
	t.Helper()
	var out string
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(out, want); time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the console never showed %q:\n%s", want, out)
		}
		out, _ = servers.ShowConsoleOutput(ctx, cc, id, servers.ShowConsoleOutputOpts{}).Extract()
	}
	return out
}

// get fetches the guest's page on port, from this host.
func get(addr string, port int) error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://%s:%d/", addr, port))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && !strings.Contains(string(body), "STRATUS-WEB-OK") {
		err = fmt.Errorf("unexpected answer %q", body)
	}
	return err
}

// waitReachable waits until the guest's port answers (or stops answering).
func waitReachable(t *testing.T, addr string, port int, want bool) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(time.Minute); ; {
		if err = get(addr, port); (err == nil) == want {
			return
		}
		if time.Now().After(deadline) {
			routes, _ := exec.Command("ip", "route").CombinedOutput()
			t.Fatalf("%s:%d reachable=%v, want %v (last: %v); host routes:\n%s", addr, port, err == nil, want, err, routes)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
