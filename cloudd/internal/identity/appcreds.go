package identity

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/authn"
	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/token"
)

// AppCredRequest asks for a new application credential. Roles are ids or
// names; none means every role of the creating token.
type AppCredRequest struct {
	Name         string
	Description  string
	Secret       string // generated when empty
	ExpiresAt    *time.Time
	RoleIDs      []string
	RoleNames    []string
	Unrestricted bool
}

// CreateAppCred makes an application credential for the token's user,
// scoped to the token's project, carrying a subset of the token's roles.
func (s *Service) CreateAppCred(ctx context.Context, c *token.Claims, userID string, req AppCredRequest) (AppCred, error) {
	if c.UserID != userID {
		return AppCred{}, osapi.Errorf(403, "Application credentials can only be created by their owner.")
	}
	if c.ProjectID == "" {
		return AppCred{}, osapi.Errorf(400, "Application credentials must be created with a project-scoped token.")
	}
	if c.AppCredID != "" && !c.Unrestricted {
		return AppCred{}, osapi.Errorf(403, "A restricted application credential cannot be used to create another one.")
	}
	if err := requireName("application credential", req.Name); err != nil {
		return AppCred{}, err
	}
	if req.ExpiresAt != nil && !req.ExpiresAt.After(s.cfg.Now()) {
		return AppCred{}, osapi.Errorf(400, "Invalid input for field 'expires_at': the expiry must be in the future.")
	}
	held, err := s.tokenRoles(ctx, s.pool, c)
	if err != nil {
		return AppCred{}, err
	}
	roles, err := pickRoles(held, req.RoleIDs, req.RoleNames)
	if err != nil {
		return AppCred{}, err
	}
	ac := AppCred{
		ID: NewID(), UserID: userID, ProjectID: c.ProjectID, Name: req.Name, Description: req.Description,
		Unrestricted: req.Unrestricted, ExpiresAt: req.ExpiresAt, Roles: roles, Secret: req.Secret,
	}
	if ac.Secret == "" {
		ac.Secret = NewSecret()
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO application_credentials (id, user_id, project_id, name, description, secret_hash, unrestricted, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, ac.ID, ac.UserID, ac.ProjectID, ac.Name, ac.Description,
			HashSecret(ac.Secret), ac.Unrestricted, ac.ExpiresAt); err != nil {
			return db.Interpret(err, "application credential "+ac.Name)
		}
		for _, r := range roles {
			if _, err := tx.Exec(ctx, "INSERT INTO application_credential_roles VALUES ($1, $2)", ac.ID, r.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return ac, err
}

// tokenRoles are the roles a token may delegate: its application
// credential's roles, or the user's effective roles on its project.
func (s *Service) tokenRoles(ctx context.Context, q db.Querier, c *token.Claims) ([]Role, error) {
	if c.AppCredID != "" {
		ac, err := s.getAppCred(ctx, q, c.UserID, c.AppCredID)
		return ac.Roles, err
	}
	return s.EffectiveRoles(ctx, q, c.UserID, c.ProjectID)
}

func pickRoles(held []Role, ids, names []string) ([]Role, error) {
	if len(ids) == 0 && len(names) == 0 {
		return held, nil
	}
	var out []Role
	seen := map[string]bool{}
	find := func(match func(Role) bool, what string) error {
		for _, r := range held {
			if match(r) {
				if !seen[r.ID] {
					out = append(out, r)
					seen[r.ID] = true
				}
				return nil
			}
		}
		return osapi.Errorf(403, "The token does not hold role %s, so it cannot delegate it to an application credential.", what)
	}
	for _, id := range ids {
		if err := find(func(r Role) bool { return r.ID == id }, id); err != nil {
			return nil, err
		}
	}
	for _, n := range names {
		if err := find(func(r Role) bool { return r.Name == n }, n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

const appCredCols = "id, user_id, project_id, name, description, unrestricted, expires_at"

func (s *Service) getAppCred(ctx context.Context, q db.Querier, userID, id string) (AppCred, error) {
	list, err := s.listAppCreds(ctx, q, userID, id, "")
	if err != nil {
		return AppCred{}, err
	}
	if len(list) == 0 {
		return AppCred{}, osapi.Errorf(404, "Could not find application credential: %s.", id)
	}
	return list[0], nil
}

// GetAppCred returns one of user's application credentials.
func (s *Service) GetAppCred(ctx context.Context, userID, id string) (AppCred, error) {
	return s.getAppCred(ctx, s.pool, userID, id)
}

// ListAppCreds lists user's application credentials, optionally by name.
func (s *Service) ListAppCreds(ctx context.Context, userID, name string) ([]AppCred, error) {
	return s.listAppCreds(ctx, s.pool, userID, "", name)
}

func (s *Service) listAppCreds(ctx context.Context, q db.Querier, userID, id, name string) ([]AppCred, error) {
	rows, _ := q.Query(ctx, "SELECT "+appCredCols+` FROM application_credentials
		WHERE user_id = $1 AND ($2 = '' OR id = $2) AND ($3 = '' OR name = $3) ORDER BY name`, userID, id, name)
	creds, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AppCred, error) {
		var a AppCred
		err := row.Scan(&a.ID, &a.UserID, &a.ProjectID, &a.Name, &a.Description, &a.Unrestricted, &a.ExpiresAt)
		return a, err
	})
	if err != nil {
		return nil, err
	}
	for i := range creds {
		rows, _ := q.Query(ctx, `SELECT r.id, r.name, r.description FROM application_credential_roles acr
			JOIN roles r ON r.id = acr.role_id WHERE acr.application_credential_id = $1 ORDER BY r.name`, creds[i].ID)
		if creds[i].Roles, err = pgx.CollectRows(rows, scanRole); err != nil {
			return nil, err
		}
	}
	return creds, nil
}

// DeleteAppCred removes an application credential and revokes its tokens.
func (s *Service) DeleteAppCred(ctx context.Context, userID, id string) error {
	return s.inTx(ctx, func(tx pgx.Tx, rev *revocations) error {
		tag, err := tx.Exec(ctx, "DELETE FROM application_credentials WHERE user_id = $1 AND id = $2", userID, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return osapi.Errorf(404, "Could not find application credential: %s.", id)
		}
		return rev.add(ctx, tx, authn.Revocation{AppCredID: id, IssuedBefore: s.cfg.Now()})
	})
}
