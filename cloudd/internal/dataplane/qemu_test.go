package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/cloudd/internal/configdrive"
	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor/hypervisortest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// tinyGuestImage writes a private copy of the tiny guest image into dir,
// so libvirt relabels only the copy.
func tinyGuestImage(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "disk.qcow2")
	if err := os.WriteFile(path, testenv.TinyGuestImage(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// guestDHCPLine is what the tiny guest prints once DHCP configured a NIC.
var guestDHCPLine = regexp.MustCompile(`stratus-guest: dhcp eth0 (\S+)/\d+ router (\S+)`)

// TestLinuxDataplaneQEMUGuest attaches a real QEMU guest the way the compute
// service does (<interface type='bridge'> on BridgeName with target
// TapName and the port's MAC): it gets its IPAM address by DHCP, its
// security group and floating IP hold, and a rule added live opens a port.
func TestLinuxDataplaneQEMUGuest(t *testing.T) {
	requireHostNetworking(t)
	hypervisortest.RequireSystemLibvirt(t)
	ctx := context.Background()
	sc := newScenario()
	l := newTestLinux(t)
	if err := l.Apply(ctx, sc.state()); err != nil {
		t.Fatalf("apply: %v", err)
	}

	// libvirt's qemu user must reach the files: a world-traversable dir.
	dir, err := os.MkdirTemp("", "stratus-dataplane-guest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	disk := tinyGuestImage(t, dir)
	userData := "#!/bin/sh\nfor p in 8080 9090; do\n" +
		"  (while true; do busybox nc -l -p $p -e echo guest$p; done) </dev/null >/dev/null 2>&1 &\ndone\n"
	iso, err := configdrive.Build(configdrive.Drive{UUID: sc.p1.ID, Name: "dataplane-guest", UserData: []byte(userData),
		Network: configdrive.NetworkData{Interfaces: []configdrive.Interface{
			{PortID: sc.p1.ID, NetworkID: sc.tenant.ID, MAC: sc.p1.MAC, MTU: sc.tenant.MTU, DHCP: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	configPath := filepath.Join(dir, "config.iso")
	if err := os.WriteFile(configPath, iso, 0o644); err != nil {
		t.Fatal(err)
	}
	console := filepath.Join(dir, "console.log")
	name := "stratus-dataplane-test-" + randomHex(8)
	domain := fmt.Sprintf(`<domain type='qemu'>
  <name>%s</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='%s'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='%s'/><target dev='vdb' bus='virtio'/><readonly/></disk>
    <interface type='bridge'><source bridge='%s'/><target dev='%s'/><mac address='%s'/><model type='virtio'/></interface>
    <serial type='pty'><log file='%s' append='on'/></serial>
  </devices>
</domain>`, name, disk, configPath, BridgeName(sc.tenant.ID), TapName(sc.p1.ID), sc.p1.MAC, console)
	xmlPath := filepath.Join(dir, "domain.xml")
	if err := os.WriteFile(xmlPath, []byte(domain), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "virsh", "-c", "qemu:///system", "create", xmlPath)
	t.Cleanup(func() { _ = exec.Command("virsh", "-c", "qemu:///system", "destroy", name).Run() })

	// Meanwhile a namespace guest on the same network.
	g2 := "g2" + randomHex(6)
	addGuest(t, g2, TapName(sc.p2.ID), BridgeName(sc.tenant.ID), sc.p2.MAC)
	lease2 := dhcp(t, g2)
	mustRun(t, "ip", "-n", g2, "address", "add", lease2.IP+"/24", "dev", "eth0")
	mustRun(t, "ip", "-n", g2, "route", "add", "default", "via", lease2.Router)

	var log []byte
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		log, _ = os.ReadFile(console)
		if strings.Contains(string(log), "stratus-guest: ready") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the guest did not come up; console:\n%s", log)
		}
	}
	m := guestDHCPLine.FindStringSubmatch(string(log))
	if m == nil || m[1] != sc.p1.FixedIPs[0].String() || m[2] != sc.tenant.Subnets[0].Gateway.String() {
		t.Fatalf("guest DHCP: %q, want %s router %s; console:\n%s", m, sc.p1.FixedIPs[0], sc.tenant.Subnets[0].Gateway, log)
	}

	ip1 := sc.p1.FixedIPs[0].String()
	// The guest's listeners start in the background of its user data.
	c, err := connect(t, g2, "", ip1+":8080")
	for deadline := time.Now().Add(20 * time.Second); errors.Is(err, syscall.ECONNREFUSED) && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		c, err = connect(t, g2, "", ip1+":8080")
	}
	if err != nil {
		t.Fatalf("tcp/8080 to the QEMU guest: %v", err)
	}
	c.Close()
	if c.Seen != "guest8080" {
		t.Errorf("tcp/8080 answered %q", c.Seen)
	}
	if !blocked(t, g2, "", ip1+":9090") {
		t.Fatal("tcp/9090 of the QEMU guest is open although no rule allows it")
	}
	sc.web.Rules = append(sc.web.Rules, Rule{ID: newID(), Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", PortMin: 9090, PortMax: 9090})
	if err := l.Apply(ctx, sc.state()); err != nil {
		t.Fatalf("apply with the new rule: %v", err)
	}
	if c, err = connect(t, g2, "", ip1+":9090"); err != nil {
		t.Fatalf("tcp/9090 after the rule was added: %v", err)
	}
	c.Close()
	if c, err = connect(t, "", "", net.JoinHostPort(sc.fip.FloatingIP.String(), "8080")); err != nil {
		t.Fatalf("host to the QEMU guest's floating IP: %v", err)
	}
	c.Close()
	if c.Seen != "guest8080" {
		t.Errorf("the floating IP answered %q", c.Seen)
	}
}
