package compute

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Flavor is a server size. Servers copy what they need of it at boot, so
// a flavor may change or go away without touching existing servers.
type Flavor struct {
	ID          string
	Name        string
	VCPUs       int
	RAMMB       int
	DiskGB      int
	EphemeralGB int
	SwapMB      int
	RxTxFactor  float64
	IsPublic    bool
	Disabled    bool
	Description string
	CreatedAt   time.Time
}

// maxFlavorValue is the largest size a flavor column holds (PostgreSQL int).
const maxFlavorValue = math.MaxInt32

// defaultFlavors are devstack's sizes and ids, plus s1.nano for test guests.
var defaultFlavors = []Flavor{
	{ID: "1", Name: "m1.tiny", VCPUs: 1, RAMMB: 512, DiskGB: 1},
	{ID: "2", Name: "m1.small", VCPUs: 1, RAMMB: 2048, DiskGB: 20},
	{ID: "3", Name: "m1.medium", VCPUs: 2, RAMMB: 4096, DiskGB: 40},
	{ID: "4", Name: "m1.large", VCPUs: 4, RAMMB: 8192, DiskGB: 80},
	{ID: "5", Name: "m1.xlarge", VCPUs: 8, RAMMB: 16384, DiskGB: 160},
	{ID: "42", Name: "s1.nano", VCPUs: 1, RAMMB: 128, DiskGB: 1},
}

// EnsureDefaultFlavors gives a cloud without any flavor the default ones.
// It seeds only an empty table, so flavors an operator deleted do not come
// back on the next start; the advisory lock makes replicas starting
// together seed once.
func (s *Service) EnsureDefaultFlavors(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", db.LockKey("compute:default-flavors")); err != nil {
			return err
		}
		var seeded bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM flavors)").Scan(&seeded); err != nil || seeded {
			return err
		}
		for _, f := range defaultFlavors {
			if _, err := tx.Exec(ctx, "INSERT INTO flavors (id, name, vcpus, ram_mb, disk_gb) VALUES ($1, $2, $3, $4, $5)",
				f.ID, f.Name, f.VCPUs, f.RAMMB, f.DiskGB); err != nil {
				return fmt.Errorf("default flavor %s: %w", f.Name, err)
			}
		}
		return nil
	})
}

const flavorCols = `f.id, f.name, f.vcpus, f.ram_mb, f.disk_gb, f.ephemeral_gb, f.swap_mb, f.rxtx_factor,
	f.is_public, f.disabled, coalesce(f.description, ''), f.created_at`

func scanFlavor(row pgx.CollectableRow) (Flavor, error) {
	var f Flavor
	err := row.Scan(&f.ID, &f.Name, &f.VCPUs, &f.RAMMB, &f.DiskGB, &f.EphemeralGB, &f.SwapMB, &f.RxTxFactor,
		&f.IsPublic, &f.Disabled, &f.Description, &f.CreatedAt)
	return f, err
}

// flavorVisible is the SQL condition for "the project in $2 may see f"
// ($2 empty: an admin, who sees every flavor).
const flavorVisible = `($2 = '' OR f.is_public OR EXISTS (SELECT 1 FROM flavor_access a WHERE a.flavor_id = f.id AND a.project_id = $2))`

func flavorNotFound(id string) error {
	return osapi.Errorf(http.StatusNotFound, "Flavor %s could not be found.", id)
}

// GetFlavor returns a flavor c may use: public flavors, private flavors
// c's project was given access to, and any flavor for an admin. Others
// are reported missing, so their ids do not leak.
func (s *Service) GetFlavor(ctx context.Context, c *token.Claims, id string) (Flavor, error) {
	if err := policy.Authorize(c, policy.Read, "", "flavors"); err != nil {
		return Flavor{}, err
	}
	return s.getFlavor(ctx, s.pool, policy.ProjectFilter(c), id)
}

// getFlavor finds id as seen by project ("" sees all).
func (s *Service) getFlavor(ctx context.Context, q db.Querier, project, id string) (Flavor, error) {
	rows, _ := q.Query(ctx, "SELECT "+flavorCols+" FROM flavors f WHERE f.id = $1 AND "+flavorVisible, id, project)
	f, err := pgx.CollectExactlyOneRow(rows, scanFlavor)
	if errors.Is(err, pgx.ErrNoRows) {
		return Flavor{}, flavorNotFound(id)
	}
	return f, err
}

