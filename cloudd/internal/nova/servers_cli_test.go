package nova_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

// TestServersWithOpenstackCLI drives compute the way an operator does,
// with the unchanged openstack CLI after sourcing admin-openrc.sh.
func TestServersWithOpenstackCLI(t *testing.T) {
	cloud := cloudtest.Start(t, cloudtest.Options{Hosts: testHosts(t, 2, 8, 8192)})
	cli := cloud.OpenstackCLI(t)

	disk := filepath.Join(t.TempDir(), "tiny.qcow2")
	if err := os.WriteFile(disk, qcow2Image(t), 0o644); err != nil {
		t.Fatal(err)
	}
	cli.OK("flavor", "create", "--vcpus", "1", "--ram", "256", "--disk", "1", "cli.small")
	cli.OK("flavor", "create", "--vcpus", "2", "--ram", "512", "--disk", "2", "cli.medium")
	cli.OK("image", "create", "--file", disk, "--disk-format", "qcow2", "--container-format", "bare", "cli-image")
	cli.OK("keypair", "create", "cli-key")

	var srv map[string]any
	cli.JSON(&srv, "server", "create", "--flavor", "cli.small", "--image", "cli-image", "--key-name", "cli-key", "--wait", "cli-vm")
	if srv["status"] != "ACTIVE" {
		t.Fatalf("server create --wait: %v", srv)
	}
	var list []map[string]any
	cli.JSON(&list, "server", "list")
	if len(list) != 1 || list[0]["Name"] != "cli-vm" || list[0]["Status"] != "ACTIVE" {
		t.Errorf("server list = %v", list)
	}
	waitCLIStatus := func(want string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			var s map[string]any
			cli.JSON(&s, "server", "show", "cli-vm")
			if s["status"] == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("server status %v, want %s", s["status"], want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	cli.OK("server", "stop", "cli-vm")
	waitCLIStatus("SHUTOFF")
	if errOut := cli.Fails("server", "stop", "cli-vm"); !strings.Contains(errOut, "409") {
		t.Errorf("stopping a stopped server: %s", errOut)
	}
	cli.OK("server", "start", "cli-vm")
	waitCLIStatus("ACTIVE")
	cli.OK("server", "reboot", "--wait", "cli-vm")
	waitCLIStatus("ACTIVE")
	cli.OK("server", "resize", "--flavor", "cli.medium", "--wait", "cli-vm")
	waitCLIStatus("VERIFY_RESIZE")
	cli.OK("server", "resize", "confirm", "cli-vm")
	waitCLIStatus("ACTIVE")
	cli.JSON(&srv, "server", "show", "cli-vm")
	if !strings.Contains(srv["flavor"].(string), "cli.medium") {
		t.Errorf("flavor after resize = %v", srv["flavor"])
	}
	// Simulated hosts have no serial console and no disk content: clear
	// 501s, not an empty log or an image that never fills (TestRealGuest
	// reads a real console and snapshots a real disk).
	if errOut := cli.Fails("console", "log", "show", "cli-vm"); !strings.Contains(errOut, "501") || !strings.Contains(errOut, "simulated") {
		t.Errorf("console log of a simulated server: %s", errOut)
	}
	if errOut := cli.Fails("server", "image", "create", "--name", "cli-snap", "cli-vm"); !strings.Contains(errOut, "501") {
		t.Errorf("snapshot of a simulated server: %s", errOut)
	}

	var hypervisors []map[string]any
	cli.JSON(&hypervisors, "hypervisor", "list")
	if len(hypervisors) != 2 {
		t.Errorf("hypervisor list = %v", hypervisors)
	}

	// Quotas are enforced: one more instance than allowed is refused.
	cli.OK("quota", "set", "--instances", "1", "admin")
	if errOut := cli.Fails("server", "create", "--flavor", "cli.small", "--image", "cli-image", "over-quota"); !strings.Contains(errOut, "Quota exceeded") {
		t.Errorf("over-quota create: %s", errOut)
	}

	cli.OK("server", "delete", "--wait", "cli-vm")
	cli.JSON(&list, "server", "list")
	if len(list) != 0 {
		t.Errorf("servers left after delete: %v", list)
	}
}
