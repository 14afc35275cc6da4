package nova_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
)

// novaDefaults is quotasets.QuotaSet with Nova's defaults and the
// nova-network quotas that Neutron owns reading as unlimited.
var novaDefaults = quotasets.QuotaSet{
	Instances: 10, Cores: 20, RAM: 51200, KeyPairs: 100, ServerGroups: 10, ServerGroupMembers: 10, MetadataItems: 128,
	InjectedFiles: 5, InjectedFileContentBytes: 10240, InjectedFilePathBytes: 255,
	FixedIPs: -1, FloatingIPs: -1, SecurityGroups: -1, SecurityGroupRules: -1,
}

func TestQuotaSets(t *testing.T) {
	cloud, admin := adminCompute(t)
	blue, blueProject := memberCompute(t, cloud, "blue")
	_, redProject := memberCompute(t, cloud, "red")

	want := novaDefaults
	want.ID = blueProject
	if got, err := quotasets.Get(novaCtx, blue, blueProject).Extract(); err != nil || *got != want {
		t.Errorf("blue's quotas before any change = %+v, %v; want %+v", got, err, want)
	}
	resp, data := rawRequest(t, blue, http.MethodGet, "os-quota-sets/"+blueProject+"/defaults", nil, nil)
	var defaults struct {
		QuotaSet quotasets.QuotaSet `json:"quota_set"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &defaults) != nil || defaults.QuotaSet != want {
		t.Errorf("defaults: %d %s", resp.StatusCode, data)
	}

	updated, err := quotasets.Update(novaCtx, admin, blueProject, quotasets.UpdateOpts{
		Instances: gophercloud.IntToPointer(3), Cores: gophercloud.IntToPointer(7), RAM: gophercloud.IntToPointer(-1),
	}).Extract()
	must(t, err)
	if updated.ID != "" || updated.Instances != 3 || updated.Cores != 7 || updated.RAM != -1 || updated.KeyPairs != 100 {
		t.Errorf("update response = %+v (Nova leaves out the id)", updated)
	}
	if got, _ := quotasets.Get(novaCtx, blue, blueProject).Extract(); got.Instances != 3 || got.Cores != 7 || got.RAM != -1 {
		t.Errorf("blue's quotas after update = %+v", got)
	}
	if got, _ := quotasets.Get(novaCtx, admin, redProject).Extract(); got.Instances != 10 {
		t.Errorf("red's quotas changed with blue's: %+v", got)
	}

	// Usage counts live servers, their vCPUs and RAM, and server groups.
	insertServer(t, cloud, blueProject, "", 2, 512, false)
	insertServer(t, cloud, blueProject, "", 4, 1024, false)
	insertServer(t, cloud, blueProject, "", 8, 8192, true)
	_, err = servergroups.Create(novaCtx, blue, servergroups.CreateOpts{Name: "g", Policies: []string{"affinity"}}).Extract()
	must(t, err)
	detail, err := quotasets.GetDetail(novaCtx, blue, blueProject).Extract()
	must(t, err)
	for name, got := range map[string]quotasets.QuotaDetail{
		"instances": detail.Instances, "cores": detail.Cores, "ram": detail.RAM, "server_groups": detail.ServerGroups, "key_pairs": detail.KeyPairs,
	} {
		want := map[string]quotasets.QuotaDetail{
			"instances": {InUse: 2, Limit: 3}, "cores": {InUse: 6, Limit: 7}, "ram": {InUse: 1536, Limit: -1},
			"server_groups": {InUse: 1, Limit: 10}, "key_pairs": {InUse: 0, Limit: 100},
		}[name]
		if got != want {
			t.Errorf("detail %s = %+v, want %+v", name, got, want)
		}
	}
	if detail.ID != blueProject || detail.FloatingIPs.Limit != -1 {
		t.Errorf("detail id %q, floating_ips %+v", detail.ID, detail.FloatingIPs)
	}

	// A limit below usage needs force, as in Nova.
	_, err = quotasets.Update(novaCtx, admin, blueProject, quotasets.UpdateOpts{Instances: gophercloud.IntToPointer(1)}).Extract()
	wantCode(t, err, http.StatusBadRequest, "instances below usage")
	_, err = quotasets.Update(novaCtx, admin, blueProject, quotasets.UpdateOpts{Instances: gophercloud.IntToPointer(1), Force: true}).Extract()
	must(t, err)

	for name, body := range map[string]map[string]any{
		"unknown quota":            {"volumes": 5},
		"below unlimited":          {"instances": -2},
		"not a number":             {"cores": "many"},
		"fractional":               {"cores": 1.5},
		"neutron's quota":          {"floating_ips": 5},
		"force that is no boolean": {"instances": 5, "force": "perhaps"},
	} {
		resp, data := rawRequest(t, admin, http.MethodPut, "os-quota-sets/"+blueProject, map[string]any{"quota_set": body}, nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, resp.StatusCode, data)
		}
	}
	if resp, data := rawRequest(t, admin, http.MethodPut, "os-quota-sets/"+blueProject, map[string]any{"quota_set": map[string]any{"key_pairs": "50", "floating_ips": -1}}, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("a limit as a string, and -1 for a network quota: %d %s", resp.StatusCode, data)
	}
	if resp, data := rawRequest(t, admin, http.MethodGet, "os-quota-sets/"+blueProject+"?user_id=someone", nil, nil); resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("per-user quotas: %d %s, want 501", resp.StatusCode, data)
	}

	// Policy: members read their own project's quotas only and change none.
	_, err = quotasets.Update(novaCtx, blue, blueProject, quotasets.UpdateOpts{Instances: gophercloud.IntToPointer(50)}).Extract()
	wantCode(t, err, http.StatusForbidden, "member raising its own quota")
	_, err = quotasets.Get(novaCtx, blue, redProject).Extract()
	wantCode(t, err, http.StatusForbidden, "member reading another project's quotas")
	wantCode(t, quotasets.Delete(novaCtx, blue, blueProject).Err, http.StatusForbidden, "member resetting its quotas")

	// Delete returns the project to the defaults.
	must(t, quotasets.Delete(novaCtx, admin, blueProject).Err)
	if got, _ := quotasets.Get(novaCtx, blue, blueProject).Extract(); *got != want {
		t.Errorf("quotas after delete = %+v, want the defaults", got)
	}
}

func TestOverQuotaRendering(t *testing.T) {
	cloud, admin := adminCompute(t)
	blue, blueProject := memberCompute(t, cloud, "blue")
	_, err := quotasets.Update(novaCtx, admin, blueProject, quotasets.UpdateOpts{KeyPairs: gophercloud.IntToPointer(2), ServerGroups: gophercloud.IntToPointer(1)}).Extract()
	must(t, err)

	for i := range 2 {
		pub, _ := ed25519Key(t)
		_, err := keypairs.Create(novaCtx, blue, keypairs.CreateOpts{Name: fmt.Sprintf("key%d", i), PublicKey: pub}).Extract()
		must(t, err)
	}
	pub, _ := ed25519Key(t)
	_, err = keypairs.Create(novaCtx, blue, keypairs.CreateOpts{Name: "key2", PublicKey: pub}).Extract()
	wantCode(t, err, http.StatusForbidden, "third keypair over a quota of 2")
	if f := faultBody(t, err)["forbidden"]; f["code"] != float64(403) || f["message"] != "Quota exceeded, too many key pairs." {
		t.Errorf("over-quota body = %v", faultBody(t, err))
	}
	// The admin's own key_pairs count is separate: keypairs belong to users.
	_, err = keypairs.Create(novaCtx, admin, keypairs.CreateOpts{Name: "admin-key", PublicKey: pub}).Extract()
	must(t, err)

	_, err = servergroups.Create(novaCtx, blue, servergroups.CreateOpts{Name: "one", Policies: []string{"affinity"}}).Extract()
	must(t, err)
	_, err = servergroups.Create(novaCtx, blue, servergroups.CreateOpts{Name: "two", Policies: []string{"affinity"}}).Extract()
	wantCode(t, err, http.StatusForbidden, "second server group over a quota of 1")
	if f := faultBody(t, err)["forbidden"]; f["message"] != "Quota exceeded, too many server groups." {
		t.Errorf("over-quota body = %v", faultBody(t, err))
	}
}

func TestLimits(t *testing.T) {
	cloud, admin := adminCompute(t)
	blue, blueProject := memberCompute(t, cloud, "blue")
	red, redProject := memberCompute(t, cloud, "red")
	_, err := quotasets.Update(novaCtx, admin, blueProject, quotasets.UpdateOpts{Cores: gophercloud.IntToPointer(12)}).Extract()
	must(t, err)
	insertServer(t, cloud, blueProject, "", 2, 2048, false)
	_, err = servergroups.Create(novaCtx, blue, servergroups.CreateOpts{Name: "g", Policies: []string{"anti-affinity"}}).Extract()
	must(t, err)

	got, err := limits.Get(novaCtx, blue, nil).Extract()
	must(t, err)
	want := limits.Absolute{
		MaxTotalInstances: 10, MaxTotalCores: 12, MaxTotalRAMSize: 51200, MaxTotalKeypairs: 100, MaxServerGroups: 10,
		MaxServerGroupMembers: 10, MaxServerMeta: 128, MaxImageMeta: 128, MaxPersonality: 5, MaxPersonalitySize: 10240,
		MaxSecurityGroups: -1, MaxSecurityGroupRules: -1, MaxTotalFloatingIps: -1,
		TotalInstancesUsed: 1, TotalCoresUsed: 2, TotalRAMUsed: 2048, TotalServerGroupsUsed: 1,
	}
	if got.Absolute != want {
		t.Errorf("blue's limits = %+v\nwant %+v", got.Absolute, want)
	}
	resp, data := rawRequest(t, blue, http.MethodGet, "limits", nil, nil)
	var body struct {
		Limits struct{ Rate []any }
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &body) != nil || body.Limits.Rate == nil || len(body.Limits.Rate) != 0 {
		t.Errorf("limits body %s, want an empty rate list", data)
	}

	// tenant_id: admins only (a member may name its own project).
	if theirs, err := limits.Get(novaCtx, admin, limits.GetOpts{TenantID: blueProject}).Extract(); err != nil || theirs.Absolute != want {
		t.Errorf("admin reading blue's limits: %+v, %v", theirs, err)
	}
	_, err = limits.Get(novaCtx, red, limits.GetOpts{TenantID: blueProject}).Extract()
	wantCode(t, err, http.StatusForbidden, "member reading another project's limits")
	if own, err := limits.Get(novaCtx, red, limits.GetOpts{TenantID: redProject}).Extract(); err != nil || own.Absolute.TotalInstancesUsed != 0 {
		t.Errorf("member naming its own project: %+v, %v", own, err)
	}
}

// TestParallelKeypairsRespectQuota: concurrent creates queue on the quota
// and never overshoot it.
func TestParallelKeypairsRespectQuota(t *testing.T) {
	cloud, admin := adminCompute(t)
	blue, blueProject := memberCompute(t, cloud, "blue")
	_, err := quotasets.Update(novaCtx, admin, blueProject, quotasets.UpdateOpts{KeyPairs: gophercloud.IntToPointer(3)}).Extract()
	must(t, err)
	keys := make([]string, 8)
	for i := range keys {
		keys[i], _ = ed25519Key(t)
	}
	errs := make(chan error, len(keys))
	var wg sync.WaitGroup
	for i, pub := range keys {
		wg.Go(func() {
			_, err := keypairs.Create(novaCtx, blue, keypairs.CreateOpts{Name: fmt.Sprintf("k%d", i), PublicKey: pub}).Extract()
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	created := 0
	for err := range errs {
		switch {
		case err == nil:
			created++
		case !gophercloud.ResponseCodeIs(err, http.StatusForbidden):
			t.Errorf("parallel create: %v", err)
		}
	}
	if created != 3 {
		t.Errorf("%d of 8 parallel keypairs were created under a quota of 3", created)
	}
}
