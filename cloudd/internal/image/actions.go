package image

import (
	"context"
	"net/http"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Deactivate withholds an active image's data from everyone but admins
// (POST /actions/deactivate); deactivating a deactivated image is a no-op.
func (s *Service) Deactivate(ctx context.Context, c *token.Claims, id string) error {
	return s.transition(ctx, c, id, "deactivate", StatusActive, StatusDeactivated)
}

// Reactivate makes a deactivated image active again.
func (s *Service) Reactivate(ctx context.Context, c *token.Claims, id string) error {
	return s.transition(ctx, c, id, "reactivate", StatusDeactivated, StatusActive)
}

func (s *Service) transition(ctx context.Context, c *token.Claims, id, action, from, to string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		img, err := writable(ctx, tx, c, id)
		if err != nil {
			return err
		}
		switch img.Status {
		case to:
			return nil
		case from:
			_, err := tx.Exec(ctx, "UPDATE images SET status = $2, updated_at = now() WHERE id = $1", id, to)
			return err
		}
		return osapi.Errorf(http.StatusBadRequest, "Not allowed to %s image in status '%s'.", action, img.Status)
	})
}

// AddTag tags an image; adding a tag it has is a no-op.
func (s *Service) AddTag(ctx context.Context, c *token.Claims, id, tag string) error {
	return s.retag(ctx, c, id, func(tags []string) ([]string, error) {
		return cleanTags(append(tags, tag))
	})
}

// RemoveTag removes a tag; 404 if the image does not have it.
func (s *Service) RemoveTag(ctx context.Context, c *token.Claims, id, tag string) error {
	return s.retag(ctx, c, id, func(tags []string) ([]string, error) {
		i := slices.Index(tags, tag)
		if i < 0 {
			return nil, osapi.Errorf(http.StatusNotFound, "Tag %s not found on image %s.", tag, id)
		}
		return slices.Delete(tags, i, i+1), nil
	})
}

func (s *Service) retag(ctx context.Context, c *token.Claims, id string, change func([]string) ([]string, error)) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		img, err := writable(ctx, tx, c, id)
		if err != nil {
			return err
		}
		tags, err := change(img.Tags)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE images SET tags = $2, updated_at = now() WHERE id = $1", id, tags)
		return err
	})
}
