package cinder_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/hypervisors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"

	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor/hypervisortest"
)

// TestVolumeTypes covers type CRUD and extra specs with gophercloud.
func TestVolumeTypes(t *testing.T) {
	cloud := start(t)
	admin := clientsFor(t, cloud.Admin(t)).block
	member := clientsFor(t, cloud.Member(t, "typed")).block

	public := true
	vt, err := volumetypes.Create(ctx, admin, volumetypes.CreateOpts{Name: "fast", Description: "qcow2 files", IsPublic: &public,
		ExtraSpecs: map[string]string{"volume_backend_name": "dir"}}).Extract()
	must(t, err)
	if vt.ExtraSpecs["volume_backend_name"] != "dir" || !vt.IsPublic {
		t.Fatalf("created type = %+v", vt)
	}
	_, err = volumetypes.Create(ctx, admin, volumetypes.CreateOpts{Name: "fast"}).Extract()
	wantFault(t, err, http.StatusConflict, "conflictingRequest", "already exists")
	_, err = volumetypes.Create(ctx, admin, volumetypes.CreateOpts{Name: "lvm", ExtraSpecs: map[string]string{"volume_backend_name": "lvm"}}).Extract()
	wantFault(t, err, http.StatusBadRequest, "badRequest", "not a backend")
	_, err = volumetypes.Create(ctx, member, volumetypes.CreateOpts{Name: "mine"}).Extract()
	wantFault(t, err, http.StatusForbidden, "forbidden", "")

	page, err := volumetypes.List(member, nil).AllPages(ctx)
	must(t, err)
	list, err := volumetypes.ExtractVolumeTypes(page)
	must(t, err)
	var names []string
	for _, v := range list {
		names = append(names, v.Name)
	}
	if !slices.Contains(names, "fast") || !slices.Contains(names, "__DEFAULT__") {
		t.Fatalf("types = %v", names)
	}

	_, err = volumetypes.CreateExtraSpecs(ctx, admin, vt.ID, volumetypes.ExtraSpecsOpts{"tier": "gold"}).Extract()
	must(t, err)
	spec, err := volumetypes.GetExtraSpec(ctx, admin, vt.ID, "tier").Extract()
	must(t, err)
	if spec["tier"] != "gold" {
		t.Fatalf("extra spec = %v", spec)
	}
	must(t, volumetypes.DeleteExtraSpec(ctx, admin, vt.ID, "tier").ExtractErr())
	specs, err := volumetypes.ListExtraSpecs(ctx, admin, vt.ID).Extract()
	must(t, err)
	if _, ok := specs["tier"]; ok || specs["volume_backend_name"] != "dir" {
		t.Fatalf("extra specs after delete = %v", specs)
	}
	name := "faster"
	got, err := volumetypes.Update(ctx, admin, vt.ID, volumetypes.UpdateOpts{Name: &name}).Extract()
	must(t, err)
	if got.Name != "faster" {
		t.Fatalf("renamed type = %+v", got)
	}
	// The default type, which volumes without a type get, stays as it is.
	for _, v := range list {
		if v.Name == "__DEFAULT__" {
			private := false
			_, err = volumetypes.Update(ctx, admin, v.ID, volumetypes.UpdateOpts{Name: &name}).Extract()
			wantFault(t, err, http.StatusBadRequest, "badRequest", "cannot be renamed")
			_, err = volumetypes.Update(ctx, admin, v.ID, volumetypes.UpdateOpts{IsPublic: &private}).Extract()
			wantFault(t, err, http.StatusBadRequest, "badRequest", "made private")
		}
	}

	// Per-type quotas: one volume of type faster for this project.
	project := cloud.MemberProject(t, "typed")
	_, err = quotasets.Update(ctx, admin, project, quotasets.UpdateOpts{Extra: map[string]any{"volumes_faster": 1}}).Extract()
	must(t, err)

	// A type in use cannot go; once its volume is gone it can.
	v, err := volumes.Create(ctx, member, volumes.CreateOpts{Size: 1, VolumeType: "faster"}, nil).Extract()
	must(t, err)
	if v.VolumeType != "faster" {
		t.Fatalf("volume type = %q", v.VolumeType)
	}
	waitVolume(t, member, v.ID, "available")
	_, err = volumes.Create(ctx, member, volumes.CreateOpts{Size: 1, VolumeType: "faster"}, nil).Extract()
	wantFault(t, err, http.StatusRequestEntityTooLarge, "overLimit", "quota 'volumes_faster'")
	q, err := quotasets.Get(ctx, member, project).Extract()
	must(t, err)
	if q.Extra["volumes_faster"] != float64(1) || q.Extra["gigabytes_faster"] != float64(-1) {
		t.Fatalf("quota set with per-type quotas = %+v", q)
	}
	wantFault(t, volumetypes.Delete(ctx, admin, vt.ID).ExtractErr(), http.StatusBadRequest, "badRequest", "in use")
	must(t, volumes.Delete(ctx, member, v.ID, nil).ExtractErr())
	waitVolume(t, member, v.ID, "deleted")
	must(t, volumetypes.Delete(ctx, admin, vt.ID).ExtractErr())
	_, err = volumetypes.Get(ctx, admin, vt.ID).Extract()
	wantFault(t, err, http.StatusNotFound, "itemNotFound", vt.ID)
	// The name is free again.
	_, err = volumetypes.Create(ctx, admin, volumetypes.CreateOpts{Name: "faster"}).Extract()
	must(t, err)
}

