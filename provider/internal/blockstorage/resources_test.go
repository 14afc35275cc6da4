package blockstorage_test

import (
	"fmt"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

var ctx = acctest.Ctx

func value(res, attr string, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(res, tfjsonpath.New(attr), v)
}

func TestAccBlockstorageVolume(t *testing.T) {
	cloud := acctest.Start(t)
	bc := cloud.BlockStorage(t)
	res := "stratus_blockstorage_volume.test"
	config := func(name string, size int, md string) string {
		return fmt.Sprintf(`
resource "stratus_blockstorage_volume" "test" {
  name     = %q
  size     = %d
  metadata = %s
}
`, name, size, md)
	}
	cloud.Test(t, acctest.Lifecycle{
		Resource: res,
		Create:   config("tf-acc-vol", 1, `{ a = "1" }`),
		// A larger size is an extend, in place.
		Update: config("tf-acc-vol-2", 2, `{ b = "2" }`),
		CreateChecks: []statecheck.StateCheck{
			value(res, "status", knownvalue.StringExact("available")),
			value(res, "volume_type", knownvalue.NotNull()),
			value(res, "availability_zone", knownvalue.NotNull()),
		},
		UpdateChecks: []statecheck.StateCheck{value(res, "size", knownvalue.Int64Exact(2))},
		Get: func(id string) error {
			v, err := volumes.Get(ctx, bc, id).Extract()
			if err == nil && len(v.Metadata) != 1 {
				return fmt.Errorf("volume %s has metadata %v", id, v.Metadata)
			}
			return err
		},
		Delete: func(id string) error { return volumes.Delete(ctx, bc, id, nil).ExtractErr() },
	})
}

func TestAccBlockstorageVolumeType(t *testing.T) {
	cloud := acctest.Start(t)
	bc := cloud.BlockStorage(t)
	res := "stratus_blockstorage_volume_type.test"
	config := func(name, specs string) string {
		return fmt.Sprintf(`
resource "stratus_blockstorage_volume_type" "test" {
  name        = %q
  description = "tf-acc"
  extra_specs = %s
}
`, name, specs)
	}
	cloud.Test(t, acctest.Lifecycle{
		Resource:     res,
		Create:       config("tf-acc-type", `{ tier = "gold" }`),
		Update:       config("tf-acc-type-2", `{ tier = "silver", replicas = "2" }`),
		CreateChecks: []statecheck.StateCheck{value(res, "is_public", knownvalue.Bool(true))},
		UpdateChecks: []statecheck.StateCheck{value(res, "extra_specs", knownvalue.MapSizeExact(2))},
		Get: func(id string) error {
			vt, err := volumetypes.Get(ctx, bc, id).Extract()
			if err == nil && vt.ExtraSpecs["tier"] == "" {
				return fmt.Errorf("volume type %s has extra specs %v", id, vt.ExtraSpecs)
			}
			return err
		},
		Delete: func(id string) error { return volumetypes.Delete(ctx, bc, id).ExtractErr() },
	})
}

func TestAccBlockstorageSnapshot(t *testing.T) {
	cloud := acctest.Start(t)
	bc := cloud.BlockStorage(t)
	res := "stratus_blockstorage_snapshot.test"
	config := func(name string) string {
		return fmt.Sprintf(`
resource "stratus_blockstorage_volume" "test" {
  name = "tf-acc-snap-source"
  size = 1
}

resource "stratus_blockstorage_snapshot" "test" {
  volume_id   = stratus_blockstorage_volume.test.id
  name        = %q
  description = %q
}
`, name, name+" description")
	}
	cloud.Test(t, acctest.Lifecycle{
		Resource: res,
		Create:   config("tf-acc-snap"),
		Update:   config("tf-acc-snap-2"),
		CreateChecks: []statecheck.StateCheck{
			value(res, "status", knownvalue.StringExact("available")),
			value(res, "size", knownvalue.Int64Exact(1)),
		},
		Get:    func(id string) error { _, err := snapshots.Get(ctx, bc, id).Extract(); return err },
		Delete: func(id string) error { return snapshots.Delete(ctx, bc, id).ExtractErr() },
	})
}
