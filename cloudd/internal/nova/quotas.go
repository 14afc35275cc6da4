package nova

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/compute"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
)

// quotaRoutes serves os-quota-sets and, since limits are quotas seen from
// the caller's side, /limits.
func (a *API) quotaRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/os-quota-sets/{project}", osapi.HandlerFunc(a.getQuotas))
	r.Method(http.MethodPut, "/os-quota-sets/{project}", osapi.HandlerFunc(a.updateQuotas))
	r.Method(http.MethodDelete, "/os-quota-sets/{project}", osapi.HandlerFunc(a.deleteQuotas))
	r.Method(http.MethodGet, "/os-quota-sets/{project}/detail", osapi.HandlerFunc(a.getQuotaDetail))
	r.Method(http.MethodGet, "/os-quota-sets/{project}/defaults", osapi.HandlerFunc(a.getQuotaDefaults))
	r.Method(http.MethodGet, "/limits", osapi.HandlerFunc(a.getLimits))
}

// networkQuotas are the nova-network quotas that Nova before 2.36 still
// lists. Neutron enforces them, so they read as unlimited here.
var networkQuotas = []string{"fixed_ips", "floating_ips", "security_group_rules", "security_groups"}

// noPerUserQuotas refuses ?user_id=: Nova's per-user quotas do not exist
// here, and answering with the project's would mislead.
func noPerUserQuotas(r *http.Request) error {
	if r.URL.Query().Has("user_id") {
		return osapi.Errorf(http.StatusNotImplemented, "Per-user quotas are not supported; quotas apply to the whole project.")
	}
	return nil
}

// quotaSetJSON is Nova's quota_set: value(name, limit, in use) for every
// compute quota plus the network ones, and the project id when id is set.
func quotaSetJSON(id string, quotas map[string]compute.QuotaUsage, value func(compute.QuotaUsage) any) map[string]any {
	set := map[string]any{}
	if id != "" {
		set["id"] = id
	}
	for name, q := range quotas {
		set[name] = value(q)
	}
	for _, name := range networkQuotas {
		set[name] = value(compute.QuotaUsage{Limit: -1})
	}
	return map[string]any{"quota_set": set}
}

func limitOnly(q compute.QuotaUsage) any { return q.Limit }

func withUsage(q compute.QuotaUsage) any {
	return map[string]int64{"limit": q.Limit, "in_use": q.InUse, "reserved": 0}
}

func (a *API) projectQuotas(r *http.Request) (map[string]compute.QuotaUsage, error) {
	if err := noPerUserQuotas(r); err != nil {
		return nil, err
	}
	return a.Compute.ProjectQuotas(r.Context(), claims(r), chi.URLParam(r, "project"))
}

func (a *API) getQuotas(w http.ResponseWriter, r *http.Request) error {
	quotas, err := a.projectQuotas(r)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, quotaSetJSON(chi.URLParam(r, "project"), quotas, limitOnly))
	return nil
}

func (a *API) getQuotaDetail(w http.ResponseWriter, r *http.Request) error {
	quotas, err := a.projectQuotas(r)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, quotaSetJSON(chi.URLParam(r, "project"), quotas, withUsage))
	return nil
}

func (a *API) getQuotaDefaults(w http.ResponseWriter, r *http.Request) error {
	if err := policy.Authorize(claims(r), policy.Read, "", "quotas"); err != nil {
		return err
	}
	defaults := map[string]compute.QuotaUsage{}
	for name, limit := range a.Compute.Quotas.Defaults {
		defaults[name] = compute.QuotaUsage{Limit: limit}
	}
	osapi.WriteJSON(w, http.StatusOK, quotaSetJSON(chi.URLParam(r, "project"), defaults, limitOnly))
	return nil
}

// updateQuotas takes {"quota_set": {name: limit, ..., "force": bool}}.
// Limits may be integers or strings of digits; null leaves a quota alone.
func (a *API) updateQuotas(w http.ResponseWriter, r *http.Request) error {
	if err := policy.Authorize(claims(r), policy.Admin, "", "quotas"); err != nil {
		return err
	}
	if err := noPerUserQuotas(r); err != nil {
		return err
	}
	var body struct {
		QuotaSet map[string]json.RawMessage `json:"quota_set"`
	}
	if err := osapi.DecodeJSON(r, &body, true); err != nil {
		return err
	}
	if body.QuotaSet == nil {
		return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute quota_set: 'quota_set' is a required property.")
	}
	limits, force, err := decodeQuotaSet(body.QuotaSet)
	if err != nil {
		return err
	}
	project := chi.URLParam(r, "project")
	if err := a.Compute.SetQuotas(r.Context(), claims(r), project, limits, force); err != nil {
		return err
	}
	quotas, err := a.Compute.ProjectQuotas(r.Context(), claims(r), project)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, quotaSetJSON("", quotas, limitOnly))
	return nil
}

func decodeQuotaSet(raw map[string]json.RawMessage) (limits map[string]int64, force bool, err error) {
	limits = map[string]int64{}
	for name, v := range raw {
		if string(v) == "null" {
			continue
		}
		if name == "force" {
			var ok bool
			if force, ok = decodeBool(v); !ok {
				return nil, false, osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute force: %s is not a boolean.", v)
			}
			continue
		}
		var n jsonInt
		if err := json.Unmarshal(v, &n); err != nil {
			return nil, false, osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute %s: %s is not an integer.", name, v)
		}
		if slices.Contains(networkQuotas, name) {
			if n != -1 {
				return nil, false, osapi.Errorf(http.StatusBadRequest, "Quota %s is managed by the network service; only -1 is accepted here.", name)
			}
			continue
		}
		limits[name] = int64(n)
	}
	return limits, force, nil
}

// decodeBool reads a JSON boolean, or a string oslo reads as one ("True").
func decodeBool(v json.RawMessage) (value, ok bool) {
	if json.Unmarshal(v, &value) == nil {
		return value, true
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return false, false
	}
	return parseBool(s)
}

func (a *API) deleteQuotas(w http.ResponseWriter, r *http.Request) error {
	if err := noPerUserQuotas(r); err != nil {
		return err
	}
	if err := a.Compute.ResetQuotas(r.Context(), claims(r), chi.URLParam(r, "project")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
