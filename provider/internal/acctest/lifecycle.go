package acctest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// Lifecycle is what every resource's acceptance test goes through, in one
// test case on one cloud: create, with an empty plan right after; import
// with verify; an in-place update, again with an empty plan after; import
// with verify again; going back to Create, with an empty plan after (this
// catches attributes whose removal the provider does not send); the
// resource disappearing behind Terraform's back,
// which the next plan must notice; and destroy, after which Get must
// answer 404.
type Lifecycle struct {
	Resource string // type.name of the resource under test
	Create   string // configuration, without the provider block
	Update   string // a configuration that changes Resource in place
	// Replace says that Update replaces Resource: for resources the API
	// cannot change at all.
	Replace      bool
	CreateChecks []statecheck.StateCheck
	UpdateChecks []statecheck.StateCheck
	// Get fails unless the cloud has the resource with this id; Delete
	// deletes it behind Terraform's back.
	Get, Delete func(id string) error
	// ImportIgnore lists attributes an import cannot know.
	ImportIgnore []string
	// ImportID derives the import id from the state when it is not the id.
	ImportID resource.ImportStateIdFunc
}

// Test runs l against c.
func (c *Cloud) Test(t *testing.T, l Lifecycle) {
	t.Helper()
	typ, _, _ := strings.Cut(l.Resource, ".")
	importStep := resource.TestStep{
		ResourceName: l.Resource, ImportState: true, ImportStateVerify: true,
		ImportStateVerifyIgnore: l.ImportIgnore, ImportStateIdFunc: l.ImportID,
	}
	empty := []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}
	action := plancheck.ResourceActionUpdate
	if l.Replace {
		action = plancheck.ResourceActionDestroyBeforeCreate
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: ProtoV6ProviderFactories,
		CheckDestroy:             CheckDestroy(typ, l.Get),
		Steps: []resource.TestStep{
			{
				Config:            c.Config(l.Create),
				ConfigStateChecks: l.CreateChecks,
				ConfigPlanChecks:  resource.ConfigPlanChecks{PostApplyPostRefresh: empty},
				Check:             CheckExists(l.Resource, l.Get),
			},
			importStep,
			{
				Config:            c.Config(l.Update),
				ConfigStateChecks: l.UpdateChecks,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(l.Resource, action)},
					PostApplyPostRefresh: empty,
				},
				Check: CheckExists(l.Resource, l.Get),
			},
			importStep,
			{
				Config:            c.Config(l.Create),
				ConfigStateChecks: l.CreateChecks,
				ConfigPlanChecks:  resource.ConfigPlanChecks{PostApplyPostRefresh: empty},
				Check:             CheckExists(l.Resource, l.Get),
			},
			{
				Config:             c.Config(l.Create),
				Check:              CheckDisappears(l.Resource, l.Delete),
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

// ImportThenApply are steps that create res and what it needs (others),
// take res out of the state (keeping it), import it, and apply the same
// configuration: the plan must update res in place, and be empty after.
func (c *Cloud) ImportThenApply(res, others, resConfig string) []resource.TestStep {
	config := others + resConfig
	var id string
	typ, name, _ := strings.Cut(res, ".")
	return []resource.TestStep{
		{
			Config: c.Config(config),
			Check: func(s *terraform.State) (err error) {
				id, err = ID(s, res)
				return err
			},
		},
		{Config: c.Config(others + fmt.Sprintf("\nremoved {\n  from = %s.%s\n  lifecycle {\n    destroy = false\n  }\n}\n", typ, name))},
		{
			Config: c.Config(config), ResourceName: res, ImportState: true, ImportStatePersist: true,
			ImportStateIdFunc: func(*terraform.State) (string, error) { return id, nil },
		},
		{
			Config: c.Config(config),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
		},
	}
}

// Network is an admin networking v2.0 client.
func (c *Cloud) Network(t testing.TB) *gophercloud.ServiceClient {
	t.Helper()
	sc, err := openstack.NewNetworkV2(c.Admin(t), gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// BlockStorage is an admin block storage v3 client.
func (c *Cloud) BlockStorage(t testing.TB) *gophercloud.ServiceClient {
	t.Helper()
	sc, err := openstack.NewBlockStorageV3(c.Admin(t), gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}
