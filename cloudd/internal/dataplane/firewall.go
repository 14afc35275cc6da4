package dataplane

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Security groups, in two nftables tables named l.Table and replaced whole,
// in one transaction, on every Apply (so a rule or membership change is live
// at once and established flows, whose conntrack entries outlive the table,
// keep going). Everything is keyed on the guests' tap names, so it holds
// the moment libvirt creates a tap:
//
//   - bridge family, prerouting: anti-spoofing per tap. Only the port's MAC
//     with its addresses (and allowed address pairs), DHCP discovery from
//     0.0.0.0, IPv6 link-local and DAD, ARP for its addresses; no DHCP
//     server or router advertisements from guests.
//   - bridge family, forward, before br_netfilter: the packet mark records
//     the sending port (high 16 bits) and, per copy of a flooded frame, the
//     receiving port (low 16 bits). The dataplane owns the marks of bridged
//     traffic.
//   - inet family, forward: the stateful groups. The bridge family cannot
//     track connections on this kernel (no nf_conntrack_bridge), so bridged
//     traffic is filtered where br_netfilter hands it to the IP hooks with
//     conntrack; the mark says which ports it is between. Egress of the
//     sending port is checked first, then ingress of the receiving one;
//     established and related flows pass, new ones need a rule, the rest is
//     dropped. Each group is one chain shared by its member ports. Conntrack
//     zones per tenant network keep overlapping tenant addresses apart.

// ProtocolNumber resolves an IP protocol as Neutron names it (tcp,
// icmpv6, ...) or as its decimal number (0 to 255). The API validates
// rules with it, so it accepts exactly what the firewall renders.
func ProtocolNumber(p string) (int, bool) {
	if n, ok := protocolNumbers[p]; ok {
		return n, true
	}
	n, err := strconv.Atoi(p)
	return n, err == nil && n >= 0 && n <= 255
}

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

// maxPorts is how many secured ports the 16-bit mark fields can tell apart.
const maxPorts = 1<<16 - 1

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
		if !p.PortSecurity {
			continue
		}
		if len(secured) == maxPorts {
			r.errs = append(r.errs, fmt.Errorf("port %s: more than %d ports with port security on one host", p.ID, maxPorts))
			continue
		}
		secured = append(secured, p)
		for _, g := range p.SecurityGroups {
			used[g] = true
		}
	}

	r.line("table bridge %s", table)
	r.line("delete table bridge %s", table)
	r.line("table bridge %s {", table)
	r.marks(secured)
	for _, p := range secured {
		r.spoofChain(p)
	}
	r.line("}")

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
	return r.b.String(), errors.Join(r.errs...)
}

// ruleset accumulates nft statements and what could not be expressed.
type ruleset struct {
	b      strings.Builder
	errs   []error
	groups map[string]SecurityGroup
}

func (r *ruleset) line(format string, args ...any) { fmt.Fprintf(&r.b, format+"\n", args...) }

// withSet writes a statement with a set, map or verdict map (and what
// follows it) unless the set has no elements.
func (r *ruleset) withSet(statement string, elems []string, then ...string) {
	if elems != nil {
		r.line("    %s", strings.Join(append([]string{statement, "{", strings.Join(elems, ", "), "}"}, then...), " "))
	}
}

