package nova_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

// BenchmarkServersActive reports servers reaching ACTIVE per second on 50
// test-driver hosts, with 32 clients creating at once through the API.
func BenchmarkServersActive(b *testing.B) {
	_, cc, ic := computeClient(b, cloudtest.Options{Hosts: testHosts(b, 50, 64, 262144)})
	imageID := uploadImage(b, ic, "tiny", qcow2Image(b))
	const clients = 32
	n := max(b.N, clients)
	b.ResetTimer()
	start := time.Now()
	ids := make(chan string, n)
	work := make(chan int, n)
	for i := range n {
		work <- i
	}
	close(work)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := range work {
				ids <- create(b, cc, servers.CreateOpts{Name: fmt.Sprintf("bench-%d", i), ImageRef: imageID, FlavorRef: "42"}, nil)
			}
		})
	}
	wg.Wait()
	close(ids)
	for id := range ids {
		waitStatus(b, cc, id, "ACTIVE")
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "servers-active/s")
}

// BenchmarkListServers reports the latency of GET /servers/detail for a
// project with 1,000 servers (one page of 1,000), with its p99.
func BenchmarkListServers(b *testing.B) {
	_, cc, ic := computeClient(b, cloudtest.Options{Hosts: testHosts(b, 10, 64, 262144)})
	imageID := uploadImage(b, ic, "tiny", qcow2Image(b))
	var wg sync.WaitGroup
	work := make(chan int, 1000)
	for i := range 1000 {
		work <- i
	}
	close(work)
	for range 32 {
		wg.Go(func() {
			for i := range work {
				create(b, cc, servers.CreateOpts{Name: fmt.Sprintf("list-%d", i), ImageRef: imageID, FlavorRef: "42"}, nil)
			}
		})
	}
	wg.Wait()
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		page, err := servers.List(cc, servers.ListOpts{Limit: 1000}).AllPages(srvCtx)
		took = append(took, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if list, _ := servers.ExtractServers(page); len(list) != 1000 {
			b.Fatalf("listed %d servers", len(list))
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
}
