package identity_test

import (
	"fmt"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
	"github.com/stratus-cloud/stratus/provider/internal/client"
)

func TestAccIdentityProject_basic(t *testing.T) {
	cloud := acctest.Start(t)
	ic := cloud.Identity(t)
	name := acctest.RandomName("tf-acc-project")
	res := "stratus_identity_project.test"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckProjectDestroy(ic),
		Steps: []resource.TestStep{
			{
				Config: cloud.Config(testAccProjectConfig_basic(name)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("name"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("description"), knownvalue.StringExact("")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("tags"), knownvalue.SetSizeExact(0)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("domain_id"), knownvalue.StringExact("default")),
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: testAccCheckProjectExists(ic, res, func(p *projects.Project) error {
					if p.Name != name || !p.Enabled {
						return fmt.Errorf("project in the cloud: %+v", p)
					}
					return nil
				}),
			},
			{
				ResourceName:      res,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				Config: cloud.Config(testAccProjectConfig_full(name+"-2", "web team", false, `["prod", "web"]`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("name"), knownvalue.StringExact(name+"-2")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("description"), knownvalue.StringExact("web team")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("enabled"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("tags"), knownvalue.SetExact([]knownvalue.Check{
						knownvalue.StringExact("prod"), knownvalue.StringExact("web"),
					})),
				},
				Check: testAccCheckProjectExists(ic, res, func(p *projects.Project) error {
					if p.Description != "web team" || p.Enabled || len(p.Tags) != 2 {
						return fmt.Errorf("project in the cloud: %+v", p)
					}
					return nil
				}),
			},
			{
				ResourceName:      res,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// Back to the defaults: removing optional settings resets them.
				Config: cloud.Config(testAccProjectConfig_basic(name)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("description"), knownvalue.StringExact("")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("tags"), knownvalue.SetSizeExact(0)),
				},
			},
		},
	})
}

func TestAccIdentityProject_disappears(t *testing.T) {
	cloud := acctest.Start(t)
	ic := cloud.Identity(t)
	name := acctest.RandomName("tf-acc-project")
	res := "stratus_identity_project.test"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             testAccCheckProjectDestroy(ic),
		Steps: []resource.TestStep{
			{
				Config: cloud.Config(testAccProjectConfig_basic(name)),
				Check: resource.ComposeTestCheckFunc(
					testAccCheckProjectExists(ic, res, nil),
					func(s *terraform.State) error {
						id := s.RootModule().Resources[res].Primary.ID
						return projects.Delete(acctest.Ctx, ic, id).ExtractErr()
					},
				),
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

func testAccCheckProjectExists(ic *gophercloud.ServiceClient, res string, check func(*projects.Project) error) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[res]
		if !ok {
			return fmt.Errorf("%s not in state", res)
		}
		p, err := projects.Get(acctest.Ctx, ic, rs.Primary.ID).Extract()
		if err != nil {
			return err
		}
		if check != nil {
			return check(p)
		}
		return nil
	}
}

func testAccCheckProjectDestroy(ic *gophercloud.ServiceClient) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		for _, rs := range s.RootModule().Resources {
			if rs.Type != "stratus_identity_project" {
				continue
			}
			_, err := projects.Get(acctest.Ctx, ic, rs.Primary.ID).Extract()
			if err == nil {
				return fmt.Errorf("project %s still exists", rs.Primary.ID)
			}
			if !client.IsNotFound(err) {
				return err
			}
		}
		return nil
	}
}

func testAccProjectConfig_basic(name string) string {
	return fmt.Sprintf(`
resource "stratus_identity_project" "test" {
  name = %[1]q
}
`, name)
}

func testAccProjectConfig_full(name, description string, enabled bool, tags string) string {
	return fmt.Sprintf(`
resource "stratus_identity_project" "test" {
  name        = %[1]q
  description = %[2]q
  enabled     = %[3]t
  tags        = %[4]s
}
`, name, description, enabled, tags)
}
