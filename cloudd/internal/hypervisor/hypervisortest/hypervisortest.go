// Package hypervisortest helps tests run package hypervisor against
// libvirt: simulated hosts on libvirt's test driver, and the gate for tests
// that need a real libvirtd.
package hypervisortest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// WriteNode writes dir/name.xml, a node description for libvirt's test
// driver with vcpus CPUs (one socket) and memoryMiB of memory, and returns
// its URI, test:///<absolute path>. Every connection to the URI starts from
// this file with no domains; the storage pools are created by package
// hypervisor on first use, as on a real host.
func WriteNode(dir, name string, vcpus int, memoryMiB int64) (string, error) {
	if vcpus <= 0 || memoryMiB <= 0 {
		return "", fmt.Errorf("hypervisortest: node %s: invalid size (%d vCPUs, %d MiB)", name, vcpus, memoryMiB)
	}
	abs, err := filepath.Abs(filepath.Join(dir, name+".xml"))
	if err != nil {
		return "", err
	}
	// <memory> is in KiB. mhz and model only fill virsh nodeinfo.
	doc := fmt.Sprintf(`<node>
  <cpu>
    <nodes>1</nodes>
    <sockets>1</sockets>
    <cores>%d</cores>
    <threads>1</threads>
    <active>%d</active>
    <mhz>2000</mhz>
    <model>x86_64</model>
  </cpu>
  <memory>%d</memory>
</node>
`, vcpus, vcpus, memoryMiB*1024)
	if err := os.WriteFile(abs, []byte(doc), 0o644); err != nil {
		return "", err
	}
	return "test://" + abs, nil
}

// RequireSystemLibvirt skips t unless libvirtd answers on qemu:///system
// (`virsh -c qemu:///system version`); with CI set in the environment an
// unreachable libvirtd fails the test instead, so CI cannot pass by
// skipping.
func RequireSystemLibvirt(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "virsh", "-c", "qemu:///system", "version").CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("libvirtd not reachable on qemu:///system (scripts/libvirtd.sh start): %v: %s", err, out)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
