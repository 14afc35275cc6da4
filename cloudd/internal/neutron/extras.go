package neutron

import (
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

// extensions are the Neutron API extensions Stratus implements; clients
// probe this list before using an attribute or call.
var extensions = []struct{ alias, name, description string }{
	{"binding", "Port Binding", "Expose port bindings of a virtual port to external application"},
	{"external-net", "Neutron external network", "Adds external network attribute to network resource."},
	{"ext-gw-mode", "Neutron L3 Configurable external gateway mode", "Extension of the router abstraction for specifying whether SNAT should occur on the external gateway"},
	{"net-mtu", "Network MTU", "Provides MTU attribute for a network resource."},
	{"pagination", "Pagination support", "Extension that indicates that pagination is enabled."},
	{"port-security", "Port Security", "Provides port security"},
	{"project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled."},
	{"quotas", "Quota management support", "Expose functions for quotas management per tenant"},
	{"quota_details", "Quota details management support", "Expose functions for quotas usage statistics per project"},
	{"revision-if-match", "If-Match constraints based on revision_number", "Extension indicating that If-Match based on revision_number is supported."},
	{"router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway."},
	{"security-group", "security-group", "The security groups extension."},
	{"sorting", "Sorting support", "Extension that indicates that sorting is enabled."},
	{"standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard attributes"},
	{"standard-attr-revisions", "Resource revision numbers", "This extension will display the revision number of neutron resources."},
	{"standard-attr-tag", "Tag support for resources with standard attribute: subnet, network, port, security_group, router, floatingip", "Enables to set tag on resources with standard attribute."},
	{"standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes."},
}

func extensionJSON(i int) map[string]any {
	e := extensions[i]
	return map[string]any{"alias": e.alias, "name": e.name, "description": e.description,
		"updated": "2013-01-20T00:00:00-00:00", "links": []any{}}
}

func listExtensions(w http.ResponseWriter, r *http.Request) error {
	out := make([]map[string]any, len(extensions))
	for i := range extensions {
		out[i] = extensionJSON(i)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"extensions": out})
	return nil
}

func showExtension(w http.ResponseWriter, r *http.Request) error {
	alias := chi.URLParam(r, "alias")
	for i, e := range extensions {
		if e.alias == alias {
			osapi.WriteJSON(w, http.StatusOK, map[string]any{"extension": extensionJSON(i)})
			return nil
		}
	}
	return &osapi.Error{Status: http.StatusNotFound, Kind: "ExtensionNotFound", Message: "Extension with alias " + alias + " does not exist"}
}

func (a *API) quotaRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/quotas", osapi.HandlerFunc(a.listQuotas))
	r.Method(http.MethodGet, "/quotas/{project}", osapi.HandlerFunc(a.showQuota(false)))
	r.Method(http.MethodGet, "/quotas/{project}/details", osapi.HandlerFunc(a.showQuota(true)))
	r.Method(http.MethodGet, "/quotas/{project}/details.json", osapi.HandlerFunc(a.showQuota(true))) // gophercloud's spelling
	r.Method(http.MethodGet, "/quotas/{project}/default", osapi.HandlerFunc(a.defaultQuota))
	r.Method(http.MethodPut, "/quotas/{project}", osapi.HandlerFunc(a.setQuota))
	r.Method(http.MethodDelete, "/quotas/{project}", osapi.HandlerFunc(a.resetQuota))
}

func limitsOnly(d map[string]network.QuotaDetail) map[string]int64 {
	out := make(map[string]int64, len(d))
	for k, v := range d {
		out[k] = v.Limit
	}
	return out
}

func (a *API) listQuotas(w http.ResponseWriter, r *http.Request) error {
	projects, err := a.Network.QuotaProjects(r.Context(), claims(r))
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, p := range projects {
		d, err := a.Network.ProjectQuotas(r.Context(), claims(r), p)
		if err != nil {
			return err
		}
		q := map[string]any{"project_id": p, "tenant_id": p}
		for k, v := range limitsOnly(d) {
			q[k] = v
		}
		out = append(out, q)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"quotas": out})
	return nil
}

