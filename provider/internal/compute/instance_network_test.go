package compute_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

// networksConfig is a server with a NIC on a port made beforehand (b) and
// one Nova creates on network a, in security group tf-acc-<group>.
func networksConfig(name, image, group string) string {
	return networksBase + networksServer(name, image, group)
}

// networksBase is what the server of networksConfig needs.
const networksBase = `
resource "stratus_networking_network" "a" {
  name = "tf-acc-a"
}

resource "stratus_networking_subnet" "a" {
  network_id = stratus_networking_network.a.id
  cidr       = "10.20.0.0/24"
}

resource "stratus_networking_network" "b" {
  name = "tf-acc-b"
}

resource "stratus_networking_subnet" "b" {
  network_id = stratus_networking_network.b.id
  cidr       = "10.21.0.0/24"
}

resource "stratus_networking_secgroup" "web" {
  name = "tf-acc-web"
}

resource "stratus_networking_secgroup" "db" {
  name = "tf-acc-db"
}

resource "stratus_networking_port" "b" {
  network_id = stratus_networking_network.b.id
  depends_on = [stratus_networking_subnet.b]
}
`

func networksServer(name, image, group string) string {
	return fmt.Sprintf(`
resource "stratus_compute_instance" "test" {
  name            = %q
  image_name      = %q
  flavor_name     = "m1.tiny"
  security_groups = [stratus_networking_secgroup.%s.name]

  # NICs follow this order, though port b was made before the server's
  # own port: an import must read them back the same way.
  network {
    uuid        = stratus_networking_network.a.id
    fixed_ip_v4 = "10.20.0.50"
  }

  network {
    port = stratus_networking_port.b.id
  }

  depends_on = [stratus_networking_subnet.a]
}
`, name, image, group)
}

// TestAccComputeInstance_networks: NICs by network and by port, read back
// from Neutron so that the second plan is empty and an import matches; the
// update changes the security groups in place, on every port.
func TestAccComputeInstance_networks(t *testing.T) {
	cloud := acctest.Start(t)
	cc, nc := cloud.Compute(t), cloud.Network(t)
	image := acctest.RandomName("tf-acc-image")
	cloud.UploadImage(t, image)
	res := "stratus_compute_instance.test"
	cloud.Test(t, acctest.Lifecycle{
		Resource: res,
		Create:   networksConfig("tf-acc-nics", image, "web"),
		Update:   networksConfig("tf-acc-nics-2", image, "db"),
		CreateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue(res, tfjsonpath.New("network").AtSliceIndex(0).AtMapKey("fixed_ip_v4"), knownvalue.StringExact("10.20.0.50")),
			statecheck.ExpectKnownValue(res, tfjsonpath.New("network").AtSliceIndex(0).AtMapKey("name"), knownvalue.StringExact("tf-acc-a")),
			statecheck.ExpectKnownValue(res, tfjsonpath.New("access_ip_v4"), knownvalue.StringExact("10.20.0.50")),
			statecheck.CompareValuePairs(res, tfjsonpath.New("network").AtSliceIndex(1).AtMapKey("mac"),
				"stratus_networking_port.b", tfjsonpath.New("mac_address"), compare.ValuesSame()),
		},
		// The lifecycle checks that the update is planned in place.
		UpdateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue(res, tfjsonpath.New("security_groups"), knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("tf-acc-db")})),
		},
		// An import sees the groups of every port, port b's default
		// included.
		ImportIgnore: []string{"user_data", "scheduler_hints", "security_groups"},
		Get: func(id string) error {
			srv, err := servers.Get(acctest.Ctx, cc, id).Extract()
			if err == nil && len(srv.Addresses) != 2 {
				return fmt.Errorf("server %s has addresses %v", id, srv.Addresses)
			}
			if err != nil {
				return err
			}
			// Nova's actions put the group on every port and take the
			// other off every port, port b's included; port b keeps its
			// own default group.
			group := map[string]string{"tf-acc-nics": "tf-acc-web", "tf-acc-nics-2": "tf-acc-db"}[srv.Name]
			other := map[string]string{"tf-acc-nics": "tf-acc-db", "tf-acc-nics-2": "tf-acc-web"}[srv.Name]
			page, err := ports.List(nc, ports.ListOpts{DeviceID: id}).AllPages(acctest.Ctx)
			if err != nil {
				return err
			}
			list, err := ports.ExtractPorts(page)
			if err != nil {
				return err
			}
			page, err = groups.List(nc, groups.ListOpts{}).AllPages(acctest.Ctx)
			if err != nil {
				return err
			}
			all, err := groups.ExtractGroups(page)
			if err != nil {
				return err
			}
			for _, p := range list {
				var got []string
				for _, g := range all {
					if slices.Contains(p.SecurityGroups, g.ID) {
						got = append(got, g.Name)
					}
				}
				novas := len(p.FixedIPs) == 1 && p.FixedIPs[0].IPAddress == "10.20.0.50"
				if novas && !slices.Equal(got, []string{group}) ||
					!novas && (!slices.Contains(got, "default") || slices.Contains(got, other)) ||
					!novas && group == "tf-acc-db" && !slices.Contains(got, group) {
					return fmt.Errorf("server %s (%s): port %s has security groups %v", id, srv.Name, p.ID, got)
				}
			}
			return nil
		},
		Delete: func(id string) error { return servers.Delete(acctest.Ctx, cc, id).ExtractErr() },
	})
}

