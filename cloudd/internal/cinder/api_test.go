package cinder_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
)

// TestVersionDocuments: /volume lists v3 (300, as Cinder), /volume/v3/
// describes it, and a microversion outside 3.0 is Cinder's 404.
func TestVersionDocuments(t *testing.T) {
	cloud := start(t)
	for path, code := range map[string]int{"/volume/": http.StatusMultipleChoices, "/volume/v3/": http.StatusOK} {
		resp, err := http.Get(cloud.URL + path)
		must(t, err)
		var body struct {
			Versions []struct {
				ID, Status, Version string
				MinVersion          string `json:"min_version"`
			} `json:"versions"`
		}
		must(t, json.NewDecoder(resp.Body).Decode(&body))
		resp.Body.Close()
		if resp.StatusCode != code || len(body.Versions) != 1 || body.Versions[0].ID != "v3.0" || body.Versions[0].Version != "3.0" {
			t.Errorf("GET %s: %d %+v", path, resp.StatusCode, body)
		}
	}
	bc := clientsFor(t, cloud.Admin(t)).block
	for version, code := range map[string]int{"volume 3.0": http.StatusOK, "volume latest": http.StatusOK, "volume 3.70": http.StatusNotFound} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, bc.ServiceURL("volumes"), nil)
		must(t, err)
		req.Header.Set("X-Auth-Token", bc.TokenID)
		req.Header.Set("OpenStack-API-Version", version)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != code || resp.Header.Get("OpenStack-API-Version") != "volume 3.0" {
			t.Errorf("%s: %d %s (header %q)", version, resp.StatusCode, data, resp.Header.Get("OpenStack-API-Version"))
		}
	}
	_, err := volumes.List(bc, volumes.ListOpts{Sort: "name:asc"}).AllPages(ctx)
	wantFault(t, err, http.StatusBadRequest, "badRequest", "not supported")
	resp, err := http.Get(bc.ServiceURL("volumes"))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("volumes without a token: %d", resp.StatusCode)
	}
}

