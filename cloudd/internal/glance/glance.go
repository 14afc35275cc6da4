// Package glance serves the Glance v2 image API subset of Stratus over
// the image domain: it decodes requests (JSON, JSON patch, query filters,
// raw data streams), calls package image with the caller's token claims,
// and encodes Glance's JSON, so gophercloud, openstacksdk and the
// openstack CLI work unchanged. Errors use the OpenStack JSON fault shape
// ({"itemNotFound": {"code": 404, "message": "..."}}), whose message the
// clients show.
package glance

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/image"
	"github.com/stratus-cloud/stratus/internal/authn"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// API serves Glance v2 at the prefix it is mounted on (/image).
type API struct {
	Images   *image.Service
	Verifier *authn.Verifier
}

// Routes returns the router for /image.
func (a *API) Routes() http.Handler {
	r := osapi.NewRouter(osapi.NovaDialect)
	r.Method(http.MethodGet, "/", osapi.HandlerFunc(a.versions))
	r.Method(http.MethodGet, "/versions", osapi.HandlerFunc(a.versions))
	r.Route("/v2", func(r chi.Router) {
		r.Use(a.Verifier.Require)
		r.Method(http.MethodGet, "/info/import", osapi.HandlerFunc(a.importInfo))
		r.Method(http.MethodGet, "/images", osapi.HandlerFunc(a.listImages))
		r.Method(http.MethodPost, "/images", osapi.HandlerFunc(a.createImage))
		r.Route("/images/{id}", func(r chi.Router) {
			r.Method(http.MethodGet, "/", osapi.HandlerFunc(a.showImage))
			r.Method(http.MethodPatch, "/", osapi.HandlerFunc(a.updateImage))
			r.Method(http.MethodDelete, "/", osapi.HandlerFunc(a.deleteImage))
			r.Method(http.MethodPut, "/file", osapi.HandlerFunc(a.upload))
			r.Method(http.MethodGet, "/file", osapi.HandlerFunc(a.download))
			r.Method(http.MethodPut, "/stage", osapi.HandlerFunc(a.stage))
			r.Method(http.MethodPost, "/import", osapi.HandlerFunc(a.importImage))
			r.Method(http.MethodPut, "/tags/{tag}", osapi.HandlerFunc(a.addTag))
			r.Method(http.MethodDelete, "/tags/{tag}", osapi.HandlerFunc(a.removeTag))
			r.Method(http.MethodPost, "/actions/deactivate", osapi.HandlerFunc(a.deactivate))
			r.Method(http.MethodPost, "/actions/reactivate", osapi.HandlerFunc(a.reactivate))
			a.memberRoutes(r)
		})
	})
	return r
}

// claims returns the verified claims of the request.
func claims(r *http.Request) *token.Claims { return policy.ClaimsFrom(r.Context()) }

// id is the image id in the path.
func id(r *http.Request) string { return chi.URLParam(r, "id") }

// timeFormat is how Glance writes times.
const timeFormat = "2006-01-02T15:04:05Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}
