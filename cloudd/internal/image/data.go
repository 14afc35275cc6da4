package image

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/image/format"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Upload is what PUT /v2/images/{id}/file does: the image goes queued ->
// saving, r is streamed into the content store while hashed, the data is
// inspected, and the image becomes active. Data refused by the inspector,
// of another format than disk_format or over the size limit leaves the
// image queued (400, 413); a transfer that breaks off kills it.
func (s *Service) Upload(ctx context.Context, c *token.Claims, id string, r io.Reader) (Image, error) {
	img, err := s.claim(ctx, c, id, StatusSaving)
	if err != nil {
		return Image{}, err
	}
	in, err := s.content.receive(r, s.cfg.MaxSize)
	if err == nil {
		defer in.discard()
		err = checkDeclared(img, in.Format)
	}
	if err != nil {
		return Image{}, s.fail(ctx, id, StatusSaving, err)
	}
	out, err := s.activate(ctx, id, StatusSaving, in.path, in.dataInfo)
	if err != nil {
		return Image{}, s.fail(ctx, id, StatusSaving, err)
	}
	return out, nil
}

// Stage is what PUT /v2/images/{id}/stage does for the glance-direct
// import: the image goes queued -> uploading and the data, checked as an
// upload is, waits in the staging area until Import.
func (s *Service) Stage(ctx context.Context, c *token.Claims, id string, r io.Reader) (Image, error) {
	img, err := s.claim(ctx, c, id, StatusUploading)
	if err != nil {
		return Image{}, err
	}
	in, err := s.content.receive(r, s.cfg.MaxSize)
	if err == nil {
		defer in.discard()
		err = checkDeclared(img, in.Format)
	}
	if err != nil {
		return Image{}, s.fail(ctx, id, StatusUploading, err)
	}
	var out Image
	ctx = context.WithoutCancel(ctx) // the data is in: finish even if the client is gone
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockStatus(ctx, tx, id, StatusUploading); err != nil {
			return err
		}
		staged := s.content.stagingPath(id)
		if err := os.Rename(in.path, staged); err != nil {
			return err
		}
		if err := syncDir(filepath.Dir(staged)); err != nil {
			return err
		}
		out, err = setData(ctx, tx, id, StatusUploading, in.dataInfo)
		return err
	})
	if err != nil {
		return Image{}, s.fail(ctx, id, StatusUploading, err)
	}
	return out, nil
}

// ImportMethods are the interoperable import methods offered.
var ImportMethods = []string{"glance-direct"}

// Import runs an interoperable import of a staged image: glance-direct
// moves the staged data into the store and activates the image. The data
// was inspected when staged, so this finishes at once.
func (s *Service) Import(ctx context.Context, c *token.Claims, id, method string) (Image, error) {
	if method != "glance-direct" {
		return Image{}, osapi.Errorf(http.StatusBadRequest, "Import method '%s' is not supported; this cloud offers glance-direct.", method)
	}
	var staged dataInfo
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		img, err := writable(ctx, tx, c, id)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, "SELECT size, virtual_size, checksum, hash_value, detected_format FROM images WHERE id = $1", id).
			Scan(&staged.Size, &staged.VirtualSize, &staged.Checksum, &staged.HashValue, &staged.Format)
		if err != nil {
			return err
		}
		if img.Status != StatusUploading || staged.HashValue == "" {
			return osapi.Errorf(http.StatusConflict, "Image %s is %s and has no staged data; PUT its data to /v2/images/%s/stage before importing with glance-direct.",
				id, img.Status, id)
		}
		return checkDeclared(img, staged.Format)
	})
	if err != nil {
		return Image{}, err
	}
	return s.activate(ctx, id, StatusUploading, s.content.stagingPath(id), staged)
}

// Download opens the data of image id for c: nil data (and no error) for
// an image without data, which Glance answers with 204. Deactivated
// images are readable by admins only.
func (s *Service) Download(ctx context.Context, c *token.Claims, id string) (Image, *os.File, error) {
	img, err := s.Get(ctx, c, id)
	if err != nil {
		return Image{}, nil, err
	}
	switch {
	case img.Status == StatusDeactivated && !policy.IsAdmin(c):
		return Image{}, nil, osapi.Errorf(http.StatusForbidden, "The requested image has been deactivated. Image data download is forbidden.")
	case img.Status != StatusActive && img.Status != StatusDeactivated:
		return img, nil, nil
	}
	f, err := os.Open(s.content.dataPath(id))
	return img, f, err
}

// Open returns the data of an active image and its size, for compute. It
// does not check visibility: callers Get the image with the user's token
// first.
func (s *Service) Open(ctx context.Context, id string) (io.ReadCloser, int64, error) {
	var status string
	var size int64
	err := s.pool.QueryRow(ctx, "SELECT status, size FROM images WHERE id = $1", id).Scan(&status, &size)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, notFound(id)
	}
	if err != nil {
		return nil, 0, err
	}
	if status != StatusActive {
		return nil, 0, osapi.Errorf(http.StatusConflict, "Image %s is %s; only active images can be read.", id, status)
	}
	f, err := os.Open(s.content.dataPath(id))
	if err != nil {
		return nil, 0, err
	}
	return f, size, nil
}

