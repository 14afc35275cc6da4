package dataplane

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
)

// applyBridges creates each network's bridge with its MTU, up. The host gets
// no address on tenant bridges (guests must not reach it) and no IPv6 at all
// on them; on an external network it takes each subnet's gateway address, so
// the host is the external gateway and reaches floating IPs directly.
func (l *Linux) applyBridges(ctx context.Context, s State) error {
	have, err := links(ctx, "")
	if err != nil {
		return err
	}
	var cmds []string
	for _, n := range s.Networks {
		br := BridgeName(n.ID)
		k, ok := have[br]
		if ok && k.LinkInfo.Kind != "bridge" {
			return fmt.Errorf("%s exists and is a %q, not a bridge", br, k.LinkInfo.Kind)
		}
		if !ok {
			// STP off: ports forward at once; guests are leaves.
			cmds = append(cmds, fmt.Sprintf("link add %s type bridge stp_state 0", br))
		}
		if !ok || !k.up() || (n.MTU > 0 && k.MTU != n.MTU) {
			set := "link set " + br + " up"
			if n.MTU > 0 {
				set += fmt.Sprintf(" mtu %d", n.MTU)
			}
			cmds = append(cmds, set)
		}
		cmds = append(cmds, addrCommands(br, k.globalAddrs(), hostAddrs(n))...)
	}
	if err := ipBatch(ctx, "", cmds); err != nil {
		return err
	}
	for _, n := range s.Networks {
		path := filepath.Join("/proc/sys/net/ipv6/conf", BridgeName(n.ID), "disable_ipv6")
		if err := writeSysctl(path, "1"); err != nil {
			return err
		}
	}
	return nil
}

// hostAddrs are the host's addresses on a network's bridge.
func hostAddrs(n Network) []netip.Prefix {
	if !n.External {
		return nil
	}
	var out []netip.Prefix
	for _, sn := range n.Subnets {
		if sn.Gateway.IsValid() && sn.Gateway.Is4() {
			out = append(out, netip.PrefixFrom(sn.Gateway, sn.CIDR.Bits()))
		}
	}
	return out
}