func (a *API) showQuota(details bool) osapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		d, err := a.Network.ProjectQuotas(r.Context(), claims(r), chi.URLParam(r, "project"))
		if err != nil {
			return err
		}
		if details {
			osapi.WriteJSON(w, http.StatusOK, map[string]any{"quota": d})
		} else {
			osapi.WriteJSON(w, http.StatusOK, map[string]any{"quota": limitsOnly(d)})
		}
		return nil
	}
}

func (a *API) defaultQuota(w http.ResponseWriter, r *http.Request) error {
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"quota": network.QuotaDefaults})
	return nil
}

func (a *API) setQuota(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Quota map[string]flexInt `json:"quota"`
	}
	if err := osapi.DecodeJSON(r, &b, false); err != nil {
		return err
	}
	limits := map[string]int64{}
	for k, v := range b.Quota {
		if v.v != nil {
			limits[k] = int64(*v.v)
		}
	}
	project := chi.URLParam(r, "project")
	if err := a.Network.SetQuotas(r.Context(), claims(r), project, limits); err != nil {
		return err
	}
	return a.showQuota(false)(w, r)
}

func (a *API) resetQuota(w http.ResponseWriter, r *http.Request) error {
	if err := a.Network.ResetQuotas(r.Context(), claims(r), chi.URLParam(r, "project")); err != nil {
		return err
	}
	return noContent(w)
}

// tagCollections are the resources that take tags.
var tagCollections = map[string]bool{"networks": true, "subnets": true, "ports": true, "security-groups": true, "routers": true, "floatingips": true}

func (a *API) tagRoutes(r chi.Router, collection string) {
	base := "/" + collection + "/{id}/tags"
	r.Method(http.MethodGet, base, osapi.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		tags, err := a.Network.Tags(r.Context(), claims(r), collection, id(r))
		if err != nil {
			return err
		}
		osapi.WriteJSON(w, http.StatusOK, map[string]any{"tags": tags})
		return nil
	}))
	r.Method(http.MethodPut, base, osapi.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		var b struct {
			Tags []string `json:"tags"`
		}
		if err := osapi.DecodeJSON(r, &b, false); err != nil {
			return err
		}
		tags, err := a.Network.ChangeTags(r.Context(), claims(r), collection, id(r), b.Tags, nil, true)
		if err != nil {
			return err
		}
		osapi.WriteJSON(w, http.StatusOK, map[string]any{"tags": tags})
		return nil
	}))
	r.Method(http.MethodDelete, base, osapi.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if _, err := a.Network.ChangeTags(r.Context(), claims(r), collection, id(r), nil, nil, true); err != nil {
			return err
		}
		return noContent(w)
	}))
	r.Method(http.MethodGet, base+"/{tag}", osapi.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		tags, err := a.Network.Tags(r.Context(), claims(r), collection, id(r))
		if err != nil {
			return err
		}
		if !slices.Contains(tags, chi.URLParam(r, "tag")) {
			return &osapi.Error{Status: http.StatusNotFound, Kind: "TagNotFound", Message: "Tag " + chi.URLParam(r, "tag") + " could not be found."}
		}
		return noContent(w)
	}))
	r.Method(http.MethodPut, base+"/{tag}", osapi.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if _, err := a.Network.ChangeTags(r.Context(), claims(r), collection, id(r), []string{chi.URLParam(r, "tag")}, nil, false); err != nil {
			return err
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	}))
	r.Method(http.MethodDelete, base+"/{tag}", osapi.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if _, err := a.Network.ChangeTags(r.Context(), claims(r), collection, id(r), nil, []string{chi.URLParam(r, "tag")}, false); err != nil {
			return err
		}
		return noContent(w)
	}))
}
