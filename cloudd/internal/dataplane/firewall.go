package dataplane

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Security groups, in two nftables tables named l.Table and replaced whole,
// in one transaction, on every Apply (so a rule or membership change is live
// at once and established flows, whose conntrack entries outlive the table,
// keep going):
//
//   - bridge family, prerouting: anti-spoofing per guest tap (iifname). Only
//     the port's MAC, its addresses (plus DHCP discovery from 0.0.0.0 and
//     IPv6 link-local/DAD), ARP for its addresses; no DHCP server or router
//     advertisements from guests.
//   - inet family, forward: the stateful groups. The bridge family cannot
//     track connections on this kernel (no nf_conntrack_bridge), so bridged
//     traffic is filtered where br_netfilter hands it to the IP hooks with
//     conntrack. There the in/out interface is the bridge, so a port is
//     recognised by bridge and MAC (unique per network; the source MAC is
//     anti-spoofed above). Egress of the sending port is checked first, then
//     ingress of the receiving one; established and related flows pass, new
//     ones need a rule, the rest is dropped. Each group is one chain shared
//     by its member ports. Conntrack zones per tenant network keep
//     overlapping tenant addresses apart. Ingress is found by the
//     destination MAC and, for frames to other MACs such as broadcast, by
//     the port's addresses; broadcast and multicast addresses are not
//     subject to ingress rules.

// protocolNumbers are the IP protocol names Neutron accepts.
var protocolNumbers = map[string]int{
	"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1,
	"igmp": 2, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58,
	"icmpv6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89,
	"pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112,
}

func (l *Linux) applyFirewall(ctx context.Context, s State) error {
	ruleset, skipped := firewallRuleset(l.Table, s)
	if _, err := run(ctx, []byte(ruleset), "nft", "-f", "-"); err != nil {
		return err
	}
	return skipped
}

func (l *Linux) removeFirewall(ctx context.Context) error {
	t := l.Table
	_, err := run(ctx, []byte(fmt.Sprintf("table inet %s\ndelete table inet %s\ntable bridge %s\ndelete table bridge %s\n", t, t, t, t)), "nft", "-f", "-")
	return err
}

// firewallRuleset renders both tables. Rules it cannot express are left out
// (a rule only ever allows, so leaving one out denies) and reported.
func firewallRuleset(table string, s State) (string, error) {
	r := &ruleset{groups: map[string]SecurityGroup{}}
	for _, g := range s.SecurityGroups {
		r.groups[g.ID] = g
	}
	var secured []Port
	used := map[string]bool{}
	for _, p := range s.Ports {
		if p.PortSecurity {
			secured = append(secured, p)
			for _, g := range p.SecurityGroups {
				used[g] = true
			}
		}
	}

	r.line("table inet %s", table)
	r.line("delete table inet %s", table)
	r.line("table inet %s {", table)
	r.zones(s.Networks)
	r.dispatch(secured)
	for _, p := range secured {
		r.portChains(p)
	}
	for _, g := range s.SecurityGroups {
		if used[g.ID] {
			r.groupChains(g)
		}
	}
	r.line("}")

	r.line("table bridge %s", table)
	r.line("delete table bridge %s", table)
	r.line("table bridge %s {", table)
	var spoof []string
	for _, p := range secured {
		spoof = append(spoof, fmt.Sprintf("%q : goto spoof-%s", TapName(p.ID), p.ID))
	}
	r.line("  chain prerouting {")
	r.line("    type filter hook prerouting priority -300; policy accept;")
	r.vmap("iifname", spoof)
	r.line("  }")
	for _, p := range secured {
		r.spoofChain(p)
	}
	r.line("}")
	return r.b.String(), errors.Join(r.errs...)
}

// ruleset accumulates nft statements and what could not be expressed.
type ruleset struct {
	b      strings.Builder
	errs   []error
	groups map[string]SecurityGroup
}

func (r *ruleset) line(format string, args ...any) { fmt.Fprintf(&r.b, format+"\n", args...) }

// vmap writes a verdict map statement unless it has no elements.
func (r *ruleset) vmap(key string, elems []string) {
	if elems != nil {
		r.line("    %s vmap { %s }", key, strings.Join(elems, ", "))
	}
}

// zones puts each tenant network's traffic in its own conntrack zone.
func (r *ruleset) zones(networks []Network) {
	var zones []string
	for _, n := range networks {
		if !n.External { // the host's own flows there stay in zone 0
			zones = append(zones, fmt.Sprintf("%q : %d", BridgeName(n.ID), conntrackZone(n.ID)))
		}
	}
	r.line("  chain prerouting {")
	r.line("    type filter hook prerouting priority raw; policy accept;")
	if zones != nil {
		r.line("    ct zone set iifname map { %s }", strings.Join(zones, ", "))
	}
	r.line("  }")
}

