package compute_test

import (
	"fmt"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

// TestAccComputeInstance_networks: NICs by network and by port, read back
// from Neutron so that the second plan is empty and an import matches.
func TestAccComputeInstance_networks(t *testing.T) {
	cloud := acctest.Start(t)
	cc := cloud.Compute(t)
	image := acctest.RandomName("tf-acc-image")
	cloud.UploadImage(t, image)
	res := "stratus_compute_instance.test"
	config := func(name string) string {
		return fmt.Sprintf(`
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

resource "stratus_networking_port" "b" {
  network_id = stratus_networking_network.b.id
  depends_on = [stratus_networking_subnet.b]
}

resource "stratus_compute_instance" "test" {
  name            = %q
  image_name      = %q
  flavor_name     = "m1.tiny"
  security_groups = [stratus_networking_secgroup.web.name]

  # The cloud orders a server's NICs by the creation of their ports, not
  # as listed here, so the port made beforehand comes first.
  network {
    port = stratus_networking_port.b.id
  }

  network {
    uuid        = stratus_networking_network.a.id
    fixed_ip_v4 = "10.20.0.50"
  }

  depends_on = [stratus_networking_subnet.a]
}
`, name, image)
	}
	cloud.Test(t, acctest.Lifecycle{
		Resource: res,
		Create:   config("tf-acc-nics"),
		Update:   config("tf-acc-nics-2"),
		CreateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue(res, tfjsonpath.New("network").AtSliceIndex(1).AtMapKey("fixed_ip_v4"), knownvalue.StringExact("10.20.0.50")),
			statecheck.ExpectKnownValue(res, tfjsonpath.New("network").AtSliceIndex(1).AtMapKey("name"), knownvalue.StringExact("tf-acc-a")),
			statecheck.CompareValuePairs(res, tfjsonpath.New("access_ip_v4"),
				"stratus_networking_port.b", tfjsonpath.New("all_fixed_ips").AtSliceIndex(0), compare.ValuesSame()),
			statecheck.CompareValuePairs(res, tfjsonpath.New("network").AtSliceIndex(0).AtMapKey("mac"),
				"stratus_networking_port.b", tfjsonpath.New("mac_address"), compare.ValuesSame()),
		},
		// An import sees the groups of every port, port b's default
		// included.
		ImportIgnore: []string{"user_data", "scheduler_hints", "security_groups"},
		Get: func(id string) error {
			srv, err := servers.Get(acctest.Ctx, cc, id).Extract()
			if err == nil && len(srv.Addresses) != 2 {
				return fmt.Errorf("server %s has addresses %v", id, srv.Addresses)
			}
			if err == nil && len(srv.SecurityGroups) != 2 {
				return fmt.Errorf("server %s has security groups %v, want tf-acc-web and port b's default", id, srv.SecurityGroups)
			}
			return err
		},
		Delete: func(id string) error { return servers.Delete(acctest.Ctx, cc, id).ExtractErr() },
	})
}

// TestAccComputeInstance_bootFromVolume: a root volume made from an image
// by block_device_mapping_v2, deleted with the server.
func TestAccComputeInstance_bootFromVolume(t *testing.T) {
	cloud := acctest.Start(t)
	cc := cloud.Compute(t)
	image := acctest.RandomName("tf-acc-image")
	imageID := cloud.UploadImage(t, image)
	res := "stratus_compute_instance.test"
	config := func(name string) string {
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
	cloud.Test(t, acctest.Lifecycle{
		Resource:     res,
		Create:       config("tf-acc-bfv"),
		Update:       config("tf-acc-bfv-2"),
		ImportIgnore: []string{"user_data", "scheduler_hints", "block_device"},
		Get:          func(id string) error { _, err := servers.Get(acctest.Ctx, cc, id).Extract(); return err },
		Delete:       func(id string) error { return servers.Delete(acctest.Ctx, cc, id).ExtractErr() },
	})
}
