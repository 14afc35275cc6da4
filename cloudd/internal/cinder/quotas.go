package cinder

import (
	"encoding/json"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/volume"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

func (a *API) quotaRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/os-quota-sets/{project}", osapi.HandlerFunc(a.getQuotas))
	r.Method(http.MethodGet, "/os-quota-sets/{project}/defaults", osapi.HandlerFunc(a.quotaDefaults))
	r.Method(http.MethodPut, "/os-quota-sets/{project}", osapi.HandlerFunc(a.setQuotas))
	r.Method(http.MethodDelete, "/os-quota-sets/{project}", osapi.HandlerFunc(a.resetQuotas))
	r.Method(http.MethodGet, "/limits", osapi.HandlerFunc(a.getLimits))
}

func quotaJSON(project string, q map[string]volume.QuotaUsage, usage bool) map[string]any {
	out := map[string]any{"id": project}
	for r, u := range q {
		if usage {
			out[r] = map[string]int64{"limit": u.Limit, "in_use": u.InUse, "reserved": 0, "allocated": 0}
		} else {
			out[r] = u.Limit
		}
	}
	return out
}

func (a *API) getQuotas(w http.ResponseWriter, r *http.Request) error {
	project := chi.URLParam(r, "project")
	q, err := a.Volumes.QuotaSet(r.Context(), claims(r), project)
	if err != nil {
		return err
	}
	usage, _ := truthy(r.URL.Query().Get("usage"))
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"quota_set": quotaJSON(project, q, usage)})
	return nil
}

func (a *API) quotaDefaults(w http.ResponseWriter, r *http.Request) error {
	defaults, err := a.Volumes.QuotaDefaultSet(r.Context(), claims(r))
	if err != nil {
		return err
	}
	q := map[string]volume.QuotaUsage{}
	for res, l := range defaults {
		q[res] = volume.QuotaUsage{Limit: l}
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"quota_set": quotaJSON(chi.URLParam(r, "project"), q, false)})
	return nil
}

func (a *API) setQuotas(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		QuotaSet map[string]json.RawMessage `json:"quota_set"`
	}
	if err := osapi.DecodeJSON(r, &body, false); err != nil {
		return err
	}
	if body.QuotaSet == nil {
		return osapi.Errorf(http.StatusBadRequest, "Missing required element 'quota_set' in request body.")
	}
	limits := map[string]int64{}
	for k, raw := range body.QuotaSet {
		if k == "id" || k == "tenant_id" {
			continue
		}
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil {
			return osapi.Errorf(http.StatusBadRequest, "Invalid input for field/attribute %s: an integer is required.", k)
		}
		limits[k] = n
	}
	project := chi.URLParam(r, "project")
	if err := a.Volumes.SetQuotas(r.Context(), claims(r), project, limits); err != nil {
		return err
	}
	q, err := a.Volumes.QuotaSet(r.Context(), claims(r), project)
	if err != nil {
		return err
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"quota_set": quotaJSON(project, q, false)})
	return nil
}

func (a *API) resetQuotas(w http.ResponseWriter, r *http.Request) error {
	if err := a.Volumes.ResetQuotas(r.Context(), claims(r), chi.URLParam(r, "project")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// getLimits is GET /limits: the project's absolute limits and usage.
func (a *API) getLimits(w http.ResponseWriter, r *http.Request) error {
	c := claims(r)
	q, err := a.Volumes.QuotaSet(r.Context(), c, c.ProjectID)
	if err != nil {
		return err
	}
	abs := map[string]int64{
		"maxTotalVolumes": q["volumes"].Limit, "totalVolumesUsed": q["volumes"].InUse,
		"maxTotalSnapshots": q["snapshots"].Limit, "totalSnapshotsUsed": q["snapshots"].InUse,
		"maxTotalVolumeGigabytes": q["gigabytes"].Limit, "totalGigabytesUsed": q["gigabytes"].InUse,
		"maxTotalBackups": q["backups"].Limit, "totalBackupsUsed": 0,
		"maxTotalBackupGigabytes": q["backup_gigabytes"].Limit, "totalBackupGigabytesUsed": 0,
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"limits": map[string]any{"rate": []any{}, "absolute": abs}})
	return nil
}
