package dataplane

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestLinuxDataplaneVXLAN stretches a tenant network to a second host over
// VXLAN. The second host is a namespace wired by hand as its own dataplane
// would (bridge, vxlan device flooding to this host), with a guest on it;
// the guest here is protected by this host's ingress rules.
func TestLinuxDataplaneVXLAN(t *testing.T) {
	requireHostNetworking(t)
	ctx := context.Background()
	l := newTestLinux(t)

	// The underlay: a veth between this host and host B.
	octet := rand.IntN(256)
	local := netip.MustParseAddr(fmt.Sprintf("198.18.%d.1", octet))
	remote := netip.MustParseAddr(fmt.Sprintf("198.18.%d.2", octet))
	hostB, underlay := "hb"+randomHex(6), "ul"+randomHex(8)
	mustRun(t, "ip", "netns", "add", hostB)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", hostB).Run() })
	mustRun(t, "ip", "link", "add", underlay, "type", "veth", "peer", "name", "eth0", "netns", hostB)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", underlay).Run() })
	mustRun(t, "ip", "address", "add", local.String()+"/24", "dev", underlay)
	mustRun(t, "ip", "link", "set", underlay, "up")
	mustRun(t, "ip", "-n", hostB, "address", "add", remote.String()+"/24", "dev", "eth0")
	mustRun(t, "ip", "-n", hostB, "link", "set", "eth0", "up")

	vni := 1000 + rand.IntN(1<<23)
	cidr := netip.MustParsePrefix(fmt.Sprintf("10.%d.%d.0/24", 100+rand.IntN(100), rand.IntN(256)))
	web := SecurityGroup{ID: newID(), Rules: []Rule{
		{ID: newID(), Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", PortMin: 8080, PortMax: 8080}}}
	tenant := Network{ID: newID(), MTU: 1450, VNI: vni, TunnelPeers: []netip.Addr{remote},
		Subnets: []Subnet{{ID: newID(), CIDR: cidr}}}
	p1 := Port{ID: newID(), NetworkID: tenant.ID, MAC: newMAC(), PortSecurity: true,
		FixedIPs: []netip.Addr{hostAddr(cidr, 11)}, SecurityGroups: []string{web.ID}}
	state := State{TunnelIP: local, Networks: []Network{tenant}, Ports: []Port{p1}, SecurityGroups: []SecurityGroup{web}}
	if err := l.Apply(ctx, state); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if err := l.Apply(ctx, state); err != nil {
		t.Fatalf("second apply: %v", err)
	}

	// Host B: the same segment on its own bridge, flooding to this host.
	b := func(args ...string) { mustRun(t, "ip", append([]string{"-n", hostB}, args...)...) }
	b("link", "add", "br0", "type", "bridge")
	b("link", "add", "vx0", "type", "vxlan", "id", strconv.Itoa(vni), "local", remote.String(), "dstport", "4789")
	mustRun(t, "bridge", "-n", hostB, "fdb", "append", "00:00:00:00:00:00", "dev", "vx0", "dst", local.String())
	b("link", "set", "vx0", "master", "br0", "mtu", "1450", "up")
	b("link", "set", "br0", "up")
	g3 := "g3" + randomHex(6)
	mustRun(t, "ip", "netns", "add", g3)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", g3).Run() })
	b("link", "add", "tapg3", "type", "veth", "peer", "name", "eth0", "netns", g3)
	b("link", "set", "tapg3", "master", "br0", "up")
	ip3 := hostAddr(cidr, 13).String()
	mustRun(t, "ip", "-n", g3, "address", "add", ip3+"/24", "dev", "eth0")
	mustRun(t, "ip", "-n", g3, "link", "set", "eth0", "mtu", "1450", "up")

	g1 := "g1" + randomHex(6)
	addGuest(t, g1, TapName(p1.ID), BridgeName(tenant.ID), p1.MAC)
	ip1 := p1.FixedIPs[0].String()
	mustRun(t, "ip", "-n", g1, "address", "add", ip1+"/24", "dev", "eth0")
	serve(t, g1, ip1+":8080")
	serve(t, g1, ip1+":9090")

	c, err := connect(t, g3, "", ip1+":8080")
	if err != nil {
		t.Fatalf("from host B's guest over VXLAN: %v", err)
	}
	c.Close()
	if c.Seen != ip3 {
		t.Errorf("guest 1 saw host B's guest as %s", c.Seen)
	}
	if !blocked(t, g3, "", ip1+":9090") {
		t.Fatal("tcp/9090 is open to host B's guest although no rule allows it")
	}

	// The flood list follows the peers; an empty state removes the device.
	tenant.TunnelPeers = []netip.Addr{netip.MustParseAddr("198.51.100.7")}
	state.Networks = []Network{tenant}
	if err := l.Apply(ctx, state); err != nil {
		t.Fatalf("apply with other peers: %v", err)
	}
	fdb := mustRun(t, "bridge", "fdb", "show", "dev", vxlanName(vni))
	if !strings.Contains(fdb, "00:00:00:00:00:00 dst 198.51.100.7 ") || strings.Contains(fdb, "00:00:00:00:00:00 dst "+remote.String()+" ") {
		t.Errorf("flood list after the peer change:\n%s", fdb)
	}
	if err := l.Apply(ctx, State{}); err != nil {
		t.Fatal(err)
	}
	if exec.Command("ip", "link", "show", vxlanName(vni)).Run() == nil {
		t.Errorf("%s outlived its network", vxlanName(vni))
	}
}
