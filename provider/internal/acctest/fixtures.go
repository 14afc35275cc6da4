package acctest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
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