// FlavorFilter narrows and orders ListFlavors. Public follows Nova's
// is_public: true lists public flavors plus the private ones the caller's
// project may use, false only private flavors, nil every flavor. Only
// admins choose; everyone else always gets true, without disabled flavors.
type FlavorFilter struct {
	MinRAMMB, MinDiskGB int
	Public              *bool
	SortKey, SortDir    string // Nova's names; default flavorid asc
	Limit               int    // 0: no limit
	Marker              string // list after this flavor id
}

// flavorSortKeys maps Nova's sort keys onto columns. Nova's "id" is its
// internal row number, which is creation order; flavors are never
// updated, so updated_at orders as created_at; vcpu_weight is unset here
// (as it usually is in Nova), so its ties fall to the flavor id.
var flavorSortKeys = map[string]string{
	"flavorid": "f.id", "id": "f.created_at", "name": "f.name", "memory_mb": "f.ram_mb", "vcpus": "f.vcpus",
	"root_gb": "f.disk_gb", "ephemeral_gb": "f.ephemeral_gb", "swap": "f.swap_mb", "rxtx_factor": "f.rxtx_factor",
	"is_public": "f.is_public", "disabled": "f.disabled", "description": "coalesce(f.description, '')",
	"created_at": "f.created_at", "vcpu_weight": "f.id", "updated_at": "f.created_at",
}

// ListFlavors returns the flavors c may see, filtered, sorted and paged.
// Ties on the sort key are broken by id, so pages never overlap.
func (s *Service) ListFlavors(ctx context.Context, c *token.Claims, f FlavorFilter) ([]Flavor, error) {
	if err := policy.Authorize(c, policy.Read, "", "flavors"); err != nil {
		return nil, err
	}
	admin := policy.IsAdmin(c)
	public := f.Public
	if !admin {
		yes := true
		public = &yes
	}
	col, ok := flavorSortKeys[cmp.Or(f.SortKey, "flavorid")]
	if !ok {
		return nil, osapi.Errorf(http.StatusBadRequest, "Invalid sort_key %q.", f.SortKey)
	}
	dir, op := "ASC", ">"
	switch strings.ToLower(cmp.Or(f.SortDir, "asc")) {
	case "asc":
	case "desc":
		dir, op = "DESC", "<"
	default:
		return nil, osapi.Errorf(http.StatusBadRequest, "Invalid sort_dir %q: use asc or desc.", f.SortDir)
	}
	// The caller's project widens "public" to its private flavors; for an
	// admin listing everything it plays no part.
	project := c.ProjectID
	args := []any{public, project, admin, f.MinRAMMB, f.MinDiskGB}
	where := `($1::boolean IS NULL OR f.is_public = $1
			OR ($1 AND EXISTS (SELECT 1 FROM flavor_access a WHERE a.flavor_id = f.id AND a.project_id = $2)))
		AND ($3 OR NOT f.disabled) AND f.ram_mb >= $4 AND f.disk_gb >= $5`
	if f.Marker != "" {
		if _, err := s.getFlavor(ctx, s.pool, policy.ProjectFilter(c), f.Marker); err != nil {
			if e, _ := osapi.AsError(err); e.Status == http.StatusNotFound {
				return nil, osapi.Errorf(http.StatusBadRequest, "marker [%s] not found", f.Marker)
			}
			return nil, err
		}
		args = append(args, f.Marker)
		markerCol := strings.ReplaceAll(col, "f.", "m.")
		where += fmt.Sprintf(" AND (%s, f.id) %s (SELECT %s, m.id FROM flavors m WHERE m.id = $%d)", col, op, markerCol, len(args))
	}
	query := "SELECT " + flavorCols + " FROM flavors f WHERE " + where + fmt.Sprintf(" ORDER BY %s %s, f.id %s", col, dir, dir)
	if f.Limit > 0 {
		args = append(args, f.Limit)
		query += fmt.Sprintf(" LIMIT $%d", len(args))
	}
	rows, _ := s.pool.Query(ctx, query, args...)
	return pgx.CollectRows(rows, scanFlavor)
}

// flavorIDPattern is Nova's rule for flavor ids.
var flavorIDPattern = regexp.MustCompile(`^[a-zA-Z0-9. _-]+$`)

