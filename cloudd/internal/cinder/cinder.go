// Package cinder serves the Cinder v3 API subset of Stratus over package
// volume: volumes, volume types with extra specs, snapshots, quotas and
// limits, in Cinder's URL scheme (/volume/v3/{project_id}/...) and JSON,
// with Cinder's fault bodies, so gophercloud and the openstack CLI work
// unchanged.
package cinder

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/volume"
	"github.com/stratus-cloud/stratus/internal/authn"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// API serves Cinder v3 at the prefix it is mounted on (/volume).
type API struct {
	Volumes  *volume.Service
	Verifier *authn.Verifier
}

// The microversions served: 3.0 only. Clients pick the highest advertised.
const (
	minMicroversion = "3.0"
	maxMicroversion = "3.0"
	versionHeader   = "OpenStack-API-Version"
)

// Routes returns the router for /volume.
func (a *API) Routes() http.Handler {
	r := osapi.NewRouter(osapi.NovaDialect) // Cinder's faults have Nova's shape
	r.Method(http.MethodGet, "/", osapi.HandlerFunc(versions))
	r.Route("/v3", func(r chi.Router) {
		r.Method(http.MethodGet, "/", osapi.HandlerFunc(version))
		r.Route("/{project_id}", func(r chi.Router) {
			r.Use(a.Verifier.Require, negotiate)
			a.volumeRoutes(r)
			a.typeRoutes(r)
			a.snapshotRoutes(r)
			a.quotaRoutes(r)
		})
	})
	return r
}

func claims(r *http.Request) *token.Claims { return policy.ClaimsFrom(r.Context()) }

func versionDoc(r *http.Request) map[string]any {
	return map[string]any{
		"id": "v3.0", "status": "CURRENT", "version": maxMicroversion, "min_version": minMicroversion,
		"updated": "2026-11-26T00:00:00Z",
		"links":   []osapi.Link{{Rel: "self", Href: osapi.BaseURL(r) + "/volume/v3/"}},
		"media-types": []map[string]string{{"base": "application/json",
			"type": "application/vnd.openstack.volume+json;version=3"}},
	}
}

// versions is GET /volume: Cinder answers 300 with the versions it has.
func versions(w http.ResponseWriter, r *http.Request) error {
	osapi.WriteJSON(w, http.StatusMultipleChoices, map[string]any{"versions": []any{versionDoc(r)}})
	return nil
}

// version is GET /volume/v3/.
func version(w http.ResponseWriter, r *http.Request) error {
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"versions": []any{versionDoc(r)}})
	return nil
}

// negotiate accepts "OpenStack-API-Version: volume 3.0" (or none, or
// "latest") and names the version served on every response; anything else
// is Cinder's 404 for an unsupported version.
func negotiate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(versionHeader, "volume "+maxMicroversion)
		w.Header().Add("Vary", versionHeader)
		if h := r.Header.Get(versionHeader); h != "" {
			service, v, _ := strings.Cut(strings.TrimSpace(h), " ")
			if strings.EqualFold(service, "volume") && v != "latest" && v != minMicroversion {
				osapi.WriteError(w, r, osapi.Errorf(http.StatusNotFound,
					"Version %s is not supported by the API. Minimum is %s and maximum is %s.", v, minMicroversion, maxMicroversion))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// isoTime is Cinder's timestamp format.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

// truthy reads a boolean query or body string as Cinder does.
func truthy(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, true
	case "0", "f", "false", "off", "n", "no":
		return false, true
	}
	return false, false
}

func allTenants(r *http.Request) bool {
	v, ok := truthy(r.URL.Query().Get("all_tenants"))
	return ok && v
}

// checkListOrder refuses what listings do not do, rather than ignoring it:
// they are ordered newest first (sort=created_at:desc) and paged with
// limit and marker only.
func checkListOrder(r *http.Request) error {
	q := r.URL.Query()
	sort := q.Get("sort")
	if k := q.Get("sort_key"); k != "" {
		sort = k + ":" + q.Get("sort_dir")
	}
	switch strings.TrimSuffix(sort, ":") {
	case "", "created_at", "created_at:desc":
	default:
		return osapi.Errorf(http.StatusBadRequest, "Invalid input received: sorting by %q is not supported; listings are newest first (created_at:desc).", sort)
	}
	if o := q.Get("offset"); o != "" && o != "0" {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input received: offset is not supported; page with limit and marker.")
	}
	return nil
}
