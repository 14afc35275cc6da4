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
// quotas above what servers servers of one vCPU need, never lowering one.
func RaiseComputeQuotas(t testing.TB, cloud *acctest.Cloud, servers int) {
	t.Helper()
	cc, project := cloud.Compute(t), AdminProjectID(t, cloud)
	q, err := computequotas.Get(acctest.Ctx, cc, project).Extract()
	if err != nil {
		t.Fatal(err)
	}
	n, cores, ram := atLeast(q.Instances, servers*2), atLeast(q.Cores, servers*2), atLeast(q.RAM, servers*4096)
	if _, err := computequotas.Update(acctest.Ctx, cc, project,
		computequotas.UpdateOpts{Instances: &n, Cores: &cores, RAM: &ram}).Extract(); err != nil {
		t.Fatal(err)
	}
}

// atLeast is quota cur raised to need: unlimited (negative) or higher
// quotas stay.
func atLeast(cur, need int) int {
	if cur < 0 {
		return cur
	}
	return max(cur, need)
}

// RaiseQuotas lifts the admin project's compute, network and block
// storage quotas above what a quickstart of servers servers needs, never
// lowering one.
func RaiseQuotas(t testing.TB, cloud *acctest.Cloud, servers int) {
	t.Helper()
	RaiseComputeQuotas(t, cloud, servers)
	project := AdminProjectID(t, cloud)
	n, big := servers*2, servers*100
	nc, bc := cloud.Network(t), cloud.BlockStorage(t)
	nq, err := networkquotas.Get(acctest.Ctx, nc, project).Extract()
	if err != nil {
		t.Fatal(err)
	}
	ports, fips, rules := atLeast(nq.Port, n), atLeast(nq.FloatingIP, n), atLeast(nq.SecurityGroupRule, big)
	if _, err := networkquotas.Update(acctest.Ctx, nc, project,
		networkquotas.UpdateOpts{Port: &ports, FloatingIP: &fips, SecurityGroupRule: &rules}).Extract(); err != nil {
		t.Fatal(err)
	}
	bq, err := quotasets.Get(acctest.Ctx, bc, project).Extract()
	if err != nil {
		t.Fatal(err)
	}
	volumes, gigabytes := atLeast(bq.Volumes, n), atLeast(bq.Gigabytes, big)
	if _, err := quotasets.Update(acctest.Ctx, bc, project,
		quotasets.UpdateOpts{Volumes: &volumes, Gigabytes: &gigabytes}).Extract(); err != nil {
		t.Fatal(err)
	}
}
