package network

import (
	"context"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// taggable maps the API's collection names to their tables and kinds.
var taggable = map[string]struct{ table, kind string }{
	"networks":        {"networks", "Network"},
	"subnets":         {"subnets", "Subnet"},
	"ports":           {"ports", "Port"},
	"security-groups": {"security_groups", "SecurityGroup"},
	"routers":         {"routers", "Router"},
	"floatingips":     {"floatingips", "FloatingIP"},
}

// Tags returns the tags of a resource c may see.
func (s *Service) Tags(ctx context.Context, c *token.Claims, collection, id string) ([]string, error) {
	if _, err := s.tagTarget(ctx, c, collection, id, policy.Read); err != nil {
		return nil, err
	}
	tags, err := loadTags(ctx, s.pool, []string{id})
	return orEmpty(tags[id]), err
}

func (s *Service) tagTarget(ctx context.Context, c *token.Claims, collection, id string, action policy.Action) (string, error) {
	t, ok := taggable[collection]
	if !ok {
		return "", neutronError(http.StatusNotFound, "HTTPNotFound", "The resource could not be found.")
	}
	var project string
	if err := s.pool.QueryRow(ctx, "SELECT project_id FROM "+t.table+" WHERE id = $1", id).Scan(&project); err != nil {
		if err == pgx.ErrNoRows {
			return "", notFound(t.kind, id)
		}
		return "", err
	}
	return t.table, authorizeIn(c, action, project, t.kind, id)
}

// ChangeTags adds (add), removes (remove) or, with replace, sets the tags
// of a resource, bumping its revision.
func (s *Service) ChangeTags(ctx context.Context, c *token.Claims, collection, id string, add, remove []string, replace bool) ([]string, error) {
	table, err := s.tagTarget(ctx, c, collection, id, policy.Write)
	if err != nil {
		return nil, err
	}
	for _, t := range add {
		if t == "" || len(t) > 255 {
			return nil, invalidInput("tags must be 1 to 255 characters.")
		}
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := checkRevision(ctx, tx, table, id, 0); err != nil {
			return err
		}
		if replace {
			if _, err := tx.Exec(ctx, "DELETE FROM network_tags WHERE resource_id = $1", id); err != nil {
				return err
			}
		}
		if len(remove) > 0 {
			tag, err := tx.Exec(ctx, "DELETE FROM network_tags WHERE resource_id = $1 AND tag = ANY($2)", id, remove)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return neutronError(http.StatusNotFound, "TagNotFound", "Tag %s could not be found for resource %s.", remove[0], id)
			}
		}
		_, err := tx.Exec(ctx, "INSERT INTO network_tags (resource_id, tag) SELECT $1, t FROM unnest($2::text[]) t ON CONFLICT DO NOTHING", id, add)
		return err
	})
	if err != nil {
		return nil, err
	}
	tags, err := loadTags(ctx, s.pool, []string{id})
	return orEmpty(tags[id]), err
}