// TestSnapshotUpdatesAndQuotaDefaults covers the remaining snapshot and
// quota calls.
func TestSnapshotUpdatesAndQuotaDefaults(t *testing.T) {
	cloud := start(t)
	project := cloud.MemberProject(t, "snaps")
	bc := clientsFor(t, cloud.Member(t, "snaps")).block
	v, err := volumes.Create(ctx, bc, volumes.CreateOpts{Size: 1}, nil).Extract()
	must(t, err)
	waitVolume(t, bc, v.ID, "available")
	s, err := snapshots.Create(ctx, bc, snapshots.CreateOpts{VolumeID: v.ID, Name: "before", Metadata: map[string]string{"a": "1"}}).Extract()
	must(t, err)
	waitSnapshot(t, bc, s.ID, "available")
	name := "after"
	s, err = snapshots.Update(ctx, bc, s.ID, snapshots.UpdateOpts{Name: &name}).Extract()
	must(t, err)
	if s.Name != "after" {
		t.Fatalf("updated snapshot = %+v", s)
	}
	md, err := snapshots.UpdateMetadata(ctx, bc, s.ID, snapshots.UpdateMetadataOpts{Metadata: map[string]any{"b": "2"}}).ExtractMetadata()
	must(t, err)
	if len(md) != 1 || md["b"] != "2" {
		t.Fatalf("snapshot metadata after PUT = %v", md)
	}
	// Concurrent POSTs merge: no key is lost.
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			_, err := bc.Post(ctx, bc.ServiceURL("snapshots", s.ID, "metadata"),
				map[string]any{"metadata": map[string]string{fmt.Sprintf("k%d", i): "v"}}, nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := snapshots.Get(ctx, bc, s.ID).Extract()
	must(t, err)
	if len(got.Metadata) != 17 || got.Metadata["b"] != "2" {
		t.Fatalf("snapshot metadata after 16 concurrent merges into {b}: %v", got.Metadata)
	}
	page, err := snapshots.ListDetail(bc, snapshots.ListOpts{Name: "after"}).AllPages(ctx)
	must(t, err)
	if list, _ := snapshots.ExtractSnapshots(page); len(list) != 1 || list[0].ID != s.ID || list[0].Size != 1 {
		t.Fatalf("snapshots named after = %+v", list)
	}
	q, err := quotasets.GetUsage(ctx, bc, project).Extract()
	must(t, err)
	if q.Snapshots.InUse != 1 || q.Gigabytes.InUse != 2 {
		t.Fatalf("usage with a snapshot = %+v", q)
	}
	def, err := quotasets.GetDefaults(ctx, bc, project).Extract()
	must(t, err)
	if def.Volumes != 10 || def.Gigabytes != 1000 || def.Snapshots != 10 || def.PerVolumeGigabytes != -1 {
		t.Fatalf("defaults = %+v", def)
	}
	_, err = quotasets.Get(ctx, bc, "someone-else").Extract()
	wantFault(t, err, http.StatusForbidden, "forbidden", "")
}

// TestConcurrency: parallel creates never overshoot the volume quota, and
// parallel attaches of one volume let exactly one through.
func TestConcurrency(t *testing.T) {
	cloud := start(t)
	admin := clientsFor(t, cloud.Admin(t))
	project := cloud.MemberProject(t, "racers")
	c := clientsFor(t, cloud.Member(t, "racers"))
	three := 3
	_, err := quotasets.Update(ctx, admin.block, project, quotasets.UpdateOpts{Volumes: &three}).Extract()
	must(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var created []string
	codes := map[int]int{}
	for range 8 {
		wg.Go(func() {
			v, err := volumes.Create(ctx, c.block, volumes.CreateOpts{Size: 1}, nil).Extract()
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				created = append(created, v.ID)
				return
			}
			var e gophercloud.ErrUnexpectedResponseCode
			if errors.As(err, &e) {
				codes[e.Actual]++
			} else {
				t.Errorf("create: %v", err)
			}
		})
	}
	wg.Wait()
	if len(created) != 3 || codes[http.StatusRequestEntityTooLarge] != 5 {
		t.Fatalf("8 parallel creates under a quota of 3: %d created, refusals %v", len(created), codes)
	}
	waitVolume(t, c.block, created[0], "available")

	imageID := uploadImage(t, admin.image, "boot", qcow2Image(t, "64M"))
	a := bootServer(t, admin.compute, c.compute, imageID, "a", nil)
	b := bootServer(t, admin.compute, c.compute, imageID, "b", nil)
	results := make(chan error, 2)
	for _, srv := range []string{a, b} {
		wg.Go(func() {
			_, err := volumeattach.Create(ctx, c.compute, srv, volumeattach.CreateOpts{VolumeID: created[0]}).Extract()
			results <- err
		})
	}
	wg.Wait()
	close(results)
	ok := 0
	for err := range results {
		if err == nil {
			ok++
		} else {
			wantFault(t, err, http.StatusBadRequest, "badRequest", "must be available")
		}
	}
	if ok != 1 {
		t.Fatalf("%d of 2 parallel attaches of one volume succeeded", ok)
	}
	v := waitVolume(t, c.block, created[0], "in-use")
	if len(v.Attachments) != 1 {
		t.Fatalf("attachments = %+v", v.Attachments)
	}
}

// TestVolumeMetadataKeys covers the per-key metadata calls and the
// availability zone listing, which gophercloud's block storage package
// does not wrap, with plain requests.
func TestVolumeMetadataKeys(t *testing.T) {
	cloud := start(t)
	bc := clientsFor(t, cloud.Admin(t)).block
	v, err := volumes.Create(ctx, bc, volumes.CreateOpts{Size: 1, Metadata: map[string]string{"a": "1"}}, nil).Extract()
	must(t, err)
	call := func(method, path string, body any, ok int, out any) {
		t.Helper()
		resp, err := bc.Request(ctx, method, bc.ServiceURL(path), &gophercloud.RequestOpts{JSONBody: body, JSONResponse: out, OkCodes: []int{ok}})
		must(t, err)
		resp.Body.Close()
	}
	var meta struct {
		Meta map[string]string `json:"meta"`
	}
	call(http.MethodPut, "volumes/"+v.ID+"/metadata/b", map[string]any{"meta": map[string]string{"b": "2"}}, http.StatusOK, &meta)
	call(http.MethodGet, "volumes/"+v.ID+"/metadata/b", nil, http.StatusOK, &meta)
	if meta.Meta["b"] != "2" {
		t.Fatalf("metadata key b = %v", meta.Meta)
	}
	call(http.MethodDelete, "volumes/"+v.ID+"/metadata/a", nil, http.StatusOK, nil)
	var all struct {
		Metadata map[string]string `json:"metadata"`
	}
	call(http.MethodPut, "volumes/"+v.ID+"/metadata", map[string]any{"metadata": map[string]string{"c": "3"}}, http.StatusOK, &all)
	call(http.MethodGet, "volumes/"+v.ID+"/metadata", nil, http.StatusOK, &all)
	if len(all.Metadata) != 1 || all.Metadata["c"] != "3" {
		t.Fatalf("metadata after PUT = %v", all.Metadata)
	}
	_, err = bc.Request(ctx, http.MethodGet, bc.ServiceURL("volumes", v.ID, "metadata", "a"), &gophercloud.RequestOpts{OkCodes: []int{200}})
	wantFault(t, err, http.StatusNotFound, "itemNotFound", "no metadata with key a")
	var zones struct {
		Info []struct {
			ZoneName  string          `json:"zoneName"`
			ZoneState map[string]bool `json:"zoneState"`
		} `json:"availabilityZoneInfo"`
	}
	call(http.MethodGet, "os-availability-zone", nil, http.StatusOK, &zones)
	if len(zones.Info) != 1 || zones.Info[0].ZoneName != "nova" || !zones.Info[0].ZoneState["available"] {
		t.Fatalf("availability zones = %+v", zones)
	}
}

// TestAdminActions: os-reset_status and os-force_delete are the admin's
// way out of a status a failure left behind; members may not use them.
func TestAdminActions(t *testing.T) {
	cloud := start(t)
	admin := clientsFor(t, cloud.Admin(t)).block
	member := clientsFor(t, cloud.Member(t, "stuck")).block
	v, err := volumes.Create(ctx, member, volumes.CreateOpts{Size: 1}, nil).Extract()
	must(t, err)
	waitVolume(t, member, v.ID, "available")
	wantFault(t, volumes.ResetStatus(ctx, member, v.ID, volumes.ResetStatusOpts{Status: "error"}).ExtractErr(), http.StatusForbidden, "forbidden", "")
	wantFault(t, volumes.ResetStatus(ctx, admin, v.ID, volumes.ResetStatusOpts{Status: "stuck"}).ExtractErr(), http.StatusBadRequest, "badRequest", "not a volume status")
	must(t, volumes.ResetStatus(ctx, admin, v.ID, volumes.ResetStatusOpts{Status: "deleting"}).ExtractErr())
	wantFault(t, volumes.Delete(ctx, member, v.ID, nil).ExtractErr(), http.StatusBadRequest, "badRequest", "must be available or error")
	wantFault(t, volumes.ForceDelete(ctx, member, v.ID).ExtractErr(), http.StatusForbidden, "forbidden", "")

	// Not even forced while it has snapshots.
	must(t, volumes.ResetStatus(ctx, admin, v.ID, volumes.ResetStatusOpts{Status: "available"}).ExtractErr())
	snap, err := snapshots.Create(ctx, member, snapshots.CreateOpts{VolumeID: v.ID}).Extract()
	must(t, err)
	waitSnapshot(t, member, snap.ID, "available")
	wantFault(t, volumes.ForceDelete(ctx, admin, v.ID).ExtractErr(), http.StatusBadRequest, "badRequest", "dependent snapshots")
	must(t, snapshots.Delete(ctx, member, snap.ID).ExtractErr())
	waitSnapshot(t, member, snap.ID, "deleted")

	must(t, volumes.ForceDelete(ctx, admin, v.ID).ExtractErr())
	waitVolume(t, member, v.ID, "deleted")
}

// TestResetToAvailableDetaches: an in-use volume reset to available is
// detached in the records (Cinder's attach_status), so attaching it again
// works instead of failing on the old attachment.
func TestResetToAvailableDetaches(t *testing.T) {
	cloud := start(t)
	admin := clientsFor(t, cloud.Admin(t))
	c := clientsFor(t, cloud.Member(t, "reset"))
	imageID := uploadImage(t, admin.image, "boot", qcow2Image(t, "64M"))
	serverID := bootServer(t, admin.compute, c.compute, imageID, "reset", nil)
	v, err := volumes.Create(ctx, c.block, volumes.CreateOpts{Size: 1}, nil).Extract()
	must(t, err)
	waitVolume(t, c.block, v.ID, "available")
	_, err = volumeattach.Create(ctx, c.compute, serverID, volumeattach.CreateOpts{VolumeID: v.ID}).Extract()
	must(t, err)
	waitVolume(t, c.block, v.ID, "in-use")

	must(t, volumes.ResetStatus(ctx, admin.block, v.ID, volumes.ResetStatusOpts{Status: "available"}).ExtractErr())
	if got := waitVolume(t, c.block, v.ID, "available"); len(got.Attachments) != 0 {
		t.Fatalf("volume reset to available still attached: %+v", got.Attachments)
	}
	_, err = volumeattach.Create(ctx, c.compute, serverID, volumeattach.CreateOpts{VolumeID: v.ID}).Extract()
	must(t, err)
	waitVolume(t, c.block, v.ID, "in-use")
}
