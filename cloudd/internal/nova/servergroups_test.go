package nova_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
)

func listGroups(t *testing.T, cc *gophercloud.ServiceClient, opts servergroups.ListOpts) []servergroups.ServerGroup {
	t.Helper()
	page, err := servergroups.List(cc, opts).AllPages(novaCtx)
	must(t, err)
	list, err := servergroups.ExtractServerGroups(page)
	must(t, err)
	return list
}

func TestServerGroups(t *testing.T) {
	cloud, admin := adminCompute(t)
	blue, blueProject := memberCompute(t, cloud, "blue")
	red, _ := memberCompute(t, cloud, "red")

	ids := map[string]string{}
	for _, policy := range []string{"affinity", "anti-affinity"} {
		g, err := servergroups.Create(novaCtx, blue, servergroups.CreateOpts{Name: "web-" + policy, Policies: []string{policy}}).Extract()
		must(t, err)
		if g.Name != "web-"+policy || !slices.Equal(g.Policies, []string{policy}) || g.Members == nil || len(g.Members) != 0 {
			t.Errorf("created %s group = %+v", policy, g)
		}
		ids[policy] = g.ID
	}
	redGroup, err := servergroups.Create(novaCtx, red, servergroups.CreateOpts{Name: "db", Policies: []string{"anti-affinity"}}).Extract()
	must(t, err)

	// Members are the group's servers that are not deleted.
	live := insertServer(t, cloud, blueProject, ids["anti-affinity"], 1, 128, false)
	insertServer(t, cloud, blueProject, ids["anti-affinity"], 1, 128, true)
	g, err := servergroups.Get(novaCtx, blue, ids["anti-affinity"]).Extract()
	must(t, err)
	if !slices.Equal(g.Members, []string{live}) || g.Metadata == nil {
		t.Errorf("group with one live and one deleted server: members %v, metadata %v", g.Members, g.Metadata)
	}

	if list := listGroups(t, blue, servergroups.ListOpts{}); len(list) != 2 {
		t.Errorf("blue lists %d groups, want its 2", len(list))
	}
	if list := listGroups(t, blue, servergroups.ListOpts{AllProjects: true}); len(list) != 2 {
		t.Errorf("blue asking for all projects lists %d groups, want its own 2", len(list))
	}
	if list := listGroups(t, admin, servergroups.ListOpts{}); len(list) != 0 {
		t.Errorf("admin lists %d groups of its own project, want 0", len(list))
	}
	if list := listGroups(t, admin, servergroups.ListOpts{AllProjects: true}); len(list) != 3 {
		t.Errorf("admin lists %d groups of all projects, want 3", len(list))
	}
	if list := listGroups(t, admin, servergroups.ListOpts{AllProjects: true, Limit: 2, Offset: 2}); len(list) != 1 || list[0].ID != redGroup.ID {
		t.Errorf("admin's page with limit 2 offset 2 = %+v, want red's group", list)
	}

	_, err = servergroups.Get(novaCtx, red, ids["affinity"]).Extract()
	wantCode(t, err, http.StatusNotFound, "another project's server group")
	wantCode(t, servergroups.Delete(novaCtx, red, ids["affinity"]).ExtractErr(), http.StatusNotFound, "deleting another project's server group")
	if g, err := servergroups.Get(novaCtx, admin, ids["affinity"]).Extract(); err != nil || g.Name != "web-affinity" {
		t.Errorf("admin reading blue's group: %+v, %v", g, err)
	}

	for name, body := range map[string]map[string]any{
		"unknown policy":    {"name": "g", "policies": []string{"bogus"}},
		"two policies":      {"name": "g", "policies": []string{"affinity", "anti-affinity"}},
		"no policy":         {"name": "g", "policies": []string{}},
		"policy needs 2.64": {"name": "g", "policy": "affinity"},
		"no name":           {"policies": []string{"affinity"}},
		"blank name":        {"name": "", "policies": []string{"affinity"}},
	} {
		resp, data := rawRequest(t, blue, http.MethodPost, "os-server-groups", map[string]any{"server_group": body}, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(data), "badRequest") {
			t.Errorf("%s: %d %s, want 400 badRequest", name, resp.StatusCode, data)
		}
	}

	must(t, servergroups.Delete(novaCtx, blue, ids["affinity"]).ExtractErr())
	_, err = servergroups.Get(novaCtx, blue, ids["affinity"]).Extract()
	wantCode(t, err, http.StatusNotFound, "deleted server group")
	wantCode(t, servergroups.Delete(novaCtx, blue, ids["affinity"]).ExtractErr(), http.StatusNotFound, "deleting a deleted group")
	// A group with members can go; its servers just leave it.
	must(t, servergroups.Delete(novaCtx, blue, ids["anti-affinity"]).ExtractErr())
}