// dispatch sends forwarded traffic to the sending port's egress chain, then
// (to-port) to the receiving port's ingress chain.
func (r *ruleset) dispatch(secured []Port) {
	var egress, ingress, ingress4, ingress6 []string
	claimed := map[string]string{} // map key -> port: one port per MAC or address
	claim := func(p Port, key string) bool {
		if other, ok := claimed[key]; ok {
			r.errs = append(r.errs, fmt.Errorf("port %s: %s is port %s's already", p.ID, key, other))
			return false
		}
		claimed[key] = p.ID
		return true
	}
	for _, p := range secured {
		br := BridgeName(p.NetworkID)
		if key := fmt.Sprintf("%q . %s", br, p.MAC); claim(p, key) {
			egress = append(egress, key+" : goto out-"+p.ID)
			ingress = append(ingress, key+" : goto in-"+p.ID)
		}
		for _, a := range p.FixedIPs {
			key := fmt.Sprintf("%q . %s", br, a)
			switch {
			case !claim(p, key):
			case a.Is4():
				ingress4 = append(ingress4, key+" : goto in-"+p.ID)
			default:
				ingress6 = append(ingress6, key+" : goto in-"+p.ID)
			}
		}
	}
	r.line("  chain forward {")
	r.line("    type filter hook forward priority filter; policy accept;")
	r.vmap("iifname . ether saddr", egress)
	r.line("    goto to-port")
	r.line("  }")
	// Every path through to-port ends in a verdict: group chains reach it by
	// goto from inside a jump, and falling off its end would resume there.
	r.line("  chain to-port {")
	r.vmap("oifname . ether daddr", ingress)
	// A port's addresses in a frame to another MAC (broadcast: Linux takes
	// it) meet the same rules.
	r.vmap("oifname . ip daddr", ingress4)
	r.vmap("oifname . ip6 daddr", ingress6)
	r.line("    accept")
	r.line("  }")
}

// portChains are a port's egress and ingress chains: the stateful part,
// DHCP and neighbour discovery, then its groups, then drop.
func (r *ruleset) portChains(p Port) {
	var groups []string
	for _, g := range p.SecurityGroups {
		if _, ok := r.groups[g]; !ok {
			r.errs = append(r.errs, fmt.Errorf("port %s: security group %s not in the state", p.ID, g))
			continue
		}
		groups = append(groups, g)
	}
	r.line("  chain out-%s {", p.ID)
	r.line("    ct state established,related goto to-port")
	r.line("    ct state invalid drop")
	r.line("    meta nfproto ipv4 udp sport 68 udp dport 67 goto to-port")
	r.line("    meta nfproto ipv6 udp sport 546 udp dport 547 goto to-port")
	r.line("    icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } goto to-port")
	for _, g := range groups {
		r.line("    jump sgout-%s", g)
	}
	r.line("    drop")
	r.line("  }")
	r.line("  chain in-%s {", p.ID)
	r.line("    ct state established,related accept")
	r.line("    ct state invalid drop")
	r.line("    meta nfproto ipv4 udp sport 67 udp dport 68 accept")
	r.line("    meta nfproto ipv6 udp sport 547 udp dport 546 accept")
	r.line("    icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query } accept")
	for _, g := range groups {
		r.line("    jump sgin-%s", g)
	}
	r.line("    drop")
	r.line("  }")
}

// groupChains are a group's rules, shared by its ports: an ingress match
// accepts, an egress match goes on to the receiver's ingress check.
func (r *ruleset) groupChains(g SecurityGroup) {
	var in, out []string
	for _, rule := range g.Rules {
		match, err := ruleMatch(rule)
		if err != nil {
			r.errs = append(r.errs, fmt.Errorf("security group %s rule %s: %w", g.ID, rule.ID, err))
			continue
		}
		if match == "" {
			continue // matches nothing: e.g. a remote group without members
		}
		if rule.Direction == "egress" {
			out = append(out, match+" goto to-port")
		} else {
			in = append(in, match+" accept")
		}
	}
	for _, c := range []struct {
		name  string
		rules []string
	}{{"sgin-" + g.ID, in}, {"sgout-" + g.ID, out}} {
		r.line("  chain %s {", c.name)
		for _, x := range c.rules {
			r.line("    %s", x)
		}
		r.line("  }")
	}
}

