// Package network owns Stratus networking decisions: networks, subnets and
// their IPAM, ports, security groups, routers, floating IPs and quotas, all
// in PostgreSQL, plus the desired dataplane state of each host computed
// from them. Package neutron serves it as the Neutron v2.0 API.
//
// Domain types carry Neutron's JSON field names, so the API layer encodes
// them as they are.
package network

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/outbox"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/quota"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Service is the networking domain over PostgreSQL.
type Service struct {
	pool   *pgxpool.Pool
	Quotas *quota.Store
	// OnBind, when set, brings a host's dataplane up to date after ports
	// were bound to it, before compute defines a domain plugged into them.
	OnBind func(ctx context.Context, host string) error
	// watchers are signalled after every committed write that may change
	// a host's dataplane; dataplane loops listen.
	mu       sync.Mutex
	watchers []chan struct{}
}

// New returns the networking service.
func New(pool *pgxpool.Pool) *Service {
	return &Service{pool: pool, Quotas: &quota.Store{Pool: pool, Defaults: QuotaDefaults}}
}

// Changed returns a new channel that fires (coalesced) after each write
// that may change a dataplane.
func (s *Service) Changed() <-chan struct{} {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchers = append(s.watchers, ch)
	return ch
}

func (s *Service) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Time is a timestamp in Neutron's format (seconds, UTC, "Z").
type Time time.Time

// MarshalJSON writes "2006-01-02T15:04:05Z".
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05Z") + `"`), nil
}

// neutronError is an API error with Neutron's exception type.
func neutronError(status int, typ, format string, args ...any) error {
	return &osapi.Error{Status: status, Kind: typ, Message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return neutronError(http.StatusBadRequest, "HTTPBadRequest", format, args...)
}

func invalidInput(format string, args ...any) error {
	return neutronError(http.StatusBadRequest, "InvalidInput", "Invalid input for operation: "+format, args...)
}

func notFound(kind, id string) error {
	return neutronError(http.StatusNotFound, kind+"NotFound", "%s %s could not be found.", kindName(kind), id)
}

func kindName(kind string) string {
	switch kind {
	case "SecurityGroup":
		return "Security group"
	case "SecurityGroupRule":
		return "Security group rule"
	case "FloatingIP":
		return "Floating IP"
	}
	return kind
}

// authorizeIn checks that c may act on a resource of project, turning a
// hidden resource into kind's own not-found error.
func authorizeIn(c *token.Claims, action policy.Action, project, kind, id string) error {
	err := policy.Authorize(c, action, project, kind)
	if errors.Is(err, osapi.ErrNotFound) {
		return notFound(kind, id)
	}
	return err
}

// ownerFor is the project a new resource belongs to: the caller's, or for
// admins the project_id/tenant_id they ask for.
func ownerFor(c *token.Claims, requested string) (string, error) {
	if requested == "" || requested == c.ProjectID {
		return c.ProjectID, nil
	}
	if !policy.IsAdmin(c) {
		return "", neutronError(http.StatusForbidden, "HTTPForbidden", "Only admins may create resources in another project.")
	}
	return requested, nil
}

// checkRevision enforces an If-Match revision (0: none asked) on a row
// locked for update, and bumps the revision.
func checkRevision(ctx context.Context, tx pgx.Tx, table, id string, want int64) error {
	var have int64
	if err := tx.QueryRow(ctx, "SELECT revision_number FROM "+table+" WHERE id = $1 FOR UPDATE", id).Scan(&have); err != nil {
		return err
	}
	if want != 0 && want != have {
		return neutronError(http.StatusPreconditionFailed, "RevisionNumberConstraintFailed",
			"Constrained to %d, but current revision is %d", want, have)
	}
	_, err := tx.Exec(ctx, "UPDATE "+table+" SET revision_number = revision_number + 1, updated_at = now() WHERE id = $1", id)
	return err
}

// tx runs fn in a transaction and signals the dataplane loop after a
// commit. A foreign key that broke under a concurrent change (a port
// created on a network being deleted, an address taken from a subnet being
// deleted) is a 409, not a 500; so is a unique key a concurrent request
// took first (two floating IPs onto one fixed address).
func (s *Service) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, fn)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return neutronError(http.StatusConflict, "HTTPConflict", "A resource this request refers to was changed or deleted concurrently; retry.")
	}
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return neutronError(http.StatusConflict, "HTTPConflict", "A concurrent request took what this one asked for; retry.")
	}
	if err != nil {
		return err
	}
	s.notify()
	return nil
}

// emit records a networking lifecycle event in tx.
func emit(ctx context.Context, tx pgx.Tx, kind, what, subject string, data map[string]any) error {
	return outbox.Emit(ctx, tx, "/network", "stratus.network."+kind+"."+what, subject, data)
}

// loadTags returns the tags of the given resources.
func loadTags(ctx context.Context, q db.Querier, ids []string) (map[string][]string, error) {
	out := map[string][]string{}
	rows, _ := q.Query(ctx, "SELECT resource_id, tag FROM network_tags WHERE resource_id = ANY($1) ORDER BY tag", ids)
	var id, tag string
	_, err := pgx.ForEachRow(rows, []any{&id, &tag}, func() error {
		out[id] = append(out[id], tag)
		return nil
	})
	return out, err
}

// fillTags sets the tags of a page of resources with one query; tagged
// gives a resource's id and where its tags go.
func fillTags[T any](ctx context.Context, q db.Querier, list []T, tagged func(*T) (string, *[]string)) error {
	ids := make([]string, len(list))
	for i := range list {
		ids[i], _ = tagged(&list[i])
	}
	tags, err := loadTags(ctx, q, ids)
	for i := range list {
		id, dst := tagged(&list[i])
		*dst = orEmpty(tags[id])
	}
	return err
}

func orEmpty(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}