// TestVolumeLifecycle drives volumes through gophercloud on a simulated
// host: create (blank, from image, snapshot and volume), list with filters
// and pagination, show, update, metadata, bootable, extend, attach and
// detach through Nova, snapshots, delete, quotas and limits, and the bad
// input Cinder refuses.
func TestVolumeLifecycle(t *testing.T) {
	cloud := start(t)
	admin := clientsFor(t, cloud.Admin(t))
	project := cloud.MemberProject(t, "vols")
	c := clientsFor(t, cloud.Member(t, "vols"))
	bc := c.block

	v, err := volumes.Create(ctx, bc, volumes.CreateOpts{Size: 1, Name: "data", Description: "first",
		Metadata: map[string]string{"tier": "a"}}, nil).Extract()
	must(t, err)
	if v.Status != "creating" || v.Size != 1 || v.VolumeType != "__DEFAULT__" || v.TenantID != project {
		t.Fatalf("created volume = %+v", v)
	}
	v = waitVolume(t, bc, v.ID, "available")
	if v.Bootable != "false" || v.AvailabilityZone != "nova" || len(v.Attachments) != 0 {
		t.Fatalf("available volume = %+v", v)
	}

	// Update, metadata, bootable.
	newName, newDesc := "data-1", "renamed"
	v, err = volumes.Update(ctx, bc, v.ID, volumes.UpdateOpts{Name: &newName, Description: &newDesc}).Extract()
	must(t, err)
	if v.Name != "data-1" || v.Description != "renamed" || v.Metadata["tier"] != "a" {
		t.Fatalf("updated volume = %+v", v)
	}
	must(t, volumes.SetBootable(ctx, bc, v.ID, volumes.BootableOpts{Bootable: true}).ExtractErr())
	resp, err := bc.Post(ctx, bc.ServiceURL("volumes", v.ID, "metadata"), map[string]any{"metadata": map[string]string{"owner": "ops"}}, nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
	must(t, err)
	resp.Body.Close()
	v, err = volumes.Get(ctx, bc, v.ID).Extract()
	must(t, err)
	if v.Bootable != "true" || v.Metadata["owner"] != "ops" || v.Metadata["tier"] != "a" {
		t.Fatalf("volume after bootable and metadata = %+v", v)
	}

	// Extend; shrinking is a 400.
	must(t, volumes.ExtendSize(ctx, bc, v.ID, volumes.ExtendSizeOpts{NewSize: 2}).ExtractErr())
	v = waitVolume(t, bc, v.ID, "available")
	if v.Size != 2 {
		t.Fatalf("extended size = %d", v.Size)
	}
	wantFault(t, volumes.ExtendSize(ctx, bc, v.ID, volumes.ExtendSizeOpts{NewSize: 1}).ExtractErr(), http.StatusBadRequest, "badRequest", "greater than current size")

	// Snapshots, and volumes from a snapshot and from a volume.
	snap, err := snapshots.Create(ctx, bc, snapshots.CreateOpts{VolumeID: v.ID, Name: "snap"}).Extract()
	must(t, err)
	waitSnapshot(t, bc, snap.ID, "available")
	fromSnap, err := volumes.Create(ctx, bc, volumes.CreateOpts{SnapshotID: snap.ID, Name: "from-snap"}, nil).Extract()
	must(t, err)
	fromSnap = waitVolume(t, bc, fromSnap.ID, "available")
	if fromSnap.Size != 2 || fromSnap.SnapshotID != snap.ID || fromSnap.Bootable != "true" {
		t.Fatalf("volume from snapshot = %+v", fromSnap)
	}
	_, err = volumes.Create(ctx, bc, volumes.CreateOpts{SnapshotID: snap.ID, Size: 1}, nil).Extract()
	wantFault(t, err, http.StatusBadRequest, "badRequest", "cannot be smaller")
	clone, err := volumes.Create(ctx, bc, volumes.CreateOpts{SourceVolID: v.ID, Size: 3, Name: "clone"}, nil).Extract()
	must(t, err)
	clone = waitVolume(t, bc, clone.ID, "available")
	if clone.Size != 3 || clone.SourceVolID != v.ID {
		t.Fatalf("clone = %+v", clone)
	}
	wantFault(t, volumes.Delete(ctx, bc, v.ID, nil).ExtractErr(), http.StatusBadRequest, "badRequest", "dependent snapshots")
	snapPage, err := snapshots.List(bc, snapshots.ListOpts{VolumeID: v.ID}).AllPages(ctx)
	must(t, err)
	if list, _ := snapshots.ExtractSnapshots(snapPage); len(list) != 1 || list[0].ID != snap.ID {
		t.Fatalf("snapshots of %s = %+v", v.ID, list)
	}
	must(t, snapshots.Delete(ctx, bc, snap.ID).ExtractErr())
	waitSnapshot(t, bc, snap.ID, "deleted")

	// From an image: it must fit.
	small := uploadImage(t, admin.image, "small", qcow2Image(t, "64M"))
	big := uploadImage(t, admin.image, "big", qcow2Image(t, "3G"))
	fromImage, err := volumes.Create(ctx, bc, volumes.CreateOpts{ImageID: small, Size: 1, Name: "from-image"}, nil).Extract()
	must(t, err)
	fromImage = waitVolume(t, bc, fromImage.ID, "available")
	if fromImage.Bootable != "true" || fromImage.VolumeImageMetadata["image_id"] != small {
		t.Fatalf("volume from image = %+v", fromImage)
	}
	_, err = volumes.Create(ctx, bc, volumes.CreateOpts{ImageID: big, Size: 1}, nil).Extract()
	wantFault(t, err, http.StatusBadRequest, "badRequest", "doesn't fit in a volume of size 1GB")

	// List: filters and pagination, newest first.
	page, err := volumes.List(bc, volumes.ListOpts{Name: "clone"}).AllPages(ctx)
	must(t, err)
	if list, _ := volumes.ExtractVolumes(page); len(list) != 1 || list[0].ID != clone.ID {
		t.Fatalf("filtered by name: %+v", list)
	}
	var seen []string
	err = volumes.List(bc, volumes.ListOpts{Limit: 2}).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
		list, err := volumes.ExtractVolumes(p)
		for _, x := range list {
			seen = append(seen, x.ID)
		}
		return true, err
	})
	must(t, err)
	if want := []string{fromImage.ID, clone.ID, fromSnap.ID, v.ID}; !slices.Equal(seen, want) {
		t.Fatalf("paginated listing = %v, want %v", seen, want)
	}
	page, err = volumes.List(bc, volumes.ListOpts{Metadata: map[string]string{"owner": "ops"}}).AllPages(ctx)
	must(t, err)
	if list, _ := volumes.ExtractVolumes(page); len(list) != 1 || list[0].ID != v.ID {
		t.Fatalf("filtered by metadata: %+v", list)
	}

	// Another project sees none of it.
	stranger := clientsFor(t, cloud.Member(t, "strangers")).block
	_, err = volumes.Get(ctx, stranger, v.ID).Extract()
	wantFault(t, err, http.StatusNotFound, "itemNotFound", v.ID)

	// Attach through Nova to a server on the same host, then the bad cases.
	imageID := uploadImage(t, admin.image, "boot", qcow2Image(t, "64M"))
	serverID := bootServer(t, admin.compute, c.compute, imageID, "with-volume", nil)
	att, err := volumeattach.Create(ctx, c.compute, serverID, volumeattach.CreateOpts{VolumeID: v.ID}).Extract()
	must(t, err)
	if att.Device != "/dev/vdc" || att.VolumeID != v.ID || att.ServerID != serverID {
		t.Fatalf("attachment = %+v", att)
	}
	v = waitVolume(t, bc, v.ID, "in-use")
	if len(v.Attachments) != 1 || v.Attachments[0].ServerID != serverID || v.Attachments[0].Device != "/dev/vdc" {
		t.Fatalf("in-use volume attachments = %+v", v.Attachments)
	}
	srv, err := servers.Get(ctx, c.compute, serverID).Extract()
	must(t, err)
	if len(srv.AttachedVolumes) != 1 || srv.AttachedVolumes[0].ID != v.ID {
		t.Fatalf("server volumes_attached = %+v", srv.AttachedVolumes)
	}
	got, err := volumeattach.Get(ctx, c.compute, serverID, v.ID).Extract()
	must(t, err)
	if got.Device != "/dev/vdc" {
		t.Fatalf("attachment shown = %+v", got)
	}
	_, err = volumeattach.Create(ctx, c.compute, serverID, volumeattach.CreateOpts{VolumeID: v.ID}).Extract()
	wantFault(t, err, http.StatusBadRequest, "badRequest", "already attached")
	wantFault(t, volumes.Delete(ctx, bc, v.ID, nil).ExtractErr(), http.StatusBadRequest, "badRequest", "attached")
	second, err := volumeattach.Create(ctx, c.compute, serverID, volumeattach.CreateOpts{VolumeID: clone.ID}).Extract()
	must(t, err)
	if second.Device != "/dev/vdd" {
		t.Fatalf("second attachment = %+v", second)
	}
	waitVolume(t, bc, clone.ID, "in-use")
	attPage, err := volumeattach.List(c.compute, serverID).AllPages(ctx)
	must(t, err)
	if list, _ := volumeattach.ExtractVolumeAttachments(attPage); len(list) != 2 {
		t.Fatalf("attachments = %+v", list)
	}
	// Online extension of an attached volume.
	must(t, volumes.ExtendSize(ctx, bc, v.ID, volumes.ExtendSizeOpts{NewSize: 4}).ExtractErr())
	if v = waitVolume(t, bc, v.ID, "in-use"); v.Size != 4 {
		t.Fatalf("online extended size = %d", v.Size)
	}
	_, err = snapshots.Create(ctx, bc, snapshots.CreateOpts{VolumeID: v.ID, Force: true}).Extract()
	wantFault(t, err, http.StatusBadRequest, "badRequest", "detach it first")

	must(t, volumeattach.Delete(ctx, c.compute, serverID, v.ID).ExtractErr())
	v = waitVolume(t, bc, v.ID, "available")
	if len(v.Attachments) != 0 {
		t.Fatalf("detached volume attachments = %+v", v.Attachments)
	}
	wantFault(t, volumeattach.Delete(ctx, c.compute, serverID, v.ID).ExtractErr(), http.StatusNotFound, "itemNotFound", "not attached")

	// Deleting the server releases the volume it still has.
	must(t, servers.Delete(ctx, c.compute, serverID).ExtractErr())
	waitServer(t, c.compute, serverID, "DELETED")
	waitVolume(t, bc, clone.ID, "available")

	// Quotas and limits.
	q, err := quotasets.GetUsage(ctx, bc, project).Extract()
	must(t, err)
	if q.Volumes.InUse != 4 || q.Volumes.Limit != 10 || q.Gigabytes.InUse != 4+2+3+1 {
		t.Fatalf("quota usage = %+v", q)
	}
	lim, err := limits.Get(ctx, bc).Extract()
	must(t, err)
	if lim.Absolute.TotalVolumesUsed != 4 || lim.Absolute.MaxTotalVolumes != 10 || lim.Absolute.TotalGigabytesUsed != 10 {
		t.Fatalf("limits = %+v", lim.Absolute)
	}
	four := 4
	_, err = quotasets.Update(ctx, bc, project, quotasets.UpdateOpts{Volumes: &four}).Extract()
	wantFault(t, err, http.StatusForbidden, "forbidden", "")
	_, err = quotasets.Update(ctx, admin.block, project, quotasets.UpdateOpts{Volumes: &four}).Extract()
	must(t, err)
	_, err = volumes.Create(ctx, bc, volumes.CreateOpts{Size: 1}, nil).Extract()
	wantFault(t, err, http.StatusRequestEntityTooLarge, "overLimit", "Maximum number of volumes allowed (4)")
	eleven := 11
	_, err = quotasets.Update(ctx, admin.block, project, quotasets.UpdateOpts{Volumes: &eleven, Gigabytes: &eleven}).Extract()
	must(t, err)
	_, err = volumes.Create(ctx, bc, volumes.CreateOpts{Size: 2}, nil).Extract()
	wantFault(t, err, http.StatusRequestEntityTooLarge, "overLimit", "exceeds allowed gigabytes quota")
	must(t, quotasets.Delete(ctx, admin.block, project).ExtractErr())

	// Delete everything; deleted volumes are gone from listings.
	for _, id := range []string{v.ID, clone.ID, fromSnap.ID, fromImage.ID} {
		must(t, volumes.Delete(ctx, bc, id, nil).ExtractErr())
	}
	for _, id := range []string{v.ID, clone.ID, fromSnap.ID, fromImage.ID} {
		waitVolume(t, bc, id, "deleted")
	}
	page, err = volumes.List(bc, nil).AllPages(ctx)
	must(t, err)
	if list, _ := volumes.ExtractVolumes(page); len(list) != 0 {
		t.Fatalf("volumes after deleting all: %+v", list)
	}
	checkEvents(t, cloud, v.ID)
}

