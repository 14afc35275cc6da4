package glance_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

type cliImage struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	Status          string         `json:"status"`
	DiskFormat      string         `json:"disk_format"`
	ContainerFormat string         `json:"container_format"`
	Checksum        string         `json:"checksum"`
	Size            int64          `json:"size"`
	Properties      map[string]any `json:"properties"`
}

// TestOpenstackCLI drives the image API with the openstack CLI
// (openstacksdk underneath): create with a file, list, show, set a
// property, save, import, a refused upload, delete.
func TestOpenstackCLI(t *testing.T) {
	cloud := cloudtest.Start(t)
	cli := cloud.OpenstackCLI(t)
	dir := t.TempDir()
	data := qcow2Data(2<<20, nil)
	file := filepath.Join(dir, "cirros.qcow2")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)

	var created cliImage
	cli.JSON(&created, "image", "create", "--file", file, "--disk-format", "qcow2", "--container-format", "bare",
		"--property", "os_distro=cirros", "cli-image")
	if created.ID == "" || created.Name != "cli-image" {
		t.Fatalf("image create: %+v", created)
	}

	var list []struct{ ID, Name, Status string }
	cli.JSON(&list, "image", "list")
	if !slices.ContainsFunc(list, func(i struct{ ID, Name, Status string }) bool {
		return i.ID == created.ID && i.Name == "cli-image" && i.Status == "active"
	}) {
		t.Errorf("image list lacks an active cli-image %s: %+v", created.ID, list)
	}

	var shown cliImage
	cli.JSON(&shown, "image", "show", "cli-image")
	if shown.Status != "active" || shown.DiskFormat != "qcow2" || shown.ContainerFormat != "bare" ||
		shown.Size != int64(len(data)) || shown.Checksum != hex.EncodeToString(sum[:]) {
		t.Errorf("image show: %+v, want active qcow2/bare of %d bytes with md5 %x", shown, len(data), sum)
	}
	if shown.Properties["os_distro"] != "cirros" {
		t.Errorf("image show properties %v lack os_distro=cirros", shown.Properties)
	}

	cli.OK("image", "set", "--property", "hw_disk_bus=virtio", "--property", "os_distro=cirros-0.6", "cli-image")
	cli.JSON(&shown, "image", "show", "cli-image")
	if shown.Properties["hw_disk_bus"] != "virtio" || shown.Properties["os_distro"] != "cirros-0.6" {
		t.Errorf("after image set --property: properties %v", shown.Properties)
	}

	saved := filepath.Join(dir, "saved.qcow2")
	cli.OK("image", "save", "--file", saved, "cli-image")
	got, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("image save wrote %d bytes that differ from the %d uploaded", len(got), len(data))
	}

	// --import stages the data and imports it with glance-direct.
	var imported cliImage
	cli.JSON(&imported, "image", "create", "--import", "--file", file, "--disk-format", "qcow2", "--container-format", "bare", "cli-imported")
	cli.JSON(&imported, "image", "show", imported.ID)
	if imported.Status != "active" || imported.Checksum != hex.EncodeToString(sum[:]) {
		t.Errorf("image create --import: %+v, want active with md5 %x", imported, sum)
	}

	// The inspector's refusal reaches the CLI user: a qcow2 with a
	// backing file is refused, and the CLI removes the half-made image.
	bad := filepath.Join(dir, "backing.qcow2")
	if err := os.WriteFile(bad, qcow2Data(4096, withBackingFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if errOut := cli.Fails("image", "create", "--file", bad, "--disk-format", "qcow2", "--container-format", "bare", "evil"); !strings.Contains(errOut, "backing file") {
		t.Errorf("image create with a backing-file qcow2: stderr %s; want it to name the backing file", errOut)
	}

	cli.OK("image", "delete", "cli-image")
	cli.Fails("image", "show", "cli-image")
}
