package compute_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

func TestAccComputeVolumeAttach(t *testing.T) {
	cloud := acctest.Start(t)
	cc, bc := cloud.Compute(t), cloud.BlockStorage(t)
	image := acctest.RandomName("tf-acc-image")
	cloud.UploadImage(t, image)
	res := "stratus_compute_volume_attach.test"
	config := func(volume, device string) string {
		return fmt.Sprintf(`
resource "stratus_compute_instance" "test" {
  name        = "tf-acc-attach"
  image_name  = %q
  flavor_name = "m1.tiny"
}

resource "stratus_blockstorage_volume" "a" {
  name = "tf-acc-a"
  size = 1
}

resource "stratus_blockstorage_volume" "b" {
  name = "tf-acc-b"
  size = 1
}

resource "stratus_compute_volume_attach" "test" {
  instance_id = stratus_compute_instance.test.id
  volume_id   = stratus_blockstorage_volume.%s.id
  %s
}
`, image, volume, device)
	}
	split := func(id string) (string, string) { server, volume, _ := strings.Cut(id, "/"); return server, volume }
	cloud.Test(t, acctest.Lifecycle{
		Resource: res,
		Create:   config("a", ""),
		// Moving the attachment to another volume replaces it. Nova may
		// name the device otherwise than asked; the state keeps the
		// configured name, which an import cannot know.
		Update:       config("b", `device = "/dev/vdx"`),
		Replace:      true,
		ImportIgnore: []string{"device"},
		CreateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue(res, tfjsonpath.New("device"), knownvalue.StringRegexp(regexpMust(`^/dev/[sv]d[b-z]$`))),
		},
		Get: func(id string) error {
			server, volume := split(id)
			if _, err := volumeattach.Get(acctest.Ctx, cc, server, volume).Extract(); err != nil {
				return err
			}
			v, err := volumes.Get(acctest.Ctx, bc, volume).Extract()
			if err == nil && v.Status != "in-use" {
				return fmt.Errorf("attached volume %s is %s", volume, v.Status)
			}
			return err
		},
		Delete: func(id string) error {
			server, volume := split(id)
			return volumeattach.Delete(acctest.Ctx, cc, server, volume).ExtractErr()
		},
	})
}
