package compute_test

import (
	"fmt"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

func TestAccComputeFlavor_basic(t *testing.T) {
	cloud := acctest.Start(t)
	cc := cloud.Compute(t)
	name := acctest.RandomName("tf-acc-flavor")
	res := "stratus_compute_flavor.test"
	get := func(id string) error { _, err := flavors.Get(acctest.Ctx, cc, id).Extract(); return err }
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             acctest.CheckDestroy("stratus_compute_flavor", get),
		Steps: []resource.TestStep{
			{
				Config: cloud.Config(testAccFlavorConfig(name, `{ "hw:cpu_policy" = "shared" }`)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("ram"), knownvalue.Int64Exact(512)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("swap"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("rx_tx_factor"), knownvalue.Float64Exact(1)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("is_public"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("extra_specs"), knownvalue.MapExact(map[string]knownvalue.Check{
						"hw:cpu_policy": knownvalue.StringExact("shared"),
					})),
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: acctest.CheckExists(res, func(id string) error {
					f, err := flavors.Get(acctest.Ctx, cc, id).Extract()
					if err != nil {
						return err
					}
					if f.Name != name || f.RAM != 512 || f.VCPUs != 1 || f.Disk != 1 {
						return fmt.Errorf("flavor in the cloud: %+v", f)
					}
					return nil
				}),
			},
			{ResourceName: res, ImportState: true, ImportStateVerify: true},
			{
				// Extra specs change in place.
				Config: cloud.Config(testAccFlavorConfig(name, `{ "hw:mem_page_size" = "large", "quota:cpu_shares" = "512" }`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: acctest.CheckExists(res, func(id string) error {
					specs, err := flavors.ListExtraSpecs(acctest.Ctx, cc, id).Extract()
					if err != nil {
						return err
					}
					if len(specs) != 2 || specs["hw:mem_page_size"] != "large" || specs["quota:cpu_shares"] != "512" {
						return fmt.Errorf("extra specs in the cloud: %v", specs)
					}
					return nil
				}),
			},
			{ResourceName: res, ImportState: true, ImportStateVerify: true},
			{
				// The size cannot change: a new flavor.
				Config: cloud.Config(fmt.Sprintf(`
resource "stratus_compute_flavor" "test" {
  name      = %[1]q
  ram       = 1024
  vcpus     = 1
  disk      = 1
  is_public = false
}
`, name)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("ram"), knownvalue.Int64Exact(1024)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("extra_specs"), knownvalue.MapSizeExact(0)),
				},
			},
		},
	})
}

func TestAccComputeFlavor_disappears(t *testing.T) {
	cloud := acctest.Start(t)
	cc := cloud.Compute(t)
	res := "stratus_compute_flavor.test"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cloud.Config(testAccFlavorConfig(acctest.RandomName("tf-acc-flavor"), "{}")),
			Check: acctest.CheckDisappears(res, func(id string) error {
				return flavors.Delete(acctest.Ctx, cc, id).ExtractErr()
			}),
			ExpectNonEmptyPlan: true,
		}},
	})
}

func testAccFlavorConfig(name, specs string) string {
	return fmt.Sprintf(`
resource "stratus_compute_flavor" "test" {
  name        = %[1]q
  ram         = 512
  vcpus       = 1
  disk        = 1
  extra_specs = %[2]s
}
`, name, specs)
}