// checkDeclared refuses data whose detected format does not match the
// image's disk_format. Only bare (and Amazon) containers hold a disk
// image as is; the data of other containers (ovf, ova, docker,
// compressed) is an archive, which Inspect has still checked for unsafe
// disk headers.
func checkDeclared(img Image, detected string) error {
	switch img.ContainerFormat {
	case "bare", "ami", "ari", "aki":
	default:
		return nil
	}
	if !format.Compatible(img.DiskFormat, detected) {
		return osapi.Errorf(http.StatusBadRequest, "Image data rejected: disk_format is %s but the data is %s. Set disk_format to what the image really is.",
			img.DiskFormat, detected)
	}
	return nil
}

// claim moves image id from queued to status to, for a data transfer by c.
func (s *Service) claim(ctx context.Context, c *token.Claims, id, to string) (Image, error) {
	var out Image
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		img, err := writable(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if img.Status != StatusQueued {
			return osapi.Errorf(http.StatusConflict, "Image status transition from %s to %s is not allowed.", img.Status, to)
		}
		if img.DiskFormat == "" || img.ContainerFormat == "" {
			return osapi.Errorf(http.StatusBadRequest, "Properties disk_format, container_format must be set prior to saving data.")
		}
		out, err = updateReturning(ctx, tx, "UPDATE images i SET status = $2, updated_at = now() WHERE i.id = $1", id, to)
		return err
	})
	return out, err
}

// fail moves image id from status from to where err says it belongs,
// forgetting any data, and returns what the client should see.
func (s *Service) fail(ctx context.Context, id, from string, err error) error {
	next, clientErr := receiveError(err)
	ctx = context.WithoutCancel(ctx) // the client may be gone; the image must not stay half-way
	if _, uerr := s.pool.Exec(ctx, `UPDATE images SET status = $3, size = 0, virtual_size = 0, checksum = '',
		hash_algo = '', hash_value = '', detected_format = '', updated_at = now() WHERE id = $1 AND status = $2`,
		id, from, next); uerr != nil {
		slog.ErrorContext(ctx, "resetting image after a failed transfer", "image", id, "err", uerr)
	}
	if err := os.Remove(s.content.stagingPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		slog.WarnContext(ctx, "removing staged image data", "image", id, "err", err)
	}
	return clientErr
}

// activate moves the data at src to the image's place in the store and
// makes the image active, provided it is still in status from: it may
// have been deleted while its data arrived (410, as Glance answers).
func (s *Service) activate(ctx context.Context, id, from, src string, d dataInfo) (Image, error) {
	ctx = context.WithoutCancel(ctx) // the data is in: finish even if the client is gone
	dst := s.content.dataPath(id)
	moved := false
	var out Image
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockStatus(ctx, tx, id, from); err != nil {
			return err
		}
		if err := os.Rename(src, dst); err != nil {
			return err
		}
		moved = true
		// Active means durable: the rename must be on disk too.
		if err := syncDir(filepath.Dir(dst)); err != nil {
			return err
		}
		var err error
		if out, err = setData(ctx, tx, id, StatusActive, d); err != nil {
			return err
		}
		return emit(ctx, tx, "activated", out)
	})
	if err != nil && moved {
		// The record did not change: put the data back where it was.
		_ = os.Rename(dst, src)
	}
	return out, err
}

// lockStatus locks image id inside tx and checks it is still in status.
func lockStatus(ctx context.Context, tx pgx.Tx, id, status string) error {
	var current string
	err := tx.QueryRow(ctx, "SELECT status FROM images WHERE id = $1 FOR UPDATE", id).Scan(&current)
	if errors.Is(err, pgx.ErrNoRows) {
		return &osapi.Error{Status: http.StatusGone, Kind: "gone",
			Message: "Image " + id + " could not be found after upload. The image may have been deleted during the upload."}
	}
	if err == nil && current != status {
		return osapi.Errorf(http.StatusConflict, "Image %s changed to %s during the upload.", id, current)
	}
	return err
}

// setData records received data on image id and sets its status.
func setData(ctx context.Context, tx pgx.Tx, id, status string, d dataInfo) (Image, error) {
	return updateReturning(ctx, tx, `UPDATE images i SET status = $2, size = $3, virtual_size = $4, checksum = $5,
		hash_algo = $6, hash_value = $7, detected_format = $8, updated_at = now() WHERE i.id = $1`,
		id, status, d.Size, d.VirtualSize, d.Checksum, HashAlgo, d.HashValue, d.Format)
}
