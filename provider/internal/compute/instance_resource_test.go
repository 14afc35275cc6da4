package compute_test

import (
	"fmt"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

func TestAccComputeInstance_basic(t *testing.T) {
	cloud := acctest.Start(t)
	cc := cloud.Compute(t)
	imageName := acctest.RandomName("tf-acc-image")
	imageID := cloud.UploadImage(t, imageName)
	name := acctest.RandomName("tf-acc-server")
	res := "stratus_compute_instance.test"
	get := func(id string) error { _, err := servers.Get(acctest.Ctx, cc, id).Extract(); return err }
	server := func(check func(*servers.Server) error) func(string) error {
		return func(id string) error {
			srv, err := servers.Get(acctest.Ctx, cc, id).Extract()
			if err != nil {
				return err
			}
			return check(srv)
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             acctest.CheckDestroy("stratus_compute_instance", get),
		Steps: []resource.TestStep{
			{
				Config: cloud.Config(testAccInstanceConfig(name, imageName, "m1.tiny", "active", `{ role = "web" }`)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("image_id"), knownvalue.StringExact(imageID)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("flavor_name"), knownvalue.StringExact("m1.tiny")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("power_state"), knownvalue.StringExact("active")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("key_pair"), knownvalue.StringExact("tf-acc-key-group")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("availability_zone"), knownvalue.StringExact("nova")),
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: resource.ComposeTestCheckFunc(
					acctest.CheckExists(res, server(func(srv *servers.Server) error {
						if srv.Name != name || srv.Status != "ACTIVE" || srv.Metadata["role"] != "web" || srv.KeyName != "tf-acc-key-group" {
							return fmt.Errorf("server in the cloud: %s %s %v key %q", srv.Name, srv.Status, srv.Metadata, srv.KeyName)
						}
						return nil
					})),
					// The scheduler hint put the server in the group.
					acctest.CheckExists("stratus_compute_servergroup.test", func(id string) error {
						sg, err := servergroups.Get(acctest.Ctx, cc, id).Extract()
						if err != nil {
							return err
						}
						if len(sg.Members) != 1 {
							return fmt.Errorf("server group members: %v", sg.Members)
						}
						return nil
					}),
				),
			},
			{
				ResourceName: res, ImportState: true, ImportStateVerify: true,
				// Nova does not return user_data; hints are not part of a server.
				ImportStateVerifyIgnore: []string{"user_data", "scheduler_hints"},
			},
			{
				// Rename, new metadata, stopped and resized: all in place.
				Config: cloud.Config(testAccInstanceConfig(name+"-2", imageName, "m1.small", "shutoff", `{ role = "db", tier = "2" }`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("status"), knownvalue.StringExact("SHUTOFF")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("flavor_name"), knownvalue.StringExact("m1.small")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("flavor_id"), knownvalue.StringExact("2")),
				},
				Check: acctest.CheckExists(res, server(func(srv *servers.Server) error {
					if srv.Name != name+"-2" || srv.Status != "SHUTOFF" || srv.Flavor["id"] != "2" || len(srv.Metadata) != 2 || srv.Metadata["role"] != "db" {
						return fmt.Errorf("server in the cloud: %s %s flavor %v %v", srv.Name, srv.Status, srv.Flavor["id"], srv.Metadata)
					}
					return nil
				})),
			},
			{
				ResourceName: res, ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"user_data", "scheduler_hints"},
			},
			{
				// Started again.
				Config: cloud.Config(testAccInstanceConfig(name+"-2", imageName, "m1.small", "active", `{ role = "db", tier = "2" }`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				},
			},
		},
	})
}

func TestAccComputeInstance_disappears(t *testing.T) {
	cloud := acctest.Start(t)
	cc := cloud.Compute(t)
	imageName := acctest.RandomName("tf-acc-image")
	cloud.UploadImage(t, imageName)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cloud.Config(fmt.Sprintf(`
resource "stratus_compute_instance" "test" {
  name        = "gone"
  image_name  = %[1]q
  flavor_name = "m1.tiny"
}
`, imageName)),
			Check: acctest.CheckDisappears("stratus_compute_instance.test", func(id string) error {
				return servers.Delete(acctest.Ctx, cc, id).ExtractErr()
			}),
			ExpectNonEmptyPlan: true,
		}},
	})
}

func testAccInstanceConfig(name, image, flavor, power, metadata string) string {
	return fmt.Sprintf(`
resource "stratus_compute_keypair" "test" {
  name = %[1]q
}

resource "stratus_compute_servergroup" "test" {
  name     = %[1]q
  policies = ["anti-affinity"]
}

resource "stratus_compute_instance" "test" {
  name        = %[2]q
  image_name  = %[3]q
  flavor_name = %[4]q
  key_pair    = stratus_compute_keypair.test.name
  power_state = %[5]q
  metadata    = %[6]s
  user_data   = "#!/bin/sh\necho hello from terraform\n"

  scheduler_hints {
    group = stratus_compute_servergroup.test.id
  }
}
`, "tf-acc-key-group", name, image, flavor, power, metadata)
}
