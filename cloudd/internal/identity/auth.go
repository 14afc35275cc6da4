package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/authn"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/token"
)

// UserRef names a user by id, or by name within a domain.
type UserRef struct {
	ID         string
	Name       string
	DomainID   string
	DomainName string
}

// ProjectRef names a project by id, or by name within a domain.
type ProjectRef = UserRef

// AuthRequest is a Keystone v3 authentication request, already decoded.
type AuthRequest struct {
	Methods []string

	PasswordUser UserRef
	Password     string

	Token string // the token method's token

	AppCredID     string
	AppCredName   string
	AppCredUser   UserRef
	AppCredSecret string

	Scope    *ProjectRef // nil: the user's default project, if any
	Unscoped bool        // explicitly no scope
}

// errAuth is the one answer to every failed authentication, so callers
// cannot tell a missing user from a wrong password.
var errAuth = osapi.Errorf(401, "The request you have made requires authentication.")

// Authenticate checks the credentials of req and issues a token.
func (s *Service) Authenticate(ctx context.Context, req AuthRequest) (TokenInfo, error) {
	if len(req.Methods) != 1 {
		return TokenInfo{}, osapi.Errorf(401, "Exactly one authentication method is supported per request, got %d.", len(req.Methods))
	}
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	claims := token.Claims{IssuedAt: now, ExpiresAt: now.Add(s.cfg.TokenTTL), AuditID: newAuditID()}
	claims.AuditChainID = claims.AuditID
	var user User
	var appCred *AppCred
	var err error
	switch req.Methods[0] {
	case "password":
		claims.Methods = token.MethodPassword
		user, err = s.checkPassword(ctx, req.PasswordUser, req.Password)
	case "token":
		claims.Methods = token.MethodToken
		var prior *token.Claims
		if prior, err = s.Verifier.Verify(req.Token); err != nil {
			return TokenInfo{}, errAuth
		}
		if prior.AppCredID != "" {
			return TokenInfo{}, osapi.Errorf(403, "A token issued for an application credential cannot be used to get another token.")
		}
		// A renewed token keeps the original's expiry (to the second) and
		// audit chain, as in Keystone.
		claims.ExpiresAt = now.Add(prior.ExpiresAt.Sub(now).Truncate(time.Second))
		claims.AuditChainID = prior.AuditChainID
		user, err = s.GetUser(ctx, prior.UserID)
	case "application_credential":
		claims.Methods = token.MethodApplicationCredential
		if req.Scope != nil {
			return TokenInfo{}, osapi.Errorf(401, "An application credential carries its own scope; do not request one.")
		}
		var ac AppCred
		user, ac, err = s.checkAppCred(ctx, req)
		if err == nil {
			appCred = &ac
			claims.AppCredID, claims.Unrestricted = ac.ID, ac.Unrestricted
			req.Scope = &ProjectRef{ID: ac.ProjectID}
			if ac.ExpiresAt != nil && ac.ExpiresAt.Before(claims.ExpiresAt) {
				claims.ExpiresAt = now.Add(ac.ExpiresAt.Sub(now).Truncate(time.Second))
			}
		}
	default:
		return TokenInfo{}, osapi.Errorf(401, "Unsupported authentication method %q.", req.Methods[0])
	}
	if err != nil {
		if errors.Is(err, errAuth) || isNotFound(err) {
			return TokenInfo{}, errAuth
		}
		return TokenInfo{}, err
	}
	if !user.Enabled {
		return TokenInfo{}, errAuth
	}
	claims.UserID = user.ID

	scope := req.Scope
	if scope == nil && !req.Unscoped && user.DefaultProjectID != "" {
		scope = &ProjectRef{ID: user.DefaultProjectID}
	}
	info := TokenInfo{User: user, AppCred: appCred}
	if scope != nil {
		project, roles, err := s.scopeTo(ctx, user, *scope, appCred)
		if err != nil {
			return TokenInfo{}, err
		}
		claims.ProjectID, claims.Roles = project.ID, wellKnown(roles)
		info.Project, info.Roles = &project, roles
		if info.Catalog, err = s.Catalog(ctx); err != nil {
			return TokenInfo{}, err
		}
	}
	if claims.ExpiresAt.Sub(now) < time.Second {
		return TokenInfo{}, errAuth // what it was derived from is about to expire
	}
	if info.ID, err = s.Keys.Issue(claims); err != nil {
		return TokenInfo{}, err
	}
	info.Claims = claims
	return info, nil
}

