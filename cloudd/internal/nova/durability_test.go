package nova_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/cloudd/internal/compute"
	"github.com/stratus-cloud/stratus/cloudd/internal/server"
)

// A server is persisted before the API answers 202, and a build whose
// worker died holding the task is finished by another replica once the
// lease runs out.
func TestBuildResumesAfterWorkerDies(t *testing.T) {
	hosts := testHosts(t, 1, 8, 16384)
	apiOnly, cc, ic := computeClient(t, cloudtest.Options{Hosts: hosts,
		Tuning: server.Tuning{Compute: compute.Config{Workers: -1}}})
	imageID := uploadImage(t, ic, "tiny", qcow2Image(t))
	id := create(t, cc, servers.CreateOpts{Name: "survivor", ImageRef: imageID, FlavorRef: "42"}, nil)
	if srv, err := servers.Get(novaCtx, cc, id).Extract(); err != nil || srv.Status != "BUILD" {
		t.Fatalf("before any worker ran: %v %+v", err, srv)
	}
	// A worker took the task and died: the lease is still running.
	if _, err := apiOnly.Server.Pool.Exec(novaCtx, `UPDATE tasks SET leased_until = now() + interval '2 seconds', attempts = 1
		WHERE server_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	cloudtest.Start(t, cloudtest.Options{DatabaseURL: apiOnly.DatabaseURL, AdminPassword: apiOnly.AdminPassword, Hosts: hosts})
	start := time.Now()
	waitStatus(t, cc, id, "ACTIVE")
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("the task was taken over after %v, before its lease ran out", waited)
	}
}

// A host that disappears between scheduling and building leaves its
// server in ERROR with a fault; servers on other hosts are unaffected.
func TestHostDisappearingMidBuild(t *testing.T) {
	good := testHosts(t, 1, 8, 16384)
	cloud, cc, ic := computeClient(t, cloudtest.Options{Hosts: good})
	imageID := uploadImage(t, ic, "tiny", qcow2Image(t))
	// A host that was up when last seen and has the most room, so the
	// scheduler prefers it, but whose node is gone.
	gone := "test:///" + t.TempDir() + "/vanished.xml"
	if _, err := cloud.Server.Compute.AddHost(novaCtx, gone, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := cloud.Server.Pool.Exec(novaCtx, `UPDATE hosts SET up = true, vcpus = 64, memory_mb = 1048576, disk_gb = 1000
		WHERE uri = $1`, gone); err != nil {
		t.Fatal(err)
	}
	doomed := create(t, cc, servers.CreateOpts{Name: "doomed", ImageRef: imageID, FlavorRef: "42"}, nil)
	srv := waitSettled(t, cc, doomed)
	if srv.Status != "ERROR" || !strings.Contains(srv.Fault.Message, "vanished") {
		t.Fatalf("server on a vanished host: status %s, fault %+v", srv.Status, srv.Fault)
	}
	if _, err := cloud.Server.Pool.Exec(novaCtx, "UPDATE hosts SET up = false WHERE uri = $1", gone); err != nil {
		t.Fatal(err)
	}
	fine := create(t, cc, servers.CreateOpts{Name: "fine", ImageRef: imageID, FlavorRef: "42"}, nil)
	if srv := waitStatus(t, cc, fine, "ACTIVE"); !strings.HasPrefix(srv.Host, "host00") {
		t.Errorf("server landed on %q", srv.Host)
	}
}
