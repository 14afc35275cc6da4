package nova

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/compute"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

func (a *API) serverGroupRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/os-server-groups", osapi.HandlerFunc(a.listServerGroups))
	r.Method(http.MethodPost, "/os-server-groups", osapi.HandlerFunc(a.createServerGroup))
	r.Method(http.MethodGet, "/os-server-groups/{id}", osapi.HandlerFunc(a.getServerGroup))
	r.Method(http.MethodDelete, "/os-server-groups/{id}", osapi.HandlerFunc(a.deleteServerGroup))
}

// serverGroupJSON is a server group as Nova 2.1 shows it: the policy as a
// one-element list, and no project or user (those arrive in 2.13).
func serverGroupJSON(g compute.ServerGroup) map[string]any {
	members := g.Members
	if members == nil {
		members = []string{}
	}
	return map[string]any{
		"id": g.ID, "name": g.Name, "policies": []string{g.Policy}, "members": members, "metadata": map[string]string{},
	}
}

// queryCount reads a non-negative integer query parameter (0 if absent).
func queryCount(r *http.Request, name string) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, osapi.Errorf(http.StatusBadRequest, "%s param must be a non-negative integer, got %q.", name, s)
	}
	return n, nil
}

// listServerGroups pages with limit and offset, as Nova does for server
// groups. all_projects widens the list for admins and is ignored for
// everyone else.
func (a *API) listServerGroups(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryCount(r, "limit")
	if err != nil {
		return err
	}
	offset, err := queryCount(r, "offset")
	if err != nil {
		return err
	}
	if limit == 0 || limit > osapi.MaxPageSize {
		limit = osapi.MaxPageSize
	}
	q := r.URL.Query()
	all := false
	if q.Has("all_projects") {
		b, ok := parseBool(q.Get("all_projects"))
		all = q.Get("all_projects") == "" || ok && b
	}
	groups, err := a.Compute.ListServerGroups(r.Context(), claims(r), all, limit, offset)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(groups))
	for i, g := range groups {
		out[i] = serverGroupJSON(g)
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"server_groups": out})
	return nil
}

func (a *API) getServerGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := a.Compute.GetServerGroup(r.Context(), claims(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"server_group": serverGroupJSON(g)})
	return nil
}

// groupPolicies are the policies Stratus accepts. Nova takes the soft ones
// only from microversion 2.15; Stratus serves 2.1 and accepts them there
// too, a superset no 2.1 client trips over, so the soft policies the
// scheduler implements are usable today.
var groupPolicies = map[string]bool{compute.PolicyAffinity: true, compute.PolicyAntiAffinity: true,
	compute.PolicySoftAffinity: true, compute.PolicySoftAntiAffinity: true}

func (a *API) createServerGroup(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		ServerGroup *struct {
			Name     *string  `json:"name"`
			Policies []string `json:"policies"`
		} `json:"server_group"`
	}
	if err := osapi.DecodeJSON(r, &body, true); err != nil {
		return err
	}
	b := body.ServerGroup
	switch {
	case b == nil:
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute server_group: 'server_group' is a required property.")
	case b.Name == nil:
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute server_group: 'name' is a required property.")
	case len(b.Policies) != 1:
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute policies: exactly one policy is required, got %d.", len(b.Policies))
	case !groupPolicies[b.Policies[0]]:
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute policies. Value: %s. It is not one of [anti-affinity, affinity, soft-anti-affinity, soft-affinity].", b.Policies[0])
	}
	g, err := a.Compute.CreateServerGroup(r.Context(), claims(r), *b.Name, b.Policies[0])
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"server_group": serverGroupJSON(g)})
	return nil
}

func (a *API) deleteServerGroup(w http.ResponseWriter, r *http.Request) error {
	if err := a.Compute.DeleteServerGroup(r.Context(), claims(r), chi.URLParam(r, "id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
