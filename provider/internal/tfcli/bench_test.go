package tfcli_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
	"github.com/stratus-cloud/stratus/provider/internal/tfcli"
)

// BenchmarkRefreshOnlyPlan200 is `terraform plan -refresh-only` over 200
// resources (flavors: no quota limits them and each refresh is one GET
// plus its extra specs), the plan users run to see drift.
func BenchmarkRefreshOnlyPlan200(b *testing.B) {
	cloud := acctest.Start(b)
	w := tfcli.New(b, cloud, map[string]string{"main.tf": tfcli.RequiredProviders + `
resource "stratus_compute_flavor" "bench" {
  count = 200
  name  = "bench-${count.index}"
  ram   = 64
  vcpus = 1
  disk  = 1
}
`})
	w.Run(b, "apply", "-auto-approve", "-no-color")
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if out := w.Run(b, "plan", "-refresh-only", "-no-color"); !strings.Contains(out, "No changes.") {
			b.Fatalf("refresh found drift:\n%s", out)
		}
	}
	reportSeconds(b, time.Since(start), "s/plan")
}

// BenchmarkApply50Servers is `terraform apply` of 50 servers from nothing
// on the in-process cloud's simulated host, each server waited for until
// ACTIVE. The destroy between rounds is not timed.
func BenchmarkApply50Servers(b *testing.B) {
	const servers = 50
	cloud := acctest.Start(b)
	tfcli.RaiseComputeQuotas(b, cloud, servers)
	image := acctest.RandomName("bench-image")
	cloud.UploadImage(b, image)
	w := tfcli.New(b, cloud, map[string]string{"main.tf": tfcli.RequiredProviders + fmt.Sprintf(`
resource "stratus_compute_flavor" "bench" {
  name  = "bench.nano"
  ram   = 64
  vcpus = 1
  disk  = 0
}

resource "stratus_compute_instance" "bench" {
  count      = %d
  name       = "bench-${count.index}"
  image_name = %q
  flavor_id  = stratus_compute_flavor.bench.id
}
`, servers, image)})
	w.Run(b, "apply", "-auto-approve", "-no-color", "-target=stratus_compute_flavor.bench")
	var applying time.Duration
	for range b.N {
		start := time.Now()
		out := w.Run(b, "apply", "-auto-approve", "-no-color", "-target=stratus_compute_instance.bench")
		applying += time.Since(start)
		if !strings.Contains(out, fmt.Sprintf("%d added", servers)) {
			b.Fatalf("apply did not add %d servers:\n%s", servers, out)
		}
		w.Run(b, "destroy", "-auto-approve", "-no-color", "-target=stratus_compute_instance.bench")
	}
	reportSeconds(b, applying, "s/apply")
}

// reportSeconds reports the mean wall time per round in seconds, the unit
// users think of Terraform runs in.
func reportSeconds(b *testing.B, total time.Duration, unit string) {
	b.StopTimer()
	b.ReportMetric(total.Seconds()/float64(b.N), unit)
	b.ReportMetric(0, "ns/op")
}

// BenchmarkApplyQuickstart50 is `terraform apply` of examples/quickstart
// scaled to 50 servers (50 ports, servers, volumes and attachments, plus
// the networks, router, security group and floating IP: 214 resources),
// from nothing, and then a refresh-only plan of all of it. The destroy
// between rounds is not timed.
func BenchmarkApplyQuickstart50(b *testing.B) {
	const servers = 50
	cloud, w := startQuickstart(b, servers)
	// A flavor small enough for 50 servers on the simulated host.
	if _, err := flavors.Create(acctest.Ctx, cloud.Compute(b), flavors.CreateOpts{Name: "bench.nano", RAM: 64, VCPUs: 1, Disk: new(int)}).Extract(); err != nil {
		b.Fatal(err)
	}
	vars := []string{"-var", "flavor_name=bench.nano", "-var", fmt.Sprintf("server_count=%d", servers)}
	var applying, refreshing time.Duration
	for range b.N {
		start := time.Now()
		w.Run(b, append([]string{"apply", "-auto-approve", "-no-color"}, vars...)...)
		applying += time.Since(start)
		start = time.Now()
		// It reports what the apply changed behind the resources that
		// caused it (volumes now in-use, ports now bound): not drift.
		w.Run(b, append([]string{"plan", "-refresh-only", "-no-color"}, vars...)...)
		refreshing += time.Since(start)
		w.Run(b, append([]string{"destroy", "-auto-approve", "-no-color"}, vars...)...)
	}
	reportSeconds(b, refreshing, "s/refresh-plan")
	reportSeconds(b, applying, "s/apply")
}
