package nova_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

func listFlavors(t *testing.T, cc *gophercloud.ServiceClient, opts flavors.ListOpts) []flavors.Flavor {
	t.Helper()
	page, err := flavors.ListDetail(cc, opts).AllPages(novaCtx)
	must(t, err)
	list, err := flavors.ExtractFlavors(page)
	must(t, err)
	return list
}

func flavorIDs(list []flavors.Flavor) []string {
	var ids []string
	for _, f := range list {
		ids = append(ids, f.ID)
	}
	return ids
}

func TestDefaultFlavors(t *testing.T) {
	cloud, _ := adminCompute(t)
	member, _ := memberCompute(t, cloud, "green")
	got := map[string]flavors.Flavor{}
	for _, f := range listFlavors(t, member, flavors.ListOpts{}) {
		got[f.Name] = f
	}
	for _, want := range []struct {
		id, name         string
		vcpus, ram, disk int
	}{
		{"1", "m1.tiny", 1, 512, 1}, {"2", "m1.small", 1, 2048, 20}, {"3", "m1.medium", 2, 4096, 40},
		{"4", "m1.large", 4, 8192, 80}, {"5", "m1.xlarge", 8, 16384, 160}, {"42", "s1.nano", 1, 128, 1},
	} {
		f, ok := got[want.name]
		if !ok || f.ID != want.id || f.VCPUs != want.vcpus || f.RAM != want.ram || f.Disk != want.disk || !f.IsPublic || f.RxTxFactor != 1 {
			t.Errorf("default flavor %s = %+v, want id %s, %d vCPU, %d MB, %d GB, public", want.name, f, want.id, want.vcpus, want.ram, want.disk)
		}
	}
}

// TestDefaultFlavorsSeedOnce: a replica starting on a cloud whose
// operator deleted a default flavor does not bring it back.
func TestDefaultFlavorsSeedOnce(t *testing.T) {
	cloud, admin := adminCompute(t)
	must(t, flavors.Delete(novaCtx, admin, "5").ExtractErr())
	replica := cloudtest.Start(t, cloudtest.Options{DatabaseURL: cloud.DatabaseURL, AdminPassword: cloud.AdminPassword})
	ids := flavorIDs(listFlavors(t, computeV2(t, replica.Admin(t)), flavors.ListOpts{AccessType: flavors.AllAccess}))
	if !slices.Equal(ids, []string{"1", "2", "3", "4", "42"}) {
		t.Errorf("flavors after a second bootstrap = %v, want the defaults without the deleted 5", ids)
	}
}

