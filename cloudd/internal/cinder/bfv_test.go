package cinder_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"

	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor/hypervisortest"
)

// TestBootFromVolume boots servers from block_device_mapping_v2 with
// gophercloud: a volume made from an image (deleted with the server) and
// an existing volume (kept, available again).
func TestBootFromVolume(t *testing.T) {
	cloud := start(t)
	admin := clientsFor(t, cloud.Admin(t))
	c := clientsFor(t, cloud.Member(t, "bfv"))
	flavor := flavorFor(t, admin.compute)
	imageID := uploadImage(t, admin.image, "boot", qcow2Image(t, "64M"))
	big := uploadImage(t, admin.image, "big", qcow2Image(t, "3G"))

	boot := func(name string, bd servers.BlockDevice) (*servers.Server, error) {
		return servers.Create(ctx, c.compute, servers.CreateOpts{Name: name, FlavorRef: flavor, BlockDevice: []servers.BlockDevice{bd}}, nil).Extract()
	}
	srv, err := boot("from-image", servers.BlockDevice{SourceType: servers.SourceImage, DestinationType: servers.DestinationVolume,
		UUID: imageID, VolumeSize: 1, DeleteOnTermination: true})
	must(t, err)
	waitServer(t, c.compute, srv.ID, "ACTIVE")
	got, err := servers.Get(ctx, c.compute, srv.ID).Extract()
	must(t, err)
	if len(got.AttachedVolumes) != 1 || got.Image["id"] != nil {
		t.Fatalf("server booted from volume: image %v, volumes %v", got.Image, got.AttachedVolumes)
	}
	rootID := got.AttachedVolumes[0].ID
	root := waitVolume(t, c.block, rootID, "in-use")
	if root.Bootable != "true" || root.Attachments[0].Device != "/dev/vda" || root.VolumeImageMetadata["image_id"] != imageID {
		t.Fatalf("root volume = %+v", root)
	}
	wantFault(t, volumeattach.Delete(ctx, c.compute, srv.ID, rootID).ExtractErr(), http.StatusBadRequest, "badRequest", "root device")
	must(t, servers.Delete(ctx, c.compute, srv.ID).ExtractErr())
	waitServer(t, c.compute, srv.ID, "DELETED")
	waitVolume(t, c.block, rootID, "deleted")

	// An existing volume survives its server.
	v, err := volumes.Create(ctx, c.block, volumes.CreateOpts{Size: 1, ImageID: imageID}, nil).Extract()
	must(t, err)
	waitVolume(t, c.block, v.ID, "available")
	srv, err = boot("from-volume", servers.BlockDevice{SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume, UUID: v.ID})
	must(t, err)
	waitServer(t, c.compute, srv.ID, "ACTIVE")
	waitVolume(t, c.block, v.ID, "in-use")
	_, err = boot("twice", servers.BlockDevice{SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume, UUID: v.ID})
	wantFault(t, err, http.StatusBadRequest, "badRequest", "must be available")
	// Resizing changes CPUs and memory; the root disk stays the volume.
	bigger, err := flavors.Create(ctx, admin.compute, flavors.CreateOpts{Name: "vol.bigger", VCPUs: 2, RAM: 512, Disk: gophercloud.IntToPointer(2)}).Extract()
	must(t, err)
	must(t, servers.Resize(ctx, c.compute, srv.ID, servers.ResizeOpts{FlavorRef: bigger.ID}).ExtractErr())
	waitServer(t, c.compute, srv.ID, "VERIFY_RESIZE")
	must(t, servers.ConfirmResize(ctx, c.compute, srv.ID).ExtractErr())
	waitServer(t, c.compute, srv.ID, "ACTIVE")
	waitVolume(t, c.block, v.ID, "in-use")
	// A flavor with a smaller disk is fine: the server has no local disk.
	must(t, servers.Resize(ctx, c.compute, srv.ID, servers.ResizeOpts{FlavorRef: flavor}).ExtractErr())
	waitServer(t, c.compute, srv.ID, "VERIFY_RESIZE")
	must(t, servers.ConfirmResize(ctx, c.compute, srv.ID).ExtractErr())
	waitServer(t, c.compute, srv.ID, "ACTIVE")
	must(t, servers.Delete(ctx, c.compute, srv.ID).ExtractErr())
	waitServer(t, c.compute, srv.ID, "DELETED")
	waitVolume(t, c.block, v.ID, "available")

	// Not even an admin boots its server from another project's volume.
	_, err = servers.Create(ctx, admin.compute, servers.CreateOpts{Name: "foreign", FlavorRef: flavor, BlockDevice: []servers.BlockDevice{
		{SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume, UUID: v.ID}}}, nil).Extract()
	wantFault(t, err, http.StatusBadRequest, "badRequest", "failed to get volume")
	if got := waitVolume(t, c.block, v.ID, "available"); len(got.Attachments) != 0 {
		t.Fatalf("volume after a foreign boot was refused: %+v", got.Attachments)
	}
	page, err := servers.List(admin.compute, nil).AllPages(ctx)
	must(t, err)
	if list, _ := servers.ExtractServers(page); len(list) != 0 {
		t.Fatalf("admin servers left after a refused boot: %+v", list)
	}

	// An image larger than the volume asked for: no server is left behind.
	_, err = boot("too-small", servers.BlockDevice{SourceType: servers.SourceImage, DestinationType: servers.DestinationVolume,
		UUID: big, VolumeSize: 1})
	wantFault(t, err, http.StatusBadRequest, "badRequest", "doesn't fit")
	_, err = boot("no-size", servers.BlockDevice{SourceType: servers.SourceImage, DestinationType: servers.DestinationVolume, UUID: imageID})
	wantFault(t, err, http.StatusBadRequest, "badRequest", "volume_size is required")
	for name, bds := range map[string][]servers.BlockDevice{
		"exactly one mapping": {{SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume, UUID: v.ID},
			{SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume, UUID: v.ID, BootIndex: 1}},
		"local block devices": {{SourceType: servers.SourceImage, DestinationType: servers.DestinationLocal, UUID: imageID}},
		"not supported":       {{SourceType: servers.SourceBlank, DestinationType: servers.DestinationVolume, VolumeSize: 1}},
		"boot device":         {{SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume, UUID: v.ID, BootIndex: 1}},
	} {
		_, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: "bad", FlavorRef: flavor, BlockDevice: bds}, nil).Extract()
		wantFault(t, err, http.StatusBadRequest, "badRequest", name)
	}
	page, err = servers.List(c.compute, nil).AllPages(ctx)
	must(t, err)
	if list, _ := servers.ExtractServers(page); len(list) != 0 {
		t.Fatalf("servers left after failed boots: %+v", list)
	}
}

