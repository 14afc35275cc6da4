package compute_test

import (
	"fmt"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/hypervisors"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

func TestAccComputeDataSources(t *testing.T) {
	cloud := acctest.Start(t)
	cc := cloud.Compute(t)
	page, err := hypervisors.List(cc, nil).AllPages(acctest.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	hvs, err := hypervisors.ExtractHypervisors(page)
	if err != nil || len(hvs) == 0 {
		t.Fatalf("hypervisors: %v %v", hvs, err)
	}
	imageName := acctest.RandomName("tf-acc-image")
	imageID := cloud.UploadImage(t, imageName)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cloud.Config(fmt.Sprintf(`
data "stratus_compute_flavor" "small" {
  name = "m1.small"
}

data "stratus_compute_hypervisor" "host" {
  hostname = %[1]q
}

data "stratus_compute_availability_zones" "all" {}

resource "stratus_compute_instance" "test" {
  name       = "ds"
  image_id   = %[2]q
  flavor_id  = data.stratus_compute_flavor.small.id
  metadata   = { role = "ds" }
}

data "stratus_compute_instance" "test" {
  id = stratus_compute_instance.test.id
}
`, hvs[0].HypervisorHostname, imageID)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.stratus_compute_flavor.small", tfjsonpath.New("ram"), knownvalue.Int64Exact(2048)),
				statecheck.ExpectKnownValue("data.stratus_compute_flavor.small", tfjsonpath.New("id"), knownvalue.StringExact("2")),
				statecheck.ExpectKnownValue("data.stratus_compute_hypervisor.host", tfjsonpath.New("state"), knownvalue.StringExact("up")),
				statecheck.ExpectKnownValue("data.stratus_compute_hypervisor.host", tfjsonpath.New("vcpus"), knownvalue.Int64Exact(int64(hvs[0].VCPUs))),
				statecheck.ExpectKnownValue("data.stratus_compute_availability_zones.all", tfjsonpath.New("names"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("nova")})),
				statecheck.ExpectKnownValue("data.stratus_compute_instance.test", tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE")),
				statecheck.ExpectKnownValue("data.stratus_compute_instance.test", tfjsonpath.New("flavor_id"), knownvalue.StringExact("2")),
				statecheck.ExpectKnownValue("data.stratus_compute_instance.test", tfjsonpath.New("metadata"), knownvalue.MapExact(map[string]knownvalue.Check{"role": knownvalue.StringExact("ds")})),
				statecheck.ExpectKnownValue("stratus_compute_instance.test", tfjsonpath.New("image_name"), knownvalue.StringExact(imageName)),
			},
		}},
	})
}
