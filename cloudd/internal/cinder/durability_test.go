package cinder_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/cloudd/internal/compute"
	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor"
	"github.com/stratus-cloud/stratus/cloudd/internal/server"
	"github.com/stratus-cloud/stratus/cloudd/internal/volume"
)

// TestVolumeTaskResumesAfterCrash: a worker that died while copying a
// volume left a partial disk and a leased task. Once the lease runs out,
// another worker takes the task over, replaces the partial disk and makes
// the volume available: nothing is orphaned, nothing stays "creating".
func TestVolumeTaskResumesAfterCrash(t *testing.T) {
	cloud := cloudtest.Start(t, cloudtest.Options{Tuning: server.Tuning{Volume: volume.Config{Workers: -1, TaskLease: time.Second}}})
	bc := clientsFor(t, cloud.Admin(t)).block
	v, err := volumes.Create(ctx, bc, volumes.CreateOpts{Size: 1}, nil).Extract()
	must(t, err)

	// The dead worker: it leased the task and began the disk.
	tag, err := cloud.Server.Pool.Exec(ctx, `UPDATE volume_tasks SET leased_until = now() + interval '1 second', attempts = 1
		WHERE subject = $1 AND kind = 'create' AND state = 'pending'`, v.ID)
	must(t, err)
	if tag.RowsAffected() != 1 {
		t.Fatalf("no pending create task for %s", v.ID)
	}
	host, ok := cloud.Server.Hosts.Host("test:///default")
	if !ok {
		t.Fatal("no test host")
	}
	must(t, host.CreateVolume(ctx, v.ID, 1, hypervisor.VolumeSource{}))

	ran, err := cloud.Server.Volumes.RunTaskOnce(ctx)
	must(t, err)
	if ran {
		t.Fatal("a worker took a task whose lease is still held")
	}
	time.Sleep(1100 * time.Millisecond)
	ran, err = cloud.Server.Volumes.RunTaskOnce(ctx)
	must(t, err)
	if !ran {
		t.Fatal("the task was not taken over after its lease ran out")
	}
	waitVolume(t, bc, v.ID, "available")

	// Deleting removes the disk; removing it again on the host is harmless.
	must(t, volumes.Delete(ctx, bc, v.ID, nil).ExtractErr())
	for ran, err = cloud.Server.Volumes.RunTaskOnce(ctx); ran; ran, err = cloud.Server.Volumes.RunTaskOnce(ctx) {
		must(t, err)
	}
	waitVolume(t, bc, v.ID, "deleted")
	must(t, host.DeleteVolume(ctx, v.ID))
}

// TestServerDeletedBeforeBootVolume: a server deleted before its boot
// volume's copy is done releases the volume without declaring it
// available: the volume is available only once its disk exists, and one
// made for the server with delete_on_termination is deleted.
func TestServerDeletedBeforeBootVolume(t *testing.T) {
	cloud := cloudtest.Start(t, cloudtest.Options{Tuning: server.Tuning{
		Compute: compute.Config{Workers: -1}, Volume: volume.Config{Workers: -1}}})
	admin := clientsFor(t, cloud.Admin(t))
	c := clientsFor(t, cloud.Member(t, "early"))
	flavor := flavorFor(t, admin.compute)
	imageID := uploadImage(t, admin.image, "boot", qcow2Image(t, "64M"))
	boot := func(name string, deleteOnTermination bool) (serverID, volumeID string) {
		srv, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: name, FlavorRef: flavor, BlockDevice: []servers.BlockDevice{
			{SourceType: servers.SourceImage, DestinationType: servers.DestinationVolume, UUID: imageID, VolumeSize: 1,
				DeleteOnTermination: deleteOnTermination}}}, nil).Extract()
		must(t, err)
		got, err := servers.Get(ctx, c.compute, srv.ID).Extract()
		must(t, err)
		if len(got.AttachedVolumes) != 1 {
			t.Fatalf("server %s: volumes %v", name, got.AttachedVolumes)
		}
		return srv.ID, got.AttachedVolumes[0].ID
	}
	keptSrv, kept := boot("kept", false)
	droppedSrv, dropped := boot("dropped", true)

	for _, id := range []string{keptSrv, droppedSrv} {
		must(t, servers.Delete(ctx, c.compute, id).ExtractErr())
	}
	for ran, err := cloud.Server.Compute.RunTaskOnce(ctx); ran; ran, err = cloud.Server.Compute.RunTaskOnce(ctx) {
		must(t, err)
	}
	if v, err := volumes.Get(ctx, c.block, kept).Extract(); err != nil || v.Status != "creating" || len(v.Attachments) != 0 {
		t.Fatalf("boot volume after its server was deleted before the copy: %+v, %v; want creating, unattached", v, err)
	}
	for ran, err := cloud.Server.Volumes.RunTaskOnce(ctx); ran; ran, err = cloud.Server.Volumes.RunTaskOnce(ctx) {
		must(t, err)
	}
	waitVolume(t, c.block, kept, "available")
	waitVolume(t, c.block, dropped, "deleted")
}

// TestCloneDeletedWhileCopying: a clone's create task runs under its
// source's subject, so a force delete of the clone can complete while its
// disk is being made; the create then finds the volume gone and removes
// the disk it made instead of leaving it orphaned.
func TestCloneDeletedWhileCopying(t *testing.T) {
	cloud := cloudtest.Start(t, cloudtest.Options{Tuning: server.Tuning{Volume: volume.Config{Workers: -1}}})
	bc := clientsFor(t, cloud.Admin(t)).block
	runAll := func() {
		for ran, err := cloud.Server.Volumes.RunTaskOnce(ctx); ran; ran, err = cloud.Server.Volumes.RunTaskOnce(ctx) {
			must(t, err)
		}
	}
	src, err := volumes.Create(ctx, bc, volumes.CreateOpts{Size: 1}, nil).Extract()
	must(t, err)
	runAll()
	clone, err := volumes.Create(ctx, bc, volumes.CreateOpts{SourceVolID: src.ID}, nil).Extract()
	must(t, err)

	// Hold the clone's row so its create stops before recording the disk,
	// and meanwhile let the deletion complete (it found no disk yet).
	lock, err := cloud.Server.Pool.Begin(ctx)
	must(t, err)
	defer func() { _ = lock.Rollback(ctx) }()
	_, err = lock.Exec(ctx, "UPDATE volumes SET status = 'deleting', deleted = true WHERE id = $1", clone.ID)
	must(t, err)
	done := make(chan error, 1)
	go func() { _, err := cloud.Server.Volumes.RunTaskOnce(ctx); done <- err }()
	for waiting := 0; waiting == 0; {
		must(t, cloud.Server.Pool.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").Scan(&waiting))
		time.Sleep(10 * time.Millisecond)
	}
	must(t, lock.Commit(ctx))
	must(t, <-done)

	host, ok := cloud.Server.Hosts.Host("test:///default")
	if !ok {
		t.Fatal("no test host")
	}
	probe := "00000000-0000-4000-8000-000000000001"
	err = host.CreateVolume(ctx, probe, 1, hypervisor.VolumeSource{VolumeID: clone.ID})
	if !errors.Is(err, hypervisor.ErrNotFound) {
		t.Fatalf("disk of the deleted clone: copying it gave %v, want not found", err)
	}
}
