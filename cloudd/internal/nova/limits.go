package nova

import (
	"net/http"

	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
)

// absoluteLimits maps Nova's /limits names onto quota names; a quota may
// appear under several names.
var absoluteLimits = []struct{ limit, used, quota string }{
	{"maxTotalInstances", "totalInstancesUsed", "instances"},
	{"maxTotalCores", "totalCoresUsed", "cores"},
	{"maxTotalRAMSize", "totalRAMUsed", "ram"},
	{"maxServerGroups", "totalServerGroupsUsed", "server_groups"},
	{"maxTotalKeypairs", "", "key_pairs"},
	{"maxServerGroupMembers", "", "server_group_members"},
	{"maxServerMeta", "", "metadata_items"},
	{"maxImageMeta", "", "metadata_items"},
	{"maxPersonality", "", "injected_files"},
	{"maxPersonalitySize", "", "injected_file_content_bytes"},
}

// getLimits is GET /limits: the caller's project's absolute limits and
// usage (an admin may name another project with tenant_id), and no rate
// limits. The nova-network limits of 2.1 read as unlimited and unused.
func (a *API) getLimits(w http.ResponseWriter, r *http.Request) error {
	c := claims(r)
	if err := policy.Authorize(c, policy.Read, "", "limits"); err != nil {
		return err
	}
	project := c.ProjectID
	if t := r.URL.Query().Get("tenant_id"); t != "" && t != project {
		if err := policy.Authorize(c, policy.Admin, "", "other projects' limits"); err != nil {
			return err
		}
		project = t
	}
	quotas, err := a.Compute.ProjectQuotas(r.Context(), c, project)
	if err != nil {
		return err
	}
	abs := map[string]int64{
		"maxSecurityGroups": -1, "maxSecurityGroupRules": -1, "maxTotalFloatingIps": -1,
		"totalSecurityGroupsUsed": 0, "totalFloatingIpsUsed": 0,
	}
	for _, l := range absoluteLimits {
		q := quotas[l.quota]
		abs[l.limit] = q.Limit
		if l.used != "" {
			abs[l.used] = q.InUse
		}
	}
	osapi.WriteJSON(w, http.StatusOK, map[string]any{"limits": map[string]any{"absolute": abs, "rate": []any{}}})
	return nil
}
