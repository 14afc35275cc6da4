package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Routers: one namespace per router, as Neutron's L3 agent does. Each
// interface is a veth whose host end (TapName of the router port) joins the
// subnet's bridge and whose namespace end qr-… holds the gateway address and
// the port's MAC; the external gateway is a veth rgw…/qg-… on the external
// network's bridge holding the router's gateway address and, as /32s, its
// floating IPs. The namespace forwards IPv4, routes by default to the
// external subnet's gateway, and NATs with its own nftables table: SNAT of
// the internal subnets to the gateway address when SNAT is on, and per
// floating IP a DNAT to the fixed address plus the matching SNAT back (and
// a masquerade for guests reaching a floating IP from inside, so the answer
// returns through the router).

const routerNSPrefix = "qrouter-"

func routerNamespace(routerID string) string { return routerNSPrefix + routerID }

// routerLeg is a router interface's end inside the namespace.
func routerLeg(portID string) string { return "qr-" + prefix(portID) }

// gatewayHostLink and gatewayLeg are the ends of the external gateway's veth.
func gatewayHostLink(routerID string) string { return "rgw" + prefix(routerID) }
func gatewayLeg(routerID string) string      { return "qg-" + prefix(routerID) }

func (l *Linux) applyRouters(ctx context.Context, s State) error {
	if len(s.Routers) == 0 {
		return nil
	}
	have, err := links(ctx, "")
	if err != nil {
		return err
	}
	nets := map[string]Network{}
	for _, n := range s.Networks {
		nets[n.ID] = n
	}
	var errs []error
	for _, r := range s.Routers {
		if err := applyRouter(ctx, have, nets, r, s.FloatingIPs); err != nil {
			errs = append(errs, fmt.Errorf("router %s: %w", r.ID, err))
		}
	}
	return errors.Join(errs...)
}

// routerGateway is where a router's external leg goes: its address with the
// external subnet's prefix length, and that subnet's gateway (the next hop).
type routerGateway struct {
	network Network
	addr    netip.Prefix
	nextHop netip.Addr
}

func findGateway(nets map[string]Network, r Router) (*routerGateway, error) {
	if !r.Gateway.IsValid() {
		return nil, nil
	}
	ext, ok := nets[r.ExternalNetworkID]
	if !ok {
		return nil, fmt.Errorf("external network %s not in the state", r.ExternalNetworkID)
	}
	for _, sn := range ext.Subnets {
		if sn.CIDR.Contains(r.Gateway) {
			return &routerGateway{network: ext, addr: netip.PrefixFrom(r.Gateway, sn.CIDR.Bits()), nextHop: sn.Gateway}, nil
		}
	}
	return nil, fmt.Errorf("gateway %s is in no subnet of network %s", r.Gateway, ext.ID)
}

