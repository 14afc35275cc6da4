package dataplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Multi-host networks: a network with a VNI gets a VXLAN device vxlan-<VNI>
// on its bridge, endpoint State.TunnelIP, UDP 4789. Broadcast and unknown
// unicast are flooded to the network's TunnelPeers (head-end replication,
// one all-zero FDB entry per peer); the kernel learns where remote MACs are.
// Remote guests' traffic enters a host through this device, so each host's
// ingress rules hold for its own ports.

const vxlanPort = 4789

func vxlanName(vni int) string { return "vxlan-" + strconv.Itoa(vni) }

func (l *Linux) applyTunnels(ctx context.Context, s State) error {
	var tunneled []Network
	for _, n := range s.Networks {
		if n.VNI != 0 {
			tunneled = append(tunneled, n)
		}
	}
	if tunneled == nil {
		return nil
	}
	if !s.TunnelIP.IsValid() {
		return errors.New("networks with a VNI need the host's TunnelIP")
	}
	have, err := links(ctx, "")
	if err != nil {
		return err
	}
	var cmds []string
	for _, n := range tunneled {
		if n.VNI < 1 || n.VNI > 1<<24-1 {
			return fmt.Errorf("network %s: VNI %d out of 1..16777215", n.ID, n.VNI)
		}
		name, br := vxlanName(n.VNI), BridgeName(n.ID)
		k, ok := have[name]
		if info, isVXLAN := k.vxlanInfo(); ok && (!isVXLAN || info.ID != n.VNI ||
			info.Local != s.TunnelIP.String() || info.Port != vxlanPort) {
			cmds = append(cmds, "link del "+name) // endpoint changed: recreate
			ok = false
		}
		if !ok {
			cmds = append(cmds, fmt.Sprintf("link add %s type vxlan id %d local %s dstport %d learning", name, n.VNI, s.TunnelIP, vxlanPort))
		}
		if !ok || k.Master != br || !k.up() || (n.MTU > 0 && k.MTU != n.MTU) {
			set := fmt.Sprintf("link set %s master %s up", name, br)
			if n.MTU > 0 {
				set += fmt.Sprintf(" mtu %d", n.MTU)
			}
			cmds = append(cmds, set)
		}
	}
	if err := ipBatch(ctx, "", cmds); err != nil {
		return err
	}
	var errs []error
	for _, n := range tunneled {
		errs = append(errs, syncFloodList(ctx, vxlanName(n.VNI), n.TunnelPeers))
	}
	return errors.Join(errs...)
}

// syncFloodList makes the device's all-zero FDB entries point at exactly
// the peers.
func syncFloodList(ctx context.Context, dev string, peers []netip.Addr) error {
	out, err := run(ctx, nil, "bridge", "-json", "fdb", "show", "dev", dev)
	if err != nil {
		return err
	}
	var entries []struct {
		MAC string `json:"mac"`
		Dst string `json:"dst"`
	}
	if err := json.Unmarshal(out, &entries); err != nil {
		return fmt.Errorf("bridge -json fdb show: %w", err)
	}
	const flood = "00:00:00:00:00:00"
	have := map[string]bool{}
	var cmds []string
	for _, e := range entries {
		if e.MAC != flood || e.Dst == "" {
			continue
		}
		have[e.Dst] = true
		if a, err := netip.ParseAddr(e.Dst); err != nil || !slices.Contains(peers, a) {
			cmds = append(cmds, fmt.Sprintf("fdb del %s dev %s dst %s", flood, dev, e.Dst))
		}
	}
	for _, p := range peers {
		if !have[p.String()] {
			cmds = append(cmds, fmt.Sprintf("fdb append %s dev %s dst %s", flood, dev, p))
		}
	}
	if cmds == nil {
		return nil
	}
	_, err = run(ctx, []byte(strings.Join(cmds, "\n")+"\n"), "bridge", "-batch", "-")
	return err
}
