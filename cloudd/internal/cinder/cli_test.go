package cinder_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

// TestVolumesWithOpenstackCLI drives block storage the way an operator
// does, with the unchanged openstack CLI after sourcing admin-openrc.sh.
func TestVolumesWithOpenstackCLI(t *testing.T) {
	cloud := start(t)
	cli := cloud.OpenstackCLI(t)

	disk := filepath.Join(t.TempDir(), "tiny.qcow2")
	must(t, os.WriteFile(disk, qcow2Image(t, "64M"), 0o644))
	cli.OK("image", "create", "--file", disk, "--disk-format", "qcow2", "--container-format", "bare", "cli-image")
	cli.OK("flavor", "create", "--vcpus", "1", "--ram", "256", "--disk", "1", "cli.small")

	var vt map[string]any
	cli.JSON(&vt, "volume", "type", "create", "--property", "volume_backend_name=dir", "cli-type")
	if vt["name"] != "cli-type" {
		t.Fatalf("volume type create: %v", vt)
	}
	cli.OK("volume", "create", "--size", "1", "--type", "cli-type", "blank")
	waitCLIVolume(t, cli, "blank", "available")
	cli.OK("volume", "create", "--size", "1", "--image", "cli-image", "from-image")
	if v := waitCLIVolume(t, cli, "from-image", "available"); v["bootable"] != "true" {
		t.Errorf("volume from image: %v", v)
	}
	cli.OK("volume", "set", "--size", "2", "blank")
	if v := waitCLIVolume(t, cli, "blank", "available"); v["size"] != float64(2) {
		t.Errorf("volume set --size: %v", v)
	}
	if errOut := cli.Fails("volume", "set", "--size", "1", "blank"); !strings.Contains(errOut, "New size") && !strings.Contains(errOut, "greater") {
		t.Errorf("shrinking a volume: %s", errOut)
	}

	cli.OK("volume", "snapshot", "create", "--volume", "blank", "cli-snap")
	waitCLI(t, cli, []string{"volume", "snapshot", "show", "cli-snap"}, "available")
	cli.OK("volume", "create", "--snapshot", "cli-snap", "from-snap")
	if v := waitCLIVolume(t, cli, "from-snap", "available"); v["size"] != float64(2) {
		t.Errorf("volume from snapshot: %v", v)
	}
	cli.OK("volume", "snapshot", "delete", "cli-snap")

	cli.OK("server", "create", "--flavor", "cli.small", "--image", "cli-image", "--wait", "cli-vm")
	cli.OK("server", "add", "volume", "cli-vm", "blank")
	if v := waitCLIVolume(t, cli, "blank", "in-use"); !strings.Contains(fmt.Sprint(v["attachments"]), "/dev/vdc") {
		t.Errorf("attached volume: %v", v)
	}
	if errOut := cli.Fails("volume", "delete", "blank"); !strings.Contains(errOut, "attached") {
		t.Errorf("deleting an in-use volume: %s", errOut)
	}
	var vols []map[string]any
	cli.JSON(&vols, "server", "volume", "list", "cli-vm")
	if len(vols) != 1 || vols[0]["Device"] != "/dev/vdc" {
		t.Errorf("server volume list: %v", vols)
	}
	cli.OK("server", "remove", "volume", "cli-vm", "blank")
	waitCLIVolume(t, cli, "blank", "available")

	var bfv map[string]any
	cli.JSON(&bfv, "server", "create", "--flavor", "cli.small", "--volume", "from-image", "--wait", "cli-bfv")
	if bfv["status"] != "ACTIVE" {
		t.Fatalf("server create --volume: %v", bfv)
	}
	waitCLIVolume(t, cli, "from-image", "in-use")
	cli.OK("server", "delete", "--wait", "cli-bfv")
	waitCLIVolume(t, cli, "from-image", "available")

	cli.OK("server", "delete", "--wait", "cli-vm")
	cli.OK("volume", "delete", "blank", "from-image", "from-snap")
	deadline := time.Now().Add(60 * time.Second)
	for {
		var list []map[string]any
		cli.JSON(&list, "volume", "list")
		if len(list) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("volumes left after delete: %v", list)
		}
		time.Sleep(200 * time.Millisecond)
	}
	cli.OK("volume", "type", "delete", "cli-type")
}

func waitCLIVolume(t *testing.T, cli cloudtest.CLI, name, status string) map[string]any {
	t.Helper()
	return waitCLI(t, cli, []string{"volume", "show", name}, status)
}

// waitCLI runs a show command until its status is status.
func waitCLI(t *testing.T, cli cloudtest.CLI, show []string, status string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var v map[string]any
		cli.JSON(&v, show...)
		if v["status"] == status {
			return v
		}
		if s, _ := v["status"].(string); strings.HasPrefix(s, "error") || time.Now().After(deadline) {
			t.Fatalf("%s: status %v, want %s", strings.Join(show, " "), v["status"], status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
