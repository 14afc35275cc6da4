package glance_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imageimport"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

func TestVersionDiscovery(t *testing.T) {
	cloud := cloudtest.Start(t)
	for path, want := range map[string]int{"/image": http.StatusMultipleChoices, "/image/versions": http.StatusOK} {
		resp, err := http.Get(cloud.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Versions []struct {
				ID, Status string
				Links      []struct{ Rel, Href string }
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if err != nil || resp.StatusCode != want || len(doc.Versions) == 0 {
			t.Fatalf("GET %s = %d %+v (%v), want %d with versions", path, resp.StatusCode, doc, err, want)
		}
		current := doc.Versions[0]
		if !strings.HasPrefix(current.ID, "v2.") || current.Status != "CURRENT" || len(current.Links) != 1 ||
			current.Links[0].Href != cloud.URL+"/image/v2/" {
			t.Errorf("GET %s: first version %+v, want a CURRENT v2.x linking to %s/image/v2/", path, current, cloud.URL)
		}
	}
	// Without a token the API itself is closed.
	resp, err := http.Get(cloud.URL + "/image/v2/images")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /image/v2/images without a token = %d, want 401", resp.StatusCode)
	}
}

// TestImageLifecycle takes an image through its life with gophercloud as
// a project member: create, upload, download (whole and ranges), JSON
// patch updates, tags, deactivate/reactivate, protection and delete, and
// checks the lifecycle events.
func TestImageLifecycle(t *testing.T) {
	ctx := context.Background()
	cloud := cloudtest.Start(t)
	admin := imageClient(t, cloud.Admin(t))
	alice := imageClient(t, cloud.Member(t, "alice"))

	private := images.ImageVisibilityPrivate
	img := createImage(t, alice, images.CreateOpts{Name: "cirros", DiskFormat: "qcow2", ContainerFormat: "bare",
		Visibility: &private, MinDisk: 1, MinRAM: 64, Tags: []string{"base", "test"},
		Properties: map[string]string{"hw_disk_bus": "virtio", "os_distro": "cirros"}})
	if img.Status != images.ImageStatusQueued || img.Visibility != private || img.MinDiskGigabytes != 1 ||
		img.MinRAMMegabytes != 64 || img.Owner == "" || img.SizeBytes != 0 {
		t.Errorf("created image %+v: want queued, private, min_disk 1, min_ram 64, an owner and no size", img)
	}
	if img.Properties["hw_disk_bus"] != "virtio" || img.Properties["os_distro"] != "cirros" {
		t.Errorf("created image properties %v lack hw_disk_bus and os_distro", img.Properties)
	}
	slices.Sort(img.Tags)
	if !slices.Equal(img.Tags, []string{"base", "test"}) {
		t.Errorf("created image tags %v, want base, test", img.Tags)
	}

	data := qcow2Data(3<<20, nil)
	if err := imagedata.Upload(ctx, alice, img.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
		t.Fatalf("upload: %v", err)
	}
	md5sum, sha := md5.Sum(data), sha512.Sum512(data)
	got := getImage(t, alice, img.ID)
	if got.Status != images.ImageStatusActive || got.SizeBytes != int64(len(data)) || got.VirtualSize != 1<<30 ||
		got.Checksum != hex.EncodeToString(md5sum[:]) || got.Properties["os_hash_algo"] != "sha512" ||
		got.Properties["os_hash_value"] != hex.EncodeToString(sha[:]) {
		t.Errorf("after upload: status %s size %d virtual %d checksum %s hash %v %v; want active, %d, 1 GiB, md5 and sha512 of the data",
			got.Status, got.SizeBytes, got.VirtualSize, got.Checksum, got.Properties["os_hash_algo"], got.Properties["os_hash_value"], len(data))
	}
	if err := imagedata.Upload(ctx, alice, img.ID, bytes.NewReader(data)).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Errorf("second upload to an active image: %v, want 409", err)
	}

	// Download: whole, with Content-MD5, then byte ranges.
	dl := imagedata.Download(ctx, alice, img.ID)
	body, err := dl.Extract()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, body), data) {
		t.Error("downloaded data differs from the upload")
	}
	if cm := dl.Header.Get("Content-MD5"); cm != got.Checksum {
		t.Errorf("Content-MD5 = %q, want %q", cm, got.Checksum)
	}
	res := do(t, alice, http.MethodGet, "images/"+img.ID+"/file", nil, "Range", "bytes=100-1123")
	if res.status != http.StatusPartialContent || !bytes.Equal(res.body, data[100:1124]) ||
		res.header.Get("Content-Range") != fmt.Sprintf("bytes 100-1123/%d", len(data)) {
		t.Errorf("Range bytes=100-1123: %d, %d bytes, Content-Range %q; want 206 with those bytes", res.status, len(res.body), res.header.Get("Content-Range"))
	}
	res = do(t, alice, http.MethodGet, "images/"+img.ID+"/file", nil, "Range", "bytes=-10")
	if res.status != http.StatusPartialContent || !bytes.Equal(res.body, data[len(data)-10:]) {
		t.Errorf("Range bytes=-10: %d, %q; want 206 with the last 10 bytes", res.status, res.body)
	}
	res = do(t, alice, http.MethodGet, "images/"+img.ID+"/file", nil, "Range", fmt.Sprintf("bytes=%d-", len(data)))
	if res.status != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("Range past the end = %d, want 416", res.status)
	}

	// JSON patch: attributes and properties, all in one request.
	updated, err := images.Update(ctx, alice, img.ID, images.UpdateOpts{
		images.ReplaceImageName{NewName: "cirros-0.6"},
		images.ReplaceImageMinRam{NewMinRam: 128},
		images.UpdateImageProperty{Op: images.AddOp, Name: "architecture", Value: "x86_64"},
		images.UpdateImageProperty{Op: images.ReplaceOp, Name: "os_distro", Value: "cirros-new"},
		images.UpdateImageProperty{Op: images.RemoveOp, Name: "hw_disk_bus"},
		images.ReplaceImageProtected{NewProtected: true},
	}).Extract()
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.Name != "cirros-0.6" || updated.MinRAMMegabytes != 128 || !updated.Protected ||
		updated.Properties["architecture"] != "x86_64" || updated.Properties["os_distro"] != "cirros-new" {
		t.Errorf("after update: %+v", updated)
	}
	if _, ok := updated.Properties["hw_disk_bus"]; ok {
		t.Errorf("hw_disk_bus still set after remove: %v", updated.Properties)
	}

	// Tags.
	if res := do(t, alice, http.MethodPut, "images/"+img.ID+"/tags/golden", nil); res.status != http.StatusNoContent {
		t.Errorf("PUT tag = %s, want 204", res)
	}
	if res := do(t, alice, http.MethodDelete, "images/"+img.ID+"/tags/test", nil); res.status != http.StatusNoContent {
		t.Errorf("DELETE tag = %s, want 204", res)
	}
	faultMessage(t, "DELETE a missing tag", do(t, alice, http.MethodDelete, "images/"+img.ID+"/tags/nope", nil), http.StatusNotFound)
	tags := getImage(t, alice, img.ID).Tags
	slices.Sort(tags)
	if !slices.Equal(tags, []string{"base", "golden"}) {
		t.Errorf("tags = %v, want base, golden", tags)
	}

	// Deactivate: the owner may no longer download; an admin may.
	if res := do(t, alice, http.MethodPost, "images/"+img.ID+"/actions/deactivate", nil); res.status != http.StatusNoContent {
		t.Fatalf("deactivate = %s, want 204", res)
	}
	if s := getImage(t, alice, img.ID).Status; s != images.ImageStatusDeactivated {
		t.Errorf("status after deactivate = %s", s)
	}
	faultMessage(t, "download of a deactivated image", do(t, alice, http.MethodGet, "images/"+img.ID+"/file", nil), http.StatusForbidden)
	if res := do(t, admin, http.MethodGet, "images/"+img.ID+"/file", nil); res.status != http.StatusOK || !bytes.Equal(res.body, data) {
		t.Errorf("admin download of a deactivated image = %d, %d bytes; want 200 with the data", res.status, len(res.body))
	}
	if res := do(t, alice, http.MethodPost, "images/"+img.ID+"/actions/reactivate", nil); res.status != http.StatusNoContent {
		t.Fatalf("reactivate = %s, want 204", res)
	}
	if res := do(t, alice, http.MethodGet, "images/"+img.ID+"/file", nil); res.status != http.StatusOK || !bytes.Equal(res.body, data) {
		t.Errorf("download after reactivate = %d", res.status)
	}

	// Protected images cannot be deleted until unprotected.
	err = images.Delete(ctx, alice, img.ID).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Errorf("delete of a protected image: %v, want 403", err)
	}
	if _, err := images.Update(ctx, alice, img.ID, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: false}}).Extract(); err != nil {
		t.Fatal(err)
	}
	if err := images.Delete(ctx, alice, img.ID).ExtractErr(); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := images.Get(ctx, alice, img.ID).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("get after delete: %v, want 404", err)
	}

	// The lifecycle events are in the feed, in order, with the facts
	// metering needs.
	events := imageEvents(t, cloud, img.ID)
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	if !slices.Equal(types, []string{"stratus.image.created", "stratus.image.activated", "stratus.image.deleted"}) {
		t.Fatalf("events for %s: %v, want created, activated, deleted", img.ID, types)
	}
	if a := events[1].Data; a.Size != int64(len(data)) || a.DiskFormat != "qcow2" || a.Owner != img.Owner {
		t.Errorf("activated event data %+v, want size %d, disk_format qcow2, owner %s", a, len(data), img.Owner)
	}
}

