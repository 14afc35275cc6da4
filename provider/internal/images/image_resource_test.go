package images_test

import (
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

func sha512File(t *testing.T, p string) (string, int64) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512(data)
	return hex.EncodeToString(sum[:]), int64(len(data))
}

func TestAccImagesImage_localFile(t *testing.T) {
	cloud := acctest.Start(t)
	ic := cloud.Image(t)
	file := acctest.QCOW2File(t)
	hash, size := sha512File(t, file)
	name := acctest.RandomName("tf-acc-image")
	res := "stratus_images_image.test"
	get := func(id string) error { _, err := images.Get(acctest.Ctx, ic, id).Extract(); return err }
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             acctest.CheckDestroy("stratus_images_image", get),
		Steps: []resource.TestStep{
			{
				Config: cloud.Config(fmt.Sprintf(`
resource "stratus_images_image" "test" {
  name             = %[1]q
  local_file_path  = %[2]q
  container_format = "bare"
  disk_format      = "qcow2"
}
`, name, file)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("status"), knownvalue.StringExact("active")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("os_hash_algo"), knownvalue.StringExact("sha512")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("os_hash_value"), knownvalue.StringExact(hash)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("size_bytes"), knownvalue.Int64Exact(size)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("visibility"), knownvalue.StringExact("private")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("properties"), knownvalue.MapSizeExact(0)),
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check:            acctest.CheckExists(res, get),
			},
			{
				ResourceName: res, ImportState: true, ImportStateVerify: true,
				// Where the data came from is not part of the image.
				ImportStateVerifyIgnore: []string{"local_file_path", "verify_checksum"},
			},
			{
				Config: cloud.Config(fmt.Sprintf(`
resource "stratus_images_image" "test" {
  name             = %[1]q
  local_file_path  = %[2]q
  container_format = "bare"
  disk_format      = "qcow2"
  visibility       = "public"
  min_disk_gb      = 1
  min_ram_mb       = 128
  tags             = ["tiny", "test"]
  properties = {
    os_distro   = "busybox"
    hw_disk_bus = "virtio"
  }
}
`, name+"-2", file)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: acctest.CheckExists(res, func(id string) error {
					img, err := images.Get(acctest.Ctx, ic, id).Extract()
					if err != nil {
						return err
					}
					if img.Name != name+"-2" || img.Visibility != "public" || img.MinDiskGigabytes != 1 || img.MinRAMMegabytes != 128 ||
						len(img.Tags) != 2 || img.Properties["os_distro"] != "busybox" {
						return fmt.Errorf("image in the cloud: %+v", img)
					}
					return nil
				}),
			},
			{
				ResourceName: res, ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"local_file_path", "verify_checksum"},
			},
		},
	})
}

func TestAccImagesImage_url(t *testing.T) {
	cloud := acctest.Start(t)
	file := acctest.QCOW2File(t)
	hash, _ := sha512File(t, file)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, file)
	}))
	t.Cleanup(srv.Close)
	res := "stratus_images_image.test"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cloud.Config(fmt.Sprintf(`
resource "stratus_images_image" "test" {
  name             = "from-url"
  image_source_url = %[1]q
  container_format = "bare"
  disk_format      = "qcow2"
}
`, srv.URL+"/disk.qcow2")),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("os_hash_value"), knownvalue.StringExact(hash)),
				},
			},
		},
	})
}

// A file that is not what disk_format says is refused by Stratus's format
// inspection, and the failed image stays in state (tainted), not orphaned.
func TestAccImagesImage_wrongFormat(t *testing.T) {
	cloud := acctest.Start(t)
	ic := cloud.Image(t)
	bogus := t.TempDir() + "/not-a-disk.qcow2"
	if err := os.WriteFile(bogus, []byte("this is not a qcow2 image\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		// Destroying the tainted image must leave no image behind.
		CheckDestroy: func(*terraform.State) error {
			page, err := images.List(ic, images.ListOpts{Name: "bogus"}).AllPages(acctest.Ctx)
			if err != nil {
				return err
			}
			list, err := images.ExtractImages(page)
			if err != nil {
				return err
			}
			if len(list) != 0 {
				return fmt.Errorf("orphaned image %s (%s)", list[0].ID, list[0].Status)
			}
			return nil
		},
		Steps: []resource.TestStep{{
			Config: cloud.Config(fmt.Sprintf(`
resource "stratus_images_image" "test" {
  name             = "bogus"
  local_file_path  = %[1]q
  container_format = "bare"
  disk_format      = "qcow2"
}
`, bogus)),
			ExpectError: regexp.MustCompile(`uploading the data of Image`),
		}},
	})
}

func TestAccImagesImage_disappears(t *testing.T) {
	cloud := acctest.Start(t)
	ic := cloud.Image(t)
	file := acctest.QCOW2File(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cloud.Config(fmt.Sprintf(`
resource "stratus_images_image" "test" {
  name             = "gone"
  local_file_path  = %[1]q
  container_format = "bare"
  disk_format      = "qcow2"
}
`, file)),
			Check: acctest.CheckDisappears("stratus_images_image.test", func(id string) error {
				return images.Delete(acctest.Ctx, ic, id).ExtractErr()
			}),
			ExpectNonEmptyPlan: true,
		}},
	})
}
