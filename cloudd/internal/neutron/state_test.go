package neutron_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/cloudd/internal/dataplane"
	"github.com/stratus-cloud/stratus/cloudd/internal/network"
)

// bindPort binds a port to host as compute does, through the API's
// binding:host_id (admin only).
func bindPort(t testing.TB, admin *gophercloud.ServiceClient, portID, host string) {
	t.Helper()
	status, body := raw(t, admin, "PUT", "ports/"+portID, map[string]any{"port": map[string]any{"binding:host_id": host}}, nil)
	if status != 200 {
		t.Fatalf("binding port: %d %s", status, body)
	}
}

// recorder is a dataplane that remembers the last state it was given.
type recorder struct {
	mu    sync.Mutex
	last  dataplane.State
	calls int
}

func (r *recorder) Apply(_ context.Context, s dataplane.State) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last, r.calls = s, r.calls+1
	return nil
}

func TestHostState(t *testing.T) {
	cloud, admin := startCloud(t)
	public, _ := externalNet(t, admin, "198.51.100.0/24")
	n, s := newNet(t, admin, "app", "10.70.0.0/24")
	web, err := groups.Create(ctx, admin, groups.CreateOpts{Name: "web"}).Extract()
	must(t, err)
	_, err = rules.Create(ctx, admin, rules.CreateOpts{SecGroupID: web.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
		Protocol: rules.ProtocolTCP, PortRangeMin: 22, PortRangeMax: 22, RemoteGroupID: web.ID}).Extract()
	must(t, err)
	// ICMP: type 0 is echo-reply, not any; an unset type or code is any.
	icmpRules := map[string][2]int{}
	for _, tc := range []struct {
		min  any
		want [2]int
	}{{0, [2]int{0, -1}}, {nil, [2]int{-1, -1}}} {
		status, body := raw(t, admin, "POST", "security-group-rules", map[string]any{"security_group_rule": map[string]any{
			"security_group_id": web.ID, "direction": "ingress", "ethertype": "IPv4", "protocol": "icmp", "port_range_min": tc.min}}, nil)
		var created struct {
			SecurityGroupRule rules.SecGroupRule `json:"security_group_rule"`
		}
		if status != http.StatusCreated || json.Unmarshal(body, &created) != nil {
			t.Fatalf("icmp rule: %d %s", status, body)
		}
		icmpRules[created.SecurityGroupRule.ID] = tc.want
	}
	here, err := ports.Create(ctx, admin, ports.CreateOpts{NetworkID: n.ID, SecurityGroups: &[]string{web.ID}}).Extract()
	must(t, err)
	elsewhere, err := ports.Create(ctx, admin, ports.CreateOpts{NetworkID: n.ID, SecurityGroups: &[]string{web.ID}}).Extract()
	must(t, err)
	bindPort(t, admin, here.ID, "hostA")
	bindPort(t, admin, elsewhere.ID, "hostB")
	rt, err := routers.Create(ctx, admin, routers.CreateOpts{Name: "edge", GatewayInfo: &routers.GatewayInfo{NetworkID: public.ID}}).Extract()
	must(t, err)
	_, err = routers.AddInterface(ctx, admin, rt.ID, routers.AddInterfaceOpts{SubnetID: s.ID}).Extract()
	must(t, err)
	fip, err := floatingips.Create(ctx, admin, floatingips.CreateOpts{FloatingNetworkID: public.ID, PortID: here.ID}).Extract()
	must(t, err)

	// The loop hands hostA's state to its dataplane; simulated hosts get none.
	rec := &recorder{}
	loop := &network.Dataplanes{Network: cloud.Server.Network,
		Hosts: func(context.Context) ([]network.Host, error) {
			return []network.Host{{Name: "hostA", URI: "qemu+ssh://hostA/system"}, {Name: "sim", URI: "test:///default"}}, nil
		},
		Applier: func(h network.Host) dataplane.Applier {
			if h.Name == "hostA" {
				return rec
			}
			return nil
		}}
	must(t, loop.RunOnce(ctx))
	st := rec.last
	if rec.calls != 1 || len(st.Ports) != 1 || st.Ports[0].ID != here.ID || !st.Ports[0].PortSecurity ||
		st.Ports[0].FixedIPs[0] != netip.MustParseAddr(here.FixedIPs[0].IPAddress) || st.Ports[0].MAC != here.MACAddress {
		t.Fatalf("ports of hostA: %+v (%d applies)", st.Ports, rec.calls)
	}
	if len(st.Networks) != 2 || len(st.Routers) != 1 || len(st.FloatingIPs) != 1 || len(st.SecurityGroups) != 1 {
		t.Fatalf("state of hostA: %+v", st)
	}
	for _, net := range st.Networks {
		if net.ID == n.ID && (len(net.Subnets) != 1 || net.Subnets[0].Gateway != netip.MustParseAddr("10.70.0.1") || !net.Subnets[0].DHCP) {
			t.Fatalf("network %+v", net)
		}
		if net.ID == public.ID && !net.External {
			t.Fatalf("external network %+v", net)
		}
	}
	r := st.Routers[0]
	if r.ID != rt.ID || !r.SNAT || r.ExternalNetworkID != public.ID || !r.Gateway.IsValid() || len(r.Interfaces) != 1 ||
		r.Interfaces[0].IP != netip.MustParsePrefix("10.70.0.1/24") {
		t.Fatalf("router %+v", r)
	}
	if f := st.FloatingIPs[0]; f.ID != fip.ID || f.RouterID != rt.ID || f.PortID != here.ID || f.FixedIP != st.Ports[0].FixedIPs[0] {
		t.Fatalf("floating ip %+v", f)
	}
	// The remote group resolves to both members' addresses, wherever they run.
	var ssh *dataplane.Rule
	for i, rule := range st.SecurityGroups[0].Rules {
		if rule.Protocol == "tcp" {
			ssh = &st.SecurityGroups[0].Rules[i]
		}
	}
	if ssh == nil || ssh.PortMin != 22 || ssh.PortMax != 22 || ssh.RemoteGroupID != web.ID || len(ssh.RemoteAddrs) != 2 {
		t.Fatalf("ssh rule %+v in %+v", ssh, st.SecurityGroups)
	}
	for _, rule := range st.SecurityGroups[0].Rules {
		if want, ok := icmpRules[rule.ID]; ok && [2]int{rule.PortMin, rule.PortMax} != want {
			t.Fatalf("icmp rule %+v, want type and code %v", rule, want)
		}
	}

	// A server build applies its host's dataplane at once (Service.OnBind).
	must(t, loop.ApplyHost(ctx, "sim"))
	must(t, loop.ApplyHost(ctx, "hostA"))
	if rec.calls != 2 {
		t.Fatalf("%d applies after ApplyHost, want 2", rec.calls)
	}

	// A change wakes the loop without waiting for the resync.
	loop.Interval = time.Hour
	lctx, cancel := context.WithCancel(ctx)
	l := loop.Loop()
	l.Start(lctx)
	defer func() { cancel(); l.Stop() }()
	must(t, ports.Delete(ctx, admin, elsewhere.ID).ExtractErr())
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec.mu.Lock()
		addrs := 0
		for _, rule := range rec.last.SecurityGroups[0].Rules {
			if rule.Protocol == "tcp" {
				addrs = len(rule.RemoteAddrs)
			}
		}
		rec.mu.Unlock()
		if addrs == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dataplane was not told that a remote group member went away")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkHostState200Rules measures the API side of applying a security
// group of 200 rules to a port: computing the host's desired state.
func BenchmarkHostState200Rules(b *testing.B) {
	cloud := cloudtest.Start(b)
	admin := networkV2(b, cloud.Admin(b))
	n, _ := newNet(b, admin, "bench", "10.80.0.0/24")
	_, err := quotas.Update(ctx, admin, n.ProjectID, quotas.UpdateOpts{SecurityGroupRule: gophercloud.IntToPointer(-1)}).Extract()
	must(b, err)
	g, err := groups.Create(ctx, admin, groups.CreateOpts{Name: "big"}).Extract()
	must(b, err)
	for i := range 198 { // plus the two default egress rules
		_, err := rules.Create(ctx, admin, rules.CreateOpts{SecGroupID: g.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
			Protocol: rules.ProtocolTCP, PortRangeMin: 1000 + i, PortRangeMax: 1000 + i}).Extract()
		must(b, err)
	}
	p, err := ports.Create(ctx, admin, ports.CreateOpts{NetworkID: n.ID, SecurityGroups: &[]string{g.ID}}).Extract()
	must(b, err)
	bindPort(b, admin, p.ID, "hostA")
	b.ResetTimer()
	for b.Loop() {
		st, err := cloud.Server.Network.HostState(ctx, "hostA")
		if err != nil || len(st.SecurityGroups) != 1 || len(st.SecurityGroups[0].Rules) != 200 {
			b.Fatalf("state: %v, %+v", err, st.SecurityGroups)
		}
	}
}
