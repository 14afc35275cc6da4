package hypervisor

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"libvirt.org/go/libvirt"

	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor/hypervisortest"
)

// tWriter sends log lines to t.Log, so -v shows the package's timings.
type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// expectedVirtType is what detection must choose on this machine: kvm only
// with VMX/SVM in /proc/cpuinfo (kvm_pvm hosts have /dev/kvm without them).
func expectedVirtType(t *testing.T) string {
	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`(?m)^flags\s*:.*\b(vmx|svm)\b`).Match(cpuinfo) {
		return "kvm"
	}
	return "qemu"
}

// TestQEMUSystem boots a server on qemu:///system: the image cache, a real
// overlay and config drive, SeaBIOS on the serial console log, live and
// cold disk snapshots, resize, and a Delete that leaves nothing behind.
// Pools, directory and server get unique names and are removed even when
// the test fails.
func TestQEMUSystem(t *testing.T) {
	hypervisortest.RequireSystemLibvirt(t)
	suffix := make([]byte, 4)
	rand.Read(suffix)
	tag := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")) + "-" + hex.EncodeToString(suffix)

	// QEMU runs as libvirt-qemu: the directories must be traversable.
	base, err := os.MkdirTemp("", "stratus-"+tag+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.ImagesPool, cfg.ImagesDir = "stratus-images-"+tag, filepath.Join(base, "images")
	cfg.InstancesPool, cfg.InstancesDir = "stratus-instances-"+tag, filepath.Join(base, "instances")
	cfg.ShutdownTimeout = 2 * time.Second // SeaBIOS without an OS ignores ACPI
	cfg.Logger = slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// An independent connection checks what the package did and cleans up.
	check, err := libvirt.NewConnect("qemu:///system")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { check.Close() })
	t.Cleanup(func() { removePools(t, check, cfg.ImagesPool, cfg.InstancesPool) })

	p := NewPoolWithConfig(cfg)
	t.Cleanup(p.Close)
	h := p.Add("qemu:///system")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	info, err := h.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := expectedVirtType(t); info.VirtType != want {
		t.Fatalf("VirtType = %q, want %q on this machine", info.VirtType, want)
	}
	if h.Simulated() || info.VCPUs < 1 || info.MemoryMiB < 1 || info.DiskGiB < 1 {
		t.Fatalf("Info = %+v", info)
	}
	t.Logf("host info: %+v", info)

	// A tiny blank qcow2 as the image; EnsureImage from 3 goroutines
	// uploads it once.
	img := filepath.Join(base, "blank.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", img, "64M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img create: %v: %s", err, out)
	}
	imgBytes, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	var opens atomic.Int32
	open := func(context.Context) (io.ReadCloser, error) {
		opens.Add(1)
		time.Sleep(50 * time.Millisecond) // keep the first upload in flight while the others arrive
		return os.Open(img)
	}
	imageID := "img-" + tag
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := h.EnsureImage(ctx, imageID, "qcow2", int64(len(imgBytes)), open); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := h.EnsureImage(ctx, imageID, "qcow2", int64(len(imgBytes)), open); err != nil {
		t.Fatal(err)
	}
	if n := opens.Load(); n != 1 {
		t.Fatalf("image opened %d times, want 1", n)
	}
	if got, err := os.ReadFile(filepath.Join(cfg.ImagesDir, imageID+".qcow2")); err != nil || !bytes.Equal(got, imgBytes) {
		t.Fatalf("cached image differs from the source (%v)", err)
	}

	events := make(chan powerEvent, 32)
	h.OnPowerChange(func(id string, state PowerState) { events <- powerEvent{id, state} })

	id := "srv-" + tag
	t.Cleanup(func() {
		if err := h.Delete(context.Background(), id); err != nil {
			t.Errorf("cleanup Delete: %v", err)
		}
	})
	sp := ServerSpec{ID: id, Name: "seabios", ProjectID: "p", UserID: "u", FlavorID: "f", FlavorName: "tiny",
		ImageID: imageID, VCPUs: 1, MemoryMiB: 128, DiskGiB: 1, ConfigDrive: []byte("not really an ISO, but uploaded byte for byte")}
	t0 := time.Now()
	if err := h.CreateServer(ctx, sp); err != nil {
		t.Fatal(err)
	}
	created := time.Since(t0)
	t0 = time.Now()
	if err := h.CreateServer(ctx, sp); err != nil {
		t.Fatal(err)
	}
	t.Logf("CreateServer %v (volumes, upload, define and start); repeated call %v", created, time.Since(t0))
	waitEvent(t, events, powerEvent{id, Running})
	if got, err := os.ReadFile(filepath.Join(cfg.InstancesDir, id+".config.iso")); err != nil || !bytes.Equal(got, sp.ConfigDrive) {
		t.Fatalf("config drive on the host differs (%v)", err)
	}

	// SeaBIOS writes to the serial console with no OS at all.
	t0 = time.Now()
	var log []byte
	for !bytes.Contains(log, []byte("SeaBIOS")) {
		if time.Since(t0) > time.Minute {
			t.Fatalf("no SeaBIOS banner on the console after a minute; log: %q", log)
		}
		time.Sleep(100 * time.Millisecond)
		if log, err = h.ConsoleLog(ctx, id, 4096); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("SeaBIOS on the console log %v after start: %q", time.Since(t0), firstLine(log, "SeaBIOS"))
	if tail, err := h.ConsoleLog(ctx, id, 10); err != nil || len(tail) != 10 {
		t.Fatalf("ConsoleLog(10) = %q, %v", tail, err)
	}

	// Live snapshot (block copy) of the running server, then a cold one.
	t0 = time.Now()
	checkSnapshot(ctx, t, h, check, cfg.InstancesPool, id, base, "live")
	t.Logf("live SnapshotDisk %v", time.Since(t0))
	if err := h.Stop(ctx, id, true); err != nil { // ACPI ignored: destroyed after ShutdownTimeout
		t.Fatal(err)
	}
	wantState(t, h, id, Shutdown)
	waitEvent(t, events, powerEvent{id, Shutdown})
	t0 = time.Now()
	checkSnapshot(ctx, t, h, check, cfg.InstancesPool, id, base, "cold")
	t.Logf("cold SnapshotDisk %v", time.Since(t0))

	if err := h.Resize(ctx, id, 2, 256, 2); err != nil {
		t.Fatal(err)
	}
	if got := qemuImgInfo(t, filepath.Join(cfg.InstancesDir, id+".qcow2")); got.VirtualSize != 2<<30 {
		t.Fatalf("disk after Resize: %d bytes, want 2 GiB", got.VirtualSize)
	}
	t0 = time.Now()
	if err := h.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	t.Logf("Start %v", time.Since(t0))
	wantState(t, h, id, Running)
	if err := h.Reboot(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	wantState(t, h, id, Running)
	if servers, err := h.Servers(ctx); err != nil || !hasServer(servers, id) {
		t.Fatalf("Servers = %+v, %v; want %s", servers, err, id)
	}

	t0 = time.Now()
	if err := h.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	t.Logf("Delete of a running server %v", time.Since(t0))
	if _, err := check.LookupDomainByName(domainName(id)); !isCode(err, libvirt.ERR_NO_DOMAIN) {
		t.Fatalf("domain still there after Delete: %v", err)
	}
	if left := volumesWithPrefix(t, check, cfg.InstancesPool, volumePrefix(id)); len(left) != 0 {
		t.Fatalf("volumes left after Delete: %v", left)
	}
	if _, err := h.PowerState(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PowerState after Delete: %v", err)
	}
}

// checkSnapshot reads a SnapshotDisk stream into a file and checks it is a
// standalone qcow2 of the server's 1 GiB disk, and that its temporary volume
// is gone after Close.
func checkSnapshot(ctx context.Context, t *testing.T, h *Host, check *libvirt.Connect, pool, id, dir, kind string) {
	t.Helper()
	r, size, err := h.SnapshotDisk(ctx, id)
	if err != nil {
		t.Fatalf("%s SnapshotDisk: %v", kind, err)
	}
	data, err := io.ReadAll(r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("%s snapshot stream: %v", kind, err)
	}
	if !bytes.HasPrefix(data, []byte("QFI\xfb")) || int64(len(data)) != size {
		t.Fatalf("%s snapshot: %d bytes (declared %d), starts %q", kind, len(data), size, data[:min(8, len(data))])
	}
	file := filepath.Join(dir, kind+".qcow2")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	info := qemuImgInfo(t, file)
	if info.BackingFilename != "" || info.VirtualSize != 1<<30 {
		t.Fatalf("%s snapshot: backing %q, virtual size %d; want standalone 1 GiB", kind, info.BackingFilename, info.VirtualSize)
	}
	if left := volumesWithPrefix(t, check, pool, id+".snapshot-"); len(left) != 0 {
		t.Fatalf("%s snapshot: temporary volumes left after Close: %v", kind, left)
	}
}

type imgInfo struct {
	VirtualSize     int64  `json:"virtual-size"`
	BackingFilename string `json:"backing-filename"`
}

func qemuImgInfo(t *testing.T, path string) imgInfo {
	t.Helper()
	out, err := exec.Command("qemu-img", "info", "-U", "--output=json", path).Output()
	if err != nil {
		t.Fatalf("qemu-img info %s: %v", path, err)
	}
	var info imgInfo
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	return info
}

func firstLine(log []byte, containing string) string {
	for line := range strings.SplitSeq(string(log), "\n") {
		if strings.Contains(line, containing) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

func hasServer(servers []ServerState, id string) bool {
	for _, s := range servers {
		if s.ID == id {
			return true
		}
	}
	return false
}

// volumesWithPrefix lists a pool's volumes named prefix* after a refresh.
func volumesWithPrefix(t *testing.T, conn *libvirt.Connect, pool, prefix string) []string {
	t.Helper()
	p, err := conn.LookupStoragePoolByName(pool)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Free()
	if err := p.Refresh(0); err != nil {
		t.Fatal(err)
	}
	vols, err := p.ListAllStorageVolumes(0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range vols {
		if name, _ := vols[i].GetName(); strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
		vols[i].Free()
	}
	return names
}

// removePools deletes the test's pools with their volumes and directories.
func removePools(t *testing.T, conn *libvirt.Connect, names ...string) {
	for _, name := range names {
		p, err := conn.LookupStoragePoolByName(name)
		if err != nil {
			continue // never created
		}
		_ = p.Refresh(0)
		vols, _ := p.ListAllStorageVolumes(0)
		for i := range vols {
			if err := vols[i].Delete(0); err != nil {
				t.Errorf("cleanup: deleting volume in %s: %v", name, err)
			}
			vols[i].Free()
		}
		_ = p.Destroy()
		if err := p.Delete(0); err != nil {
			t.Errorf("cleanup: removing directory of pool %s: %v", name, err)
		}
		if err := p.Undefine(); err != nil {
			t.Errorf("cleanup: undefining pool %s: %v", name, err)
		}
		p.Free()
	}
}
