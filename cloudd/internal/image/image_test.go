package image_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/cloudd/internal/image"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/testenv"
	"github.com/stratus-cloud/stratus/internal/token"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func claims(project string, roles token.Roles) *token.Claims {
	return &token.Claims{UserID: "0123456789abcdef0123456789abcdef", ProjectID: project, Roles: roles}
}

// status is the HTTP status an error maps to, 0 for nil.
func status(err error) int {
	if err == nil {
		return 0
	}
	e, _ := osapi.AsError(err)
	return e.Status
}

// qcow2 returns a minimal version 3 qcow2 image of 1 GiB with payload.
func qcow2(payload []byte) []byte {
	be := binary.BigEndian
	b := append(make([]byte, 512), payload...)
	copy(b, "QFI\xfb")
	be.PutUint32(b[4:], 3)
	be.PutUint32(b[20:], 16)
	be.PutUint64(b[24:], 1<<30)
	be.PutUint32(b[100:], 104)
	return b
}

// TestComputeAPI uses the Go API the compute service calls: a snapshot
// record is created, its data streamed in, and read back; visibility
// rules hold without HTTP in between.
func TestComputeAPI(t *testing.T) {
	ctx := context.Background()
	cloud := cloudtest.Start(t)
	svc := cloud.Server.Images
	owner := claims("11111111111111111111111111111111", token.RoleMember|token.RoleReader)
	other := claims("22222222222222222222222222222222", token.RoleMember|token.RoleReader)
	reader := claims(owner.ProjectID, token.RoleReader)
	admin := claims("33333333333333333333333333333333", token.RoleAdmin|token.RoleMember|token.RoleReader)

	img, err := svc.Create(ctx, owner, image.Image{Name: "snap", DiskFormat: "qcow2", ContainerFormat: "bare",
		Visibility: image.Private, MinDisk: 1, Properties: map[string]string{"image_type": "snapshot"}})
	if err != nil {
		t.Fatal(err)
	}
	if img.Status != image.StatusQueued || img.Owner != owner.ProjectID || img.ID == "" || img.CreatedAt.IsZero() {
		t.Errorf("created %+v", img)
	}
	if _, _, err := svc.Open(ctx, img.ID); status(err) != http.StatusConflict {
		t.Errorf("Open of a queued image: %v, want 409", err)
	}
	if _, err := svc.Get(ctx, other, img.ID); status(err) != http.StatusNotFound {
		t.Errorf("Get by another project: %v, want 404", err)
	}
	if _, err := svc.Upload(ctx, reader, img.ID, bytes.NewReader(qcow2(nil))); status(err) != http.StatusForbidden {
		t.Errorf("Upload by a reader: %v, want 403", err)
	}
	if _, err := svc.Create(ctx, reader, image.Image{Name: "x"}); status(err) != http.StatusForbidden {
		t.Errorf("Create by a reader: %v, want 403", err)
	}
	if _, err := svc.Get(ctx, nil, img.ID); status(err) != http.StatusUnauthorized {
		t.Errorf("Get without claims: %v, want 401", err)
	}

	data := qcow2(bytes.Repeat([]byte("snapshot"), 1<<16))
	active, err := svc.Upload(ctx, owner, img.ID, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	if active.Status != image.StatusActive || active.Size != int64(len(data)) || active.VirtualSize != 1<<30 ||
		active.Checksum != hex.EncodeToString(sum[:]) || active.HashAlgo != "sha512" || len(active.HashValue) != 128 {
		t.Errorf("after Upload: %+v", active)
	}
	r, size, err := svc.Open(ctx, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || size != int64(len(data)) || !bytes.Equal(got, data) {
		t.Errorf("Open: %d bytes of %d, size %d, err %v", len(got), len(data), size, err)
	}
	if seen, err := svc.Get(ctx, admin, img.ID); err != nil || seen.Properties["image_type"] != "snapshot" {
		t.Errorf("Get by an admin: %+v, %v", seen, err)
	}
	if _, err := svc.Upload(ctx, owner, img.ID, bytes.NewReader(data)); status(err) != http.StatusConflict {
		t.Errorf("second Upload: %v, want 409", err)
	}
	if _, _, err := svc.Open(ctx, "no-such-image"); status(err) != http.StatusNotFound {
		t.Errorf("Open of a missing image: %v, want 404", err)
	}
}

// brokenReader yields some data, then fails, as a snapshot stream whose
// host went away.
type brokenReader struct{ n int }

func (b *brokenReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errors.New("host connection lost")
	}
	k := min(len(p), b.n)
	clear(p[:k])
	b.n -= k
	return k, nil
}

func TestUploadFailures(t *testing.T) {
	ctx := context.Background()
	cloud := cloudtest.Start(t)
	svc := cloud.Server.Images
	owner := claims("11111111111111111111111111111111", token.RoleMember|token.RoleReader)

	create := func() image.Image {
		img, err := svc.Create(ctx, owner, image.Image{Name: "x", DiskFormat: "raw", ContainerFormat: "bare"})
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	// A stream that breaks off kills the image.
	img := create()
	if _, err := svc.Upload(ctx, owner, img.ID, &brokenReader{n: 3 << 20}); status(err) != http.StatusBadRequest {
		t.Errorf("broken stream: %v, want 400", err)
	}
	if got, _ := svc.Get(ctx, owner, img.ID); got.Status != image.StatusKilled {
		t.Errorf("status after a broken stream = %s, want killed", got.Status)
	}
	// Data of the wrong format leaves it queued.
	img = create()
	if _, err := svc.Upload(ctx, owner, img.ID, bytes.NewReader(qcow2(nil))); status(err) != http.StatusBadRequest {
		t.Errorf("qcow2 data for a raw image: %v, want 400", err)
	}
	if got, _ := svc.Get(ctx, owner, img.ID); got.Status != image.StatusQueued {
		t.Errorf("status after refused data = %s, want queued", got.Status)
	}
}