// checkEvents reads the lifecycle feed and checks the volume's events
// carry size, type and project.
func checkEvents(t *testing.T, cloud *cloudtest.Cloud, volumeID string) {
	t.Helper()
	pc := cloud.Admin(t)
	resp, err := pc.Request(ctx, http.MethodGet, cloud.URL+"/events/v1/events?after=0&limit=1000", &gophercloud.RequestOpts{KeepResponseBody: true, OkCodes: []int{200}})
	must(t, err)
	defer resp.Body.Close()
	var body struct {
		Events []struct {
			Type    string         `json:"type"`
			Subject string         `json:"subject"`
			Data    map[string]any `json:"data"`
		} `json:"events"`
	}
	must(t, json.NewDecoder(resp.Body).Decode(&body))
	var types []string
	for _, e := range body.Events {
		if e.Subject != volumeID {
			continue
		}
		types = append(types, e.Type)
		if e.Data["size_gb"] == nil || e.Data["volume_type"] != "__DEFAULT__" || e.Data["project_id"] == "" || e.Data["host"] == "" {
			t.Errorf("event %s lacks size, type, project or host: %v", e.Type, e.Data)
		}
	}
	want := []string{"created", "resized", "attached", "resized", "detached", "deleted"}
	for i := range want {
		want[i] = "stratus.volume.volume." + want[i]
	}
	if !slices.Equal(types, want) {
		t.Fatalf("events of %s = %v, want %v", volumeID, types, want)
	}
}

