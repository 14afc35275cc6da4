package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// link is the part of `ip -json -details link show` the dataplane reads.
type link struct {
	Name     string   `json:"ifname"`
	MTU      int      `json:"mtu"`
	Master   string   `json:"master"`
	Address  string   `json:"address"`
	Flags    []string `json:"flags"`
	LinkInfo struct {
		Kind string `json:"info_kind"`
	} `json:"linkinfo"`
	AddrInfo []struct {
		Family    string `json:"family"`
		Local     string `json:"local"`
		PrefixLen int    `json:"prefixlen"`
		Scope     string `json:"scope"`
	} `json:"addr_info"`
}

func (k link) up() bool { return slices.Contains(k.Flags, "UP") }

// globalAddrs are the addresses the dataplane manages (link-local ones are
// the kernel's).
func (k link) globalAddrs() []netip.Prefix {
	var out []netip.Prefix
	for _, a := range k.AddrInfo {
		if a.Scope != "global" {
			continue
		}
		if addr, err := netip.ParseAddr(a.Local); err == nil {
			out = append(out, netip.PrefixFrom(addr, a.PrefixLen))
		}
	}
	return out
}

// ipArgs prefixes an ip(8) command line with the namespace to run it in ("" is
// the host's).
func ipArgs(ns string, args ...string) []string {
	if ns == "" {
		return args
	}
	return append([]string{"-n", ns}, args...)
}

// links lists the interfaces of a namespace with their addresses.
func links(ctx context.Context, ns string) (map[string]link, error) {
	out, err := run(ctx, nil, "ip", ipArgs(ns, "-json", "-details", "address", "show")...)
	if err != nil {
		return nil, err
	}
	var list []link
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, fmt.Errorf("ip -json address show: %w", err)
	}
	m := make(map[string]link, len(list))
	for _, k := range list {
		m[k.Name] = k
	}
	return m, nil
}

// ipBatch runs ip(8) commands in one process; the first failure stops it.
func ipBatch(ctx context.Context, ns string, cmds []string) error {
	if len(cmds) == 0 {
		return nil
	}
	_, err := run(ctx, []byte(strings.Join(cmds, "\n")+"\n"), "ip", ipArgs(ns, "-batch", "-")...)
	return err
}

// addrCommands returns the commands that make dev hold exactly want (global
// scope).
func addrCommands(dev string, have, want []netip.Prefix) []string {
	var cmds []string
	for _, p := range have {
		if !slices.Contains(want, p) {
			cmds = append(cmds, fmt.Sprintf("address del %s dev %s", p, dev))
		}
	}
	for _, p := range want {
		if !slices.Contains(have, p) {
			cmds = append(cmds, fmt.Sprintf("address add %s dev %s", p, dev))
		}
	}
	return cmds
}

// vethCommands creates a veth pair whose host end joins bridge and whose
// other end (peer) lives in namespace ns, unless the host end exists already.
func vethCommands(have map[string]link, host, bridge, ns, peer string, mtu int) []string {
	var cmds []string
	k, ok := have[host]
	if !ok {
		cmds = append(cmds, fmt.Sprintf("link add %s type veth peer name %s netns %s", host, peer, ns))
	}
	if !ok || k.Master != bridge || !k.up() || (mtu > 0 && k.MTU != mtu) {
		set := fmt.Sprintf("link set %s master %s up", host, bridge)
		if mtu > 0 {
			set += fmt.Sprintf(" mtu %d", mtu)
		}
		cmds = append(cmds, set)
	}
	return cmds
}

// setPeer brings a veth's namespace end to the wanted MAC, MTU and addresses.
func setPeer(ctx context.Context, ns, dev, mac string, mtu int, addrs []netip.Prefix) error {
	have, err := links(ctx, ns)
	if err != nil {
		return err
	}
	k, ok := have[dev]
	if !ok {
		return fmt.Errorf("%s missing in namespace %s", dev, ns)
	}
	var cmds []string
	if mac != "" && k.Address != mac {
		cmds = append(cmds, fmt.Sprintf("link set %s address %s", dev, mac))
	}
	if mtu > 0 && k.MTU != mtu {
		cmds = append(cmds, fmt.Sprintf("link set %s mtu %d", dev, mtu))
	}
	if !k.up() {
		cmds = append(cmds, fmt.Sprintf("link set %s up", dev))
	}
	if lo, ok := have["lo"]; ok && !lo.up() {
		cmds = append(cmds, "link set lo up")
	}
	cmds = append(cmds, addrCommands(dev, k.globalAddrs(), addrs)...)
	return ipBatch(ctx, ns, cmds)
}

// deleteLink removes an interface; one already gone is not an error.
func deleteLink(ctx context.Context, ns, name string) error {
	_, err := run(ctx, nil, "ip", ipArgs(ns, "link", "del", name)...)
	if err != nil && strings.Contains(err.Error(), "Cannot find device") {
		return nil
	}
	return err
}

// dropHostEnds deletes the host ends of veths whose other end is lost, and
// forgets them in have.
func dropHostEnds(ctx context.Context, have map[string]link, names ...string) error {
	for _, name := range names {
		if _, ok := have[name]; !ok {
			continue
		}
		if err := deleteLink(ctx, "", name); err != nil {
			return err
		}
		delete(have, name)
	}
	return nil
}

// ensureNamespace creates a network namespace unless it exists, and says
// whether it did.
func ensureNamespace(ctx context.Context, ns string) (created bool, err error) {
	if _, err := os.Stat("/run/netns/" + ns); err == nil {
		return false, nil
	}
	_, err = run(ctx, nil, "ip", "netns", "add", ns)
	return err == nil, err
}

// removeNamespace stops what runs in a namespace of ours and deletes it,
// which also deletes the veth pairs with an end inside.
func (l *Linux) removeNamespace(ctx context.Context, ns string) error {
	if netID, ok := strings.CutPrefix(ns, dhcpNSPrefix); ok {
		if err := l.stopDHCP(netID); err != nil {
			return err
		}
	}
	if _, err := os.Stat("/run/netns/" + ns); err != nil {
		return nil
	}
	_, err := run(ctx, nil, "ip", "netns", "del", ns)
	return err
}