// marks sends each tap's frames through its anti-spoofing chain and records
// the sending and receiving ports (secured[i] is number i+1) in the mark.
func (r *ruleset) marks(secured []Port) {
	var spoof, from, to []string
	for i, p := range secured {
		tap := TapName(p.ID)
		spoof = append(spoof, fmt.Sprintf("%q : goto spoof-%s", tap, p.ID))
		from = append(from, fmt.Sprintf("%q : 0x%04x0000", tap, i+1))
		to = append(to, fmt.Sprintf("%q : goto deliver-%s", tap, p.ID))
	}
	r.line("  chain prerouting {")
	r.line("    type filter hook prerouting priority -300; policy accept;")
	r.withSet("iifname vmap", spoof)
	r.line("  }")
	r.line("  chain forward {") // before br_netfilter's IP hooks at -1
	r.line("    type filter hook forward priority -2; policy accept;")
	r.withSet("meta mark set iifname map", from)
	r.withSet("oifname vmap", to)
	r.line("  }")
	for i, p := range secured {
		r.line("  chain deliver-%s {", p.ID)
		r.line("    meta mark set meta mark and 0xffff0000 or 0x%08x", i+1)
		r.line("  }")
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
	r.withSet("ct zone set iifname map", zones)
	r.line("  }")
}

// dispatch sends forwarded traffic to the sending port's egress chain, then
// (to-port) to the receiving port's ingress chain, as the mark says.
func (r *ruleset) dispatch(secured []Port) {
	var egress, ingress []string
	for i, p := range secured {
		egress = append(egress, fmt.Sprintf("0x%04x0000 : goto out-%s", i+1, p.ID))
		ingress = append(ingress, fmt.Sprintf("0x%08x : goto in-%s", i+1, p.ID))
	}
	r.line("  chain forward {")
	r.line("    type filter hook forward priority filter; policy accept;")
	r.withSet("meta mark and 0xffff0000 vmap", egress)
	r.line("    goto to-port")
	r.line("  }")
	// Every path through to-port ends in a verdict: group chains reach it by
	// goto from inside a jump, and falling off its end would resume there.
	r.line("  chain to-port {")
	r.withSet("meta mark and 0x0000ffff vmap", ingress)
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

// spoofChain lets through only what a port may send: its MAC with its
// addresses, and the allowed address pairs; ARP for those; DHCP discovery
// from 0.0.0.0, IPv6 link-local and DAD from ::; neither DHCP offers nor
// router advertisements.
func (r *ruleset) spoofChain(p Port) {
	macs := []string{p.MAC}
	srcs := []source{{p.MAC, netip.MustParsePrefix("0.0.0.0/32")}}
	for _, a := range p.FixedIPs {
		srcs = append(srcs, source{p.MAC, netip.PrefixFrom(a, a.BitLen())})
	}
	for _, pair := range p.AllowedAddressPairs {
		mac := cmp.Or(pair.MAC, p.MAC)
		if !slices.Contains(macs, mac) {
			macs = append(macs, mac)
		}
		srcs = append(srcs, source{mac, pair.IP.Masked()})
	}
	for _, mac := range macs {
		if ll, ok := linkLocal(mac); ok {
			srcs = append(srcs, source{mac, netip.MustParsePrefix("::/128")}, source{mac, netip.PrefixFrom(ll, 128)})
		}
	}
	var arp, v4, v6 []string
	for _, src := range minimal(srcs) {
		elem := src.mac + " . " + src.prefix.String()
		switch {
		case src.prefix.Addr().Is6():
			v6 = append(v6, elem)
		case src.prefix == netip.MustParsePrefix("0.0.0.0/32"): // ARP probes; DHCP below
			arp = append(arp, elem)
		default:
			arp, v4 = append(arp, elem), append(v4, elem)
		}
	}
	r.line("  chain spoof-%s {", p.ID)
	r.line("    ether saddr != { %s } drop", strings.Join(macs, ", "))
	r.line("    ether type arp arp saddr ether . arp saddr ip { %s } accept", strings.Join(arp, ", "))
	r.line("    ether type arp drop")
	r.line("    ether type ip udp sport 67 drop")
	r.line("    ether saddr %s ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept", p.MAC)
	r.withSet("ether saddr . ip saddr", v4, "accept")
	r.line("    ether type ip6 icmpv6 type nd-router-advert drop")
	r.line("    ether type ip6 udp sport 547 drop")
	r.withSet("ether saddr . ip6 saddr", v6, "accept")
	r.line("    drop")
	r.line("  }")
}

// source is a MAC and the addresses it may send from.
type source struct {
	mac    string
	prefix netip.Prefix
}

// minimal drops the sources that another source of the same MAC covers:
// nftables refuses overlapping elements in a set.
func minimal(srcs []source) []source {
	var out []source
	for i, s := range srcs {
		covered := slices.ContainsFunc(srcs, func(o source) bool {
			return o.mac == s.mac && o.prefix.Addr().Is4() == s.prefix.Addr().Is4() &&
				o.prefix.Bits() <= s.prefix.Bits() && o.prefix.Contains(s.prefix.Addr()) &&
				(o.prefix != s.prefix || slices.Index(srcs, o) < i)
		})
		if !covered {
			out = append(out, s)
		}
	}
	return out
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
	num, ok := ProtocolNumber(p)
	if !ok {
		return nil, fmt.Errorf("unknown protocol %q", r.Protocol)
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
		if r.PortMin >= 0 {
			m = append(m, fmt.Sprintf("%s type %d", kw, r.PortMin))
			if r.PortMax >= 0 {
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
