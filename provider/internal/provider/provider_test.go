package provider_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

func TestMain(m *testing.M) { acctest.Main(m) }

const adminProject = `
data "stratus_identity_project" "admin" {
  name = "admin"
}
`

var adminChecks = []statecheck.StateCheck{
	statecheck.ExpectKnownValue("data.stratus_identity_project.admin", tfjsonpath.New("enabled"), knownvalue.Bool(true)),
}

// `source admin-openrc.sh; terraform apply` with an empty provider block.
// Not parallel: it sets the process environment.
func TestAccProvider_openrc(t *testing.T) {
	cloud := acctest.Start(t)
	for _, kv := range cloud.Env(t) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:            `provider "stratus" {}` + adminProject,
			ConfigStateChecks: adminChecks,
		}},
	})
}

// cloud = "..." reads clouds.yaml (OS_CLIENT_CONFIG_FILE); explicit
// settings override it.
func TestAccProvider_cloudsYAML(t *testing.T) {
	cloud := acctest.Start(t)
	f := filepath.Join(t.TempDir(), "clouds.yaml")
	yaml := fmt.Sprintf(`clouds:
  stratus:
    auth:
      auth_url: %s
      username: admin
      password: wrong-password
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
`, cloud.AuthURL)
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", f)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      `provider "stratus" { cloud = "stratus" }` + adminProject,
				ExpectError: regexp.MustCompile(`(?i)authenticat`),
			},
			{
				Config:            fmt.Sprintf("provider \"stratus\" {\n  cloud    = \"stratus\"\n  password = %q\n}\n", cloud.AdminPassword) + adminProject,
				ConfigStateChecks: adminChecks,
			},
		},
	})
}

// Application credentials log in with their own scope.
func TestAccProvider_applicationCredential(t *testing.T) {
	cloud := acctest.Start(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cloud.Config(`
resource "stratus_identity_application_credential" "ci" {
  name = "ci"
}
`),
			},
			{
				Config: cloud.Config(`
resource "stratus_identity_application_credential" "ci" {
  name = "ci"
}

provider "stratus" {
  alias                         = "appcred"
  auth_url                      = "` + cloud.AuthURL + `"
  application_credential_id     = stratus_identity_application_credential.ci.id
  application_credential_secret = stratus_identity_application_credential.ci.secret
}

data "stratus_compute_flavor" "tiny" {
  provider = stratus.appcred
  name     = "m1.tiny"
}
`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.stratus_compute_flavor.tiny", tfjsonpath.New("ram"), knownvalue.Int64Exact(512)),
				},
			},
		},
	})
}
