package image

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Create stores a queued image record owned by c's project (an admin may
// name another owner). Visibility defaults to shared, as in Glance; only
// admins create public images. Status, sizes and hashes are ignored.
func (s *Service) Create(ctx context.Context, c *token.Claims, img Image) (Image, error) {
	if err := checkCreator(c); err != nil {
		return Image{}, err
	}
	switch {
	case img.Owner == "":
		img.Owner = c.ProjectID
	case img.Owner != c.ProjectID && !policy.IsAdmin(c):
		return Image{}, osapi.Errorf(http.StatusForbidden, "You are not permitted to create images owned by project %s.", img.Owner)
	}
	if img.Owner == "" {
		return Image{}, osapi.Errorf(http.StatusBadRequest, "An image needs an owner: use a project-scoped token.")
	}
	if img.Visibility == "" {
		img.Visibility = Shared
	}
	var err error
	if img.ID == "" {
		img.ID = uuid.NewString()
	} else if img.ID, err = canonicalID(img.ID); err != nil {
		return Image{}, err
	}
	if img.Tags, err = cleanTags(img.Tags); err != nil {
		return Image{}, err
	}
	if img.Properties == nil {
		img.Properties = map[string]string{}
	}
	for _, check := range []error{
		checkName(img.Name), checkVisibility(c, img.Visibility), checkDiskFormat(img.DiskFormat),
		checkContainerFormat(img.ContainerFormat), checkMinimum("min_disk", img.MinDisk),
		checkMinimum("min_ram", img.MinRAM), checkProperties(img.Properties),
	} {
		if check != nil {
			return Image{}, check
		}
	}
	img.Status = StatusQueued
	img.Size, img.VirtualSize, img.Checksum, img.HashAlgo, img.HashValue = 0, 0, "", "", ""
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO images (id, name, status, disk_format, container_format, visibility, owner,
			min_disk, min_ram, protected, properties, tags) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			RETURNING created_at, updated_at`,
			img.ID, img.Name, img.Status, img.DiskFormat, img.ContainerFormat, img.Visibility, img.Owner,
			img.MinDisk, img.MinRAM, img.Protected, img.Properties, img.Tags).Scan(&img.CreatedAt, &img.UpdatedAt)
		if err != nil {
			if e, _ := osapi.AsError(db.Interpret(err, "image")); e.Status == http.StatusConflict {
				return osapi.Errorf(http.StatusConflict, "Image with identifier %s already exists!", img.ID)
			}
			return err
		}
		return emit(ctx, tx, "created", img)
	})
	if err != nil {
		return Image{}, err
	}
	return img, nil
}

// Get returns image id if c may see it; otherwise it is an osapi 404.
func (s *Service) Get(ctx context.Context, c *token.Claims, id string) (Image, error) {
	return visible(ctx, s.pool, c, id, false)
}

// Delete removes an image and its data. Protected images are refused
// (403); images of other projects c can see are 403, others 404.
func (s *Service) Delete(ctx context.Context, c *token.Claims, id string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		img, err := writable(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if img.Protected {
			return osapi.Errorf(http.StatusForbidden, "Image %s is protected and cannot be deleted.", id)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM images WHERE id = $1", id); err != nil {
			return err
		}
		return emit(ctx, tx, "deleted", img)
	})
	if err != nil {
		return err
	}
	// The record is gone; data left behind by a failure here is only
	// wasted space, never visible.
	if err := s.content.remove(id); err != nil {
		slog.WarnContext(ctx, "removing deleted image data", "image", id, "err", err)
	}
	return nil
}
