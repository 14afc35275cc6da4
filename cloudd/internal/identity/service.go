package identity

import (
	"context"
	"encoding/hex"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stratus-cloud/stratus/internal/authn"
	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/outbox"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Config tunes the identity service; zero values take the defaults.
type Config struct {
	TokenTTL     time.Duration // default one hour, as Keystone
	KeyRotation  time.Duration // a new signing key this often; default 24h
	KeyStaging   time.Duration // a new key verifies this long before it signs; default 1m
	SyncInterval time.Duration // keys and revocations reload this often; default 1s
	Now          func() time.Time
}

// Service is the identity domain over PostgreSQL.
type Service struct {
	pool     *pgxpool.Pool
	cfg      Config
	Keys     *token.Keyring
	Verifier *authn.Verifier
}

// New returns the service. Call SyncTrust (or start TrustLoop) before
// issuing tokens, so a signing key exists.
func New(pool *pgxpool.Pool, cfg Config) *Service {
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.KeyRotation == 0 {
		cfg.KeyRotation = 24 * time.Hour
	}
	if cfg.KeyStaging == 0 {
		cfg.KeyStaging = time.Minute
	}
	if cfg.SyncInterval == 0 {
		cfg.SyncInterval = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	keys := token.NewKeyring(cfg.Now)
	return &Service{pool: pool, cfg: cfg, Keys: keys, Verifier: authn.NewVerifier(keys)}
}

// NewID returns a Keystone-style id: a UUID4 as 32 hex digits.
func NewID() string {
	u := uuid.New()
	return hex.EncodeToString(u[:])
}

// inTx runs fn in a transaction and, once it commits, applies the
// revocations fn recorded to this replica's verifier at once (the others
// pick them up on their next sync).
func (s *Service) inTx(ctx context.Context, fn func(tx pgx.Tx, rev *revocations) error) error {
	var rev revocations
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(tx, &rev) }); err != nil {
		return err
	}
	s.Verifier.AddRevocations(rev...)
	return nil
}

type revocations []authn.Revocation

