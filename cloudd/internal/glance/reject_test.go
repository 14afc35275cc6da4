package glance_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

// TestUnsafeDataRejected uploads data the format inspector must refuse
// (CVE-2024-32498 and its family) and data whose format is not the
// declared disk_format: each is 400 saying why, and the image stays
// queued, ready for good data.
func TestUnsafeDataRejected(t *testing.T) {
	ctx := context.Background()
	cloud := cloudtest.Start(t)
	alice := imageClient(t, cloud.Member(t, "alice"))

	for _, tc := range []struct {
		name, disk string
		data       []byte
		why        string
	}{
		{"qcow2 with a backing file", "qcow2", qcow2Data(4096, withBackingFile), "backing file"},
		{"qcow2 with an external data file", "qcow2", qcow2Data(4096, withDataFile), "external data file"},
		{"vmdk with an external extent", "vmdk", vmdkWithExternalExtent(), "extent"},
		{"qcow2 declared raw", "raw", qcow2Data(4096, nil), "disk_format is raw but the data is qcow2"},
		{"raw declared qcow2", "qcow2", payload(5, 8192), "disk_format is qcow2 but the data is raw"},
		{"iso declared raw", "raw", isoData(), "disk_format is raw but the data is iso"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, stage := range []bool{false, true} {
				img := createImage(t, alice, images.CreateOpts{Name: tc.name, DiskFormat: tc.disk, ContainerFormat: "bare"})
				path := "images/" + img.ID + "/file"
				if stage {
					path = "images/" + img.ID + "/stage"
				}
				res := do(t, alice, http.MethodPut, path, bytes.NewReader(tc.data), "Content-Type", "application/octet-stream")
				msg := faultMessage(t, "PUT "+path, res, http.StatusBadRequest)
				if !strings.Contains(msg, tc.why) {
					t.Errorf("PUT %s: message %q does not say %q", path, msg, tc.why)
				}
				if got := getImage(t, alice, img.ID); got.Status != images.ImageStatusQueued || got.Checksum != "" {
					t.Errorf("after a refused PUT %s: status %s checksum %q, want queued without data", path, got.Status, got.Checksum)
				}
			}
		})
	}

	// A refused upload can be followed by good data.
	img := createImage(t, alice, images.CreateOpts{Name: "retry", DiskFormat: "qcow2", ContainerFormat: "bare"})
	if err := imagedata.Upload(ctx, alice, img.ID, bytes.NewReader(qcow2Data(4096, withDataFile))).ExtractErr(); !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Fatalf("unsafe upload: %v, want 400", err)
	}
	if err := imagedata.Upload(ctx, alice, img.ID, bytes.NewReader(qcow2Data(4096, nil))).ExtractErr(); err != nil {
		t.Fatalf("good upload after a refused one: %v", err)
	}
	if s := getImage(t, alice, img.ID).Status; s != images.ImageStatusActive {
		t.Errorf("status = %s, want active", s)
	}

	// Data cannot be saved before its formats are known.
	bare := createImage(t, alice, images.CreateOpts{Name: "no-formats"})
	msg := faultMessage(t, "upload without disk_format", do(t, alice, http.MethodPut, "images/"+bare.ID+"/file",
		strings.NewReader("data"), "Content-Type", "application/octet-stream"), http.StatusBadRequest)
	if !strings.Contains(msg, "disk_format") {
		t.Errorf("upload without disk_format: %q", msg)
	}
}

// hideLength hides the length of a reader, so the client streams it
// chunked and the server learns the size only while reading.
type hideLength struct{ r io.Reader }

func (h hideLength) Read(p []byte) (int, error) { return h.r.Read(p) }

func TestUploadSizeLimit(t *testing.T) {
	ctx := context.Background()
	cloud := cloudtest.Start(t)
	pc := cloud.Member(t, "alice")
	const limit = 1 << 20
	small := lowLimitImages(t, cloud, pc, limit)

	for _, tc := range []struct {
		name string
		body func() io.Reader
	}{
		{"announced length", func() io.Reader { return bytes.NewReader(payload(1, limit+1)) }},
		{"streamed", func() io.Reader { return hideLength{bytes.NewReader(payload(1, 3*limit))} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := createImage(t, small, images.CreateOpts{Name: tc.name, DiskFormat: "raw", ContainerFormat: "bare"})
			err := imagedata.Upload(ctx, small, img.ID, tc.body()).ExtractErr()
			if !gophercloud.ResponseCodeIs(err, http.StatusRequestEntityTooLarge) {
				t.Fatalf("upload over the limit: %v, want 413", err)
			}
			if s := getImage(t, small, img.ID).Status; s != images.ImageStatusQueued {
				t.Errorf("status after a 413 = %s, want queued", s)
			}
			if err := imagedata.Upload(ctx, small, img.ID, bytes.NewReader(payload(2, limit))).ExtractErr(); err != nil {
				t.Fatalf("upload of exactly the limit: %v", err)
			}
		})
	}
}