func TestFlavorCRUDAndExtraSpecs(t *testing.T) {
	cloud, admin := adminCompute(t)
	member, _ := memberCompute(t, cloud, "green")

	disk := 10
	swap := 256
	f, err := flavors.Create(novaCtx, admin, flavors.CreateOpts{ID: "c1", Name: "c1.custom", VCPUs: 2, RAM: 1024, Disk: &disk, Swap: &swap, RxTxFactor: 2}).Extract()
	must(t, err)
	if f.ID != "c1" || f.VCPUs != 2 || f.RAM != 1024 || f.Disk != 10 || f.Swap != 256 || f.RxTxFactor != 2 || !f.IsPublic {
		t.Errorf("created flavor = %+v", f)
	}
	auto, err := flavors.Create(novaCtx, admin, flavors.CreateOpts{ID: "auto", Name: "c2.auto", VCPUs: 1, RAM: 64, Disk: new(0)}).Extract()
	must(t, err)
	if len(auto.ID) != 36 || auto.Swap != 0 {
		t.Errorf("flavor with id auto got id %q and swap %d, want a UUID and 0", auto.ID, auto.Swap)
	}
	got, err := flavors.Get(novaCtx, member, "c1").Extract()
	must(t, err)
	if got.Name != "c1.custom" || got.Swap != 256 {
		t.Errorf("member reads %+v", got)
	}

	_, err = flavors.Create(novaCtx, admin, flavors.CreateOpts{Name: "c1.custom", VCPUs: 1, RAM: 64, Disk: new(0)}).Extract()
	wantCode(t, err, http.StatusConflict, "duplicate flavor name")
	_, err = flavors.Create(novaCtx, admin, flavors.CreateOpts{ID: "c1", Name: "other", VCPUs: 1, RAM: 64, Disk: new(0)}).Extract()
	wantCode(t, err, http.StatusConflict, "duplicate flavor id")
	for name, body := range map[string]map[string]any{
		"zero ram":          {"name": "x", "ram": 0, "vcpus": 1, "disk": 0},
		"zero vcpus":        {"name": "x", "ram": 64, "vcpus": 0, "disk": 0},
		"negative disk":     {"name": "x", "ram": 64, "vcpus": 1, "disk": -1},
		"huge ram":          {"name": "x", "ram": 1 << 40, "vcpus": 1, "disk": 0},
		"fractional vcpus":  {"name": "x", "ram": 64, "vcpus": 1.5, "disk": 0},
		"missing disk":      {"name": "x", "ram": 64, "vcpus": 1},
		"blank name":        {"name": " x", "ram": 64, "vcpus": 1, "disk": 0},
		"bad id":            {"id": "a/b", "name": "x", "ram": 64, "vcpus": 1, "disk": 0},
		"zero rxtx":         {"name": "x", "ram": 64, "vcpus": 1, "disk": 0, "rxtx_factor": 0},
		"2.55 description":  {"name": "x", "ram": 64, "vcpus": 1, "disk": 0, "description": "later"},
		"ram as text":       {"name": "x", "ram": "lots", "vcpus": 1, "disk": 0},
		"negative as text":  {"name": "x", "ram": "-5", "vcpus": 1, "disk": 0},
		"public not a bool": {"name": "x", "ram": 64, "vcpus": 1, "disk": 0, "os-flavor-access:is_public": "yes"},
	} {
		resp, data := rawRequest(t, admin, http.MethodPost, "flavors", map[string]any{"flavor": body}, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(data), `"badRequest"`) {
			t.Errorf("%s: %d %s, want a 400 badRequest", name, resp.StatusCode, data)
		}
	}
	if resp, data := rawRequest(t, admin, http.MethodPost, "flavors", map[string]any{"flavor": map[string]any{"name": "digits", "ram": "96", "vcpus": "1", "disk": "0"}}, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("sizes as strings of digits, as Nova accepts: %d %s", resp.StatusCode, data)
	}
	_, err = flavors.Create(novaCtx, member, flavors.CreateOpts{Name: "mine", VCPUs: 1, RAM: 64, Disk: new(0)}).Extract()
	wantCode(t, err, http.StatusForbidden, "member creating a flavor")

	// Extra specs: admins write, everyone who sees the flavor reads.
	specs, err := flavors.CreateExtraSpecs(novaCtx, admin, "c1", flavors.ExtraSpecsOpts{"hw:cpu_policy": "dedicated", "quota:disk_read_iops_sec": "500"}).Extract()
	must(t, err)
	if len(specs) != 2 || specs["hw:cpu_policy"] != "dedicated" {
		t.Errorf("created extra specs = %v", specs)
	}
	_, err = flavors.UpdateExtraSpec(novaCtx, admin, "c1", flavors.ExtraSpecsOpts{"hw:cpu_policy": "shared"}).Extract()
	must(t, err)
	specs, err = flavors.ListExtraSpecs(novaCtx, member, "c1").Extract()
	must(t, err)
	if len(specs) != 2 || specs["hw:cpu_policy"] != "shared" || specs["quota:disk_read_iops_sec"] != "500" {
		t.Errorf("extra specs after update = %v", specs)
	}
	one, err := flavors.GetExtraSpec(novaCtx, member, "c1", "hw:cpu_policy").Extract()
	must(t, err)
	if len(one) != 1 || one["hw:cpu_policy"] != "shared" {
		t.Errorf("one extra spec = %v", one)
	}
	_, err = flavors.CreateExtraSpecs(novaCtx, member, "c1", flavors.ExtraSpecsOpts{"a": "b"}).Extract()
	wantCode(t, err, http.StatusForbidden, "member writing extra specs")
	must(t, flavors.DeleteExtraSpec(novaCtx, admin, "c1", "hw:cpu_policy").ExtractErr())
	_, err = flavors.GetExtraSpec(novaCtx, member, "c1", "hw:cpu_policy").Extract()
	wantCode(t, err, http.StatusNotFound, "deleted extra spec")
	wantCode(t, flavors.DeleteExtraSpec(novaCtx, admin, "c1", "hw:cpu_policy").ExtractErr(), http.StatusNotFound, "deleting a missing extra spec")
	if resp, data := rawRequest(t, admin, http.MethodPost, "flavors/c1/os-extra_specs", map[string]any{"extra_specs": map[string]any{"hw:numa_nodes": 2, "hw:vif_multiqueue_enabled": true}}, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("numbers and booleans as extra spec values: %d %s", resp.StatusCode, data)
	}
	if one, _ = flavors.GetExtraSpec(novaCtx, member, "c1", "hw:vif_multiqueue_enabled").Extract(); one["hw:vif_multiqueue_enabled"] != "True" {
		t.Errorf("a boolean extra spec reads %v, want True as Nova writes it", one)
	}
	for name, tc := range map[string]struct {
		method, path string
		body         any
	}{
		"bad key":           {http.MethodPost, "flavors/c1/os-extra_specs", map[string]any{"extra_specs": map[string]any{"no/slash": "x"}}},
		"object value":      {http.MethodPost, "flavors/c1/os-extra_specs", map[string]any{"extra_specs": map[string]any{"k": map[string]any{}}}},
		"URI mismatch":      {http.MethodPut, "flavors/c1/os-extra_specs/a", map[string]any{"b": "x"}},
		"two keys in a PUT": {http.MethodPut, "flavors/c1/os-extra_specs/a", map[string]any{"a": "x", "b": "y"}},
	} {
		if resp, data := rawRequest(t, admin, tc.method, tc.path, tc.body, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, resp.StatusCode, data)
		}
	}

	wantCode(t, flavors.Delete(novaCtx, member, "c1").ExtractErr(), http.StatusForbidden, "member deleting a flavor")
	must(t, flavors.Delete(novaCtx, admin, "c1").ExtractErr())
	_, err = flavors.Get(novaCtx, admin, "c1").Extract()
	wantCode(t, err, http.StatusNotFound, "deleted flavor")
	wantCode(t, flavors.Delete(novaCtx, admin, "c1").ExtractErr(), http.StatusNotFound, "deleting a deleted flavor")
	_, err = flavors.ListExtraSpecs(novaCtx, admin, "c1").Extract()
	wantCode(t, err, http.StatusNotFound, "extra specs of a deleted flavor")
}

