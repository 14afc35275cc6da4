package dataplane

import (
	"net/netip"
	"os/exec"
	"strings"
	"testing"
)

func TestRuleMatch(t *testing.T) {
	p := netip.MustParsePrefix
	a := netip.MustParseAddr
	for _, tc := range []struct {
		name string
		rule Rule
		want string // "" matches nothing
		err  bool
	}{
		{"any ipv4", Rule{Direction: "ingress", EtherType: "IPv4"}, "meta nfproto ipv4", false},
		{"tcp port", Rule{Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", PortMin: 22, PortMax: 22},
			"meta nfproto ipv4 meta l4proto 6 th dport 22", false},
		{"udp range from prefix", Rule{Direction: "ingress", EtherType: "IPv4", Protocol: "udp", PortMin: 5000, PortMax: 5100, RemotePrefix: p("192.0.2.7/24")},
			"meta nfproto ipv4 meta l4proto 17 th dport 5000-5100 ip saddr 192.0.2.0/24", false},
		{"egress to prefix", Rule{Direction: "egress", EtherType: "IPv4", Protocol: "6", RemotePrefix: p("10.0.0.0/8")},
			"meta nfproto ipv4 meta l4proto 6 ip daddr 10.0.0.0/8", false},
		{"any prefix is no match clause", Rule{Direction: "ingress", EtherType: "IPv4", RemotePrefix: p("0.0.0.0/0")},
			"meta nfproto ipv4", false},
		{"icmp type and code", Rule{Direction: "ingress", EtherType: "IPv4", Protocol: "icmp", PortMin: 8, PortMax: 3},
			"meta nfproto ipv4 meta l4proto icmp icmp type 8 icmp code 3", false},
		{"icmp any", Rule{Direction: "ingress", EtherType: "IPv4", Protocol: "icmp", PortMin: -1, PortMax: -1},
			"meta nfproto ipv4 meta l4proto icmp", false},
		{"icmp on ipv6 is icmpv6", Rule{Direction: "ingress", EtherType: "IPv6", Protocol: "icmp", PortMin: 128, PortMax: -1},
			"meta nfproto ipv6 meta l4proto icmpv6 icmpv6 type 128", false},
		{"icmp echo-reply is type 0", Rule{Direction: "ingress", EtherType: "IPv4", Protocol: "icmp", PortMin: 0, PortMax: -1},
			"meta nfproto ipv4 meta l4proto icmp icmp type 0", false},
		{"icmp code 0", Rule{Direction: "ingress", EtherType: "IPv4", Protocol: "icmp", PortMin: 3, PortMax: 0},
			"meta nfproto ipv4 meta l4proto icmp icmp type 3 icmp code 0", false},
		{"named protocol", Rule{Direction: "ingress", EtherType: "IPv4", Protocol: "gre"}, "meta nfproto ipv4 meta l4proto 47", false},
		{"remote group", Rule{Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", PortMin: 80, RemoteGroupID: "g",
			RemoteAddrs: []netip.Addr{a("10.0.0.5"), a("2001:db8::5"), a("10.0.0.6")}},
			"meta nfproto ipv4 meta l4proto 6 th dport 80 ip saddr { 10.0.0.5, 10.0.0.6 }", false},
		{"remote group without members", Rule{Direction: "ingress", EtherType: "IPv4", RemoteGroupID: "g"}, "", false},
		{"prefix of the other family", Rule{Direction: "ingress", EtherType: "IPv6", RemotePrefix: p("10.0.0.0/8")}, "", false},
		{"unknown protocol", Rule{Direction: "ingress", EtherType: "IPv4", Protocol: "carrier-pigeon"}, "", true},
		{"icmpv6 on ipv4", Rule{Direction: "ingress", EtherType: "IPv4", Protocol: "icmpv6"}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ruleMatch(tc.rule)
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error: %v", err, tc.err)
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestFirewallRulesetParses has nft check (not load) a ruleset with every
// kind of rule, IPv6 ports and several groups: what the host test does not
// exercise must still be valid nftables.
func TestFirewallRulesetParses(t *testing.T) {
	requireHostNetworking(t)
	g := groupOf200Rules("g-1")
	other := SecurityGroup{ID: "g-2", Rules: []Rule{
		{ID: "a", Direction: "ingress", EtherType: "IPv6", Protocol: "icmpv6", PortMin: 135, PortMax: -1},
		{ID: "b", Direction: "egress", EtherType: "IPv6"},
		{ID: "c", Direction: "ingress", EtherType: "IPv4", Protocol: "vrrp"},
		{ID: "d", Direction: "ingress", EtherType: "IPv4", Protocol: "sctp", PortMin: 9000, PortMax: 9010},
		{ID: "e", Direction: "ingress", EtherType: "IPv4", Protocol: "bogus"},
	}}
	s := State{
		Networks: []Network{{ID: "n-1"}, {ID: "ext", External: true}},
		Ports: []Port{
			{ID: "p-1", NetworkID: "n-1", MAC: "fa:16:3e:00:00:01", PortSecurity: true, SecurityGroups: []string{"g-1", "g-2"},
				FixedIPs: []netip.Addr{netip.MustParseAddr("10.1.0.5"), netip.MustParseAddr("2001:db8::5")}},
			{ID: "p-2", NetworkID: "n-1", MAC: "fa:16:3e:00:00:02", PortSecurity: true, SecurityGroups: []string{"g-2", "missing"}},
			{ID: "p-3", NetworkID: "n-1", MAC: "fa:16:3e:00:00:03", FixedIPs: []netip.Addr{netip.MustParseAddr("10.1.0.7")}},
			{ID: "p-4", NetworkID: "n-1", MAC: "fa:16:3e:00:00:04", PortSecurity: true, FixedIPs: []netip.Addr{netip.MustParseAddr("10.1.0.8")},
				AllowedAddressPairs: []AddressPair{ // a VRRP address shared with p-5, and overlapping prefixes
					{IP: netip.MustParsePrefix("10.1.0.100/32"), MAC: "00:00:5e:00:01:07"},
					{IP: netip.MustParsePrefix("10.1.0.0/28")}, {IP: netip.MustParsePrefix("2001:db8:1::/64")}}},
			{ID: "p-5", NetworkID: "n-1", MAC: "fa:16:3e:00:00:05", PortSecurity: true, FixedIPs: []netip.Addr{netip.MustParseAddr("10.1.0.9")},
				AllowedAddressPairs: []AddressPair{{IP: netip.MustParsePrefix("10.1.0.100/32"), MAC: "00:00:5e:00:01:07"}}},
		},
		SecurityGroups: []SecurityGroup{g, other},
	}
	ruleset, skipped := firewallRuleset("stratus_check", s)
	if skipped == nil || !strings.Contains(skipped.Error(), `"bogus"`) || !strings.Contains(skipped.Error(), "missing") {
		t.Errorf("skipped rules reported as %v", skipped)
	}
	if strings.Contains(ruleset, "p-3") {
		t.Error("a port without port security got chains")
	}
	cmd := exec.Command("nft", "-c", "-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft -c: %v\n%s", err, out)
	}
}

func TestDnsmasqConf(t *testing.T) {
	sn := Subnet{ID: "s1", CIDR: netip.MustParsePrefix("10.0.0.0/24"), Gateway: netip.MustParseAddr("10.0.0.1"), DHCP: true,
		HostRoutes: []Route{{Destination: netip.MustParsePrefix("192.168.0.0/16"), NextHop: netip.MustParseAddr("10.0.0.254")}}}
	noGateway := Subnet{ID: "s2", CIDR: netip.MustParsePrefix("10.0.1.0/24"), DHCP: true}
	n := Network{ID: "net1", MTU: 1450, Subnets: []Subnet{sn, noGateway}}
	ports := []Port{
		{ID: "p1", NetworkID: "net1", MAC: "fa:16:3e:00:00:01", FixedIPs: []netip.Addr{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("10.0.0.5")}},
		{ID: "p2", NetworkID: "other", MAC: "fa:16:3e:00:00:02", FixedIPs: []netip.Addr{netip.MustParseAddr("10.0.0.6")}},
	}
	conf := dnsmasqConf("/state/dhcp/net1", n, dhcpSubnets(n), ports)
	for _, want := range []string{
		"dhcp-range=set:subnet0,10.0.0.0,static,255.255.255.0,86400s\n",
		"dhcp-option=tag:subnet0,option:router,10.0.0.1\n",
		"dhcp-option=tag:subnet0,option:classless-static-route,192.168.0.0/16,10.0.0.254,0.0.0.0/0,10.0.0.1\n",
		"dhcp-option=tag:subnet1,option:router\n", // no gateway: no default route
		"dhcp-option=tag:subnet1,option:dns-server\n",
		"dhcp-option=tag:subnet0,option:mtu,1450\n",
		"dhcp-host=fa:16:3e:00:00:01,10.0.0.5\n",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("configuration lacks %q:\n%s", want, conf)
		}
	}
	if strings.Contains(conf, "fa:16:3e:00:00:02") {
		t.Error("a port of another network got a host entry")
	}
}

func TestHighestFree(t *testing.T) {
	used := map[netip.Addr]bool{netip.MustParseAddr("10.0.0.254"): true}
	if got := highestFree(netip.MustParsePrefix("10.0.0.0/24"), used); got != netip.MustParseAddr("10.0.0.253") {
		t.Errorf("got %s", got)
	}
	if got := highestFree(netip.MustParsePrefix("10.0.0.8/31"), nil); got.IsValid() {
		t.Errorf("a /31 has no host address to spare, got %s", got)
	}
}
