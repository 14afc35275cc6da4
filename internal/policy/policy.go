// Package policy decides what a token may do, the same way in every Stratus
// service: admin acts on everything; member acts inside its own project;
// reader only reads inside its own project. Other projects' resources are
// reported as missing rather than forbidden, as Nova and Cinder do, so a
// token cannot probe which ids exist elsewhere.
package policy

import (
	"context"
	"fmt"

	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Action is the kind of access asked for.
type Action int

// Actions, from least to most privileged.
const (
	Read Action = iota
	Write
	Admin
)

type ctxKey struct{}

// WithClaims stores the verified token claims of a request.
func WithClaims(ctx context.Context, c *token.Claims) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// ClaimsFrom returns the request's verified claims, or nil.
func ClaimsFrom(ctx context.Context) *token.Claims {
	c, _ := ctx.Value(ctxKey{}).(*token.Claims)
	return c
}

// IsAdmin reports whether c holds the admin role.
func IsAdmin(c *token.Claims) bool { return c != nil && c.Roles.Has(token.RoleAdmin) }

// Authorize decides whether c may perform action on a resource owned by
// project (empty for cloud-wide resources such as flavors or roles).
// It returns nil, or an error wrapping osapi.ErrNotFound (the resource
// belongs to a project c cannot see) or osapi.ErrForbidden.
func Authorize(c *token.Claims, action Action, project, what string) error {
	if c == nil {
		return osapi.ErrUnauthorized
	}
	if IsAdmin(c) {
		return nil
	}
	if action == Admin {
		return fmt.Errorf("policy does not allow %s to be managed by non-admin users: %w", what, osapi.ErrForbidden)
	}
	if project != "" && project != c.ProjectID {
		return fmt.Errorf("%s could not be found: %w", what, osapi.ErrNotFound)
	}
	need := token.RoleReader
	if action == Write {
		need = token.RoleMember
	}
	if c.ProjectID == "" || !c.Roles.Has(need) {
		return fmt.Errorf("policy does not allow this action on %s with the roles of this token: %w", what, osapi.ErrForbidden)
	}
	return nil
}

// ProjectFilter is the project a listing must be limited to: "" (all) for
// admins, else the token's own project.
func ProjectFilter(c *token.Claims) string {
	if IsAdmin(c) {
		return ""
	}
	return c.ProjectID
}