// TestInterruptedUploadKillsImage breaks a transfer off midway.
func TestInterruptedUploadKillsImage(t *testing.T) {
	cloud := cloudtest.Start(t)
	alice := imageClient(t, cloud.Member(t, "alice"))
	img := createImage(t, alice, images.CreateOpts{Name: "broken", DiskFormat: "raw", ContainerFormat: "bare"})
	req, err := http.NewRequest(http.MethodPut, alice.ResourceBaseURL()+"images/"+img.ID+"/file",
		io.MultiReader(bytes.NewReader(payload(3, 64<<10)), failingReader{}))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", alice.Token())
	req.Header.Set("Content-Type", "application/octet-stream")
	req.ContentLength = 1 << 20 // more than will come
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	// The server notices the broken body and records it soon after.
	deadline := time.Now().Add(10 * time.Second)
	for s := getImage(t, alice, img.ID).Status; s != images.ImageStatusKilled; s = getImage(t, alice, img.ID).Status {
		if time.Now().After(deadline) {
			t.Fatalf("status after a broken transfer = %s, want killed", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestBadPatches sends JSON patches Glance refuses.
func TestBadPatches(t *testing.T) {
	cloud := cloudtest.Start(t)
	alice := imageClient(t, cloud.Member(t, "alice"))
	img := createImage(t, alice, images.CreateOpts{Name: "target", DiskFormat: "raw", ContainerFormat: "bare",
		Properties: map[string]string{"kept": "yes"}})

	for _, tc := range []struct {
		what, doc string
		code      int
	}{
		{"unknown op", `[{"op": "move", "from": "/name", "path": "/title"}]`, http.StatusBadRequest},
		{"test op", `[{"op": "test", "path": "/name", "value": "target"}]`, http.StatusBadRequest},
		{"missing op", `[{"path": "/name", "value": "x"}]`, http.StatusBadRequest},
		{"path without slash", `[{"op": "replace", "path": "name", "value": "x"}]`, http.StatusBadRequest},
		{"nested path", `[{"op": "add", "path": "/tags/0", "value": "x"}]`, http.StatusBadRequest},
		{"missing value", `[{"op": "replace", "path": "/name"}]`, http.StatusBadRequest},
		{"not a list", `{"op": "replace", "path": "/name", "value": "x"}`, http.StatusBadRequest},
		{"not JSON", `[{"op": "replace",`, http.StatusBadRequest},
		{"wrong type", `[{"op": "replace", "path": "/min_disk", "value": "ten"}]`, http.StatusBadRequest},
		{"negative", `[{"op": "replace", "path": "/min_ram", "value": -1}]`, http.StatusBadRequest},
		{"bad visibility", `[{"op": "replace", "path": "/visibility", "value": "secret"}]`, http.StatusBadRequest},
		{"non-string property", `[{"op": "add", "path": "/cores", "value": 4}]`, http.StatusBadRequest},
		{"read-only status", `[{"op": "replace", "path": "/status", "value": "active"}]`, http.StatusForbidden},
		{"read-only checksum", `[{"op": "replace", "path": "/checksum", "value": "0"}]`, http.StatusForbidden},
		{"read-only size", `[{"op": "add", "path": "/size", "value": 1}]`, http.StatusForbidden},
		{"reserved locations", `[{"op": "add", "path": "/locations", "value": []}]`, http.StatusForbidden},
		{"reserved namespace", `[{"op": "add", "path": "/os_glance_x", "value": "1"}]`, http.StatusForbidden},
		{"remove a base attribute", `[{"op": "remove", "path": "/name"}]`, http.StatusForbidden},
		{"public as a member", `[{"op": "replace", "path": "/visibility", "value": "public"}]`, http.StatusForbidden},
		{"owner as a member", `[{"op": "replace", "path": "/owner", "value": "someone"}]`, http.StatusForbidden},
		{"replace a missing property", `[{"op": "replace", "path": "/nope", "value": "x"}]`, http.StatusConflict},
		{"remove a missing property", `[{"op": "remove", "path": "/nope"}]`, http.StatusConflict},
	} {
		faultMessage(t, tc.what, patch(t, alice, img.ID, tc.doc), tc.code)
	}
	res := do(t, alice, http.MethodPatch, "images/"+img.ID, strings.NewReader(`[]`), "Content-Type", "application/json")
	faultMessage(t, "PATCH as application/json", res, http.StatusUnsupportedMediaType)

	// None of the refused patches changed anything, even partly.
	if _, err := images.Update(context.Background(), alice, img.ID, images.UpdateOpts{
		images.ReplaceImageName{NewName: "half"},
		images.UpdateImageProperty{Op: images.RemoveOp, Name: "missing"},
	}).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("patch with a failing second op: %v, want 409", err)
	}
	got := getImage(t, alice, img.ID)
	if got.Name != "target" || got.Properties["kept"] != "yes" {
		t.Errorf("after refused patches: name %q, properties %v; want unchanged", got.Name, got.Properties)
	}
}

func TestBadCreates(t *testing.T) {
	cloud := cloudtest.Start(t)
	alice := imageClient(t, cloud.Member(t, "alice"))
	for _, tc := range []struct {
		what, body string
		code       int
	}{
		{"read-only status", `{"name": "x", "status": "active"}`, http.StatusForbidden},
		{"read-only checksum", `{"checksum": "abc"}`, http.StatusForbidden},
		{"public as a member", `{"name": "x", "visibility": "public"}`, http.StatusForbidden},
		{"another owner", `{"name": "x", "owner": "not-my-project"}`, http.StatusForbidden},
		{"bad disk format", `{"name": "x", "disk_format": "floppy"}`, http.StatusBadRequest},
		{"bad container format", `{"name": "x", "container_format": "zip"}`, http.StatusBadRequest},
		{"bad id", `{"name": "x", "id": "not-a-uuid"}`, http.StatusBadRequest},
		{"non-string property", `{"name": "x", "cores": 4}`, http.StatusBadRequest},
		{"wrong type", `{"name": "x", "min_disk": "big"}`, http.StatusBadRequest},
		{"not an object", `["x"]`, http.StatusBadRequest},
	} {
		res := do(t, alice, http.MethodPost, "images", strings.NewReader(tc.body), "Content-Type", "application/json")
		faultMessage(t, tc.what, res, tc.code)
	}
	id := "4f7a3b2e-8c1d-4e5f-9a6b-0c1d2e3f4a5b"
	createImage(t, alice, images.CreateOpts{ID: id, Name: "chosen id"})
	res := do(t, alice, http.MethodPost, "images", strings.NewReader(`{"id": "`+id+`"}`), "Content-Type", "application/json")
	faultMessage(t, "duplicate id", res, http.StatusConflict)
}

// TestOtherProjectsImages checks visibility across projects: another
// project's private image does not exist (404) for every operation; a
// public one can be read but not changed (403).
func TestOtherProjectsImages(t *testing.T) {
	ctx := context.Background()
	cloud := cloudtest.Start(t)
	alice := imageClient(t, cloud.Member(t, "alice"))
	bob := imageClient(t, cloud.Member(t, "bob"))
	admin := imageClient(t, cloud.Admin(t))

	secret := createImage(t, alice, images.CreateOpts{Name: "secret", DiskFormat: "raw", ContainerFormat: "bare"})
	if err := imagedata.Upload(ctx, alice, secret.ID, bytes.NewReader(payload(9, 4096))).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path, body string
	}{
		{http.MethodGet, "images/" + secret.ID, ""},
		{http.MethodGet, "images/" + secret.ID + "/file", ""},
		{http.MethodDelete, "images/" + secret.ID, ""},
		{http.MethodPut, "images/" + secret.ID + "/tags/x", ""},
		{http.MethodPost, "images/" + secret.ID + "/actions/deactivate", ""},
		{http.MethodGet, "images/" + secret.ID + "/members", ""},
	} {
		faultMessage(t, tc.method+" "+tc.path+" as another project", do(t, bob, tc.method, tc.path, strings.NewReader(tc.body)), http.StatusNotFound)
	}
	faultMessage(t, "PATCH as another project", patch(t, bob, secret.ID, `[{"op": "replace", "path": "/name", "value": "mine"}]`), http.StatusNotFound)
	if got := getImage(t, admin, secret.ID); got.Name != "secret" {
		t.Errorf("admin sees %q", got.Name)
	}

	public := images.ImageVisibilityPublic
	shared := createImage(t, admin, images.CreateOpts{Name: "for-all", Visibility: &public, DiskFormat: "raw", ContainerFormat: "bare"})
	if got := getImage(t, bob, shared.ID); got.Name != "for-all" {
		t.Errorf("bob reads the public image as %q", got.Name)
	}
	faultMessage(t, "PATCH a public image of another project", patch(t, bob, shared.ID, `[{"op": "replace", "path": "/name", "value": "mine"}]`), http.StatusForbidden)
	faultMessage(t, "DELETE a public image of another project", do(t, bob, http.MethodDelete, "images/"+shared.ID, nil), http.StatusForbidden)
	faultMessage(t, "upload to a public image of another project", do(t, bob, http.MethodPut, "images/"+shared.ID+"/file",
		strings.NewReader("x"), "Content-Type", "application/octet-stream"), http.StatusForbidden)
}