func isNotFound(err error) bool {
	var e *osapi.Error
	return errors.As(err, &e) && e.Status == 404
}

func newAuditID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func checkDomain(ref UserRef) error {
	if (ref.DomainID != "" && ref.DomainID != DefaultDomainID) || (ref.DomainName != "" && ref.DomainName != DefaultDomainName) {
		return errAuth
	}
	return nil
}

func (s *Service) findUser(ctx context.Context, ref UserRef) (User, error) {
	if ref.ID != "" {
		return s.GetUser(ctx, ref.ID)
	}
	if ref.Name == "" || ref.DomainID == "" && ref.DomainName == "" {
		return User{}, osapi.Errorf(400, "A user must be given by id, or by name with a domain id or name.")
	}
	if err := checkDomain(ref); err != nil {
		return User{}, err
	}
	return s.getUser(ctx, s.pool, "name", ref.Name)
}

func (s *Service) checkPassword(ctx context.Context, ref UserRef, password string) (User, error) {
	user, err := s.findUser(ctx, ref)
	var hash *string
	if err == nil {
		err = s.pool.QueryRow(ctx, "SELECT password_hash FROM users WHERE id = $1", user.ID).Scan(&hash)
	}
	if err != nil || hash == nil {
		CheckSecret(dummyHash, password) // spend the same time as a real check
		if err != nil && !isNotFound(err) {
			return User{}, err
		}
		return User{}, errAuth
	}
	if !CheckSecret(*hash, password) {
		return User{}, errAuth
	}
	return user, nil
}

func (s *Service) checkAppCred(ctx context.Context, req AuthRequest) (User, AppCred, error) {
	var userID string
	if req.AppCredID != "" {
		if err := s.pool.QueryRow(ctx, "SELECT user_id FROM application_credentials WHERE id = $1", req.AppCredID).Scan(&userID); err != nil {
			CheckSecret(dummyHash, req.AppCredSecret)
			return User{}, AppCred{}, errAuth
		}
	} else {
		u, err := s.findUser(ctx, req.AppCredUser)
		if err != nil {
			return User{}, AppCred{}, err
		}
		userID = u.ID
	}
	creds, err := s.listAppCreds(ctx, s.pool, userID, req.AppCredID, req.AppCredName)
	if err != nil {
		return User{}, AppCred{}, err
	}
	var hash string
	if len(creds) == 1 {
		err = s.pool.QueryRow(ctx, "SELECT secret_hash FROM application_credentials WHERE id = $1", creds[0].ID).Scan(&hash)
	}
	if len(creds) != 1 || err != nil || !CheckSecret(hash, req.AppCredSecret) {
		if hash == "" {
			CheckSecret(dummyHash, req.AppCredSecret)
		}
		return User{}, AppCred{}, errAuth
	}
	ac := creds[0]
	if ac.ExpiresAt != nil && !ac.ExpiresAt.After(s.cfg.Now()) {
		return User{}, AppCred{}, errAuth
	}
	user, err := s.GetUser(ctx, userID)
	return user, ac, err
}

