package images_test

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

func TestAccImagesImageDataSource(t *testing.T) {
	cloud := acctest.Start(t)
	first := cloud.UploadImage(t, "cirros")
	time.Sleep(1100 * time.Millisecond) // created_at apart, whatever its resolution
	second := cloud.UploadImage(t, "cirros")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      cloud.Config(`data "stratus_images_image" "x" { name = "cirros" }`),
				ExpectError: regexp.MustCompile(`2 images match`),
			},
			{
				Config: cloud.Config(fmt.Sprintf(`
data "stratus_images_image" "latest" {
  name        = "cirros"
  most_recent = true
}

data "stratus_images_image" "by_id" {
  id = %[1]q
}
`, first)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.stratus_images_image.latest", tfjsonpath.New("id"), knownvalue.StringExact(second)),
					statecheck.ExpectKnownValue("data.stratus_images_image.by_id", tfjsonpath.New("disk_format"), knownvalue.StringExact("qcow2")),
					statecheck.ExpectKnownValue("data.stratus_images_image.by_id", tfjsonpath.New("status"), knownvalue.StringExact("active")),
				},
			},
		},
	})
}
