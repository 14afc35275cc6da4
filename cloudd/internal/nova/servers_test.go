package nova_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor/hypervisortest"
)

// testHosts writes n simulated hosts (libvirt test driver node files).
func testHosts(t testing.TB, n, vcpus int, memoryMiB int64) []string {
	t.Helper()
	dir := t.TempDir()
	var uris []string
	for i := range n {
		uri, err := hypervisortest.WriteNode(dir, fmt.Sprintf("host%02d", i), vcpus, memoryMiB)
		if err != nil {
			t.Fatal(err)
		}
		uris = append(uris, uri)
	}
	return uris
}

// computeClient starts a cloud on hosts and returns admin compute and image clients.
func computeClient(t testing.TB, opts cloudtest.Options) (*cloudtest.Cloud, *gophercloud.ServiceClient, *gophercloud.ServiceClient) {
	t.Helper()
	cloud := cloudtest.Start(t, opts)
	pc := cloud.Admin(t)
	ic, err := openstack.NewImageV2(pc, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	return cloud, computeV2(t, pc), ic
}

// qcow2Image makes a small, valid qcow2 disk with qemu-img.
func qcow2Image(t testing.TB) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-f", "qcow2", path, "64M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img (install qemu-utils): %v: %s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// uploadImage registers and uploads an active, public qcow2 image.
func uploadImage(t testing.TB, ic *gophercloud.ServiceClient, name string, data []byte) string {
	t.Helper()
	public := images.ImageVisibilityPublic
	img, err := images.Create(novaCtx, ic, images.CreateOpts{Name: name, DiskFormat: "qcow2", ContainerFormat: "bare", Visibility: &public}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := imagedata.Upload(novaCtx, ic, img.ID, strings.NewReader(string(data))).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	return img.ID
}

// waitStatus polls a server until it has status, failing on ERROR.
func waitStatus(t testing.TB, cc *gophercloud.ServiceClient, id, status string) *servers.Server {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		srv, err := servers.Get(novaCtx, cc, id).Extract()
		switch {
		case err != nil && status == "DELETED" && gophercloud.ResponseCodeIs(err, http.StatusNotFound):
			return nil
		case err != nil:
			t.Fatalf("server %s: %v", id, err)
		case srv.Status == status:
			return srv
		case srv.Status == "ERROR" && status != "ERROR":
			t.Fatalf("server %s went to ERROR: %+v", id, srv.Fault)
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s still %s (task %v), want %s", id, srv.Status, srv.TaskState, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func create(t testing.TB, cc *gophercloud.ServiceClient, opts servers.CreateOpts, hints servers.SchedulerHintOptsBuilder) string {
	t.Helper()
	srv, err := servers.Create(novaCtx, cc, opts, hints).Extract()
	if err != nil {
		t.Fatalf("create %s: %v", opts.Name, err)
	}
	return srv.ID
}

func TestServerLifecycleOnTestHosts(t *testing.T) {
	cloud, cc, ic := computeClient(t, cloudtest.Options{Hosts: testHosts(t, 3, 8, 16384)})
	imageID := uploadImage(t, ic, "tiny", qcow2Image(t))
	id := create(t, cc, servers.CreateOpts{Name: "web-1", ImageRef: imageID, FlavorRef: "42", Metadata: map[string]string{"role": "web"}}, nil)

	srv := waitStatus(t, cc, id, "ACTIVE")
	if srv.Flavor["id"] != "42" || srv.Image["id"] != imageID || srv.Metadata["role"] != "web" || srv.PowerState != servers.RUNNING {
		t.Errorf("active server = %+v", srv)
	}
	if srv.HostID == "" || srv.Host == "" {
		t.Errorf("admin does not see where the server runs: hostId %q host %q", srv.HostID, srv.Host)
	}

	err := servers.Start(novaCtx, cc, id).ExtractErr()
	wantCode(t, err, http.StatusConflict, "starting an active server")

	must(t, servers.Stop(novaCtx, cc, id).ExtractErr())
	waitStatus(t, cc, id, "SHUTOFF")
	must(t, servers.Start(novaCtx, cc, id).ExtractErr())
	waitStatus(t, cc, id, "ACTIVE")
	must(t, servers.Reboot(novaCtx, cc, id, servers.RebootOpts{Type: servers.HardReboot}).ExtractErr())
	waitStatus(t, cc, id, "ACTIVE")

	must(t, servers.Resize(novaCtx, cc, id, servers.ResizeOpts{FlavorRef: "2"}).ExtractErr())
	srv = waitStatus(t, cc, id, "VERIFY_RESIZE")
	if srv.Flavor["id"] != "2" {
		t.Errorf("flavor during VERIFY_RESIZE = %v", srv.Flavor["id"])
	}
	must(t, servers.RevertResize(novaCtx, cc, id).ExtractErr())
	if srv = waitStatus(t, cc, id, "ACTIVE"); srv.Flavor["id"] != "42" {
		t.Errorf("flavor after revert = %v", srv.Flavor["id"])
	}
	must(t, servers.Resize(novaCtx, cc, id, servers.ResizeOpts{FlavorRef: "2"}).ExtractErr())
	waitStatus(t, cc, id, "VERIFY_RESIZE")
	must(t, servers.ConfirmResize(novaCtx, cc, id).ExtractErr())
	if srv = waitStatus(t, cc, id, "ACTIVE"); srv.Flavor["id"] != "2" {
		t.Errorf("flavor after confirm = %v", srv.Flavor["id"])
	}

	err = servers.Resize(novaCtx, cc, id, servers.ResizeOpts{FlavorRef: "42"}).ExtractErr()
	wantCode(t, err, http.StatusBadRequest, "resizing the disk down")

	renamed, err := servers.Update(novaCtx, cc, id, servers.UpdateOpts{Name: "web-one"}).Extract()
	if err != nil || renamed.Name != "web-one" {
		t.Errorf("rename: %v %+v", err, renamed)
	}
	_, err = servers.List(cc, servers.ListOpts{Name: "web[("}).AllPages(novaCtx)
	wantCode(t, err, http.StatusBadRequest, "a name filter that is not a regular expression")
	page, err := servers.List(cc, servers.ListOpts{Name: "web", Status: "ACTIVE"}).AllPages(novaCtx)
	must(t, err)
	list, err := servers.ExtractServers(page)
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Errorf("list by name: %v %d", err, len(list))
	}

	must(t, servers.Delete(novaCtx, cc, id).ExtractErr())
	waitStatus(t, cc, id, "DELETED")

	// The server's life is in the event feed, with what billing needs.
	var feed struct {
		Events []struct {
			Type    string         `json:"type"`
			Subject string         `json:"subject"`
			Data    map[string]any `json:"data"`
		} `json:"events"`
	}
	_, err = cc.Get(novaCtx, cloud.URL+"/events/v1/events?after=0", &feed, nil)
	must(t, err)
	var types []string
	for _, e := range feed.Events {
		if e.Subject != id {
			continue
		}
		types = append(types, strings.TrimPrefix(e.Type, "stratus.compute.server."))
		if e.Type == "stratus.compute.server.created" && (fmt.Sprint(e.Data["vcpus"]) != "1" ||
			fmt.Sprint(e.Data["ram_mb"]) != "128" || e.Data["project_id"] == "" || e.Data["launched_at"] == nil) {
			t.Errorf("created event lacks billing fields: %v", e.Data)
		}
	}
	want := []string{"created", "power_off", "power_on", "rebooted", "resized", "resize_reverted", "resized", "resize_confirmed", "deleted"}
	if !slices.Equal(types, want) {
		t.Errorf("server events = %v, want %v", types, want)
	}
}

func TestServerBadInput(t *testing.T) {
	cloud, cc, ic := computeClient(t, cloudtest.Options{Hosts: testHosts(t, 1, 8, 16384)})
	imageID := uploadImage(t, ic, "tiny", qcow2Image(t))
	for name, body := range map[string]map[string]any{
		"unknown flavor":    {"name": "x", "imageRef": imageID, "flavorRef": "nope"},
		"unknown image":     {"name": "x", "imageRef": "5f2d7c4e-0000-4000-8000-000000000000", "flavorRef": "42"},
		"missing name":      {"imageRef": imageID, "flavorRef": "42"},
		"unknown field":     {"name": "x", "imageRef": imageID, "flavorRef": "42", "colour": "blue"},
		"bad user data":     {"name": "x", "imageRef": imageID, "flavorRef": "42", "user_data": "not base64!"},
		"unknown key":       {"name": "x", "imageRef": imageID, "flavorRef": "42", "key_name": "nokey"},
		"unknown zone":      {"name": "x", "imageRef": imageID, "flavorRef": "42", "availability_zone": "mars"},
		"wrong type":        {"name": 7, "imageRef": imageID, "flavorRef": "42"},
		"flavor disk small": {"name": "x", "imageRef": imageID, "flavorRef": "42", "metadata": map[string]any{"k": 1}},
	} {
		_, err := cc.Post(novaCtx, cc.ServiceURL("servers"), map[string]any{"server": body}, nil, nil)
		wantCode(t, err, http.StatusBadRequest, name)
	}
	_, err := servers.Get(novaCtx, cc, "no-such-server").Extract()
	wantCode(t, err, http.StatusNotFound, "unknown server")

	// Another project's server looks like it does not exist.
	id := create(t, cc, servers.CreateOpts{Name: "private", ImageRef: imageID, FlavorRef: "42"}, nil)
	other, _ := memberCompute(t, cloud, "outsider")
	_, err = servers.Get(novaCtx, other, id).Extract()
	wantCode(t, err, http.StatusNotFound, "another project's server")
	err = servers.Delete(novaCtx, other, id).ExtractErr()
	wantCode(t, err, http.StatusNotFound, "deleting another project's server")
}

func TestQuotaLimitsServers(t *testing.T) {
	cloud, cc, ic := computeClient(t, cloudtest.Options{Hosts: testHosts(t, 1, 8, 16384)})
	imageID := uploadImage(t, ic, "tiny", qcow2Image(t))
	member, project := memberCompute(t, cloud, "small")
	_, err := quotasets.Update(novaCtx, cc, project, quotasets.UpdateOpts{Instances: gophercloud.IntToPointer(2)}).Extract()
	must(t, err)
	for i := range 2 {
		create(t, member, servers.CreateOpts{Name: fmt.Sprintf("s%d", i), ImageRef: imageID, FlavorRef: "42"}, nil)
	}
	_, err = servers.Create(novaCtx, member, servers.CreateOpts{Name: "s3", ImageRef: imageID, FlavorRef: "42"}, nil).Extract()
	wantCode(t, err, http.StatusForbidden, "third server over a quota of 2")
	if err == nil || !strings.Contains(err.Error(), "Quota exceeded for instances") {
		t.Errorf("quota error does not say which quota: %v", err)
	}
}

func TestSchedulerGroupsAndCapacity(t *testing.T) {
	_, cc, ic := computeClient(t, cloudtest.Options{Hosts: testHosts(t, 3, 2, 2048)})
	imageID := uploadImage(t, ic, "tiny", qcow2Image(t))

	anti, err := servergroups.Create(novaCtx, cc, servergroups.CreateOpts{Name: "spread", Policies: []string{"anti-affinity"}}).Extract()
	must(t, err)
	hosts := map[string]bool{}
	var ids []string
	for i := range 3 {
		id := create(t, cc, servers.CreateOpts{Name: fmt.Sprintf("anti-%d", i), ImageRef: imageID, FlavorRef: "42"},
			servers.SchedulerHintOpts{Group: anti.ID})
		ids = append(ids, id)
	}
	for _, id := range ids {
		hosts[waitStatus(t, cc, id, "ACTIVE").Host] = true
	}
	if len(hosts) != 3 {
		t.Errorf("anti-affinity put 3 servers on %d hosts", len(hosts))
	}
	fourth := create(t, cc, servers.CreateOpts{Name: "anti-3", ImageRef: imageID, FlavorRef: "42"}, servers.SchedulerHintOpts{Group: anti.ID})
	srv := waitStatus(t, cc, fourth, "ERROR")
	if srv.Fault.Message == "" || !strings.Contains(srv.Fault.Message, "No valid host") {
		t.Errorf("fault of an unplaceable server = %+v", srv.Fault)
	}

}

// Soft anti-affinity spreads a group while it can and, unlike the hard
// policy, still places servers once every host holds one.
func TestSoftAntiAffinity(t *testing.T) {
	_, cc, ic := computeClient(t, cloudtest.Options{Hosts: testHosts(t, 2, 8, 16384)})
	imageID := uploadImage(t, ic, "tiny", qcow2Image(t))
	group, err := servergroups.Create(novaCtx, cc, servergroups.CreateOpts{Name: "soft", Policies: []string{"soft-anti-affinity"}}).Extract()
	must(t, err)
	perHost := map[string]int{}
	for i := range 3 {
		id := create(t, cc, servers.CreateOpts{Name: fmt.Sprintf("soft-%d", i), ImageRef: imageID, FlavorRef: "42"},
			servers.SchedulerHintOpts{Group: group.ID})
		perHost[waitStatus(t, cc, id, "ACTIVE").Host]++
	}
	if len(perHost) != 2 {
		t.Errorf("soft anti-affinity placement = %v, want both hosts used", perHost)
	}
}

// Parallel creates never overcommit a host: two hosts of 2 GiB hold
// 2048*1.5/1024 = 3 servers of 1 GiB each, so of ten racing creates
// exactly six become ACTIVE and four fail to find a host.
func TestParallelCreatesNeverOvercommit(t *testing.T) {
	_, cc, ic := computeClient(t, cloudtest.Options{Hosts: testHosts(t, 2, 16, 2048)})
	imageID := uploadImage(t, ic, "tiny", qcow2Image(t))
	_, err := flavors.Create(novaCtx, cc, flavors.CreateOpts{ID: "1g", Name: "1g", VCPUs: 1, RAM: 1024, Disk: gophercloud.IntToPointer(1)}).Extract()
	must(t, err)
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Go(func() {
			ids[i] = create(t, cc, servers.CreateOpts{Name: fmt.Sprintf("burst-%d", i), ImageRef: imageID, FlavorRef: "1g"}, nil)
		})
	}
	wg.Wait()
	perHost := map[string]int{}
	failed := 0
	for _, id := range ids {
		srv := waitSettled(t, cc, id)
		if srv.Status == "ERROR" {
			failed++
			continue
		}
		perHost[srv.Host]++
	}
	if failed != 4 || len(perHost) != 2 {
		t.Fatalf("%d failed, placement %v; want 4 failed and 3 on each of 2 hosts", failed, perHost)
	}
	for host, n := range perHost {
		if n != 3 {
			t.Errorf("host %s holds %d servers, capacity is 3", host, n)
		}
	}
}

// waitSettled polls until a server is ACTIVE or ERROR.
func waitSettled(t testing.TB, cc *gophercloud.ServiceClient, id string) *servers.Server {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		srv, err := servers.Get(novaCtx, cc, id).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if srv.Status == "ACTIVE" || srv.Status == "ERROR" {
			return srv
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s still %s", id, srv.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
