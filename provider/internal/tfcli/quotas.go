package tfcli

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	computequotas "github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	networkquotas "github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"

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
	_, err := computequotas.Update(acctest.Ctx, cloud.Compute(t), AdminProjectID(t, cloud),
		computequotas.UpdateOpts{Instances: &n, Cores: &n, RAM: &ram}).Extract()
	if err != nil {
		t.Fatal(err)
	}
}

// RaiseQuotas lifts the admin project's compute, network and block
// storage quotas above what a quickstart of servers servers needs.
func RaiseQuotas(t testing.TB, cloud *acctest.Cloud, servers int) {
	t.Helper()
	RaiseComputeQuotas(t, cloud, servers)
	project := AdminProjectID(t, cloud)
	n, big := servers*2, servers*100
	if _, err := networkquotas.Update(acctest.Ctx, cloud.Network(t), project,
		networkquotas.UpdateOpts{Port: &n, FloatingIP: &n, SecurityGroupRule: &big}).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := quotasets.Update(acctest.Ctx, cloud.BlockStorage(t), project,
		quotasets.UpdateOpts{Volumes: &n, Gigabytes: &big}).Extract(); err != nil {
		t.Fatal(err)
	}
}