type imageEvent struct {
	Type    string `json:"type"`
	Subject string `json:"subject"`
	Data    struct {
		Size       int64  `json:"size"`
		DiskFormat string `json:"disk_format"`
		Owner      string `json:"owner"`
	} `json:"data"`
}

// imageEvents reads the admin event feed and keeps the events of image id.
func imageEvents(t *testing.T, cloud *cloudtest.Cloud, id string) []imageEvent {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, cloud.URL+"/events/v1/events?limit=1000", nil)
	req.Header.Set("X-Auth-Token", cloud.Admin(t).Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Events []imageEvent `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	var out []imageEvent
	for _, e := range page.Events {
		if e.Subject == id {
			out = append(out, e)
		}
	}
	return out
}

// TestListFiltersAndPaging lists with Glance's filters, sorting and
// limit/marker pages.
func TestListFiltersAndPaging(t *testing.T) {
	ctx := context.Background()
	cloud := cloudtest.Start(t)
	alice := imageClient(t, cloud.Member(t, "alice"))
	bob := imageClient(t, cloud.Member(t, "bob"))
	admin := imageClient(t, cloud.Admin(t))

	public := images.ImageVisibilityPublic
	community := images.ImageVisibilityCommunity
	ids := map[string]string{}
	for i, spec := range []struct {
		name, disk string
		tags       []string
		props      map[string]string
	}{
		{"alpha", "raw", []string{"a", "b"}, map[string]string{"os_distro": "debian"}},
		{"bravo", "qcow2", []string{"a"}, map[string]string{"os_distro": "ubuntu"}},
		{"charlie", "raw", []string{"b"}, nil},
		{"delta", "iso", nil, nil},
		{"echo", "raw", []string{"a", "b", "c"}, map[string]string{"os_distro": "debian"}},
	} {
		img := createImage(t, alice, images.CreateOpts{Name: spec.name, DiskFormat: spec.disk, ContainerFormat: "bare",
			Tags: spec.tags, Properties: spec.props})
		ids[spec.name] = img.ID
		if i%2 == 0 && spec.disk == "raw" {
			if err := imagedata.Upload(ctx, alice, img.ID, bytes.NewReader(payload(uint64(i), 4096))).ExtractErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	ids["bob-private"] = createImage(t, bob, images.CreateOpts{Name: "bob-private", DiskFormat: "raw", ContainerFormat: "bare"}).ID
	ids["bob-community"] = createImage(t, bob, images.CreateOpts{Name: "bob-community", Visibility: &community}).ID
	ids["public"] = createImage(t, admin, images.CreateOpts{Name: "public", Visibility: &public}).ID

	names := func(sc *gophercloud.ServiceClient, opts images.ListOpts) []string {
		t.Helper()
		page, err := images.List(sc, opts).AllPages(ctx)
		if err != nil {
			t.Fatalf("list %+v: %v", opts, err)
		}
		list, err := images.ExtractImages(page)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, img := range list {
			out = append(out, img.Name)
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		what string
		sc   *gophercloud.ServiceClient
		opts images.ListOpts
		want []string
	}{
		{"alice's default view", alice, images.ListOpts{}, []string{"alpha", "bravo", "charlie", "delta", "echo", "public"}},
		{"bob's default view", bob, images.ListOpts{}, []string{"bob-community", "bob-private", "public"}},
		{"community, seen by alice", alice, images.ListOpts{Visibility: community}, []string{"bob-community"}},
		{"public", bob, images.ListOpts{Visibility: public}, []string{"public"}},
		{"admin sees all", admin, images.ListOpts{}, []string{"alpha", "bob-community", "bob-private", "bravo", "charlie", "delta", "echo", "public"}},
		{"by name", alice, images.ListOpts{Name: "bravo"}, []string{"bravo"}},
		{"names in", alice, images.ListOpts{Name: "in:alpha,delta,nope"}, []string{"alpha", "delta"}},
		{"active", alice, images.ListOpts{Status: images.ImageStatusActive}, []string{"alpha", "charlie", "echo"}},
		{"status in", alice, images.ListOpts{Status: "in:queued,saving", Owner: ""}, []string{"bravo", "delta", "public"}},
		{"owner", admin, images.ListOpts{Owner: getImage(t, bob, ids["bob-private"]).Owner}, []string{"bob-community", "bob-private"}},
		{"one tag", alice, images.ListOpts{Tags: []string{"a"}}, []string{"alpha", "bravo", "echo"}},
		{"all tags", alice, images.ListOpts{Tags: []string{"a", "b"}}, []string{"alpha", "echo"}},
		{"disk format", alice, images.ListOpts{DiskFormat: "raw"}, []string{"alpha", "charlie", "echo"}},
		{"disk formats in", alice, images.ListOpts{DiskFormat: "in:iso,qcow2"}, []string{"bravo", "delta"}},
	} {
		if got := names(tc.sc, tc.opts); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.what, got, tc.want)
		}
	}
	// Filters gophercloud cannot express (it drops int64 parameters), and
	// unknown parameters, which filter on properties as in Glance.
	for query, want := range map[string][]string{
		"size_min=4096&size_max=4096": {"alpha", "charlie", "echo"},
		"size_min=4097":               nil,
		"os_distro=debian":            {"alpha", "echo"},
		"os_distro=debian&tag=c":      {"echo"},
		"protected=false&name=alpha":  {"alpha"},
	} {
		var page struct{ Images []struct{ Name string } }
		res := do(t, alice, http.MethodGet, "images?sort=name:asc&"+query, nil)
		if err := json.Unmarshal(res.body, &page); err != nil || res.status != http.StatusOK {
			t.Fatalf("GET images?%s = %s", query, res)
		}
		var got []string
		for _, img := range page.Images {
			got = append(got, img.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("GET images?%s: %v, want %v", query, got, want)
		}
	}

	// Pages of two, in name order, follow the next links to the end.
	var pages [][]string
	err := images.List(alice, images.ListOpts{Limit: 2, SortKey: "name", SortDir: "asc"}).EachPage(ctx,
		func(_ context.Context, p pagination.Page) (bool, error) {
			list, err := images.ExtractImages(p)
			var names []string
			for _, img := range list {
				names = append(names, img.Name)
			}
			pages = append(pages, names)
			return true, err
		})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"alpha", "bravo"}, {"charlie", "delta"}, {"echo", "public"}}
	if fmt.Sprint(pages) != fmt.Sprint(want) {
		t.Errorf("pages = %v, want %v", pages, want)
	}
	// The raw page: Glance's next link keeps the query and moves the marker.
	var first struct {
		Images []struct{ ID string }
		Next   string `json:"next"`
		First  string `json:"first"`
	}
	res := do(t, alice, http.MethodGet, "images?limit=2&sort=name:desc", nil)
	if err := json.Unmarshal(res.body, &first); err != nil || len(first.Images) != 2 {
		t.Fatalf("first page: %s", res)
	}
	if !strings.HasPrefix(first.Next, "/v2/images?") || !strings.Contains(first.Next, "marker="+first.Images[1].ID) ||
		!strings.Contains(first.Next, "limit=2") || first.First != "/v2/images?limit=2&sort=name%3Adesc" {
		t.Errorf("next %q, first %q: want /v2/images links with the query and marker %s", first.Next, first.First, first.Images[1].ID)
	}
	// Descending by name, continuing after the marker.
	if got := names(alice, images.ListOpts{Sort: "name:desc", Marker: ids["delta"]}); !slices.Equal(got, []string{"alpha", "bravo", "charlie"}) {
		t.Errorf("after marker delta, name descending: %v", got)
	}

	// A marker need not match the filters (it may have changed since).
	if res := do(t, alice, http.MethodGet, "images?sort=name:asc&name=in:alpha,bravo&status=queued&marker="+ids["alpha"], nil); res.status != http.StatusOK ||
		!strings.Contains(string(res.body), ids["bravo"]) {
		t.Errorf("page after a marker outside the filter: %s, want 200 with bravo", res)
	}
	for _, bad := range []string{"images?sort_key=bogus", "images?sort_dir=sideways", "images?marker=" + ids["bob-private"],
		"images?limit=-1", "images?status=melting", "images?visibility=secret", "images?sort=name&sort_key=name",
		"images?created_at=gt:yesterday"} {
		faultMessage(t, "GET "+bad, do(t, alice, http.MethodGet, bad, nil), http.StatusBadRequest)
	}
}

// TestImportGlanceDirect stages data and imports it, as openstacksdk's
// use_import does.
func TestImportGlanceDirect(t *testing.T) {
	ctx := context.Background()
	cloud := cloudtest.Start(t)
	alice := imageClient(t, cloud.Member(t, "alice"))

	info, err := imageimport.Get(ctx, alice).Extract()
	if err != nil || !slices.Contains(info.ImportMethods.Value, "glance-direct") {
		t.Fatalf("GET /v2/info/import = %+v, %v; want glance-direct", info, err)
	}
	created := images.Create(ctx, alice, images.CreateOpts{Name: "staged", DiskFormat: "raw", ContainerFormat: "bare"})
	img, err := created.Extract()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(img.OpenStackImageImportMethods, "glance-direct") {
		t.Errorf("create response advertises import methods %v, want glance-direct", img.OpenStackImageImportMethods)
	}
	err = imageimport.Create(ctx, alice, img.ID, imageimport.CreateOpts{Name: imageimport.GlanceDirectMethod}).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Errorf("import before staging: %v, want 409", err)
	}

	data := payload(7, 1<<20)
	if err := imagedata.Stage(ctx, alice, img.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
		t.Fatalf("stage: %v", err)
	}
	if s := getImage(t, alice, img.ID).Status; s != images.ImageStatusUploading {
		t.Errorf("status after stage = %s, want uploading", s)
	}
	err = imageimport.Create(ctx, alice, img.ID, imageimport.CreateOpts{Name: imageimport.WebDownloadMethod, URI: "http://example.com/x.img"}).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Errorf("web-download import: %v, want 400", err)
	}
	if err := imageimport.Create(ctx, alice, img.ID, imageimport.CreateOpts{Name: imageimport.GlanceDirectMethod}).ExtractErr(); err != nil {
		t.Fatalf("glance-direct import: %v", err)
	}
	got := getImage(t, alice, img.ID)
	sum := md5.Sum(data)
	if got.Status != images.ImageStatusActive || got.SizeBytes != int64(len(data)) || got.Checksum != hex.EncodeToString(sum[:]) {
		t.Errorf("after import: status %s size %d checksum %s", got.Status, got.SizeBytes, got.Checksum)
	}
	body, err := imagedata.Download(ctx, alice, img.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, body), data) {
		t.Error("imported data differs from the staged data")
	}
}