// add records a revocation event in tx.
func (r *revocations) add(ctx context.Context, tx pgx.Tx, e authn.Revocation) error {
	_, err := tx.Exec(ctx, `INSERT INTO revocations (audit_id, audit_chain_id, user_id, project_id, app_cred_id, issued_before)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.AuditID, e.AuditChainID, e.UserID, e.ProjectID, e.AppCredID, e.IssuedBefore)
	*r = append(*r, e)
	return err
}

func requireName(kind, name string) error {
	if strings.TrimSpace(name) == "" {
		return osapi.Errorf(400, "Invalid input for field 'name': a %s name is required and cannot be empty.", kind)
	}
	if len(name) > 255 {
		return osapi.Errorf(400, "Invalid input for field 'name': at most 255 characters.")
	}
	return nil
}

// ---- projects

const projectCols = "id, name, description, enabled, tags"

func scanProject(row pgx.CollectableRow) (Project, error) {
	var p Project
	err := row.Scan(&p.ID, &p.Name, &p.Description, &p.Enabled, &p.Tags)
	return p, err
}

// CreateProject stores a new project.
func (s *Service) CreateProject(ctx context.Context, p Project) (Project, error) {
	if err := requireName("project", p.Name); err != nil {
		return Project{}, err
	}
	if p.ID == "" {
		p.ID = NewID()
	}
	if p.Tags == nil {
		p.Tags = []string{}
	}
	err := s.inTx(ctx, func(tx pgx.Tx, _ *revocations) error {
		if _, err := tx.Exec(ctx, "INSERT INTO projects ("+projectCols+") VALUES ($1, $2, $3, $4, $5)",
			p.ID, p.Name, p.Description, p.Enabled, p.Tags); err != nil {
			return db.Interpret(err, "project")
		}
		return emitProject(ctx, tx, "created", p)
	})
	return p, err
}

// Lifecycle events, for metering and auditing.
const eventSource = "/identity"

func emitProject(ctx context.Context, tx pgx.Tx, what string, p Project) error {
	return outbox.Emit(ctx, tx, eventSource, "stratus.identity.project."+what, p.ID,
		map[string]any{"project_id": p.ID, "name": p.Name, "enabled": p.Enabled})
}

func emitUser(ctx context.Context, tx pgx.Tx, what string, u User) error {
	return outbox.Emit(ctx, tx, eventSource, "stratus.identity.user."+what, u.ID,
		map[string]any{"user_id": u.ID, "name": u.Name, "enabled": u.Enabled})
}

// GetProject finds a project by id.
func (s *Service) GetProject(ctx context.Context, id string) (Project, error) {
	return s.getProject(ctx, s.pool, "id", id)
}

func (s *Service) getProject(ctx context.Context, q db.Querier, col, v string) (Project, error) {
	rows, _ := q.Query(ctx, "SELECT "+projectCols+" FROM projects WHERE "+col+" = $1", v)
	p, err := pgx.CollectExactlyOneRow(rows, scanProject)
	return p, db.Interpret(err, "project: "+v)
}

// ProjectFilter narrows ListProjects.
type ProjectFilter struct {
	Name    string
	Enabled *bool
	UserID  string // only projects this user has a role on
}

// ListProjects returns projects ordered by name.
func (s *Service) ListProjects(ctx context.Context, f ProjectFilter) ([]Project, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+projectCols+` FROM projects p
		WHERE ($1 = '' OR name = $1) AND ($2::boolean IS NULL OR enabled = $2)
		  AND ($3 = '' OR EXISTS (SELECT 1 FROM role_assignments a WHERE a.project_id = p.id AND a.user_id = $3))
		ORDER BY name`, f.Name, f.Enabled, f.UserID)
	return pgx.CollectRows(rows, scanProject)
}

// UpdateProject changes a project. Disabling it revokes its tokens.
func (s *Service) UpdateProject(ctx context.Context, id string, patch ProjectPatch) (Project, error) {
	if patch.Name != nil {
		if err := requireName("project", *patch.Name); err != nil {
			return Project{}, err
		}
	}
	var out Project
	err := s.inTx(ctx, func(tx pgx.Tx, rev *revocations) error {
		rows, _ := tx.Query(ctx, `UPDATE projects SET name = coalesce($2, name), description = coalesce($3, description),
			enabled = coalesce($4, enabled), tags = coalesce($5, tags) WHERE id = $1 RETURNING `+projectCols,
			id, patch.Name, patch.Description, patch.Enabled, patch.Tags)
		var err error
		if out, err = pgx.CollectExactlyOneRow(rows, scanProject); err != nil {
			return db.Interpret(err, "project: "+id)
		}
		if !out.Enabled {
			if err := rev.add(ctx, tx, authn.Revocation{ProjectID: id, IssuedBefore: s.cfg.Now()}); err != nil {
				return err
			}
		}
		return emitProject(ctx, tx, "updated", out)
	})
	return out, err
}

// DeleteProject removes a project with its assignments and application
// credentials, and revokes its tokens.
func (s *Service) DeleteProject(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx pgx.Tx, rev *revocations) error {
		rows, _ := tx.Query(ctx, "DELETE FROM projects WHERE id = $1 RETURNING "+projectCols, id)
		p, err := pgx.CollectExactlyOneRow(rows, scanProject)
		if err != nil {
			return db.Interpret(err, "project: "+id)
		}
		if err := rev.add(ctx, tx, authn.Revocation{ProjectID: id, IssuedBefore: s.cfg.Now()}); err != nil {
			return err
		}
		return emitProject(ctx, tx, "deleted", p)
	})
}

// ---- users

const userCols = "id, name, description, email, enabled, coalesce(default_project_id, '')"

func scanUser(row pgx.CollectableRow) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Name, &u.Description, &u.Email, &u.Enabled, &u.DefaultProjectID)
	return u, err
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateUser stores a new user; an empty password means the user cannot
// authenticate with a password.
func (s *Service) CreateUser(ctx context.Context, u User, password string) (User, error) {
	if err := requireName("user", u.Name); err != nil {
		return User{}, err
	}
	if u.ID == "" {
		u.ID = NewID()
	}
	var hash *string
	if password != "" {
		h := HashSecret(password)
		hash = &h
	}
	err := s.inTx(ctx, func(tx pgx.Tx, _ *revocations) error {
		if _, err := tx.Exec(ctx, `INSERT INTO users (id, name, description, email, enabled, default_project_id, password_hash, password_changed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, now())`,
			u.ID, u.Name, u.Description, u.Email, u.Enabled, nullable(u.DefaultProjectID), hash); err != nil {
			return db.Interpret(err, "user")
		}
		return emitUser(ctx, tx, "created", u)
	})
	return u, err
}

// GetUser finds a user by id.
func (s *Service) GetUser(ctx context.Context, id string) (User, error) {
	return s.getUser(ctx, s.pool, "id", id)
}

func (s *Service) getUser(ctx context.Context, q db.Querier, col, v string) (User, error) {
	rows, _ := q.Query(ctx, "SELECT "+userCols+" FROM users WHERE "+col+" = $1", v)
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	return u, db.Interpret(err, "user: "+v)
}

// ListUsers returns users ordered by name, optionally by exact name.
func (s *Service) ListUsers(ctx context.Context, name string, enabled *bool) ([]User, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+userCols+` FROM users
		WHERE ($1 = '' OR name = $1) AND ($2::boolean IS NULL OR enabled = $2) ORDER BY name`, name, enabled)
	return pgx.CollectRows(rows, scanUser)
}

// UpdateUser changes a user. A new password or disabling the user revokes
// the user's tokens.
func (s *Service) UpdateUser(ctx context.Context, id string, patch UserPatch) (User, error) {
	if patch.Name != nil {
		if err := requireName("user", *patch.Name); err != nil {
			return User{}, err
		}
	}
	var hash *string
	if patch.Password != nil {
		h := HashSecret(*patch.Password)
		hash = &h
	}
	var defaultProject *string
	if patch.DefaultProjectID != nil {
		defaultProject = nullable(*patch.DefaultProjectID)
	}
	var out User
	err := s.inTx(ctx, func(tx pgx.Tx, rev *revocations) error {
		rows, _ := tx.Query(ctx, `UPDATE users SET name = coalesce($2, name), description = coalesce($3, description),
			email = coalesce($4, email), enabled = coalesce($5, enabled),
			default_project_id = CASE WHEN $6 THEN $7 ELSE default_project_id END,
			password_hash = coalesce($8, password_hash),
			password_changed_at = CASE WHEN $8::text IS NULL THEN password_changed_at ELSE now() END
			WHERE id = $1 RETURNING `+userCols,
			id, patch.Name, patch.Description, patch.Email, patch.Enabled, patch.DefaultProjectID != nil, defaultProject, hash)
		var err error
		if out, err = pgx.CollectExactlyOneRow(rows, scanUser); err != nil {
			return db.Interpret(err, "user: "+id)
		}
		if hash != nil || !out.Enabled {
			return rev.add(ctx, tx, authn.Revocation{UserID: id, IssuedBefore: s.cfg.Now()})
		}
		return nil
	})
	return out, err
}

// ChangePassword is a user changing their own password, proving the old
// one. All the user's tokens are revoked.
func (s *Service) ChangePassword(ctx context.Context, id, original, password string) error {
	var hash *string
	err := s.pool.QueryRow(ctx, "SELECT password_hash FROM users WHERE id = $1", id).Scan(&hash)
	if err != nil {
		return db.Interpret(err, "user: "+id)
	}
	if hash == nil || !CheckSecret(*hash, original) {
		return osapi.Errorf(401, "The original password is incorrect.")
	}
	if password == "" {
		return osapi.Errorf(400, "Invalid input for field 'password': the new password cannot be empty.")
	}
	_, err = s.UpdateUser(ctx, id, UserPatch{Password: &password})
	return err
}

// DeleteUser removes a user and revokes the user's tokens.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx pgx.Tx, rev *revocations) error {
		rows, _ := tx.Query(ctx, "DELETE FROM users WHERE id = $1 RETURNING "+userCols, id)
		u, err := pgx.CollectExactlyOneRow(rows, scanUser)
		if err != nil {
			return db.Interpret(err, "user: "+id)
		}
		if err := rev.add(ctx, tx, authn.Revocation{UserID: id, IssuedBefore: s.cfg.Now()}); err != nil {
			return err
		}
		return emitUser(ctx, tx, "deleted", u)
	})
}