func waitSnapshot(t testing.TB, bc *gophercloud.ServiceClient, id, status string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s, err := snapshots.Get(ctx, bc, id).Extract()
		switch {
		case err != nil && status == "deleted" && gophercloud.ResponseCodeIs(err, http.StatusNotFound):
			return
		case err != nil:
			t.Fatalf("snapshot %s: %v", id, err)
		case s.Status == status:
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("snapshot %s still %s, want %s", id, s.Status, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestVolumeHostLocal: a volume on one host cannot be attached to a
// server on another (409), and placement spreads volumes over hosts.
func TestVolumeHostLocal(t *testing.T) {
	dir := t.TempDir()
	a, err := hypervisortest.WriteNode(dir, "kvm-a", 8, 16384)
	must(t, err)
	b, err := hypervisortest.WriteNode(dir, "kvm-b", 8, 16384)
	must(t, err)
	cloud := start(t, a, b)
	admin := clientsFor(t, cloud.Admin(t))
	imageID := uploadImage(t, admin.image, "boot", qcow2Image(t, "64M"))
	serverID := bootServer(t, admin.compute, admin.compute, imageID, "here", nil)
	srv, err := servers.Get(ctx, admin.compute, serverID).Extract()
	must(t, err)
	var here, there string
	for i := 0; i < 2; i++ {
		v, err := volumes.Create(ctx, admin.block, volumes.CreateOpts{Size: 1}, nil).Extract()
		must(t, err)
		v = waitVolume(t, admin.block, v.ID, "available")
		if strings.HasPrefix(v.Host, srv.Host+"@") {
			here = v.ID
		} else {
			there = v.ID
		}
	}
	if here == "" || there == "" {
		t.Fatalf("two volumes did not spread over the two hosts (server on %s)", srv.Host)
	}
	_, err = volumeattach.Create(ctx, admin.compute, serverID, volumeattach.CreateOpts{VolumeID: there}).Extract()
	wantFault(t, err, http.StatusConflict, "conflictingRequest", "host-local")
	waitVolume(t, admin.block, there, "available")
	_, err = volumeattach.Create(ctx, admin.compute, serverID, volumeattach.CreateOpts{VolumeID: here}).Extract()
	must(t, err)
	waitVolume(t, admin.block, here, "in-use")

	// The other host holds a volume: it cannot leave the cloud until the
	// volume is gone.
	v, err := volumes.Get(ctx, admin.block, there).Extract()
	must(t, err)
	page, err := hypervisors.List(admin.compute, nil).AllPages(ctx)
	must(t, err)
	list, err := hypervisors.ExtractHypervisors(page)
	must(t, err)
	var hostID string
	for _, h := range list {
		if strings.HasPrefix(v.Host, h.HypervisorHostname+"@") {
			hostID = h.ID
		}
	}
	if hostID == "" {
		t.Fatalf("no hypervisor for volume host %s", v.Host)
	}
	removeHost := func() error {
		_, err := admin.compute.Delete(ctx, admin.compute.ServiceURL("os-stratus-hosts", hostID), nil)
		return err
	}
	wantFault(t, removeHost(), http.StatusConflict, "conflictingRequest", "still has 1 volumes")
	must(t, volumes.Delete(ctx, admin.block, there, nil).ExtractErr())
	waitVolume(t, admin.block, there, "deleted")
	must(t, removeHost())
}