func TestPrivateFlavorAccess(t *testing.T) {
	cloud, admin := adminCompute(t)
	blue, blueProject := memberCompute(t, cloud, "blue")
	red, _ := memberCompute(t, cloud, "red")

	private := false
	_, err := flavors.Create(novaCtx, admin, flavors.CreateOpts{ID: "p1", Name: "p1.private", VCPUs: 1, RAM: 64, Disk: new(1), IsPublic: &private}).Extract()
	must(t, err)

	for name, cc := range map[string]*gophercloud.ServiceClient{"blue": blue, "red": red} {
		_, err := flavors.Get(novaCtx, cc, "p1").Extract()
		wantCode(t, err, http.StatusNotFound, name+" reading a private flavor without access")
		if slices.Contains(flavorIDs(listFlavors(t, cc, flavors.ListOpts{})), "p1") {
			t.Errorf("%s lists a private flavor without access", name)
		}
	}
	// Admins see it when they ask for private or all flavors, not by default.
	if slices.Contains(flavorIDs(listFlavors(t, admin, flavors.ListOpts{})), "p1") {
		t.Error("admin's default (public) listing shows a private flavor")
	}
	if ids := flavorIDs(listFlavors(t, admin, flavors.ListOpts{AccessType: flavors.PrivateAccess})); !slices.Equal(ids, []string{"p1"}) {
		t.Errorf("admin private listing = %v, want [p1]", ids)
	}
	if ids := flavorIDs(listFlavors(t, admin, flavors.ListOpts{AccessType: flavors.AllAccess})); len(ids) != 7 || !slices.Contains(ids, "p1") {
		t.Errorf("admin listing of all flavors = %v", ids)
	}
	// A member asking for private flavors still gets the public ones only.
	if ids := flavorIDs(listFlavors(t, blue, flavors.ListOpts{AccessType: flavors.PrivateAccess})); len(ids) != 6 || slices.Contains(ids, "p1") {
		t.Errorf("member listing with is_public=false = %v, want the 6 public flavors", ids)
	}

	page, err := flavors.ListAccesses(admin, "p1").AllPages(novaCtx)
	must(t, err)
	if access, _ := flavors.ExtractAccesses(page); len(access) != 0 {
		t.Errorf("new private flavor has access %v", access)
	}
	access, err := flavors.AddAccess(novaCtx, admin, "p1", flavors.AddAccessOpts{Tenant: blueProject}).Extract()
	must(t, err)
	if len(access) != 1 || access[0].FlavorID != "p1" || access[0].TenantID != blueProject {
		t.Errorf("access after addTenantAccess = %+v", access)
	}
	_, err = flavors.AddAccess(novaCtx, admin, "p1", flavors.AddAccessOpts{Tenant: blueProject}).Extract()
	wantCode(t, err, http.StatusConflict, "adding the same access twice")
	_, err = flavors.AddAccess(novaCtx, admin, "1", flavors.AddAccessOpts{Tenant: blueProject}).Extract()
	wantCode(t, err, http.StatusConflict, "adding access to a public flavor")
	_, err = flavors.ListAccesses(admin, "1").AllPages(novaCtx)
	wantCode(t, err, http.StatusNotFound, "access list of a public flavor")
	_, err = flavors.AddAccess(novaCtx, blue, "p1", flavors.AddAccessOpts{Tenant: blueProject}).Extract()
	wantCode(t, err, http.StatusForbidden, "member granting access")

	if f, err := flavors.Get(novaCtx, blue, "p1").Extract(); err != nil || f.IsPublic {
		t.Errorf("blue reads the flavor it was given: %+v, %v", f, err)
	}
	if !slices.Contains(flavorIDs(listFlavors(t, blue, flavors.ListOpts{})), "p1") {
		t.Error("blue does not list the private flavor it was given")
	}
	if _, err := flavors.Get(novaCtx, red, "p1").Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("red reads blue's private flavor: %v", err)
	}

	access, err = flavors.RemoveAccess(novaCtx, admin, "p1", flavors.RemoveAccessOpts{Tenant: blueProject}).Extract()
	must(t, err)
	if len(access) != 0 {
		t.Errorf("access after removeTenantAccess = %+v", access)
	}
	_, err = flavors.RemoveAccess(novaCtx, admin, "p1", flavors.RemoveAccessOpts{Tenant: blueProject}).Extract()
	wantCode(t, err, http.StatusNotFound, "removing access that is gone")
	_, err = flavors.Get(novaCtx, blue, "p1").Extract()
	wantCode(t, err, http.StatusNotFound, "blue after its access was removed")
}

