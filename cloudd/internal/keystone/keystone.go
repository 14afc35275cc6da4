// Package keystone serves the Keystone v3 API subset of Stratus over the
// identity domain: it decodes requests, applies policy, calls package
// identity and encodes Keystone's JSON, so gophercloud, keystoneauth and
// the openstack CLI work unchanged.
package keystone

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/identity"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// APIVersion is the Keystone v3 minor version we report.
const APIVersion = "v3.14"

// API serves Keystone v3 at the prefix it is mounted on.
type API struct {
	ID *identity.Service
}

// Routes returns the router for /identity.
func (a *API) Routes() http.Handler {
	r := osapi.NewRouter(osapi.KeystoneDialect)
	r.Method(http.MethodGet, "/", osapi.HandlerFunc(a.versions))
	r.Route("/v3", func(r chi.Router) {
		r.Method(http.MethodGet, "/", osapi.HandlerFunc(a.version))
		r.Method(http.MethodPost, "/auth/tokens", osapi.HandlerFunc(a.issueToken))
		r.Group(func(r chi.Router) {
			r.Use(a.ID.Verifier.Require)
			a.authRoutes(r)
			a.projectRoutes(r)
			a.userRoutes(r)
			a.roleRoutes(r)
			a.catalogRoutes(r)
		})
	})
	return r
}

func (a *API) authRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/auth/tokens", osapi.HandlerFunc(a.validateToken))
	r.Method(http.MethodHead, "/auth/tokens", osapi.HandlerFunc(a.validateToken))
	r.Method(http.MethodDelete, "/auth/tokens", osapi.HandlerFunc(a.revokeToken))
	r.Method(http.MethodGet, "/auth/catalog", osapi.HandlerFunc(a.authCatalog))
	r.Method(http.MethodGet, "/auth/projects", osapi.HandlerFunc(a.authProjects))
	r.Method(http.MethodGet, "/auth/domains", osapi.HandlerFunc(a.listDomains))
	r.Method(http.MethodGet, "/OS-REVOKE/events", osapi.HandlerFunc(a.revocationEvents))
	r.Method(http.MethodGet, "/OS-STRATUS/token-keys", osapi.HandlerFunc(a.tokenKeys))
}

// claims returns the verified claims of the request.
func claims(r *http.Request) *token.Claims { return policy.ClaimsFrom(r.Context()) }

// requireAdmin is the policy of every identity write.
func requireAdmin(r *http.Request, what string) error {
	return policy.Authorize(claims(r), policy.Admin, "", what)
}

// selfOrAdmin allows the user userID, or an admin.
func selfOrAdmin(r *http.Request, userID, what string) error {
	if c := claims(r); c != nil && c.UserID == userID {
		return nil
	}
	return requireAdmin(r, what)
}

// links is Keystone's collection "links" object.
func links(r *http.Request) map[string]any {
	return map[string]any{"self": osapi.BaseURL(r) + r.URL.RequestURI(), "previous": nil, "next": nil}
}

// selfLink is the "links" of one resource.
func selfLink(r *http.Request, path string) map[string]string {
	return map[string]string{"self": osapi.BaseURL(r) + "/identity/v3/" + path}
}

// timeFormat is how Keystone writes times.
const timeFormat = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// parseTime accepts the ISO 8601 forms Keystone clients send.
func parseTime(field, s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, osapi.Errorf(http.StatusBadRequest, "Invalid input for field '%s': %q is not an ISO 8601 date-time.", field, s)
}

// queryFlag reads a Keystone flag parameter: present and empty ("?effective")
// or truthy is true.
func queryFlag(r *http.Request, name string) bool {
	q := r.URL.Query()
	if !q.Has(name) {
		return false
	}
	b := boolFilter(r, name)
	return b == nil || *b
}

// boolFilter reads a Keystone boolean query filter ("true", "1", ...).
func boolFilter(r *http.Request, name string) *bool {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil
	}
	b := v != "0" && !strings.EqualFold(v, "false") && !strings.EqualFold(v, "no")
	return &b
}

func domainRef() map[string]string {
	return map[string]string{"id": identity.DefaultDomainID, "name": identity.DefaultDomainName}
}
