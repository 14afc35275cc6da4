package tfcli_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
	"github.com/stratus-cloud/stratus/provider/internal/tfcli"
)

// quickstartDir is examples/quickstart, from provider/internal/tfcli.
var quickstartDir = filepath.Join("..", "..", "..", "examples", "quickstart")

// startQuickstart prepares a cloud for examples/quickstart with servers
// servers: the configuration is valid, the image it boots exists and
// quotas fit.
func startQuickstart(t testing.TB, servers int) (*acctest.Cloud, *tfcli.Workspace) {
	t.Helper()
	cloud := acctest.Start(t)
	w := tfcli.New(t, cloud, tfcli.Dir(t, quickstartDir))
	w.Run(t, "validate", "-no-color")
	cloud.UploadImage(t, "stratus-tiny")
	tfcli.RaiseQuotas(t, cloud, servers)
	return cloud, w
}

// TestQuickstart applies examples/quickstart as a user would, requires the
// next plan to be empty, destroys it and requires the cloud to hold
// nothing of it any more.
func TestQuickstart(t *testing.T) {
	cloud, w := startQuickstart(t, 2)
	w.Run(t, "apply", "-auto-approve", "-no-color")
	if empty, out := w.PlanIsEmpty(t); !empty {
		t.Errorf("the plan after apply is not empty:\n%s", out)
	}
	if out := w.Run(t, "output", "-no-color", "floating_ip"); len(out) < 8 {
		t.Errorf("floating_ip output: %q", out)
	}
	w.Run(t, "destroy", "-auto-approve", "-no-color")

	nc, cc, bc := cloud.Network(t), cloud.Compute(t), cloud.BlockStorage(t)
	left := map[string]int{}
	count := func(what string, pager pagination.Pager, extract func(pagination.Page) (int, error)) {
		page, err := pager.AllPages(acctest.Ctx)
		if err != nil {
			t.Fatalf("listing %s: %v", what, err)
		}
		n, err := extract(page)
		if err != nil {
			t.Fatalf("listing %s: %v", what, err)
		}
		if n > 0 {
			left[what] = n
		}
	}
	count("servers", servers.List(cc, servers.ListOpts{AllTenants: true}), func(p pagination.Page) (int, error) {
		l, err := servers.ExtractServers(p)
		return len(l), err
	})
	count("volumes", volumes.List(bc, volumes.ListOpts{AllTenants: true}), func(p pagination.Page) (int, error) {
		l, err := volumes.ExtractVolumes(p)
		return len(l), err
	})
	count("networks", networks.List(nc, nil), func(p pagination.Page) (int, error) {
		l, err := networks.ExtractNetworks(p)
		return len(l), err
	})
	count("ports", ports.List(nc, nil), func(p pagination.Page) (int, error) {
		l, err := ports.ExtractPorts(p)
		return len(l), err
	})
	count("routers", routers.List(nc, routers.ListOpts{}), func(p pagination.Page) (int, error) {
		l, err := routers.ExtractRouters(p)
		return len(l), err
	})
	count("floating IPs", floatingips.List(nc, floatingips.ListOpts{}), func(p pagination.Page) (int, error) {
		l, err := floatingips.ExtractFloatingIPs(p)
		return len(l), err
	})
	count("security groups other than default", groups.List(nc, groups.ListOpts{}), func(p pagination.Page) (int, error) {
		l, err := groups.ExtractGroups(p)
		n := 0
		for _, g := range l {
			if g.Name != "default" {
				n++
			}
		}
		return n, err
	})
	count("key pairs", keypairs.List(cc, nil), func(p pagination.Page) (int, error) {
		l, err := keypairs.ExtractKeyPairs(p)
		return len(l), err
	})
	if len(left) > 0 {
		t.Errorf("destroy left behind: %v", fmt.Sprint(left))
	}
}
