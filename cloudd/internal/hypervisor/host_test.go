package hypervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"

	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor/hypervisortest"
)

// testConfig reconnects quickly and keeps test output quiet.
func testConfig() Config {
	return Config{MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}
}

// testHosts returns a pool with n simulated hosts (4 vCPUs, 8 GiB each).
func testHosts(t testing.TB, n int) (*Pool, []*Host) {
	t.Helper()
	dir := t.TempDir()
	p := NewPoolWithConfig(testConfig())
	t.Cleanup(p.Close)
	hosts := make([]*Host, n)
	for i := range hosts {
		uri, err := hypervisortest.WriteNode(dir, fmt.Sprintf("node%02d", i), 4, 8192)
		if err != nil {
			t.Fatal(err)
		}
		hosts[i] = p.Add(uri)
	}
	return p, hosts
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// noOpen is the image source for simulated hosts, which must never read it.
func noOpen(t testing.TB) func(context.Context) (io.ReadCloser, error) {
	return func(context.Context) (io.ReadCloser, error) {
		t.Error("EnsureImage opened the image on a test:// host")
		return nil, errors.New("unexpected open")
	}
}

func cacheImage(t testing.TB, h *Host) {
	t.Helper()
	if err := h.EnsureImage(ctxT(t), "img-cirros", "qcow2", 20<<20, noOpen(t)); err != nil {
		t.Fatal(err)
	}
}

func spec(id string) ServerSpec {
	return ServerSpec{
		ID: id, Name: "vm-" + id, ProjectID: "proj1", UserID: "user1", FlavorID: "f1", FlavorName: "m1.tiny",
		ImageID: "img-cirros", VCPUs: 1, MemoryMiB: 512, DiskGiB: 1, ConfigDrive: []byte("config-2 iso bytes"),
	}
}

func wantState(t *testing.T, h *Host, id string, want PowerState) {
	t.Helper()
	got, err := h.PowerState(ctxT(t), id)
	if err != nil {
		t.Fatalf("PowerState(%s): %v", id, err)
	}
	if got != want {
		t.Fatalf("PowerState(%s) = %v, want %v", id, got, want)
	}
}

// domainXML reads a server's inactive definition through the host's session.
func domainXML(t *testing.T, h *Host, id string) *libvirtxml.Domain {
	t.Helper()
	var dom libvirtxml.Domain
	err := h.withDomain(ctxT(t), id, func(s *session, d *libvirt.Domain) error {
		doc, err := d.GetXMLDesc(0)
		if err != nil {
			return err
		}
		return dom.Unmarshal(doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	return &dom
}

func TestInfoOfSimulatedHost(t *testing.T) {
	_, hosts := testHosts(t, 1)
	info, err := hosts[0].Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	want := HostInfo{Hostname: "node00", Arch: info.Arch, VCPUs: 4, MemoryMiB: 8192, DiskGiB: 100, VirtType: "qemu"}
	if info != want || info.Arch == "" {
		t.Fatalf("Info = %+v, want %+v (test driver pools are 100 GiB)", info, want)
	}
	if !hosts[0].Up() || !hosts[0].Simulated() {
		t.Fatalf("Up=%v Simulated=%v, want both", hosts[0].Up(), hosts[0].Simulated())
	}
}

func TestCreateServerIsIdempotent(t *testing.T) {
	_, hosts := testHosts(t, 2)
	h := hosts[0]
	ctx := ctxT(t)
	cacheImage(t, h)
	cacheImage(t, h) // cached already
	id := "0b7c3f2e-1111-4222-8333-444455556666"
	for range 2 {
		if err := h.CreateServer(ctx, spec(id)); err != nil {
			t.Fatal(err)
		}
	}
	wantState(t, h, id, Running)
	// A retry after the server was stopped (a crash between define and
	// start) finishes the job: it starts the server.
	if err := h.Stop(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if err := h.CreateServer(ctx, spec(id)); err != nil {
		t.Fatal(err)
	}
	wantState(t, h, id, Running)

	servers, err := h.Servers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != 1 || servers[0].ID != id || servers[0].PowerState != Running {
		t.Fatalf("Servers = %+v, want one running %s", servers, id)
	}
	m := servers[0].Metadata
	want := spec(id).metadata()
	if m != want {
		t.Fatalf("metadata = %+v, want %+v", m, want)
	}
	// The other host has nothing.
	if other, err := hosts[1].Servers(ctx); err != nil || len(other) != 0 {
		t.Fatalf("other host Servers = %v, %v; want none", other, err)
	}

	dom := domainXML(t, h, id)
	if dom.Type != "qemu" || dom.UUID != id || dom.Name != "stratus-"+id {
		t.Fatalf("domain type=%q uuid=%q name=%q", dom.Type, dom.UUID, dom.Name)
	}
	disks := dom.Devices.Disks
	if len(disks) != 2 || disks[0].Target.Dev != "vda" || disks[1].Target.Dev != "vdb" || disks[1].ReadOnly == nil {
		t.Fatalf("disks = %+v, want vda and a read-only vdb", disks)
	}
	if !strings.HasSuffix(disks[0].Source.File.File, "/"+id+".qcow2") || !strings.HasSuffix(disks[1].Source.File.File, "/"+id+".config.iso") {
		t.Fatalf("disk paths %q, %q", disks[0].Source.File.File, disks[1].Source.File.File)
	}
}

func TestCreateServerNeedsCachedImage(t *testing.T) {
	_, hosts := testHosts(t, 1)
	err := hosts[0].CreateServer(ctxT(t), spec("no-image"))
	if !errors.Is(err, ErrImageNotCached) {
		t.Fatalf("CreateServer without image: %v, want ErrImageNotCached", err)
	}
	cacheImage(t, hosts[0])
	s := spec("tiny-disk")
	s.DiskGiB = 0 // the image's size
	if err := hosts[0].CreateServer(ctxT(t), s); err != nil {
		t.Fatal(err)
	}
	if err := hosts[0].EnsureImage(ctxT(t), "big", "raw", 3<<30, noOpen(t)); err != nil {
		t.Fatal(err)
	}
	s = spec("too-small")
	s.ImageID = "big"
	if err := hosts[0].CreateServer(ctxT(t), s); err == nil || !strings.Contains(err.Error(), "smaller than image") {
		t.Fatalf("1 GiB disk over a 3 GiB image: %v, want an error", err)
	}
	for _, bad := range []ServerSpec{{ID: "../x", ImageID: "img-cirros", VCPUs: 1, MemoryMiB: 1}, {ID: "a.b", ImageID: "i", VCPUs: 1, MemoryMiB: 1}, {ID: "ok", ImageID: "img-cirros"}} {
		if err := hosts[0].CreateServer(ctxT(t), bad); err == nil {
			t.Errorf("CreateServer(%+v) accepted", bad)
		}
	}
}

func TestPowerOperations(t *testing.T) {
	_, hosts := testHosts(t, 1)
	h := hosts[0]
	ctx := ctxT(t)
	cacheImage(t, h)
	id := "srv-power"
	if err := h.CreateServer(ctx, spec(id)); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() error
		want PowerState
	}{
		{"graceful stop", func() error { return h.Stop(ctx, id, true) }, Shutdown},
		{"stop again", func() error { return h.Stop(ctx, id, true) }, Shutdown},
		{"start", func() error { return h.Start(ctx, id) }, Running},
		{"start again", func() error { return h.Start(ctx, id) }, Running},
		{"soft reboot", func() error { return h.Reboot(ctx, id, false) }, Running},
		{"hard reboot", func() error { return h.Reboot(ctx, id, true) }, Running},
		{"hard stop", func() error { return h.Stop(ctx, id, false) }, Shutdown},
		{"hard reboot starts", func() error { return h.Reboot(ctx, id, true) }, Running},
		{"hard stop again", func() error { return h.Stop(ctx, id, false) }, Shutdown},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		wantState(t, h, id, st.want)
	}
	if err := h.Reboot(ctx, id, false); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("soft reboot of a stopped server: %v, want ErrInvalidState", err)
	}

	// Resize a stopped server.
	if err := h.Resize(ctx, id, 2, 1024, 5); err != nil {
		t.Fatal(err)
	}
	dom := domainXML(t, h, id)
	if dom.VCPU.Value != 2 || dom.Memory.Value != 1024<<10 {
		t.Fatalf("after resize: %d vCPUs, %d %s", dom.VCPU.Value, dom.Memory.Value, dom.Memory.Unit)
	}
	servers, err := h.Servers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f := servers[0].Metadata.Flavor; f != (Flavor{ID: "f1", Name: "m1.tiny", VCPUs: 2, MemoryMiB: 1024, DiskGiB: 5}) {
		t.Fatalf("metadata flavor after resize = %+v", f)
	}
	if err := h.ResizeFlavor(ctx, id, Flavor{ID: "f2", Name: "m1.small", VCPUs: 1, MemoryMiB: 2048}); err != nil {
		t.Fatal(err)
	}
	servers, _ = h.Servers(ctx)
	if f := servers[0].Metadata.Flavor; f != (Flavor{ID: "f2", Name: "m1.small", VCPUs: 1, MemoryMiB: 2048, DiskGiB: 5}) {
		t.Fatalf("metadata flavor after ResizeFlavor = %+v", f)
	}
	if err := h.Resize(ctx, id, 1, 512, 1); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("shrinking the disk: %v, want ErrInvalidState", err)
	}
	if err := h.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := h.Resize(ctx, id, 1, 512, 5); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("resizing a running server: %v, want ErrInvalidState", err)
	}

	// Delete, twice.
	for range 2 {
		if err := h.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.PowerState(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PowerState after Delete: %v, want ErrNotFound", err)
	}
	if err := h.Start(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Start after Delete: %v, want ErrNotFound", err)
	}
	var left []string
	err = h.do(ctx, func(s *session) error {
		inst, err := h.storagePool(s, h.cfg.InstancesPool, h.cfg.InstancesDir)
		if err != nil {
			return err
		}
		vols, err := inst.ListAllStorageVolumes(0)
		for i := range vols {
			name, _ := vols[i].GetName()
			left = append(left, name)
			_ = vols[i].Free()
		}
		return err
	})
	if err != nil || len(left) != 0 {
		t.Fatalf("volumes after Delete: %v (%v)", left, err)
	}
}

func TestServersListsOnlyOurs(t *testing.T) {
	_, hosts := testHosts(t, 1)
	h := hosts[0]
	ctx := ctxT(t)
	cacheImage(t, h)
	// A domain someone else defined on the host.
	err := h.do(ctx, func(s *session) error {
		d, err := s.conn.DomainDefineXML(`<domain type='qemu'><name>stratus-foreign</name><memory>65536</memory><os><type>hvm</type></os></domain>`)
		if err != nil {
			return err
		}
		return d.Free()
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a1", "a2"} {
		if err := h.CreateServer(ctx, spec(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Stop(ctx, "a2", false); err != nil {
		t.Fatal(err)
	}
	servers, err := h.Servers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]PowerState{}
	for _, s := range servers {
		got[s.ID] = s.PowerState
	}
	if len(got) != 2 || got["a1"] != Running || got["a2"] != Shutdown {
		t.Fatalf("Servers = %v, want a1 running and a2 shutdown only", got)
	}
}

func TestDownHostDoesNotBlockOthers(t *testing.T) {
	p, hosts := testHosts(t, 1)
	good := hosts[0]
	missing := filepath.Join(t.TempDir(), "late.xml")
	bad := p.Add("test://" + missing)
	if p.Add("test://"+missing) != bad {
		t.Fatal("Add is not idempotent")
	}
	ctx := ctxT(t)

	start := time.Now()
	_, err := bad.Info(ctx)
	if !errors.Is(err, ErrHostDown) || bad.Up() {
		t.Fatalf("Info on a host with no node file: %v (up=%v), want ErrHostDown", err, bad.Up())
	}
	for range 20 { // fails fast, every time
		if _, err := bad.Info(ctx); !errors.Is(err, ErrHostDown) {
			t.Fatalf("Info: %v", err)
		}
	}
	t.Logf("down host: first failure and 20 more calls in %v; message: %v", time.Since(start), err)
	cacheImage(t, good)
	if err := good.CreateServer(ctx, spec("unaffected")); err != nil {
		t.Fatalf("good host while another is down: %v", err)
	}
	if len(p.Hosts()) != 2 {
		t.Fatalf("Hosts() = %d", len(p.Hosts()))
	}

	// The node file appears: the background loop reconnects.
	if _, err := hypervisortest.WriteNode(filepath.Dir(missing), "late", 2, 1024); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !bad.Up() {
		if time.Now().After(deadline) {
			t.Fatal("host did not come back after its node file appeared")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if info, err := bad.Info(ctx); err != nil || info.VCPUs != 2 {
		t.Fatalf("Info after reconnect = %+v, %v", info, err)
	}

	p.Remove(bad.URI())
	if _, ok := p.Host(bad.URI()); ok {
		t.Fatal("host still in the pool after Remove")
	}
	if _, err := bad.Info(ctx); !errors.Is(err, ErrHostDown) {
		t.Fatalf("Info on a removed host: %v, want ErrHostDown", err)
	}
}

// TestReconnectAfterDrop drops a live connection the way the close
// callback does and checks the host comes back on a new connection, with
// its OnPowerChange subscribers still attached.
func TestReconnectAfterDrop(t *testing.T) {
	_, hosts := testHosts(t, 2)
	h, other := hosts[0], hosts[1]
	ctx := ctxT(t)
	events := make(chan powerEvent, 16)
	h.OnPowerChange(func(id string, state PowerState) { events <- powerEvent{id, state} })

	if _, err := other.Info(ctx); err != nil { // connected
		t.Fatal(err)
	}
	old, err := h.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The loop reconnects at once (a test:// connection takes well under a
	// millisecond), so Up may already be true again here.
	h.drop(old, errors.New("simulated connection loss"))
	if !other.Up() {
		t.Fatal("another host went down with it")
	}
	old.inflight.Done() // the dropped session closes once its calls are done

	deadline := time.Now().Add(10 * time.Second)
	for !h.Up() {
		if time.Now().After(deadline) {
			t.Fatal("host did not reconnect")
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.mu.Lock()
	same := h.sess == old
	h.mu.Unlock()
	if same {
		t.Fatal("reconnected on the dropped session")
	}
	// A test:///<file> connection starts from the node file: the new
	// connection is empty, and works.
	cacheImage(t, h)
	if err := h.CreateServer(ctx, spec("after-drop")); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, powerEvent{"after-drop", Running})
}

func TestPowerEvents(t *testing.T) {
	_, hosts := testHosts(t, 1)
	h := hosts[0]
	ctx := ctxT(t)
	cacheImage(t, h)
	events := make(chan powerEvent, 16)
	h.OnPowerChange(func(id string, state PowerState) { events <- powerEvent{id, state} })
	if err := h.CreateServer(ctx, spec("ev1")); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, powerEvent{"ev1", Running})
	if err := h.Stop(ctx, "ev1", false); err != nil { // virDomainDestroy
		t.Fatal(err)
	}
	waitEvent(t, events, powerEvent{"ev1", Shutdown})
	if err := h.Delete(ctx, "ev1"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, powerEvent{"ev1", NoState})
}

func waitEvent(t *testing.T, events <-chan powerEvent, want powerEvent) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-events:
			if got == want {
				return
			}
			t.Logf("event %+v (waiting for %+v)", got, want)
		case <-timeout:
			t.Fatalf("no event %+v", want)
		}
	}
}

func TestUnsupportedOnSimulatedHosts(t *testing.T) {
	_, hosts := testHosts(t, 1)
	h := hosts[0]
	cacheImage(t, h)
	if err := h.CreateServer(ctxT(t), spec("u1")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ConsoleLog(ctxT(t), "u1", 100); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("ConsoleLog: %v, want ErrUnsupported", err)
	}
	if _, _, err := h.SnapshotDisk(ctxT(t), "u1"); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("SnapshotDisk: %v, want ErrUnsupported", err)
	}
}

// TestManyServersAcrossManyHosts is the scheduler's load: hundreds of
// servers on 50 simulated hosts, created concurrently.
func TestManyServersAcrossManyHosts(t *testing.T) {
	const nHosts, nServers, workers = 50, 400, 16
	_, hosts := testHosts(t, nHosts)
	ctx := ctxT(t)
	for _, h := range hosts {
		cacheImage(t, h)
	}
	jobs := make(chan int)
	errs := make(chan error, nServers)
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				h := hosts[i%nHosts]
				if err := h.CreateServer(ctx, spec(fmt.Sprintf("many-%03d", i))); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range nServers {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for _, h := range hosts {
		servers, err := h.Servers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(servers) != nServers/nHosts {
			t.Fatalf("%s has %d servers, want %d", h.URI(), len(servers), nServers/nHosts)
		}
		total += len(servers)
		h.serverLocksMu.Lock()
		if n := len(h.serverLocks); n != 0 {
			t.Errorf("%s keeps %d server locks after all calls returned", h.URI(), n)
		}
		h.serverLocksMu.Unlock()
	}
	t.Logf("%d servers on %d test-driver hosts with %d workers in %v (%v per CreateServer, wall/servers)", total, nHosts, workers, elapsed, elapsed/nServers)
}

// TestCreateServerLatencyOnTestDriver reports define+start latency; it
// asserts nothing about time (see BenchmarkCreateServerTestDriver).
func TestCreateServerLatencyOnTestDriver(t *testing.T) {
	_, hosts := testHosts(t, 1)
	h := hosts[0]
	cacheImage(t, h)
	const n = 200
	var worst time.Duration
	start := time.Now()
	for i := range n {
		t0 := time.Now()
		if err := h.CreateServer(ctxT(t), spec(fmt.Sprintf("lat-%d", i))); err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(t0))
	}
	t.Logf("CreateServer on the test driver: mean %v, worst %v over %d servers on one host", time.Since(start)/n, worst, n)
}

func BenchmarkCreateServerTestDriver(b *testing.B) {
	_, hosts := testHosts(b, 1)
	h := hosts[0]
	cacheImage(b, h)
	ctx := ctxT(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := h.CreateServer(ctx, spec(fmt.Sprintf("bench-%d", i))); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMain(m *testing.M) {
	// The tests check the detected domain type; an override in the
	// environment would defeat that.
	os.Unsetenv("STRATUS_VIRT_TYPE")
	os.Exit(m.Run())
}

func TestClosedPool(t *testing.T) {
	p, hosts := testHosts(t, 1)
	cacheImage(t, hosts[0])
	p.Close()
	if _, err := hosts[0].Info(ctxT(t)); !errors.Is(err, ErrHostDown) {
		t.Fatalf("Info after Close: %v, want ErrHostDown", err)
	}
	late := p.Add(hosts[0].URI())
	if _, err := late.Info(ctxT(t)); !errors.Is(err, ErrHostDown) || late.Up() || len(p.Hosts()) != 0 {
		t.Fatalf("host added after Close: %v (up=%v, %d hosts)", err, late.Up(), len(p.Hosts()))
	}
}