// validateFlavor applies Nova's limits on a new flavor.
func validateFlavor(f Flavor) error {
	if err := validName("name", f.Name); err != nil {
		return err
	}
	if len(f.ID) > 255 || !flavorIDPattern.MatchString(f.ID) || strings.TrimSpace(f.ID) != f.ID {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute id. Value: %s. "+
			"Flavor ids are 1 to 255 letters, digits, periods, underscores, hyphens and inner spaces.", f.ID)
	}
	for _, v := range []struct {
		field    string
		value, m int
	}{{"ram", f.RAMMB, 1}, {"vcpus", f.VCPUs, 1}, {"disk", f.DiskGB, 0}, {"OS-FLV-EXT-DATA:ephemeral", f.EphemeralGB, 0}, {"swap", f.SwapMB, 0}} {
		if v.value < v.m || v.value > maxFlavorValue {
			return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: %d. It must be between %d and %d.",
				v.field, v.value, v.m, maxFlavorValue)
		}
	}
	if !(f.RxTxFactor > 0) || f.RxTxFactor > math.MaxFloat32 {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute rxtx_factor. Value: %g. It must be more than 0 and at most %g.",
			f.RxTxFactor, math.MaxFloat32)
	}
	return nil
}

// validName applies Nova's rule for resource names: 1 to 255
// printable characters without leading or trailing whitespace.
func validName(field, name string) error {
	ok := name != "" && len([]rune(name)) <= 255 && strings.TrimSpace(name) == name
	for _, r := range name {
		ok = ok && unicode.IsPrint(r)
	}
	if !ok {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: %q. "+
			"It must be 1 to 255 printable characters without leading or trailing whitespace.", field, name)
	}
	return nil
}

