package compute_test

import (
	"fmt"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

func TestAccComputeServerGroup_basic(t *testing.T) {
	cloud := acctest.Start(t)
	cc := cloud.Compute(t)
	name := acctest.RandomName("tf-acc-group")
	res := "stratus_compute_servergroup.test"
	get := func(id string) error { _, err := servergroups.Get(acctest.Ctx, cc, id).Extract(); return err }
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             acctest.CheckDestroy("stratus_compute_servergroup", get),
		Steps: []resource.TestStep{
			{
				Config: cloud.Config(testAccServerGroupConfig(name, "anti-affinity")),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("policies"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("anti-affinity")})),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("members"), knownvalue.ListSizeExact(0)),
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: acctest.CheckExists(res, func(id string) error {
					sg, err := servergroups.Get(acctest.Ctx, cc, id).Extract()
					if err != nil {
						return err
					}
					if sg.Name != name || len(sg.Policies) != 1 || sg.Policies[0] != "anti-affinity" {
						return fmt.Errorf("server group in the cloud: %+v", sg)
					}
					return nil
				}),
			},
			{ResourceName: res, ImportState: true, ImportStateVerify: true},
			{
				// Nova cannot change a server group: a new one.
				Config: cloud.Config(testAccServerGroupConfig(name, "soft-affinity")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionDestroyBeforeCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{ResourceName: res, ImportState: true, ImportStateVerify: true},
		},
	})
}

func TestAccComputeServerGroup_disappears(t *testing.T) {
	cloud := acctest.Start(t)
	cc := cloud.Compute(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cloud.Config(testAccServerGroupConfig(acctest.RandomName("tf-acc-group"), "affinity")),
			Check: acctest.CheckDisappears("stratus_compute_servergroup.test", func(id string) error {
				return servergroups.Delete(acctest.Ctx, cc, id).ExtractErr()
			}),
			ExpectNonEmptyPlan: true,
		}},
	})
}

func TestAccComputeServerGroup_invalidPolicy(t *testing.T) {
	cloud := acctest.Start(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      cloud.Config(testAccServerGroupConfig("bad", "nearby")),
			ExpectError: regexpMust(`value must be one of`),
		}},
	})
}

func testAccServerGroupConfig(name, policy string) string {
	return fmt.Sprintf(`
resource "stratus_compute_servergroup" "test" {
  name     = %[1]q
  policies = [%[2]q]
}
`, name, policy)
}
