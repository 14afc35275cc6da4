package cinder_test

import (
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"

	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor/hypervisortest"
)

// volumeCycle creates a volume, attaches it to serverID, detaches it and
// deletes it, each step waited for through the API as a client would, and
// reports the milliseconds of the whole cycle and of its steps.
func volumeCycle(b *testing.B, c clients, serverID string) {
	var create, attach, detach, remove time.Duration
	for b.Loop() {
		t0 := time.Now()
		v, err := volumes.Create(ctx, c.block, volumes.CreateOpts{Size: 1}, nil).Extract()
		must(b, err)
		waitVolume(b, c.block, v.ID, "available")
		t1 := time.Now()
		_, err = volumeattach.Create(ctx, c.compute, serverID, volumeattach.CreateOpts{VolumeID: v.ID}).Extract()
		must(b, err)
		waitVolume(b, c.block, v.ID, "in-use")
		t2 := time.Now()
		must(b, volumeattach.Delete(ctx, c.compute, serverID, v.ID).ExtractErr())
		waitVolume(b, c.block, v.ID, "available")
		t3 := time.Now()
		must(b, volumes.Delete(ctx, c.block, v.ID, nil).ExtractErr())
		waitVolume(b, c.block, v.ID, "deleted")
		create, attach, detach, remove = create+t1.Sub(t0), attach+t2.Sub(t1), detach+t3.Sub(t2), remove+time.Since(t3)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(create+attach+detach+remove), "ms/cycle")
	b.ReportMetric(ms(create), "ms-create")
	b.ReportMetric(ms(attach), "ms-attach")
	b.ReportMetric(ms(detach), "ms-detach")
	b.ReportMetric(ms(remove), "ms-delete")
}

// BenchmarkVolumeCycle: create -> attach -> detach -> delete on a
// simulated (test driver) host.
func BenchmarkVolumeCycle(b *testing.B) {
	cloud := start(b)
	c := clientsFor(b, cloud.Admin(b))
	imageID := uploadImage(b, c.image, "boot", qcow2Image(b, "64M"))
	serverID := bootServer(b, c.compute, c.compute, imageID, "bench", nil)
	volumeCycle(b, c, serverID)
}

// BenchmarkVolumeCycleRealGuest: the same cycle against a running QEMU
// guest (hot-plug and unplug in the guest, qcow2 files on the host).
func BenchmarkVolumeCycleRealGuest(b *testing.B) {
	hypervisortest.RequireSystemLibvirt(b)
	cloud := start(b, "qemu:///system")
	c := clientsFor(b, cloud.Admin(b))
	imageID := uploadImage(b, c.image, "stratus-tiny", tinyImage(b))
	serverID := bootServer(b, c.compute, c.compute, imageID, "bench-guest", []byte(diskWatcher))
	// Unplugging needs the guest's kernel up to answer ACPI.
	lastDisks(b, c.compute, serverID, func(d string) bool { return d != "" })
	volumeCycle(b, c, serverID)
}