// CreateFlavor stores a new flavor (admin only). An empty or "auto" id
// gets a generated UUID; a zero RxTxFactor means 1.0.
func (s *Service) CreateFlavor(ctx context.Context, c *token.Claims, f Flavor) (Flavor, error) {
	if err := policy.Authorize(c, policy.Admin, "", "flavors"); err != nil {
		return Flavor{}, err
	}
	if f.ID == "" || f.ID == "auto" {
		f.ID = uuid.NewString()
	}
	if f.RxTxFactor == 0 {
		f.RxTxFactor = 1
	}
	if err := validateFlavor(f); err != nil {
		return Flavor{}, err
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO flavors (id, name, vcpus, ram_mb, disk_gb, ephemeral_gb, swap_mb, rxtx_factor, is_public, description)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, nullif($10, '')) RETURNING created_at`,
		f.ID, f.Name, f.VCPUs, f.RAMMB, f.DiskGB, f.EphemeralGB, f.SwapMB, f.RxTxFactor, f.IsPublic, f.Description).Scan(&f.CreatedAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		if pgErr.ConstraintName == "flavors_name_key" {
			return Flavor{}, osapi.Errorf(http.StatusConflict, "Flavor with name %s already exists.", f.Name)
		}
		return Flavor{}, osapi.Errorf(http.StatusConflict, "Flavor with ID %s already exists.", f.ID)
	}
	return f, err
}

// DeleteFlavor removes a flavor with its extra specs and access list
// (admin only). Servers built from it keep their copy of its sizes.
func (s *Service) DeleteFlavor(ctx context.Context, c *token.Claims, id string) error {
	if err := policy.Authorize(c, policy.Admin, "", "flavors"); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, "DELETE FROM flavors WHERE id = $1", id)
	if err == nil && tag.RowsAffected() == 0 {
		err = flavorNotFound(id)
	}
	return err
}

// extraSpecKeyPattern is Nova's rule for extra spec keys.
var extraSpecKeyPattern = regexp.MustCompile(`^[a-zA-Z0-9-_:. ]{1,255}$`)

func extraSpecNotFound(id, key string) error {
	return osapi.Errorf(http.StatusNotFound, "Flavor %s has no extra specs with key %s.", id, key)
}

// FlavorExtraSpecs returns the extra specs of a flavor c may see.
func (s *Service) FlavorExtraSpecs(ctx context.Context, c *token.Claims, id string) (map[string]string, error) {
	if _, err := s.GetFlavor(ctx, c, id); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, "SELECT key, value FROM flavor_extra_specs WHERE flavor_id = $1", id)
	specs := map[string]string{}
	var k, v string
	_, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error {
		specs[k] = v
		return nil
	})
	return specs, err
}

// FlavorExtraSpec returns one extra spec of a flavor c may see.
func (s *Service) FlavorExtraSpec(ctx context.Context, c *token.Claims, id, key string) (string, error) {
	if _, err := s.GetFlavor(ctx, c, id); err != nil {
		return "", err
	}
	var v string
	err := s.pool.QueryRow(ctx, "SELECT value FROM flavor_extra_specs WHERE flavor_id = $1 AND key = $2", id, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", extraSpecNotFound(id, key)
	}
	return v, err
}

// SetFlavorExtraSpecs creates or replaces the given extra specs (admin
// only); other keys stay.
func (s *Service) SetFlavorExtraSpecs(ctx context.Context, c *token.Claims, id string, specs map[string]string) error {
	if err := policy.Authorize(c, policy.Admin, "", "flavor extra specs"); err != nil {
		return err
	}
	for k, v := range specs {
		if !extraSpecKeyPattern.MatchString(k) {
			return osapi.Errorf(http.StatusBadRequest, "Invalid extra spec key %q: use 1 to 255 letters, digits, spaces and -_:.", k)
		}
		if len(v) > 255 {
			return osapi.Errorf(http.StatusBadRequest, "Invalid extra spec %s: the value is longer than 255 characters.", k)
		}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Lock the flavor so a concurrent delete cannot slip in between.
		var found string
		if err := tx.QueryRow(ctx, "SELECT id FROM flavors WHERE id = $1 FOR SHARE", id).Scan(&found); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return flavorNotFound(id)
			}
			return err
		}
		for k, v := range specs {
			if _, err := tx.Exec(ctx, `INSERT INTO flavor_extra_specs (flavor_id, key, value) VALUES ($1, $2, $3)
				ON CONFLICT (flavor_id, key) DO UPDATE SET value = excluded.value`, id, k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteFlavorExtraSpec removes one extra spec (admin only).
func (s *Service) DeleteFlavorExtraSpec(ctx context.Context, c *token.Claims, id, key string) error {
	if err := policy.Authorize(c, policy.Admin, "", "flavor extra specs"); err != nil {
		return err
	}
	if _, err := s.getFlavor(ctx, s.pool, "", id); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, "DELETE FROM flavor_extra_specs WHERE flavor_id = $1 AND key = $2", id, key)
	if err == nil && tag.RowsAffected() == 0 {
		err = extraSpecNotFound(id, key)
	}
	return err
}

// FlavorAccess lists the projects that may use a private flavor (admin
// only). Public flavors have no access list, as in Nova.
func (s *Service) FlavorAccess(ctx context.Context, c *token.Claims, id string) ([]string, error) {
	if err := policy.Authorize(c, policy.Admin, "", "flavor access"); err != nil {
		return nil, err
	}
	f, err := s.getFlavor(ctx, s.pool, "", id)
	if err != nil {
		return nil, err
	}
	if f.IsPublic {
		return nil, osapi.Errorf(http.StatusNotFound, "Access list not available for public flavors.")
	}
	return s.flavorProjects(ctx, s.pool, id)
}

func (s *Service) flavorProjects(ctx context.Context, q db.Querier, id string) ([]string, error) {
	rows, _ := q.Query(ctx, "SELECT project_id FROM flavor_access WHERE flavor_id = $1 ORDER BY project_id", id)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// AddFlavorAccess lets project use a private flavor (admin only) and
// returns the flavor's access list.
func (s *Service) AddFlavorAccess(ctx context.Context, c *token.Claims, id, project string) ([]string, error) {
	if err := policy.Authorize(c, policy.Admin, "", "flavor access"); err != nil {
		return nil, err
	}
	if project == "" {
		return nil, osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute tenant: a project id is required.")
	}
	var projects []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		f, err := s.getFlavor(ctx, tx, "", id)
		if err != nil {
			return err
		}
		if f.IsPublic {
			return osapi.Errorf(http.StatusConflict, "Can not add access to a public flavor.")
		}
		tag, err := tx.Exec(ctx, "INSERT INTO flavor_access (flavor_id, project_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", id, project)
		if err != nil {
			return db.Interpret(err, "flavor access")
		}
		if tag.RowsAffected() == 0 {
			return osapi.Errorf(http.StatusConflict, "Flavor access already exists for flavor %s and project %s combination.", id, project)
		}
		projects, err = s.flavorProjects(ctx, tx, id)
		return err
	})
	return projects, err
}

// RemoveFlavorAccess takes a project's access to a private flavor away
// (admin only) and returns the flavor's access list.
func (s *Service) RemoveFlavorAccess(ctx context.Context, c *token.Claims, id, project string) ([]string, error) {
	if err := policy.Authorize(c, policy.Admin, "", "flavor access"); err != nil {
		return nil, err
	}
	var projects []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := s.getFlavor(ctx, tx, "", id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM flavor_access WHERE flavor_id = $1 AND project_id = $2", id, project)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return osapi.Errorf(http.StatusNotFound, "Flavor access not found for %s / %s combination.", id, project)
		}
		projects, err = s.flavorProjects(ctx, tx, id)
		return err
	})
	return projects, err
}
