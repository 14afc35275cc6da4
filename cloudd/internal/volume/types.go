package volume

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// DefaultType is Cinder's default volume type, created by the migration.
const DefaultType = "__DEFAULT__"

// Backends a type's extra spec volume_backend_name may name. "dir" (qcow2
// files in a dir pool) is the only one so far.
var backends = []string{"dir"}

// Type is a volume type; its extra specs say which backend it maps to.
type Type struct {
	ID, Name, Description string
	IsPublic              bool
	ExtraSpecs            map[string]string
}

const typeCols = "id, name, description, is_public, extra_specs"

func scanType(row pgx.CollectableRow) (Type, error) {
	var t Type
	err := row.Scan(&t.ID, &t.Name, &t.Description, &t.IsPublic, &t.ExtraSpecs)
	return t, err
}

func notFoundType(id string) error {
	return osapi.Errorf(http.StatusNotFound, "Volume type %s could not be found.", id)
}

// findType resolves a type by id or name ("" is the default type); private
// types are visible to admins only.
func (s *Service) findType(ctx context.Context, q db.Querier, c *token.Claims, ref string) (Type, error) {
	if ref == "" {
		ref = DefaultType
	}
	rows, _ := q.Query(ctx, "SELECT "+typeCols+" FROM volume_types WHERE (id = $1 OR name = $1) AND NOT deleted ORDER BY id = $1 DESC LIMIT 1", ref)
	t, err := pgx.CollectExactlyOneRow(rows, scanType)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !t.IsPublic && !policy.IsAdmin(c)) {
		return Type{}, osapi.Errorf(http.StatusNotFound, "Volume type with name %s could not be found.", ref)
	}
	return t, err
}

// GetType returns a type by id.
func (s *Service) GetType(ctx context.Context, c *token.Claims, id string) (Type, error) {
	if err := policy.Authorize(c, policy.Read, "", "volume types"); err != nil {
		return Type{}, err
	}
	t, err := s.findType(ctx, s.pool, c, id)
	if err != nil {
		return Type{}, notFoundType(id)
	}
	return t, nil
}

// DefaultVolumeType returns the default type.
func (s *Service) DefaultVolumeType(ctx context.Context, c *token.Claims) (Type, error) {
	return s.findType(ctx, s.pool, c, DefaultType)
}

// ListTypes returns the types c may see (admins also private ones) by name.
func (s *Service) ListTypes(ctx context.Context, c *token.Claims) ([]Type, error) {
	if err := policy.Authorize(c, policy.Read, "", "volume types"); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+typeCols+" FROM volume_types WHERE (is_public OR $1) AND NOT deleted ORDER BY name", policy.IsAdmin(c))
	return pgx.CollectRows(rows, scanType)
}

func validateSpecs(specs map[string]string) error {
	for k, v := range specs {
		if k == "" || len(k) > 255 || len(v) > 255 {
			return badRequest("Invalid input for field/attribute extra_specs: keys must be 1 to 255 characters and values at most 255.")
		}
		if k == "volume_backend_name" {
			ok := false
			for _, b := range backends {
				ok = ok || v == b
			}
			if !ok {
				return badRequest("Invalid input received: volume_backend_name %q is not a backend of this cloud (%s).", v, strings.Join(backends, ", "))
			}
		}
	}
	return nil
}

// CreateType adds a volume type (admin).
func (s *Service) CreateType(ctx context.Context, c *token.Claims, t Type) (Type, error) {
	if err := policy.Authorize(c, policy.Admin, "", "volume types"); err != nil {
		return Type{}, err
	}
	if n := strings.TrimSpace(t.Name); n == "" || len(t.Name) > 255 {
		return Type{}, badRequest("Invalid input for field/attribute name: a name of 1 to 255 characters is required.")
	}
	if err := validateSpecs(t.ExtraSpecs); err != nil {
		return Type{}, err
	}
	if t.ExtraSpecs == nil {
		t.ExtraSpecs = map[string]string{}
	}
	t.ID = uuid.NewString()
	specs, _ := json.Marshal(t.ExtraSpecs)
	_, err := s.pool.Exec(ctx, "INSERT INTO volume_types (id, name, description, is_public, extra_specs) VALUES ($1, $2, $3, $4, $5)",
		t.ID, t.Name, t.Description, t.IsPublic, specs)
	if isConflict(err) {
		return Type{}, osapi.Errorf(http.StatusConflict, "Volume Type %s already exists.", t.Name)
	}
	return t, err
}