func applyRouter(ctx context.Context, have map[string]link, nets map[string]Network, r Router, fips []FloatingIP) error {
	ns := routerNamespace(r.ID)
	gw, err := findGateway(nets, r)
	if err != nil {
		return err
	}
	created, err := ensureNamespace(ctx, ns)
	if err != nil {
		return err
	}
	if created { // veths left from a namespace that is gone lead nowhere
		ends := []string{gatewayHostLink(r.ID)}
		for _, ri := range r.Interfaces {
			ends = append(ends, TapName(ri.PortID))
		}
		if err := dropHostEnds(ctx, have, ends...); err != nil {
			return err
		}
	}
	if _, err := run(ctx, nil, "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"); err != nil {
		return err
	}

	// Host ends on the bridges.
	var cmds []string
	legs := map[string]bool{}
	for _, ri := range r.Interfaces {
		n, ok := nets[ri.NetworkID]
		if !ok {
			return fmt.Errorf("interface %s: network %s not in the state", ri.PortID, ri.NetworkID)
		}
		cmds = append(cmds, vethCommands(have, TapName(ri.PortID), BridgeName(n.ID), ns, routerLeg(ri.PortID), n.MTU)...)
		legs[routerLeg(ri.PortID)] = true
	}
	var gwAddrs []netip.Prefix
	if gw != nil {
		cmds = append(cmds, vethCommands(have, gatewayHostLink(r.ID), BridgeName(gw.network.ID), ns, gatewayLeg(r.ID), gw.network.MTU)...)
		legs[gatewayLeg(r.ID)] = true
		gwAddrs = append(gwAddrs, gw.addr)
		for _, f := range fips {
			if f.RouterID == r.ID && f.FloatingIP.Is4() {
				gwAddrs = append(gwAddrs, netip.PrefixFrom(f.FloatingIP, 32))
			}
		}
	}
	if err := ipBatch(ctx, "", cmds); err != nil {
		return err
	}

	// Namespace ends: addresses, MACs; legs no longer wanted go (with their
	// host ends).
	for _, ri := range r.Interfaces {
		if err := setPeer(ctx, ns, routerLeg(ri.PortID), ri.MAC, nets[ri.NetworkID].MTU, []netip.Prefix{ri.IP}); err != nil {
			return err
		}
	}
	if gw != nil {
		if err := setPeer(ctx, ns, gatewayLeg(r.ID), "", gw.network.MTU, gwAddrs); err != nil {
			return err
		}
	}
	inside, err := links(ctx, ns)
	if err != nil {
		return err
	}
	cmds = nil
	for name := range inside {
		if (strings.HasPrefix(name, "qr-") || strings.HasPrefix(name, "qg-")) && !legs[name] {
			cmds = append(cmds, "link del "+name)
		}
	}
	if gw != nil && gw.nextHop.IsValid() {
		cmds = append(cmds, fmt.Sprintf("route replace default via %s dev %s", gw.nextHop, gatewayLeg(r.ID)))
	}
	if err := ipBatch(ctx, ns, cmds); err != nil {
		return err
	}
	if gw == nil || !gw.nextHop.IsValid() {
		// A default route left from an earlier gateway must go.
		out, err := run(ctx, nil, "ip", "-n", ns, "-json", "route", "show", "default")
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(out)) != "[]" {
			if _, err := run(ctx, nil, "ip", "-n", ns, "route", "del", "default"); err != nil {
				return err
			}
		}
	}
	_, err = run(ctx, []byte(natRuleset(r, gw, fips)), "ip", "netns", "exec", ns, "nft", "-f", "-")
	return err
}

// natRuleset is the router namespace's whole NAT table.
func natRuleset(r Router, gw *routerGateway, fips []FloatingIP) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("table ip stratus")
	w("delete table ip stratus")
	w("table ip stratus {")
	var dnat, snat []string
	if gw != nil {
		qg := gatewayLeg(r.ID)
		for _, f := range fips {
			if f.RouterID == r.ID && f.FloatingIP.Is4() && f.FixedIP.Is4() {
				dnat = append(dnat, fmt.Sprintf("ip daddr %s dnat to %s", f.FloatingIP, f.FixedIP))
				snat = append(snat, fmt.Sprintf("oifname %q ip saddr %s snat to %s", qg, f.FixedIP, f.FloatingIP))
			}
		}
		if r.SNAT && gw.addr.Addr().Is4() {
			var internal []string
			for _, ri := range r.Interfaces {
				if ri.IP.Addr().Is4() {
					internal = append(internal, ri.IP.Masked().String())
				}
			}
			slices.Sort(internal)
			if internal = slices.Compact(internal); internal != nil {
				snat = append(snat, fmt.Sprintf("oifname %q ip saddr { %s } snat to %s", qg, strings.Join(internal, ", "), gw.addr.Addr()))
			}
		}
		if dnat != nil {
			// Hairpin: a guest reaching another's floating IP from inside
			// must get the answer back through the router, not directly.
			snat = append(snat, fmt.Sprintf("iifname != %q oifname != %q ct status dnat masquerade", qg, qg))
		}
	}
	w("  chain prerouting {")
	w("    type nat hook prerouting priority dstnat; policy accept;")
	for _, x := range dnat {
		w("    %s", x)
	}
	w("  }")
	w("  chain postrouting {")
	w("    type nat hook postrouting priority srcnat; policy accept;")
	for _, x := range snat {
		w("    %s", x)
	}
	w("  }")
	w("}")
	return b.String()
}
