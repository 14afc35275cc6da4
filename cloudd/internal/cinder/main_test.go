package cinder_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var ctx = context.Background()

// clients are one user's service clients, found through the catalog.
type clients struct {
	block, compute, image *gophercloud.ServiceClient
}

func clientsFor(t testing.TB, pc *gophercloud.ProviderClient) clients {
	t.Helper()
	block, err := openstack.NewBlockStorageV3(pc, gophercloud.EndpointOpts{})
	must(t, err)
	compute, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{})
	must(t, err)
	image, err := openstack.NewImageV2(pc, gophercloud.EndpointOpts{})
	must(t, err)
	return clients{block, compute, image}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantFault fails unless err is an HTTP error with code whose Cinder or
// Nova fault body carries kind and a message containing text.
func wantFault(t testing.TB, err error, code int, kind, text string) {
	t.Helper()
	var e gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &e) || e.Actual != code {
		t.Fatalf("got %v, want HTTP %d", err, code)
	}
	var body map[string]struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(e.Body, &body); err != nil {
		t.Fatalf("fault body is not JSON: %s", e.Body)
	}
	f, ok := body[kind]
	if !ok || f.Code != code || !strings.Contains(f.Message, text) {
		t.Fatalf("fault body %s, want %s/%d mentioning %q", e.Body, kind, code, text)
	}
}

// waitVolume polls a volume until it has status, failing on error states.
func waitVolume(t testing.TB, bc *gophercloud.ServiceClient, id, status string) *volumes.Volume {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		v, err := volumes.Get(ctx, bc, id).Extract()
		switch {
		case err != nil && status == "deleted" && gophercloud.ResponseCodeIs(err, http.StatusNotFound):
			return nil
		case err != nil:
			t.Fatalf("volume %s: %v", id, err)
		case v.Status == status:
			return v
		case strings.HasPrefix(v.Status, "error") && !strings.HasPrefix(status, "error"):
			t.Fatalf("volume %s went to %s", id, v.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("volume %s still %s, want %s", id, v.Status, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitServer polls a server until it has status.
func waitServer(t testing.TB, cc *gophercloud.ServiceClient, id, status string) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		srv, err := servers.Get(ctx, cc, id).Extract()
		switch {
		case err != nil && status == "DELETED" && gophercloud.ResponseCodeIs(err, http.StatusNotFound):
			return
		case err != nil:
			t.Fatalf("server %s: %v", id, err)
		case srv.Status == status:
			return
		case srv.Status == "ERROR":
			t.Fatalf("server %s went to ERROR: %+v", id, srv.Fault)
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s still %s, want %s", id, srv.Status, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// qcow2Image makes an empty qcow2 disk of virtual size with qemu-img.
func qcow2Image(t testing.TB, size string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-f", "qcow2", path, size).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img (install qemu-utils): %v: %s", err, out)
	}
	data, err := os.ReadFile(path)
	must(t, err)
	return data
}

// uploadImage registers and uploads an active, public qcow2 image.
func uploadImage(t testing.TB, ic *gophercloud.ServiceClient, name string, data []byte) string {
	t.Helper()
	public := images.ImageVisibilityPublic
	img, err := images.Create(ctx, ic, images.CreateOpts{Name: name, DiskFormat: "qcow2", ContainerFormat: "bare", Visibility: &public}).Extract()
	must(t, err)
	must(t, imagedata.Upload(ctx, ic, img.ID, strings.NewReader(string(data))).ExtractErr())
	return img.ID
}

// bootServer creates a server from image with a 1 GiB flavor and waits
// until it is ACTIVE; it is deleted when the test ends.
func bootServer(t testing.TB, admin, cc *gophercloud.ServiceClient, imageID, name string, userData []byte) string {
	t.Helper()
	flavor := flavorFor(t, admin)
	srv, err := servers.Create(ctx, cc, servers.CreateOpts{Name: name, ImageRef: imageID, FlavorRef: flavor, UserData: userData}, nil).Extract()
	must(t, err)
	t.Cleanup(func() {
		if servers.Delete(ctx, cc, srv.ID).ExtractErr() == nil {
			waitServer(t, cc, srv.ID, "DELETED")
		}
	})
	waitServer(t, cc, srv.ID, "ACTIVE")
	return srv.ID
}

// flavorFor returns a 1 vCPU, 256 MiB, 1 GiB flavor, made on first use.
func flavorFor(t testing.TB, admin *gophercloud.ServiceClient) string {
	t.Helper()
	page, err := flavors.ListDetail(admin, nil).AllPages(ctx)
	must(t, err)
	list, err := flavors.ExtractFlavors(page)
	must(t, err)
	for _, f := range list {
		if f.Name == "vol.tiny" {
			return f.ID
		}
	}
	f, err := flavors.Create(ctx, admin, flavors.CreateOpts{Name: "vol.tiny", VCPUs: 1, RAM: 256, Disk: gophercloud.IntToPointer(1)}).Extract()
	must(t, err)
	return f.ID
}

// start runs a cloud with the given hosts (default: one test:///default).
func start(t testing.TB, hosts ...string) *cloudtest.Cloud {
	t.Helper()
	return cloudtest.Start(t, cloudtest.Options{Hosts: hosts})
}
