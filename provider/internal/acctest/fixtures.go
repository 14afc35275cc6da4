package acctest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// QCOW2File writes a small valid qcow2 disk (qemu-img, from qemu-utils)
// and returns its path.
func QCOW2File(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-f", "qcow2", p, "64M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img (install qemu-utils): %v: %s", err, out)
	}
	return p
}

// UploadImage registers and uploads a public qcow2 image named name and
// returns its id.
func (c *Cloud) UploadImage(t testing.TB, name string) string {
	t.Helper()
	ic := c.Image(t)
	public := images.ImageVisibilityPublic
	img, err := images.Create(Ctx, ic, images.CreateOpts{Name: name, DiskFormat: "qcow2", ContainerFormat: "bare", Visibility: &public}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(QCOW2File(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := imagedata.Upload(Ctx, ic, img.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	return img.ID
}

// DeleteServer deletes a server behind Terraform's back.
func (c *Cloud) DeleteServer(t testing.TB, id string) error {
	return servers.Delete(Ctx, c.Compute(t), id).ExtractErr()
}

// SkipUnlessNovaSupports skips t while the cloud's Nova refuses a server
// create that uses feature ("networks" or "block_device_mapping_v2") as
// not supported yet, the answer of a Stratus whose Nova predates its
// network or block storage service. Any other answer (such as a 400 or
// 404 about the made-up ids sent here) means Nova takes the field.
func (c *Cloud) SkipUnlessNovaSupports(t testing.TB, feature string) {
	t.Helper()
	opts := servers.CreateOpts{Name: "probe", FlavorRef: "1", ImageRef: "00000000-0000-0000-0000-000000000000"}
	switch feature {
	case "networks":
		opts.Networks = []servers.Network{{UUID: "00000000-0000-0000-0000-000000000000"}}
	case "block_device_mapping_v2":
		opts.BlockDevice = []servers.BlockDevice{{SourceType: servers.SourceBlank, DestinationType: servers.DestinationVolume, VolumeSize: 1}}
	}
	_, err := servers.Create(Ctx, c.Compute(t), opts, nil).Extract()
	if err != nil && strings.Contains(err.Error(), "not supported yet") || err != nil && strings.Contains(err.Error(), "cannot be requested yet") {
		t.Skipf("the cloud's Nova does not take %s yet: %v", feature, err)
	}
}
