package hypervisor

import (
	"errors"
	"strings"
	"testing"

	"libvirt.org/go/libvirt"
)

// TestVolumesOnTestDriver runs the volume calls against a simulated host:
// blank and cloned volumes, attach (persistent definition only: the test
// driver cannot hot-plug), idempotent retries, a taken device, detach,
// boot from a volume, and deletes that tolerate missing disks.
func TestVolumesOnTestDriver(t *testing.T) {
	_, hosts := testHosts(t, 1)
	h := hosts[0]
	ctx := ctxT(t)
	if err := h.CreateVolume(ctx, "vol-a", 1, VolumeSource{}); err != nil {
		t.Fatal(err)
	}
	if err := h.CreateVolume(ctx, "vol-a", 1, VolumeSource{}); err != nil {
		t.Fatalf("creating again (a resumed task) must replace the volume: %v", err)
	}
	if err := h.CreateVolume(ctx, "vol-b", 0, VolumeSource{}); err == nil {
		t.Fatal("a 0 GiB volume was created")
	}
	if err := h.SnapshotVolume(ctx, "vol-a", "snap-a", ""); err != nil {
		t.Fatal(err)
	}
	if err := h.CreateVolume(ctx, "vol-c", 2, VolumeSource{SnapshotID: "snap-a"}); err != nil {
		t.Fatal(err)
	}
	if err := h.CreateVolume(ctx, "vol-d", 1, VolumeSource{VolumeID: "missing"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("clone of a missing volume: %v", err)
	}

	cacheImage(t, h)
	if err := h.CreateServer(ctx, spec("srv-1")); err != nil {
		t.Fatal(err)
	}
	if err := h.AttachVolume(ctx, "srv-1", "vol-a", "/dev/vdc"); err != nil {
		t.Fatal(err)
	}
	if err := h.AttachVolume(ctx, "srv-1", "vol-a", "/dev/vdc"); err != nil {
		t.Fatalf("attaching again (a retried task) must be harmless: %v", err)
	}
	if err := h.AttachVolume(ctx, "srv-1", "vol-c", "/dev/vdc"); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("attaching to a taken device: %v", err)
	}
	if err := h.AttachVolume(ctx, "srv-1", "vol-c", "/dev/sda"); err == nil {
		t.Fatal("attached as /dev/sda")
	}
	if doc := inactiveXML(t, h, "srv-1"); !strings.Contains(doc, "<serial>vol-a</serial>") || !strings.Contains(doc, "volume-vol-a.qcow2") {
		t.Fatalf("the definition lacks the volume:\n%s", doc)
	}
	if err := h.DetachVolume(ctx, "srv-1", "vol-a"); err != nil {
		t.Fatal(err)
	}
	if doc := inactiveXML(t, h, "srv-1"); strings.Contains(doc, "vol-a") {
		t.Fatalf("the definition still has the volume:\n%s", doc)
	}
	if err := h.DetachVolume(ctx, "gone", "vol-a"); err != nil {
		t.Fatalf("detaching from a server that is gone: %v", err)
	}

	bfv := spec("srv-2")
	bfv.ImageID, bfv.DiskGiB, bfv.BootVolumeID = "", 0, "vol-c"
	if err := h.CreateServer(ctx, bfv); err != nil {
		t.Fatal(err)
	}
	if doc := inactiveXML(t, h, "srv-2"); !strings.Contains(doc, "volume-vol-c.qcow2") || !strings.Contains(doc, "<serial>vol-c</serial>") {
		t.Fatalf("the server does not boot from its volume:\n%s", doc)
	}
	if err := h.Delete(ctx, "srv-2"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"vol-a", "vol-c", "vol-a"} {
		if err := h.DeleteVolume(ctx, id); err != nil {
			t.Fatalf("deleting %s: %v", id, err)
		}
	}
	if err := h.DeleteSnapshot(ctx, "snap-a"); err != nil {
		t.Fatal(err)
	}
	if err := h.CreateVolume(ctx, "vol-e", 1, VolumeSource{SnapshotID: "snap-a"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a volume from a deleted snapshot: %v", err)
	}
}

func inactiveXML(t *testing.T, h *Host, id string) string {
	t.Helper()
	var doc string
	err := h.withDomain(ctxT(t), id, func(s *session, d *libvirt.Domain) error {
		var err error
		doc, err = d.GetXMLDesc(libvirt.DOMAIN_XML_INACTIVE)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