func TestFlavorListFiltersSortingAndPages(t *testing.T) {
	cloud, admin := adminCompute(t)
	member, _ := memberCompute(t, cloud, "green")

	if ids := flavorIDs(listFlavors(t, member, flavors.ListOpts{MinRAM: 4096})); !slices.Equal(ids, []string{"3", "4", "5"}) {
		t.Errorf("minRam=4096 = %v", ids)
	}
	if ids := flavorIDs(listFlavors(t, member, flavors.ListOpts{MinDisk: 40, MinRAM: 8192})); !slices.Equal(ids, []string{"4", "5"}) {
		t.Errorf("minDisk=40&minRam=8192 = %v", ids)
	}
	if ids := flavorIDs(listFlavors(t, member, flavors.ListOpts{SortKey: "memory_mb", SortDir: "desc"})); !slices.Equal(ids, []string{"5", "4", "3", "2", "1", "42"}) {
		t.Errorf("sorted by memory_mb desc = %v", ids)
	}
	// Pages of two follow flavors_links to the end, in order, without
	// repeats. By name the order is m1.large, m1.medium, ..., s1.nano.
	var pages int
	var ids []string
	must(t, flavors.ListDetail(member, flavors.ListOpts{Limit: 2, SortKey: "name"}).EachPage(novaCtx, func(_ context.Context, p pagination.Page) (bool, error) {
		list, err := flavors.ExtractFlavors(p)
		pages++
		ids = append(ids, flavorIDs(list)...)
		return true, err
	}))
	if !slices.Equal(ids, []string{"4", "3", "2", "1", "5", "42"}) || pages < 3 {
		t.Errorf("paging by name in twos: %d pages with %v", pages, ids)
	}
	// Flavor ids sort as text, as in Nova: 1, 2, 3, 4, 42, 5.
	names := listFlavorNames(t, admin, "flavors?limit=2&marker=3&sort_key=flavorid")
	if !slices.Equal(names, []string{"m1.large", "s1.nano"}) {
		t.Errorf("summary list after marker 3 = %v", names)
	}
	for _, query := range []string{"marker=nope", "sort_key=colour", "sort_dir=sideways", "minRam=big", "limit=-1", "is_public=maybe"} {
		if resp, data := rawRequest(t, admin, http.MethodGet, "flavors/detail?"+query, nil, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", query, resp.StatusCode, data)
		}
	}
}

