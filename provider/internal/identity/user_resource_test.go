package identity_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

// login checks that user can log in to project with password.
func login(cloud *acctest.Cloud, user, password, project string) error {
	_, err := openstack.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{
		IdentityEndpoint: cloud.AuthURL, Username: user, Password: password, DomainName: "Default", TenantName: project,
	})
	return err
}

func TestAccIdentityUser_basic(t *testing.T) {
	cloud := acctest.Start(t)
	ic := cloud.Identity(t)
	name := acctest.RandomName("tf-acc-user")
	res := "stratus_identity_user.test"
	get := func(id string) error { _, err := users.Get(acctest.Ctx, ic, id).Extract(); return err }
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             acctest.CheckDestroy("stratus_identity_user", get),
		Steps: []resource.TestStep{
			{
				Config: cloud.Config(testAccUserConfig(name, "first-Secret-1", true)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("domain_id"), knownvalue.StringExact("default")),
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				// The role assignment lets the user log in to the project.
				Check: func(*terraform.State) error { return login(cloud, name, "first-Secret-1", name) },
			},
			{
				ResourceName: res, ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"password"},
			},
			{
				ResourceName: "stratus_identity_role_assignment.test", ImportState: true, ImportStateVerify: true,
			},
			{
				// New password and description in place; the old password stops working.
				Config: cloud.Config(testAccUserConfig(name, "second-Secret-2", true)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					if err := login(cloud, name, "first-Secret-1", name); err == nil {
						return fmt.Errorf("the old password still works")
					}
					return login(cloud, name, "second-Secret-2", name)
				},
			},
			{
				Config: cloud.Config(testAccUserConfig(name, "second-Secret-2", false)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				Check: func(*terraform.State) error {
					if err := login(cloud, name, "second-Secret-2", name); err == nil {
						return fmt.Errorf("a disabled user can log in")
					}
					return nil
				},
			},
		},
	})
}

func TestAccIdentityUser_disappears(t *testing.T) {
	cloud := acctest.Start(t)
	ic := cloud.Identity(t)
	name := acctest.RandomName("tf-acc-user")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cloud.Config(testAccUserConfig(name, "Secret-pw-1", true)),
				Check: acctest.CheckDisappears("stratus_identity_user.test", func(id string) error {
					return users.Delete(acctest.Ctx, ic, id).ExtractErr()
				}),
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

func TestAccIdentityRoleAssignment_disappears(t *testing.T) {
	cloud := acctest.Start(t)
	ic := cloud.Identity(t)
	name := acctest.RandomName("tf-acc-user")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cloud.Config(testAccUserConfig(name, "Secret-pw-1", true)),
				Check: func(s *terraform.State) error {
					a := s.RootModule().Resources["stratus_identity_role_assignment.test"].Primary.Attributes
					return roles.Unassign(acctest.Ctx, ic, a["role_id"], roles.UnassignOpts{UserID: a["user_id"], ProjectID: a["project_id"]}).ExtractErr()
				},
				ExpectNonEmptyPlan: true,
			},
			{
				// The next apply grants the role again.
				Config: cloud.Config(testAccUserConfig(name, "Secret-pw-1", true)),
				Check: func(s *terraform.State) error {
					a := s.RootModule().Resources["stratus_identity_role_assignment.test"].Primary.Attributes
					return roles.Validate(acctest.Ctx, ic, a["role_id"], roles.ValidateOpts{UserID: a["user_id"], ProjectID: a["project_id"]}).ExtractErr()
				},
			},
			{
				// terraform-provider-openstack's import id form works too.
				Config:            cloud.Config(testAccUserConfig(name, "Secret-pw-1", true)),
				ResourceName:      "stratus_identity_role_assignment.test",
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: func(s *terraform.State) (string, error) {
					a := s.RootModule().Resources["stratus_identity_role_assignment.test"].Primary.Attributes
					return "/" + a["project_id"] + "//" + a["user_id"] + "/" + a["role_id"], nil
				},
			},
		},
	})
}

func testAccUserConfig(name, password string, enabled bool) string {
	return fmt.Sprintf(`
resource "stratus_identity_project" "test" {
  name = %[1]q
}

resource "stratus_identity_user" "test" {
  name               = %[1]q
  description        = "user for %[1]s"
  password           = %[2]q
  enabled            = %[3]t
  default_project_id = stratus_identity_project.test.id
}

data "stratus_identity_role" "member" {
  name = "member"
}

resource "stratus_identity_role_assignment" "test" {
  project_id = stratus_identity_project.test.id
  user_id    = stratus_identity_user.test.id
  role_id    = data.stratus_identity_role.member.id
}
`, name, password, enabled)
}

func TestAccIdentityApplicationCredential_basic(t *testing.T) {
	cloud := acctest.Start(t)
	ic := cloud.Identity(t)
	res := "stratus_identity_application_credential.test"
	var userID string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			for _, rs := range s.RootModule().Resources {
				if rs.Type == "stratus_identity_application_credential" {
					if _, err := applicationcredentials.Get(acctest.Ctx, ic, rs.Primary.Attributes["user_id"], rs.Primary.ID).Extract(); err == nil {
						return fmt.Errorf("application credential %s still exists", rs.Primary.ID)
					}
				}
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cloud.Config(`
resource "stratus_identity_application_credential" "test" {
  name        = "ci"
  description = "for CI"
  roles       = ["reader"]
  expires_at  = "2099-01-02T03:04:05Z"
}
`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("unrestricted"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("roles"), knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("reader")})),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("expires_at"), knownvalue.StringExact("2099-01-02T03:04:05Z")),
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				// The generated secret logs in.
				Check: func(s *terraform.State) error {
					a := s.RootModule().Resources[res].Primary.Attributes
					userID = a["user_id"]
					_, err := openstack.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{
						IdentityEndpoint: cloud.AuthURL, ApplicationCredentialID: a["id"], ApplicationCredentialSecret: a["secret"],
					})
					return err
				},
			},
			{
				ResourceName: res, ImportState: true, ImportStateVerify: true,
				// Keystone returns the secret only on create.
				ImportStateVerifyIgnore: []string{"secret"},
			},
			{
				// Nothing can change: a new credential.
				Config: cloud.Config(`
resource "stratus_identity_application_credential" "test" {
  name   = "ci"
  secret = "my-own-Secret-123"
}
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionDestroyBeforeCreate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				Config: cloud.Config(`
resource "stratus_identity_application_credential" "test" {
  name   = "ci"
  secret = "my-own-Secret-123"
}
`),
				Check: acctest.CheckDisappears(res, func(id string) error {
					return applicationcredentials.Delete(acctest.Ctx, ic, userID, id).ExtractErr()
				}),
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

func TestAccIdentityDataSources(t *testing.T) {
	cloud := acctest.Start(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cloud.Config(`
data "stratus_identity_project" "admin" {
  name = "admin"
}

data "stratus_identity_project" "by_id" {
  id = data.stratus_identity_project.admin.id
}

data "stratus_identity_role" "reader" {
  name = "reader"
}
`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.stratus_identity_project.by_id", tfjsonpath.New("name"), knownvalue.StringExact("admin")),
				statecheck.ExpectKnownValue("data.stratus_identity_project.admin", tfjsonpath.New("enabled"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue("data.stratus_identity_role.reader", tfjsonpath.New("id"), knownvalue.NotNull()),
			},
		}},
	})
}
