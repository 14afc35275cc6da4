package nova_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor/hypervisortest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// prepareTinyGuest uploads the tiny image and a flavor that fits it.
func prepareTinyGuest(t testing.TB, cc, ic *gophercloud.ServiceClient) (imageID, flavorID string) {
	t.Helper()
	imageID = uploadImage(t, ic, "stratus-tiny", testenv.TinyGuestImage(t))
	flavor, err := flavors.Create(novaCtx, cc, flavors.CreateOpts{Name: "guest.tiny", VCPUs: 1, RAM: 256, Disk: gophercloud.IntToPointer(1)}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	return imageID, flavor.ID
}

// bootTinyGuest creates a server from the tiny image whose user_data
// prints a marker, and returns its id once ACTIVE.
func bootTinyGuest(t testing.TB, cc *gophercloud.ServiceClient, imageID, flavorID, name string) string {
	t.Helper()
	userData := "#!/bin/sh\necho STRATUS-USERDATA-OK $(hostname)\n"
	srv, err := servers.Create(novaCtx, cc, servers.CreateOpts{Name: name, ImageRef: imageID, FlavorRef: flavorID,
		UserData: []byte(userData)}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	// Never leave a real domain behind, even when the test fails midway.
	t.Cleanup(func() {
		if servers.Delete(novaCtx, cc, srv.ID).ExtractErr() == nil {
			waitStatus(t, cc, srv.ID, "DELETED")
		}
	})
	waitStatus(t, cc, srv.ID, "ACTIVE")
	return srv.ID
}

// waitConsole polls the console log until it contains want.
func waitConsole(t testing.TB, cc *gophercloud.ServiceClient, id, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := servers.ShowConsoleOutput(novaCtx, cc, id, servers.ShowConsoleOutputOpts{}).Extract()
		if err == nil && strings.Contains(out, want) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("console of %s never showed %q (err %v); last output:\n%s", id, want, err, out)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestRealGuest boots the tiny image as a real QEMU guest through
// qemu:///system and reads, on its serial console, the line that proves
// its user_data ran with the hostname from the config drive.
func TestRealGuest(t *testing.T) {
	hypervisortest.RequireSystemLibvirt(t)
	cloud, cc, ic := computeClient(t, cloudtest.Options{Hosts: []string{"qemu:///system"}})
	imageID, flavorID := prepareTinyGuest(t, cc, ic)
	id := bootTinyGuest(t, cc, imageID, flavorID, "real-guest")
	waitConsole(t, cc, id, "STRATUS-USERDATA-OK real-guest", 120*time.Second)
	if out := cloud.OpenstackCLI(t).OK("console", "log", "show", "--lines", "50", id); !strings.Contains(out, "stratus-guest: ready hostname=real-guest") {
		t.Errorf("openstack console log show:\n%s", out)
	}

	snapID, err := servers.CreateImage(novaCtx, cc, id, servers.CreateImageOpts{Name: "real-guest-snap"}).ExtractImageID()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(120 * time.Second)
	for {
		img, err := images.Get(novaCtx, ic, snapID).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if img.Status == images.ImageStatusActive {
			if img.DiskFormat != "qcow2" || img.SizeBytes == 0 {
				t.Errorf("snapshot image = %+v", img)
			}
			break
		}
		if img.Status == images.ImageStatusKilled || time.Now().After(deadline) {
			t.Fatalf("snapshot image is %s", img.Status)
		}
		time.Sleep(250 * time.Millisecond)
	}

	must(t, servers.Delete(novaCtx, cc, id).ExtractErr())
	waitStatus(t, cc, id, "DELETED")
	if out, _ := exec.Command("virsh", "-c", "qemu:///system", "list", "--all", "--name").Output(); strings.Contains(string(out), id) {
		t.Errorf("domain of deleted server %s is still defined:\n%s", id, out)
	}
}

// BenchmarkRealGuestFirstConsoleLine reports the time from the create call
// to the guest's first console line and to its user_data line, under TCG.
func BenchmarkRealGuestFirstConsoleLine(b *testing.B) {
	hypervisortest.RequireSystemLibvirt(b)
	_, cc, ic := computeClient(b, cloudtest.Options{Hosts: []string{"qemu:///system"}})
	imageID, flavorID := prepareTinyGuest(b, cc, ic)
	for b.Loop() {
		start := time.Now()
		id := bootTinyGuest(b, cc, imageID, flavorID, "bench-guest")
		waitConsole(b, cc, id, "stratus-guest", 120*time.Second)
		b.ReportMetric(time.Since(start).Seconds(), "s-to-first-line")
		waitConsole(b, cc, id, "STRATUS-USERDATA-OK", 120*time.Second)
		b.ReportMetric(time.Since(start).Seconds(), "s-to-user-data")
		_ = servers.Delete(novaCtx, cc, id).ExtractErr()
		waitStatus(b, cc, id, "DELETED")
	}
}