// listFlavorNames reads a summary listing (id, name, links) at path.
func listFlavorNames(t *testing.T, cc *gophercloud.ServiceClient, path string) []string {
	t.Helper()
	resp, data := rawRequest(t, cc, http.MethodGet, path, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, data)
	}
	var body struct {
		Flavors []struct {
			ID, Name string
			Links    []gophercloud.Link
		}
	}
	must(t, json.Unmarshal(data, &body))
	var names []string
	for _, f := range body.Flavors {
		if len(f.Links) != 2 || !strings.HasSuffix(f.Links[0].Href, "/compute/v2.1/flavors/"+f.ID) {
			t.Errorf("links of %s = %+v", f.ID, f.Links)
		}
		names = append(names, f.Name)
	}
	return names
}

// TestOpenstackCLICompute drives flavors, keypairs, quotas and limits
// through the real openstack command line.
func TestOpenstackCLICompute(t *testing.T) {
	cloud, _ := adminCompute(t)
	cli := cloud.OpenstackCLI(t)
	project := cloud.MemberProject(t, "cli-demo")

	var flavor map[string]any
	cli.JSON(&flavor, "flavor", "create", "--id", "cli1", "--vcpus", "2", "--ram", "1024", "--disk", "5", "--property", "hw:cpu_policy=dedicated", "cli.flavor")
	if flavor["id"] != "cli1" || flavor["vcpus"] != float64(2) || flavor["ram"] != float64(1024) {
		t.Errorf("flavor create = %v", flavor)
	}
	var list []struct {
		ID, Name string
	}
	cli.JSON(&list, "flavor", "list")
	var names []string
	for _, f := range list {
		names = append(names, f.Name)
	}
	if !slices.Contains(names, "cli.flavor") || !slices.Contains(names, "m1.tiny") {
		t.Errorf("flavor list = %v", names)
	}
	cli.OK("flavor", "set", "--property", "hw:mem_page_size=large", "cli.flavor")
	cli.JSON(&flavor, "flavor", "show", "cli.flavor")
	if props := fmt.Sprint(flavor["properties"]); !strings.Contains(props, "hw:mem_page_size") || !strings.Contains(props, "dedicated") {
		t.Errorf("flavor show properties = %v", flavor["properties"])
	}
	cli.OK("flavor", "delete", "cli.flavor")
	if _, errOut, err := cli.Run("flavor", "show", "cli1"); err == nil {
		t.Error("flavor show after delete succeeded")
	} else if !strings.Contains(errOut, "cli1") {
		t.Errorf("flavor show after delete: %s", errOut)
	}

	// keypair create: generated (private key written to a file) and imported.
	privatePath := filepath.Join(t.TempDir(), "id_rsa")
	var kp map[string]any
	cli.JSON(&kp, "keypair", "create", "--private-key", privatePath, "cli-generated")
	if kp["name"] != "cli-generated" || !strings.Contains(fmt.Sprint(kp["fingerprint"]), ":") {
		t.Errorf("keypair create = %v", kp)
	}
	if key, err := os.ReadFile(privatePath); err != nil || !strings.Contains(string(key), "PRIVATE KEY") {
		t.Errorf("generated private key file: %v %q", err, key)
	}
	pubPath := filepath.Join(t.TempDir(), "id_ed25519.pub")
	pub, fp := ed25519Key(t)
	must(t, os.WriteFile(pubPath, []byte(pub+"\n"), 0o600))
	cli.JSON(&kp, "keypair", "create", "--public-key", pubPath, "cli-imported")
	if kp["fingerprint"] != fp {
		t.Errorf("imported keypair fingerprint = %v, want %s", kp["fingerprint"], fp)
	}
	var keys []struct{ Name string }
	cli.JSON(&keys, "keypair", "list")
	if len(keys) != 2 {
		t.Errorf("keypair list = %v", keys)
	}
	cli.OK("keypair", "delete", "cli-generated")

	// quota set / quota show, and the limits they produce.
	cli.OK("quota", "set", "--instances", "3", "--cores", "9", project)
	var quota map[string]any
	cli.JSON(&quota, "quota", "show", project)
	if quota["instances"] != float64(3) || quota["cores"] != float64(9) || quota["ram"] != float64(51200) {
		t.Errorf("quota show = %v", quota)
	}
	var limits []struct {
		Name  string
		Value float64
	}
	cli.JSON(&limits, "limits", "show", "--absolute", "--project", project)
	got := map[string]float64{}
	for _, l := range limits {
		got[l.Name] = l.Value
	}
	if got["maxTotalInstances"] != 3 || got["maxTotalCores"] != 9 || got["maxTotalKeypairs"] != 100 || got["totalInstancesUsed"] != 0 {
		t.Errorf("limits show --absolute = %v", got)
	}
}