// TestBootFromVolumePlacement: the volume made for a server goes to a host
// the server fits on, though volume placement alone would pick another.
func TestBootFromVolumePlacement(t *testing.T) {
	dir := t.TempDir()
	tiny, err := hypervisortest.WriteNode(dir, "a-tiny", 1, 128) // too small for the flavor
	must(t, err)
	large, err := hypervisortest.WriteNode(dir, "b-large", 8, 16384)
	must(t, err)
	cloud := start(t, tiny, large)
	c := clientsFor(t, cloud.Admin(t))
	imageID := uploadImage(t, c.image, "boot", qcow2Image(t, "64M"))
	srv, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: "placed", FlavorRef: flavorFor(t, c.compute),
		BlockDevice: []servers.BlockDevice{{SourceType: servers.SourceImage, DestinationType: servers.DestinationVolume,
			UUID: imageID, VolumeSize: 1, DeleteOnTermination: true}}}, nil).Extract()
	must(t, err)
	waitServer(t, c.compute, srv.ID, "ACTIVE")
	got, err := servers.Get(ctx, c.compute, srv.ID).Extract()
	must(t, err)
	v, err := volumes.Get(ctx, c.block, got.AttachedVolumes[0].ID).Extract()
	must(t, err)
	if got.Host != "b-large" || !strings.HasPrefix(v.Host, "b-large@") {
		t.Fatalf("server on %q, its volume on %q; want both on b-large", got.Host, v.Host)
	}
	// A plain volume still goes where volumes are fewest (a tie: by name).
	plain, err := volumes.Create(ctx, c.block, volumes.CreateOpts{Size: 1}, nil).Extract()
	must(t, err)
	if plain = waitVolume(t, c.block, plain.ID, "available"); !strings.HasPrefix(plain.Host, "a-tiny@") {
		t.Fatalf("plain volume on %q, want a-tiny", plain.Host)
	}
}
