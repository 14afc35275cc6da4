package neutron_test

import (
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

// BenchmarkPortCreate creates ports on one /16 subnet from 32 parallel
// clients through the API and reports ports per second and how many
// addresses were handed out twice (must be 0).
func BenchmarkPortCreate(b *testing.B) {
	cloud := cloudtest.Start(b)
	admin := networkV2(b, cloud.Admin(b))
	n, _ := newNet(b, admin, "bench", "10.100.0.0/16")
	_, err := quotas.Update(ctx, admin, n.ProjectID, quotas.UpdateOpts{Port: gophercloud.IntToPointer(-1)}).Extract()
	must(b, err)
	b.ResetTimer()
	start := time.Now()
	addrs, errs := createPorts(admin, n.ID, b.N, 32)
	elapsed := time.Since(start)
	b.StopTimer()
	if len(errs) > 0 {
		b.Fatalf("%d port creates failed, first: %v", len(errs), errs[0])
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ports/s")
	b.ReportMetric(float64(duplicates(addrs)), "duplicates")
}