// TestAccComputeInstance_bootFromVolume: a root volume made from an image
// by block_device_mapping_v2, deleted with the server.
func bootFromVolumeConfig(name, imageID string) string {
	return fmt.Sprintf(`
resource "stratus_compute_instance" "test" {
  name        = %q
  flavor_name = "m1.tiny"

  block_device {
    source_type           = "image"
    uuid                  = %q
    destination_type      = "volume"
    volume_size           = 1
    boot_index            = 0
    delete_on_termination = true
  }
}
`, name, imageID)
}

func TestAccComputeInstance_bootFromVolume(t *testing.T) {
	cloud := acctest.Start(t)
	cc := cloud.Compute(t)
	image := acctest.RandomName("tf-acc-image")
	imageID := cloud.UploadImage(t, image)
	res := "stratus_compute_instance.test"
	cloud.Test(t, acctest.Lifecycle{
		Resource: res,
		Create:   bootFromVolumeConfig("tf-acc-bfv", imageID),
		Update:   bootFromVolumeConfig("tf-acc-bfv-2", imageID),
		// Block devices are not read back, so an import has none.
		ImportIgnore: []string{"user_data", "scheduler_hints", "block_device"},
		Get:          func(id string) error { _, err := servers.Get(acctest.Ctx, cc, id).Extract(); return err },
		Delete:       func(id string) error { return servers.Delete(acctest.Ctx, cc, id).ExtractErr() },
	})
}

// TestAccComputeInstance_importBootFromVolume: importing a server booted
// from a volume, whose block devices an import cannot know, plans an
// in-place update that records them, not the server's replacement.
func TestAccComputeInstance_importBootFromVolume(t *testing.T) {
	cloud := acctest.Start(t)
	cc := cloud.Compute(t)
	image := acctest.RandomName("tf-acc-image")
	imageID := cloud.UploadImage(t, image)
	res := "stratus_compute_instance.test"
	config := bootFromVolumeConfig("tf-acc-bfv-import", imageID)
	steps := []resource.TestStep{{
		Config: cloud.Config(config), ResourceName: res, ImportState: true, ImportStateKind: resource.ImportBlockWithID,
		ExpectNonEmptyPlan: true,
		ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
			plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
		}},
	}}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps:                    append(cloud.ImportThenApply(res, "", config), steps...),
		CheckDestroy: acctest.CheckDestroy("stratus_compute_instance", func(id string) error {
			_, err := servers.Get(acctest.Ctx, cc, id).Extract()
			return err
		}),
	})
}

// TestAccComputeInstance_importNetworks: an import reads the groups of all
// ports, port b's default included; the first apply after it must not take
// default off port b, which Terraform did not give it.
func TestAccComputeInstance_importNetworks(t *testing.T) {
	cloud := acctest.Start(t)
	cc, nc := cloud.Compute(t), cloud.Network(t)
	image := acctest.RandomName("tf-acc-image")
	cloud.UploadImage(t, image)
	res := "stratus_compute_instance.test"
	config := networksConfig("tf-acc-nics-import", image, "web")
	server := networksServer("tf-acc-nics-import", image, "web")
	portB := func(s *terraform.State) error {
		id, err := acctest.ID(s, "stratus_networking_port.b")
		if err != nil {
			return err
		}
		p, err := ports.Get(acctest.Ctx, nc, id).Extract()
		if err != nil {
			return err
		}
		if len(p.SecurityGroups) != 1 {
			return fmt.Errorf("port b has security groups %v, want its default", p.SecurityGroups)
		}
		return nil
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: append(cloud.ImportThenApply(res, networksBase, server), resource.TestStep{
			Config: cloud.Config(config), Check: portB,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(res, tfjsonpath.New("security_groups"), knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("tf-acc-web")})),
			},
		}),
		CheckDestroy: acctest.CheckDestroy("stratus_compute_instance", func(id string) error {
			_, err := servers.Get(acctest.Ctx, cc, id).Extract()
			return err
		}),
	})
}
