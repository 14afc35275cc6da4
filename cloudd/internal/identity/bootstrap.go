package identity

import (
	"cmp"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
)

// Well-known names created at bootstrap.
const (
	AdminProject   = "admin"
	ServiceProject = "service"
	AdminUser      = "admin"
)

// BuiltinRoles are created at bootstrap; each implies the next one listed
// in ImpliedChain.
var (
	BuiltinRoles = []string{"admin", "member", "reader", "service"}
	ImpliedChain = []string{"admin", "member", "reader"}
)

// Account is a user bootstrap makes sure of. Password, when set, is
// (re)set on every bootstrap; otherwise InitialPassword is given to a user
// that does not exist yet and an existing user's password is left alone.
type Account struct {
	Name            string
	Project         string
	Roles           []string
	Password        string
	InitialPassword string
}

// Bootstrap creates what a cloud needs before anyone can log in: the
// built-in roles and their implications, the admin and service projects,
// and accounts. It is idempotent and safe to run from several replicas at
// once (they take turns under an advisory lock). It reports which accounts
// it created.
func (s *Service) Bootstrap(ctx context.Context, accounts []Account) (created map[string]bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	key := db.LockKey("identity-bootstrap")
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return nil, err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key) //nolint:errcheck // dropped with the session anyway

	roles := map[string]string{}
	for _, name := range BuiltinRoles {
		if roles[name], err = s.ensure(ctx, "roles", name, func() (string, error) {
			r, err := s.CreateRole(ctx, Role{Name: name})
			return r.ID, err
		}); err != nil {
			return nil, err
		}
	}
	for i := 0; i+1 < len(ImpliedChain); i++ {
		if _, err := s.pool.Exec(ctx, "INSERT INTO implied_roles VALUES ($1, $2) ON CONFLICT DO NOTHING",
			roles[ImpliedChain[i]], roles[ImpliedChain[i+1]]); err != nil {
			return nil, err
		}
	}
	projects := map[string]string{}
	for _, name := range []string{AdminProject, ServiceProject} {
		if projects[name], err = s.ensure(ctx, "projects", name, func() (string, error) {
			p, err := s.CreateProject(ctx, Project{Name: name, Enabled: true, Description: "Bootstrap project " + name})
			return p.ID, err
		}); err != nil {
			return nil, err
		}
	}
	created = map[string]bool{}
	for _, a := range accounts {
		var userID string
		err := s.pool.QueryRow(ctx, "SELECT id FROM users WHERE name = $1", a.Name).Scan(&userID)
		switch {
		case err == pgx.ErrNoRows:
			password := cmp.Or(a.Password, a.InitialPassword)
			if password == "" {
				return nil, fmt.Errorf("bootstrap: new user %s needs a password", a.Name)
			}
			u, err := s.CreateUser(ctx, User{Name: a.Name, Enabled: true, DefaultProjectID: projects[a.Project]}, password)
			if err != nil {
				return nil, err
			}
			userID, created[a.Name] = u.ID, true
		case err != nil:
			return nil, err
		case a.Password != "":
			var hash string
			if err := s.pool.QueryRow(ctx, "SELECT coalesce(password_hash, '') FROM users WHERE id = $1", userID).Scan(&hash); err != nil {
				return nil, err
			}
			// Re-hashing an unchanged password would revoke the user's tokens.
			if !CheckSecret(hash, a.Password) {
				if _, err := s.UpdateUser(ctx, userID, UserPatch{Password: &a.Password}); err != nil {
					return nil, err
				}
			}
		}
		for _, r := range a.Roles {
			if err := s.Grant(ctx, projects[a.Project], userID, roles[r]); err != nil {
				return nil, err
			}
		}
	}
	return created, nil
}

// ensure returns the id of the row of table named name, creating it first
// if it is missing.
func (s *Service) ensure(ctx context.Context, table, name string, create func() (string, error)) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, "SELECT id FROM "+table+" WHERE name = $1", name).Scan(&id)
	if err == pgx.ErrNoRows {
		return create()
	}
	return id, err
}
