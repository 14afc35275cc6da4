// Package nova serves the Nova v2.1 API subset of Stratus over package
// compute: it decodes requests, negotiates microversions, applies policy,
// and encodes Nova's JSON and faults, so gophercloud, the openstack CLI and
// terraform-provider-openstack work unchanged.
package nova

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/compute"
	"github.com/stratus-cloud/stratus/cloudd/internal/volume"
	"github.com/stratus-cloud/stratus/internal/authn"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

// API serves Nova v2.1 at the prefix it is mounted on (/compute).
type API struct {
	Compute  *compute.Service
	Volumes  *volume.Service // nil: no block storage (os-volume_attachments answers 404)
	Verifier *authn.Verifier
}

// Routes returns the router for /compute.
func (a *API) Routes() http.Handler {
	r := osapi.NewRouter(osapi.NovaDialect)
	r.Method(http.MethodGet, "/", osapi.HandlerFunc(versions))
	r.Route("/v2.1", func(r chi.Router) {
		r.Method(http.MethodGet, "/", osapi.HandlerFunc(version))
		r.Group(func(r chi.Router) {
			r.Use(a.Verifier.Require, negotiateMicroversion)
			a.flavorRoutes(r)
			a.keypairRoutes(r)
			a.serverGroupRoutes(r)
			a.quotaRoutes(r)
			a.serverRoutes(r)
			a.interfaceRoutes(r)
			a.securityGroupRoutes(r)
			a.hostRoutes(r)
			a.volumeAttachmentRoutes(r)
		})
	})
	return r
}
