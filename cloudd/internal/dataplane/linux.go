package dataplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// Linux realises a State on the machine it runs on with iproute2, nftables
// and dnsmasq. It needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for network
// namespaces) and owns, on this host: the bridges, namespaces and dnsmasq
// processes it recorded in its state directory, and its two nftables tables.
type Linux struct {
	stateDir string
	// Table names this instance's nftables tables (family inet and bridge);
	// two instances on one host (tests) must use different names.
	Table string

	mu sync.Mutex // one Apply at a time in this process (lock: across processes)
}

// NewLinux returns a dataplane keeping its records, dnsmasq configuration and
// pid files under stateDir.
func NewLinux(stateDir string) *Linux {
	return &Linux{stateDir: stateDir, Table: "stratus"}
}

// Compile-time check that Linux is an Applier.
var _ Applier = (*Linux)(nil)

// owned is what this instance created and must remove once it leaves the
// desired State; kept in the state directory so restarts forget nothing.
type owned struct {
	Bridges    []string `json:"bridges"`
	Namespaces []string `json:"namespaces"`
}

// Apply converges the host to s: it creates what is missing, corrects what
// differs and removes what this instance created that s no longer holds.
func (l *Linux) Apply(ctx context.Context, s State) error {
	if err := hostReady(); err != nil {
		return err
	}
	if err := validate(s); err != nil {
		return err
	}
	unlock, err := l.lock()
	if err != nil {
		return err
	}
	defer unlock()
	prev, err := l.loadOwned()
	if err != nil {
		return err
	}
	want := desiredOwned(s)
	// Record the union first: a crash from here on leaves nothing unrecorded.
	if err := l.saveOwned(union(prev, want)); err != nil {
		return err
	}
	if err := enableBridgeNetfilter(); err != nil {
		return err
	}
	if err := l.applyBridges(ctx, s); err != nil {
		return fmt.Errorf("bridges: %w", err)
	}
	// The rest is independent: one failing part does not hold up the others.
	var errs []error
	if err := l.applyFirewall(ctx, s); err != nil {
		errs = append(errs, fmt.Errorf("security groups: %w", err))
	}
	if err := l.applyDHCP(ctx, s); err != nil {
		errs = append(errs, fmt.Errorf("dhcp: %w", err))
	}
	if err := l.applyRouters(ctx, s); err != nil {
		errs = append(errs, fmt.Errorf("routers: %w", err))
	}
	if err := l.removeStale(ctx, prev, want); err != nil {
		return errors.Join(append(errs, err)...)
	}
	if err := l.saveOwned(want); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Teardown removes everything this instance created: its namespaces (and the
// dnsmasq processes in them), bridges and nftables tables.
func (l *Linux) Teardown(ctx context.Context) error {
	unlock, err := l.lock()
	if err != nil {
		return err
	}
	defer unlock()
	prev, err := l.loadOwned()
	if err != nil {
		return err
	}
	if err := l.removeStale(ctx, prev, owned{}); err != nil {
		return err
	}
	if err := l.removeFirewall(ctx); err != nil {
		return err
	}
	return l.saveOwned(owned{})
}

// lock serialises Apply and Teardown in this process and, through a file
// lock in the state directory, with other processes using the same one.
func (l *Linux) lock() (unlock func(), err error) {
	l.mu.Lock()
	defer func() {
		if err != nil {
			l.mu.Unlock()
		}
	}()
	if err := os.MkdirAll(l.stateDir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(l.stateDir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close(); l.mu.Unlock() }, nil // closing releases the lock
}

func (l *Linux) removeStale(ctx context.Context, prev, want owned) error {
	var errs []error
	for _, ns := range prev.Namespaces {
		if !slices.Contains(want.Namespaces, ns) {
			errs = append(errs, l.removeNamespace(ctx, ns))
		}
	}
	for _, link := range prev.Bridges {
		if !slices.Contains(want.Bridges, link) {
			errs = append(errs, deleteLink(ctx, "", link))
		}
	}
	return errors.Join(errs...)
}

func desiredOwned(s State) owned {
	var o owned
	for _, n := range s.Networks {
		o.Bridges = append(o.Bridges, BridgeName(n.ID))
		if dhcpSubnets(n) != nil {
			o.Namespaces = append(o.Namespaces, dhcpNamespace(n.ID))
		}
	}
	for _, r := range s.Routers {
		o.Namespaces = append(o.Namespaces, routerNamespace(r.ID))
	}
	return o
}

func union(a, b owned) owned {
	merge := func(x, y []string) []string {
		out := slices.Concat(x, y)
		slices.Sort(out)
		return slices.Compact(out)
	}
	return owned{Bridges: merge(a.Bridges, b.Bridges), Namespaces: merge(a.Namespaces, b.Namespaces)}
}

func (l *Linux) ownedPath() string { return filepath.Join(l.stateDir, "owned.json") }

func (l *Linux) loadOwned() (owned, error) {
	var o owned
	b, err := os.ReadFile(l.ownedPath())
	if errors.Is(err, os.ErrNotExist) {
		return o, nil
	}
	if err != nil {
		return o, err
	}
	return o, json.Unmarshal(b, &o)
}

func (l *Linux) saveOwned(o owned) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return writeFileAtomic(l.ownedPath(), b)
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// idPattern keeps IDs safe inside interface, namespace, chain and file names.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

func validate(s State) error {
	check := func(kind, id string) error {
		if !idPattern.MatchString(id) {
			return fmt.Errorf("dataplane: %s ID %q: only letters, digits, '-' and '_'", kind, id)
		}
		return nil
	}
	var errs []error
	for _, n := range s.Networks {
		errs = append(errs, check("network", n.ID))
	}
	for _, p := range s.Ports {
		errs = append(errs, check("port", p.ID))
		errs = append(errs, checkMAC(p.ID, p.MAC))
		for _, pair := range p.AllowedAddressPairs {
			if pair.MAC != "" {
				errs = append(errs, checkMAC(p.ID, pair.MAC))
			}
			if !pair.IP.IsValid() {
				errs = append(errs, fmt.Errorf("dataplane: port %s: allowed address pair without address", p.ID))
			}
		}
	}
	for _, g := range s.SecurityGroups {
		errs = append(errs, check("security group", g.ID))
	}
	for _, r := range s.Routers {
		errs = append(errs, check("router", r.ID))
		for _, ri := range r.Interfaces {
			errs = append(errs, check("router port", ri.PortID))
		}
	}
	return errors.Join(errs...)
}

func checkMAC(portID, mac string) error {
	if hw, err := net.ParseMAC(mac); err != nil || len(hw) != 6 || hw.String() != mac {
		return fmt.Errorf("dataplane: port %s: MAC %q is not lower-case colon-separated EUI-48", portID, mac)
	}
	return nil
}

// hostReady says what this host lacks for Apply, clearly and up front.
func hostReady() error {
	var errs []error
	if os.Geteuid() != 0 {
		errs = append(errs, errors.New("dataplane: must run as root to change the host's networking"))
	}
	var missing []string
	for _, tool := range []string{"ip", "nft", "dnsmasq", "sysctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if missing != nil {
		errs = append(errs, fmt.Errorf("dataplane: %s not on PATH (Debian packages iproute2, nftables, dnsmasq-base, procps)", strings.Join(missing, ", ")))
	}
	return errors.Join(errs...)
}

// enableBridgeNetfilter makes bridged IPv4/IPv6 traffic pass the inet
// family's hooks (and conntrack), which the security groups rely on.
func enableBridgeNetfilter() error {
	const dir = "/proc/sys/net/bridge"
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if out, err := exec.Command("modprobe", "br_netfilter").CombinedOutput(); err != nil {
			return fmt.Errorf("br_netfilter is needed for security groups: modprobe: %v: %s", err, out)
		}
	}
	for _, name := range []string{"bridge-nf-call-iptables", "bridge-nf-call-ip6tables"} {
		if err := writeSysctl(filepath.Join(dir, name), "1"); err != nil {
			return err
		}
	}
	return nil
}

func writeSysctl(path, value string) error {
	if cur, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(cur)) == value {
		return nil
	}
	return os.WriteFile(path, []byte(value), 0o644)
}

// run executes a command and returns its stdout; errors carry its stderr.
func run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}
