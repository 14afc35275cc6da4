package dataplane

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Helpers for tests on the host's real networking: namespaces stand in for
// guests, attached the way libvirt attaches a guest's tap.

// requireHostNetworking skips (fails under CI) unless the test can change
// the host's networking: root, nft, dnsmasq, ip and busybox (udhcpc).
func requireHostNetworking(t testing.TB) {
	t.Helper()
	err := hostReady()
	if _, lookErr := exec.LookPath("busybox"); err == nil && lookErr != nil {
		err = fmt.Errorf("no busybox (udhcpc): %w", lookErr)
	}
	if err == nil {
		return
	}
	msg := fmt.Sprintf("host dataplane tests: %v (scripts/setup.sh installs the packages)", err)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// randomHex returns n random hex digits.
func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)[:n]
}

// newID is a UUID-shaped ID whose first 11 characters (the part in interface
// names) are random, so concurrent runs do not clash.
func newID() string {
	return randomHex(8) + "-" + randomHex(4) + "-" + randomHex(4) + "-" + randomHex(4) + "-" + randomHex(12)
}

func newMAC() string {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", b[0], b[1], b[2])
}

func mustRun(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// addGuest creates namespace ns with an eth0 carrying mac whose host end is
// tap, enslaved to bridge: what libvirt does for <interface type='bridge'>.
func addGuest(t testing.TB, ns, tap, bridge, mac string) {
	t.Helper()
	mustRun(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	mustRun(t, "ip", "link", "add", tap, "type", "veth", "peer", "name", "eth0", "netns", ns)
	// Open sockets can keep the namespace, and so the pair, alive: delete
	// the pair itself, as libvirt does with a guest's tap.
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", tap).Run() })
	mustRun(t, "ip", "link", "set", tap, "master", bridge, "up")
	mustRun(t, "ip", "-n", ns, "link", "set", "eth0", "address", mac, "up")
	mustRun(t, "ip", "-n", ns, "link", "set", "lo", "up")
}

// lease is what udhcpc was handed.
type lease struct {
	IP, Subnet, Router, DNS, MTU string
}

// dhcp runs busybox udhcpc on the guest's eth0 and returns the lease; the
// caller configures the interface.
func dhcp(t testing.TB, ns string) lease {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "lease")
	script := filepath.Join(dir, "udhcpc.sh")
	body := fmt.Sprintf("#!/bin/sh\n[ \"$1\" = bound ] && printf '%%s\\n' \"$ip\" \"$subnet\" \"$router\" \"$dns\" \"$mtu\" > %s\nexit 0\n", out)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "ip", "netns", "exec", ns, "busybox", "udhcpc", "-i", "eth0", "-O", "mtu", "-f", "-q", "-n", "-t", "8", "-T", "1", "-s", script)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("udhcpc got no lease: %v", err)
	}
	f := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for len(f) < 5 {
		f = append(f, "")
	}
	return lease{IP: f[0], Subnet: f[1], Router: f[2], DNS: f[3], MTU: f[4]}
}

// inNetns runs fn on a thread switched into namespace ns ("" is the host's).
// Sockets keep the namespace they were created in, so listeners and
// connections made in fn can be used anywhere afterwards. The thread is
// switched back before it runs anything else, or dies with its goroutine.
func inNetns(t testing.TB, ns string, fn func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		if ns == "" {
			fn()
			errc <- nil
			return
		}
		runtime.LockOSThread()
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer home.Close()
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		fn()
		if unix.Setns(int(home.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- nil
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// serve listens on addr in namespace ns; each connection is first told the
// address it comes from (as the server sees it: NAT shows), then echoed.
func serve(t testing.TB, ns, addr string) {
	t.Helper()
	var ln net.Listener
	var err error
	inNetns(t, ns, func() { ln, err = net.Listen("tcp", addr) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
				fmt.Fprintln(c, host)
				_, _ = io.Copy(c, c)
			}()
		}
	}()
}

// conn is a client connection to a serve listener.
type conn struct {
	net.Conn
	r *bufio.Reader
	// Seen is the client's address as the server saw it.
	Seen string
}

// connect dials addr from namespace ns, optionally from a given local
// address, and reads the server's greeting.
func connect(t testing.TB, ns, local, addr string) (*conn, error) {
	t.Helper()
	d := net.Dialer{Timeout: 1500 * time.Millisecond}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	var c net.Conn
	var err error
	inNetns(t, ns, func() { c, err = d.Dial("tcp", addr) })
	if err != nil {
		return nil, err
	}
	cc := &conn{Conn: c, r: bufio.NewReader(c)}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := cc.r.ReadString('\n')
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting from %s: %w", addr, err)
	}
	cc.Seen = strings.TrimSpace(line)
	return cc, nil
}

// blocked checks that a connection from namespace ns (and local, if set) to
// addr is dropped on the way: it times out rather than being refused.
func blocked(t testing.TB, ns, local, addr string) bool {
	t.Helper()
	c, err := connect(t, ns, local, addr)
	if err == nil {
		c.Close()
		return false
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("%s was refused, not dropped: the packets got through", addr)
	}
	return true
}

// echo sends a line and checks it comes back.
func (c *conn) echo(msg string) error {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintln(c, msg); err != nil {
		return err
	}
	got, err := c.r.ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(got) != msg {
		return fmt.Errorf("echo: sent %q, got %q", msg, got)
	}
	return nil
}

// serveUDP echoes datagrams on addr in namespace ns.
func serveUDP(t testing.TB, ns, addr string) {
	t.Helper()
	var pc net.PacketConn
	var err error
	inNetns(t, ns, func() { pc, err = net.ListenPacket("udp", addr) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
}

// udpExchange reports whether a datagram sent from namespace ns to addr is
// echoed within a second.
func udpExchange(t testing.TB, ns, addr string) bool {
	t.Helper()
	var c net.Conn
	var err error
	inNetns(t, ns, func() { c, err = net.Dial("udp", addr) })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		return false
	}
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	return err == nil && string(buf[:n]) == "ping"
}

// hostAddr returns the n-th address of a prefix.
func hostAddr(p netip.Prefix, n int) netip.Addr {
	a := p.Masked().Addr()
	for range n {
		a = a.Next()
	}
	return a
}
