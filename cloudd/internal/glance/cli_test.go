package glance_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

// osCLI runs the real openstack command line as a user who sourced the
// cloud's admin-openrc.sh.
type osCLI struct {
	t   *testing.T
	env []string
}

func newCLI(t *testing.T, cloud *cloudtest.Cloud) osCLI {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OS_") {
			env = append(env, kv)
		}
	}
	return osCLI{t: t, env: append(env, cloud.Env(t)...)}
}

func (c osCLI) run(args ...string) (string, string, error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openstack", args...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// ok runs openstack args and fails the test unless it exits 0.
func (c osCLI) ok(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("openstack %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// json runs openstack args -f json and decodes the output into v.
func (c osCLI) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "-f", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("openstack %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

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

func TestOpenstackCLI(t *testing.T) {
	if _, err := exec.LookPath("openstack"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("openstack CLI (python3-openstackclient) is required in CI: %v", err)
		}
		t.Skipf("openstack CLI not installed: %v", err)
	}
	cloud := cloudtest.Start(t)
	cli := newCLI(t, cloud)
	dir := t.TempDir()
	data := qcow2Data(2<<20, nil)
	file := filepath.Join(dir, "cirros.qcow2")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)

	var created cliImage
	cli.json(&created, "image", "create", "--file", file, "--disk-format", "qcow2", "--container-format", "bare",
		"--property", "os_distro=cirros", "cli-image")
	if created.ID == "" || created.Name != "cli-image" {
		t.Fatalf("image create: %+v", created)
	}

	var list []struct{ ID, Name, Status string }
	cli.json(&list, "image", "list")
	if !slices.ContainsFunc(list, func(i struct{ ID, Name, Status string }) bool {
		return i.ID == created.ID && i.Name == "cli-image" && i.Status == "active"
	}) {
		t.Errorf("image list lacks an active cli-image %s: %+v", created.ID, list)
	}

	var shown cliImage
	cli.json(&shown, "image", "show", "cli-image")
	if shown.Status != "active" || shown.DiskFormat != "qcow2" || shown.ContainerFormat != "bare" ||
		shown.Size != int64(len(data)) || shown.Checksum != hex.EncodeToString(sum[:]) {
		t.Errorf("image show: %+v, want active qcow2/bare of %d bytes with md5 %x", shown, len(data), sum)
	}
	if shown.Properties["os_distro"] != "cirros" {
		t.Errorf("image show properties %v lack os_distro=cirros", shown.Properties)
	}

	cli.ok("image", "set", "--property", "hw_disk_bus=virtio", "--property", "os_distro=cirros-0.6", "cli-image")
	cli.json(&shown, "image", "show", "cli-image")
	if shown.Properties["hw_disk_bus"] != "virtio" || shown.Properties["os_distro"] != "cirros-0.6" {
		t.Errorf("after image set --property: properties %v", shown.Properties)
	}

	saved := filepath.Join(dir, "saved.qcow2")
	cli.ok("image", "save", "--file", saved, "cli-image")
	got, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("image save wrote %d bytes that differ from the %d uploaded", len(got), len(data))
	}

	// --import stages the data and imports it with glance-direct.
	var imported cliImage
	cli.json(&imported, "image", "create", "--import", "--file", file, "--disk-format", "qcow2", "--container-format", "bare", "cli-imported")
	cli.json(&imported, "image", "show", imported.ID)
	if imported.Status != "active" || imported.Checksum != hex.EncodeToString(sum[:]) {
		t.Errorf("image create --import: %+v, want active with md5 %x", imported, sum)
	}

	// The inspector's refusal reaches the CLI user: a qcow2 with a
	// backing file is refused, and the CLI removes the half-made image.
	bad := filepath.Join(dir, "backing.qcow2")
	if err := os.WriteFile(bad, qcow2Data(4096, withBackingFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := cli.run("image", "create", "--file", bad, "--disk-format", "qcow2", "--container-format", "bare", "evil"); err == nil ||
		!strings.Contains(errOut, "backing file") {
		t.Errorf("image create with a backing-file qcow2: err %v, stderr %s; want a failure naming the backing file", err, errOut)
	}

	cli.ok("image", "delete", "cli-image")
	if _, errOut, err := cli.run("image", "show", "cli-image"); err == nil {
		t.Errorf("image show after delete succeeded; stderr %s", errOut)
	}
}
