package tfcli

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

// AdminProjectID is the id of the admin project the provider logs in to.
func AdminProjectID(t testing.TB, cloud *acctest.Cloud) string {
	t.Helper()
	page, err := projects.List(cloud.Identity(t), projects.ListOpts{Name: "admin"}).AllPages(acctest.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	list, err := projects.ExtractProjects(page)
	if err != nil || len(list) != 1 {
		t.Fatalf("admin project: %v %v", list, err)
	}
	return list[0].ID
}

// RaiseComputeQuotas lifts the admin project's instance, core and RAM
// quotas above what servers servers of one vCPU need.
func RaiseComputeQuotas(t testing.TB, cloud *acctest.Cloud, servers int) {
	t.Helper()
	n, ram := servers*2, servers*4096
	_, err := quotasets.Update(acctest.Ctx, cloud.Compute(t), AdminProjectID(t, cloud),
		quotasets.UpdateOpts{Instances: &n, Cores: &n, RAM: &ram}).Extract()
	if err != nil {
		t.Fatal(err)
	}
}
