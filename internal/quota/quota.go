// Package quota owns per-project limits: defaults that each service
// declares, per-project overrides stored in the service's schema, and an
// exact check that holds under concurrent requests.
//
// The table lives in the owning service's schema:
//
//	CREATE TABLE quotas (project_id text NOT NULL, resource text NOT NULL,
//	    hard_limit bigint NOT NULL, PRIMARY KEY (project_id, resource));
package quota

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

// Unlimited is the limit value meaning "no limit", as in OpenStack.
const Unlimited = -1

// Store reads and writes limits. Defaults maps every resource the service
// meters to its default limit; only those resources can be set.
type Store struct {
	Pool     *pgxpool.Pool
	Defaults map[string]int64
}

// Limits returns project's limit for every known resource.
func (s *Store) Limits(ctx context.Context, q db.Querier, project string) (map[string]int64, error) {
	out := make(map[string]int64, len(s.Defaults))
	for r, v := range s.Defaults {
		out[r] = v
	}
	rows, _ := q.Query(ctx, "SELECT resource, hard_limit FROM quotas WHERE project_id = $1", project)
	var resource string
	var limit int64
	_, err := pgx.ForEachRow(rows, []any{&resource, &limit}, func() error {
		if _, known := out[resource]; known {
			out[resource] = limit
		}
		return nil
	})
	return out, err
}

// Set overrides some of project's limits.
func (s *Store) Set(ctx context.Context, project string, limits map[string]int64) error {
	names := make([]string, 0, len(limits))
	for r, v := range limits {
		if _, known := s.Defaults[r]; !known {
			return fmt.Errorf("unknown quota resource %q: %w", r, osapi.ErrBadRequest)
		}
		if v < Unlimited {
			return fmt.Errorf("quota limit for %s must be -1 (unlimited) or more, got %d: %w", r, v, osapi.ErrBadRequest)
		}
		names = append(names, r)
	}
	sort.Strings(names)
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		for _, r := range names {
			if _, err := tx.Exec(ctx, `INSERT INTO quotas (project_id, resource, hard_limit) VALUES ($1, $2, $3)
				ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = excluded.hard_limit`, project, r, limits[r]); err != nil {
				return err
			}
		}
		return nil
	})
}

// Reset returns project to the defaults for this store's resources; other
// services' limits in the same table (compute and block storage share
// cloudd's) are left alone.
func (s *Store) Reset(ctx context.Context, project string) error {
	names := make([]string, 0, len(s.Defaults))
	for r := range s.Defaults {
		names = append(names, r)
	}
	_, err := s.Pool.Exec(ctx, "DELETE FROM quotas WHERE project_id = $1 AND resource = ANY($2)", project, names)
	return err
}

// Usage counts what project uses of a resource, inside the checking
// transaction.
type Usage func(ctx context.Context, tx pgx.Tx) (int64, error)

// Reserve checks, inside tx, that project may add delta of resource on top
// of what usage reports; see ReserveMany.
func (s *Store) Reserve(ctx context.Context, tx pgx.Tx, project, resource string, delta int64, usage Usage) error {
	return s.ReserveMany(ctx, tx, project, map[string]int64{resource: delta}, func(ctx context.Context, tx pgx.Tx) (map[string]int64, error) {
		n, err := usage(ctx, tx)
		return map[string]int64{resource: n}, err
	})
}

// ReserveMany checks, inside tx, that project may add each delta on top of
// what usage reports (one call, for every resource at once). It holds a
// transaction lock on the project until tx ends, so concurrent
// reservations for one project queue up and none of them overshoots; other
// projects are not held up. The caller creates the resources in the same
// tx. Resources are checked in name order, so the error names the same
// one every time.
func (s *Store) ReserveMany(ctx context.Context, tx pgx.Tx, project string, deltas map[string]int64,
	usage func(ctx context.Context, tx pgx.Tx) (map[string]int64, error)) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", db.LockKey("quota:"+project)); err != nil {
		return err
	}
	limits, err := s.Limits(ctx, tx, project)
	if err != nil {
		return err
	}
	var checked []string
	for resource, delta := range deltas {
		limit, known := limits[resource]
		if !known {
			return fmt.Errorf("quota resource %q is not defined", resource)
		}
		if limit != Unlimited && delta > 0 {
			checked = append(checked, resource)
		}
	}
	if len(checked) == 0 {
		return nil
	}
	used, err := usage(ctx, tx)
	if err != nil {
		return err
	}
	sort.Strings(checked)
	for _, resource := range checked {
		if used[resource]+deltas[resource] > limits[resource] {
			return &OverError{Resource: resource, Limit: limits[resource], Used: used[resource], Requested: deltas[resource]}
		}
	}
	return nil
}

// OverError says which limit a request would exceed. Services render it in
// their own words and status (Nova 403, Cinder 413, Neutron 409).
type OverError struct {
	Resource    string
	Limit, Used int64
	Requested   int64
}

func (e *OverError) Error() string {
	return fmt.Sprintf("quota exceeded for %s: requested %d, but already used %d of %d", e.Resource, e.Requested, e.Used, e.Limit)
}

// Unwrap makes an OverError an osapi.ErrOverQuota.
func (e *OverError) Unwrap() error { return osapi.ErrOverQuota }
