package nova_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

// BenchmarkServersActive reports servers reaching ACTIVE per second on 50
// test-driver hosts, with 32 clients creating at once through the API.
func BenchmarkServersActive(b *testing.B) {
	cloud, cc, ic := computeClient(b, cloudtest.Options{Hosts: testHosts(b, 50, 64, 262144)})
	unlimited(b, cloud, cc)
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

// unlimited lifts the admin project's compute quotas for load tests.
func unlimited(b *testing.B, cloud *cloudtest.Cloud, cc *gophercloud.ServiceClient) {
	project := cloud.MemberProject(b, "admin")
	none := gophercloud.IntToPointer(-1)
	if _, err := quotasets.Update(novaCtx, cc, project, quotasets.UpdateOpts{Instances: none, Cores: none, RAM: none}).Extract(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkListServers reports the API latency of GET /servers/detail for a
// project with 1,000 servers (one page of 1,000), with its p99: the time
// until the whole body has arrived, not the client's JSON decoding.
func BenchmarkListServers(b *testing.B) {
	cloud, cc, ic := computeClient(b, cloudtest.Options{Hosts: testHosts(b, 10, 64, 262144)})
	unlimited(b, cloud, cc)
	imageID := uploadImage(b, ic, "tiny", qcow2Image(b))
	var wg sync.WaitGroup
	work := make(chan int, 1000)
	for i := range 1000 {
		work <- i
	}
	close(work)
	ids := make(chan string, 1000)
	for range 32 {
		wg.Go(func() {
			for i := range work {
				ids <- create(b, cc, servers.CreateOpts{Name: fmt.Sprintf("list-%d", i), ImageRef: imageID, FlavorRef: "42"}, nil)
			}
		})
	}
	wg.Wait()
	close(ids)
	for id := range ids { // measure a quiet cloud, not one still building
		waitStatus(b, cc, id, "ACTIVE")
	}
	page, err := servers.List(cc, servers.ListOpts{Limit: 1000}).AllPages(novaCtx)
	if list, _ := servers.ExtractServers(page); err != nil || len(list) != 1000 {
		b.Fatalf("listed %d servers: %v", len(list), err)
	}
	url := cc.ServiceURL("servers", "detail") + "?limit=1000"
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		resp, err := cc.Request(novaCtx, http.MethodGet, url, &gophercloud.RequestOpts{KeepResponseBody: true})
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took = append(took, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
}