// spoofChain lets through only what a port may send: its MAC, ARP for its
// addresses, its addresses (DHCP discovery from 0.0.0.0, IPv6 link-local
// and DAD from ::), and neither DHCP offers nor router advertisements.
func (r *ruleset) spoofChain(p Port) {
	v4 := []string{"0.0.0.0"}
	var v6 []string
	if ll, ok := linkLocal(p.MAC); ok {
		v6 = append(v6, "::", ll.String())
	}
	for _, a := range p.FixedIPs {
		if a.Is4() {
			v4 = append(v4, a.String())
		} else {
			v6 = append(v6, a.String())
		}
	}
	r.line("  chain spoof-%s {", p.ID)
	r.line("    ether saddr != %s drop", p.MAC)
	r.line("    ether type arp arp saddr ether != %s drop", p.MAC)
	r.line("    ether type arp arp saddr ip != { %s } drop", strings.Join(v4, ", "))
	r.line("    ether type arp accept")
	r.line("    ether type ip udp sport 67 drop")
	r.line("    ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept")
	if len(v4) > 1 {
		r.line("    ip saddr { %s } accept", strings.Join(v4[1:], ", "))
	}
	r.line("    icmpv6 type nd-router-advert drop")
	r.line("    ether type ip6 udp sport 547 drop")
	if v6 != nil {
		r.line("    ip6 saddr { %s } accept", strings.Join(v6, ", "))
	}
	r.line("    drop")
	r.line("  }")
}

// ruleMatch renders the match of a rule; "" means it matches nothing.
func ruleMatch(r Rule) (string, error) {
	v6 := r.EtherType == "IPv6"
	var m []string
	if v6 {
		m = append(m, "meta nfproto ipv6")
	} else {
		m = append(m, "meta nfproto ipv4")
	}
	proto, err := protocolMatch(r, v6)
	if err != nil {
		return "", err
	}
	m = append(m, proto...)

	addr, peer := "ip", "saddr"
	if v6 {
		addr = "ip6"
	}
	if r.Direction == "egress" {
		peer = "daddr"
	}
	if r.RemotePrefix.IsValid() {
		if r.RemotePrefix.Addr().Is6() != v6 {
			return "", nil
		}
		if r.RemotePrefix.Bits() > 0 {
			m = append(m, fmt.Sprintf("%s %s %s", addr, peer, r.RemotePrefix.Masked()))
		}
	}
	if r.RemoteGroupID != "" {
		var members []string
		for _, a := range r.RemoteAddrs {
			if a.Is6() == v6 {
				members = append(members, a.String())
			}
		}
		if members == nil {
			return "", nil
		}
		m = append(m, fmt.Sprintf("%s %s { %s }", addr, peer, strings.Join(members, ", ")))
	}
	return strings.Join(m, " "), nil
}

// protocolMatch renders the protocol and port (or ICMP type and code) part.
func protocolMatch(r Rule, v6 bool) ([]string, error) {
	p := strings.ToLower(r.Protocol)
	if p == "" || p == "any" {
		return nil, nil
	}
	num, ok := protocolNumbers[p]
	if !ok {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 255 {
			return nil, fmt.Errorf("unknown protocol %q", r.Protocol)
		}
		num = n
	}
	if num == 1 && v6 { // Neutron: "icmp" on IPv6 means ICMPv6
		num = 58
	}
	switch num {
	case 1, 58:
		kw := "icmp"
		if num == 58 {
			kw = "icmpv6"
		}
		if (num == 58) != v6 {
			return nil, fmt.Errorf("protocol %q does not fit ethertype %s", r.Protocol, r.EtherType)
		}
		m := []string{"meta l4proto " + kw}
		if r.PortMin > 0 {
			m = append(m, fmt.Sprintf("%s type %d", kw, r.PortMin))
			if r.PortMax > 0 {
				m = append(m, fmt.Sprintf("%s code %d", kw, r.PortMax))
			}
		}
		return m, nil
	case 6, 17, 33, 132, 136: // protocols with ports
		m := []string{fmt.Sprintf("meta l4proto %d", num)}
		if r.PortMin > 0 {
			hi := max(r.PortMax, r.PortMin)
			if hi == r.PortMin {
				m = append(m, fmt.Sprintf("th dport %d", r.PortMin))
			} else {
				m = append(m, fmt.Sprintf("th dport %d-%d", r.PortMin, hi))
			}
		}
		return m, nil
	default:
		return []string{fmt.Sprintf("meta l4proto %d", num)}, nil
	}
}

// conntrackZone gives each tenant network its own stable conntrack zone.
func conntrackZone(networkID string) uint16 {
	h := fnv.New32a()
	h.Write([]byte(networkID))
	return uint16(h.Sum32()%65534) + 1
}

// linkLocal is the EUI-64 IPv6 link-local address of a MAC.
func linkLocal(mac string) (netip.Addr, bool) {
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return netip.Addr{}, false
	}
	a := [16]byte{0: 0xfe, 1: 0x80}
	copy(a[8:], []byte{hw[0] ^ 2, hw[1], hw[2], 0xff, 0xfe, hw[3], hw[4], hw[5]})
	return netip.AddrFrom16(a), true
}