// scopeTo resolves the project and the roles the token will carry. A user
// without a role there gets the same 401 as a wrong password.
func (s *Service) scopeTo(ctx context.Context, user User, ref ProjectRef, appCred *AppCred) (Project, []Role, error) {
	var project Project
	var err error
	switch {
	case ref.ID != "":
		project, err = s.GetProject(ctx, ref.ID)
	case ref.Name != "" && (ref.DomainID != "" || ref.DomainName != ""):
		if err = checkDomain(ref); err == nil {
			project, err = s.getProject(ctx, s.pool, "name", ref.Name)
		}
	default:
		return Project{}, nil, osapi.Errorf(400, "A project scope must name the project by id, or by name with a domain.")
	}
	if err != nil || !project.Enabled {
		return Project{}, nil, errAuth
	}
	roles, err := s.EffectiveRoles(ctx, s.pool, user.ID, project.ID)
	if err != nil {
		return Project{}, nil, err
	}
	if appCred != nil {
		// The credential's roles, as long as the user still holds each of them.
		var granted []Role
		for _, r := range appCred.Roles {
			if !slices.Contains(roles, r) {
				return Project{}, nil, errAuth
			}
			granted = append(granted, r)
		}
		if roles, err = s.expandImplied(ctx, granted); err != nil {
			return Project{}, nil, err
		}
	}
	if len(roles) == 0 {
		return Project{}, nil, osapi.Errorf(401, "User %s has no access to project %s.", user.ID, project.ID)
	}
	return project, roles, nil
}

func (s *Service) expandImplied(ctx context.Context, roles []Role) ([]Role, error) {
	ids := make([]string, len(roles))
	for i, r := range roles {
		ids[i] = r.ID
	}
	rows, _ := s.pool.Query(ctx, `WITH RECURSIVE eff(role_id) AS (
			SELECT unnest($1::text[]) UNION SELECT ir.implied_role_id FROM implied_roles ir JOIN eff ON ir.prior_role_id = eff.role_id)
		SELECT r.id, r.name, r.description FROM roles r JOIN eff ON r.id = eff.role_id ORDER BY r.name`, ids)
	return pgx.CollectRows(rows, scanRole)
}

// wellKnown maps role names to the role bits tokens carry.
func wellKnown(roles []Role) token.Roles {
	var out token.Roles
	for _, r := range roles {
		switch r.Name {
		case "admin":
			out |= token.RoleAdmin
		case "member":
			out |= token.RoleMember
		case "reader":
			out |= token.RoleReader
		case "service":
			out |= token.RoleService
		}
	}
	return out
}

// Validate reports on a subject token as GET /v3/auth/tokens does: its
// user, project, current roles and catalog. A token that no longer passes
// (revoked, expired, user or project gone or disabled) is not found.
func (s *Service) Validate(ctx context.Context, subject string, withCatalog bool) (TokenInfo, error) {
	notFound := osapi.Errorf(404, "The token could not be found or is no longer valid.")
	c, err := s.Verifier.Verify(subject)
	if err != nil {
		return TokenInfo{}, notFound
	}
	info := TokenInfo{Claims: *c}
	if info.User, err = s.GetUser(ctx, c.UserID); err != nil || !info.User.Enabled {
		return TokenInfo{}, notFound
	}
	if c.AppCredID != "" {
		ac, err := s.getAppCred(ctx, s.pool, c.UserID, c.AppCredID)
		if err != nil {
			return TokenInfo{}, notFound
		}
		info.AppCred = &ac
	}
	if c.ProjectID == "" {
		return info, nil
	}
	project, roles, err := s.scopeTo(ctx, info.User, ProjectRef{ID: c.ProjectID}, info.AppCred)
	if err != nil {
		return TokenInfo{}, notFound
	}
	info.Project, info.Roles = &project, roles
	if withCatalog {
		info.Catalog, err = s.Catalog(ctx)
	}
	return info, err
}

// RevokeToken revokes one token (DELETE /v3/auth/tokens), by its audit id
// as Keystone does.
func (s *Service) RevokeToken(ctx context.Context, subject string) error {
	c, err := s.Verifier.Verify(subject)
	if err != nil {
		return osapi.Errorf(404, "The token could not be found or is no longer valid.")
	}
	return s.inTx(ctx, func(tx pgx.Tx, rev *revocations) error {
		return rev.add(ctx, tx, authn.Revocation{AuditID: c.AuditID, IssuedBefore: c.ExpiresAt})
	})
}