// UpdateType changes a type's name, description or visibility (admin).
func (s *Service) UpdateType(ctx context.Context, c *token.Claims, id string, name, description *string, public *bool) (Type, error) {
	if err := policy.Authorize(c, policy.Admin, "", "volume types"); err != nil {
		return Type{}, err
	}
	// Volumes created without a type get the default one by name, and
	// every project must see it.
	var isDefault bool
	if err := s.pool.QueryRow(ctx, "SELECT name = $2 FROM volume_types WHERE id = $1 AND NOT deleted", id, DefaultType).Scan(&isDefault); errors.Is(err, pgx.ErrNoRows) {
		return Type{}, notFoundType(id)
	} else if err != nil {
		return Type{}, err
	}
	if isDefault && ((name != nil && *name != DefaultType) || (public != nil && !*public)) {
		return Type{}, badRequest("Invalid volume type: the default volume type %s cannot be renamed or made private.", DefaultType)
	}
	rows, _ := s.pool.Query(ctx, `UPDATE volume_types SET name = coalesce($2, name), description = coalesce($3, description),
		is_public = coalesce($4, is_public) WHERE id = $1 AND NOT deleted RETURNING `+typeCols, id, name, description, public)
	t, err := pgx.CollectExactlyOneRow(rows, scanType)
	if errors.Is(err, pgx.ErrNoRows) {
		return Type{}, notFoundType(id)
	}
	if isConflict(err) {
		return Type{}, osapi.Errorf(http.StatusConflict, "Volume Type %s already exists.", *name)
	}
	return t, err
}

// DeleteType removes a type no volume uses (admin); deleted volumes keep
// naming it.
func (s *Service) DeleteType(ctx context.Context, c *token.Claims, id string) error {
	if err := policy.Authorize(c, policy.Admin, "", "volume types"); err != nil {
		return err
	}
	t, err := s.GetType(ctx, c, id)
	if err != nil {
		return err
	}
	if t.Name == DefaultType {
		return badRequest("Invalid volume type: the default volume type cannot be deleted.")
	}
	var inUse bool
	if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM volumes WHERE type_id = $1 AND NOT deleted)", t.ID).Scan(&inUse); err != nil {
		return err
	}
	if inUse {
		return badRequest("Target volume type is still in use.")
	}
	_, err = s.pool.Exec(ctx, "UPDATE volume_types SET deleted = true WHERE id = $1", t.ID)
	return err
}

// SetExtraSpecs merges specs into a type's extra specs (admin).
func (s *Service) SetExtraSpecs(ctx context.Context, c *token.Claims, id string, specs map[string]string) (map[string]string, error) {
	if err := policy.Authorize(c, policy.Admin, "", "volume types"); err != nil {
		return nil, err
	}
	if err := validateSpecs(specs); err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(specs)
	tag, err := s.pool.Exec(ctx, "UPDATE volume_types SET extra_specs = extra_specs || $2 WHERE id = $1 AND NOT deleted", id, raw)
	if err == nil && tag.RowsAffected() == 0 {
		return nil, notFoundType(id)
	}
	return specs, err
}

// DeleteExtraSpec removes one extra spec (admin).
func (s *Service) DeleteExtraSpec(ctx context.Context, c *token.Claims, id, key string) error {
	if err := policy.Authorize(c, policy.Admin, "", "volume types"); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, "UPDATE volume_types SET extra_specs = extra_specs - $2 WHERE id = $1 AND NOT deleted AND extra_specs ? $2", id, key)
	if err == nil && tag.RowsAffected() == 0 {
		return osapi.Errorf(http.StatusNotFound, "Volume Type %s has no extra specs with key %s.", id, key)
	}
	return err
}

// isConflict reports a unique violation (a duplicate name).
func isConflict(err error) bool {
	if err == nil {
		return false
	}
	e, _ := osapi.AsError(db.Interpret(err, "volume type"))
	return e.Status == http.StatusConflict
}
