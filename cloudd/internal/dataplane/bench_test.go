package dataplane

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
)

// groupOf200Rules mixes what real groups hold: single ports and ranges,
// prefixes, ICMP, IPv6 and remote groups.
func groupOf200Rules(id string) SecurityGroup {
	g := SecurityGroup{ID: id}
	members := []netip.Addr{netip.MustParseAddr("10.1.0.5"), netip.MustParseAddr("10.1.0.6"), netip.MustParseAddr("10.1.0.7")}
	for i := range 200 {
		r := Rule{ID: fmt.Sprintf("r%d", i), Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", PortMin: 1000 + i, PortMax: 1000 + i}
		switch i % 5 {
		case 1:
			r.Protocol, r.PortMax = "udp", 2000+i
			r.RemotePrefix = netip.MustParsePrefix(fmt.Sprintf("172.16.%d.0/24", i))
		case 2:
			r.EtherType, r.RemotePrefix = "IPv6", netip.MustParsePrefix(fmt.Sprintf("2001:db8:%x::/48", i))
		case 3:
			r.RemoteGroupID, r.RemoteAddrs = id, members
		case 4:
			r.Direction, r.Protocol, r.PortMin, r.PortMax = "egress", "icmp", 8, -1
		}
		g.Rules = append(g.Rules, r)
	}
	return g
}

// BenchmarkApplySecurityGroup200Rules is the time to apply a state whose one
// port uses a group of 200 rules, one rule changing on every apply (the
// whole Apply: bridge check, nftables transaction, records).
func BenchmarkApplySecurityGroup200Rules(b *testing.B) {
	requireHostNetworking(b)
	ctx := context.Background()
	l := newTestLinux(b)
	netID := newID()
	g := groupOf200Rules(newID())
	s := State{
		Networks: []Network{{ID: netID, MTU: 1500, Subnets: []Subnet{{ID: newID(), CIDR: netip.MustParsePrefix("10.1.0.0/24")}}}},
		Ports: []Port{{ID: newID(), NetworkID: netID, MAC: newMAC(), PortSecurity: true,
			FixedIPs: []netip.Addr{netip.MustParseAddr("10.1.0.5")}, SecurityGroups: []string{g.ID}}},
		SecurityGroups: []SecurityGroup{g},
	}
	if err := l.Apply(ctx, s); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		g.Rules[0].PortMin, g.Rules[0].PortMax = 3000+i%1000, 3000+i%1000
		if err := l.Apply(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/apply")
}
