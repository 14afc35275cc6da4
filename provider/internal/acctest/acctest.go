// Package acctest runs the provider's acceptance tests against a real,
// in-process Stratus cloud (cloudd/cloudtest): provider factories, the
// Terraform CLI settings the test harness needs so it never downloads
// anything, and gophercloud clients for checks made behind Terraform's back.
//
// Acceptance tests need TF_ACC=1 (`make test` sets it) and a Terraform CLI:
// TF_ACC_TERRAFORM_PATH, else `terraform` on PATH, else the one
// scripts/setup.sh builds. Without one they fail in CI (CI set) and skip
// elsewhere.
package acctest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/internal/testenv"
	"github.com/stratus-cloud/stratus/provider/internal/provider"
)

// ProviderName is the provider's local name in test configurations.
const ProviderName = "stratus"

// ProtoV6ProviderFactories serves a fresh provider to each Terraform run.
var ProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	ProviderName: func() (tfprotov6.ProviderServer, error) {
		return providerserver.NewProtocol6WithError(provider.New("test")())()
	},
}

// Main prepares the process environment (Prepare), runs the tests and
// stops the test PostgreSQL. Call it from TestMain.
func Main(m *testing.M) {
	Prepare()
	testenv.Main(m)
}

// Prepare sets the process environment up for running Terraform: OS_*
// variables of the developer's shell are removed so that tests use only
// the in-process cloud, checkpoint calls are off, and TF_CLI_CONFIG_FILE
// and TF_ACC_TERRAFORM_PATH are set.
func Prepare() {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OS_") {
			os.Unsetenv(k)
		}
	}
	os.Setenv("CHECKPOINT_DISABLE", "1")
	if f := os.Getenv("TF_CLI_CONFIG_FILE"); f == "" || !isFile(f) {
		// An existing, empty CLI configuration: Terraform warns about a
		// missing one, and terraform-plugin-testing cannot parse the
		// version of a CLI that warns.
		empty := filepath.Join(os.TempDir(), "stratus-acctest-empty.tfrc")
		if err := os.WriteFile(empty, nil, 0o644); err == nil {
			os.Setenv("TF_CLI_CONFIG_FILE", empty)
		}
	}
	if tf := TerraformPath(); tf != "" {
		os.Setenv("TF_ACC_TERRAFORM_PATH", tf)
	}
}

// TerraformPath is the Terraform CLI the tests use: TF_ACC_TERRAFORM_PATH,
// else terraform on PATH, else the one scripts/setup.sh builds; "" if none.
func TerraformPath() string {
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" && isFile(p) {
		return p
	}
	if p, err := exec.LookPath("terraform"); err == nil {
		return p
	}
	tools := os.Getenv("STRATUS_TOOLS")
	if tools == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		tools = filepath.Join(cache, "stratus", "bin")
	}
	if p := filepath.Join(tools, "terraform"); isFile(p) {
		return p
	}
	return ""
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// PreCheck skips t unless acceptance tests were asked for (TF_ACC), and
// skips it, or fails it in CI, without a Terraform CLI.
func PreCheck(t testing.TB) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance tests need TF_ACC=1 (make test sets it)")
	}
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		msg := "no Terraform CLI: set TF_ACC_TERRAFORM_PATH, put terraform on PATH or run scripts/setup.sh"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// Cloud is a running Stratus the provider under test talks to.
type Cloud struct {
	*cloudtest.Cloud
}

// Start checks the preconditions and starts a cloud for t.
func Start(t testing.TB, opts ...cloudtest.Options) *Cloud {
	t.Helper()
	PreCheck(t)
	return &Cloud{Cloud: cloudtest.Start(t, opts...)}
}

// ProviderBlock is a provider configuration that logs in as the admin.
func (c *Cloud) ProviderBlock() string {
	return fmt.Sprintf(`
provider "stratus" {
  auth_url            = %q
  user_name           = "admin"
  password            = %q
  tenant_name         = "admin"
  user_domain_name    = "Default"
  project_domain_name = "Default"
  region              = "RegionOne"
}
`, c.AuthURL, c.AdminPassword)
}

// Config is hcl behind the admin's provider block.
func (c *Cloud) Config(hcl string) string { return c.ProviderBlock() + hcl }

// Identity is an admin identity v3 client.
func (c *Cloud) Identity(t testing.TB) *gophercloud.ServiceClient {
	t.Helper()
	return cloudtest.Identity(t, c.Admin(t))
}

// Compute is an admin compute client.
func (c *Cloud) Compute(t testing.TB) *gophercloud.ServiceClient {
	t.Helper()
	sc, err := openstack.NewComputeV2(c.Admin(t), gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// Image is an admin image v2 client.
func (c *Cloud) Image(t testing.TB) *gophercloud.ServiceClient {
	t.Helper()
	sc, err := openstack.NewImageV2(c.Admin(t), gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// Ctx is the context of calls tests make behind Terraform's back.
var Ctx = context.Background()

// RandomName is prefix plus a random suffix.
func RandomName(prefix string) string {
	return prefix + "-" + strings.ToLower(rand.Text()[:8])
}
