package cinder_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"

	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor/hypervisortest"
)

// diskWatcher is user data for the tiny guest: a background loop that
// prints the guest's virtio disks (name, serial, size in 512-byte sectors)
// on the console whenever they change, so a test sees hot-plug, online
// growth and unplug from inside the guest. Each new data disk (not vda)
// is read: a disk carrying a mark has it printed (STRATUS-READ); any other
// gets one written, naming its serial (STRATUS-WROTE), so a test can follow
// data through snapshots and clones.
const diskWatcher = `#!/bin/sh
(
	seen=""
	marked=""
	while true; do
		now=""
		for d in /sys/block/vd*; do
			n=${d##*/}
			s=$(cat $d/serial 2>/dev/null)
			now="$now $n:$s:$(cat $d/size)"
			# Data disks only, and only while they are there (a disk being
			# unplugged loses its serial, then its device node).
			[ "$n" != vda ] && [ -n "$s" ] && [ -b /dev/$n ] || continue
			case "$marked " in *" $n:$s "*) continue ;; esac
			marked="$marked $n:$s"
			m=$(head -c 22 /dev/$n | tr -d '\000')
			case "$m" in
			STRATUS-MARK*) echo "STRATUS-READ $n $m" ;;
			*) printf 'STRATUS-MARK-%.8s' "$s" >/dev/$n && sync && echo "STRATUS-WROTE $n $s" ;;
			esac
		done
		if [ "$now" != "$seen" ]; then
			echo "STRATUS-DISKS$now"
			seen="$now"
		fi
		sleep 0.5
	done
) </dev/null >/dev/console 2>&1 &
echo STRATUS-WATCHER-STARTED
`

// tinyImage builds (or reuses, from the shared cache) the tiny guest image.
func tinyImage(t testing.TB) []byte {
	t.Helper()
	script, err := filepath.Abs("../../../scripts/build-guest-image.sh")
	must(t, err)
	cmd := exec.Command(script)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("building the tiny guest image: %v\n%s", err, stderr.String())
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 {
		t.Fatal("build-guest-image.sh printed no path")
	}
	data, err := os.ReadFile(lines[len(lines)-1])
	must(t, err)
	return data
}

// lastDisks returns the guest's last reported disk list, waiting until
// ok accepts it.
func lastDisks(t testing.TB, cc *gophercloud.ServiceClient, id string, ok func(disks string) bool) string {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	var out string
	for {
		var err error
		out, err = servers.ShowConsoleOutput(ctx, cc, id, servers.ShowConsoleOutputOpts{}).Extract()
		if err == nil {
			if m := disksLine.FindAllStringSubmatch(out, -1); len(m) > 0 && ok(m[len(m)-1][1]) {
				return m[len(m)-1][1]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the guest's console never showed the expected disks (err %v); output:\n%s", err, out)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// disksLine matches complete lines only: the console may be read while
// the guest is halfway through writing one.
var disksLine = regexp.MustCompile(`STRATUS-DISKS([^\r\n]*)\r?\n`)

// TestRealGuestHotPlug attaches a volume to a running QEMU guest: the
// guest sees a new virtio disk whose serial is the volume id, sees it grow
// when the volume is extended online, and sees it go when it is detached.
func TestRealGuestHotPlug(t *testing.T) {
	hypervisortest.RequireSystemLibvirt(t)
	cloud := start(t, "qemu:///system")
	c := clientsFor(t, cloud.Admin(t))
	imageID := uploadImage(t, c.image, "stratus-tiny", tinyImage(t))
	serverID := bootServer(t, c.compute, c.compute, imageID, "hotplug", []byte(diskWatcher))
	before := lastDisks(t, c.compute, serverID, func(d string) bool { return strings.Contains(d, "vda") })

	v, err := volumes.Create(ctx, c.block, volumes.CreateOpts{Size: 1, Name: "hot"}, nil).Extract()
	must(t, err)
	t.Cleanup(func() { _ = volumes.Delete(ctx, c.block, v.ID, nil).ExtractErr() })
	waitVolume(t, c.block, v.ID, "available")
	_, err = volumeattach.Create(ctx, c.compute, serverID, volumeattach.CreateOpts{VolumeID: v.ID}).Extract()
	must(t, err)
	waitVolume(t, c.block, v.ID, "in-use")
	serial := v.ID[:20] // virtio-blk serials are 20 bytes
	want := fmt.Sprintf("vdc:%s:%d", serial, 1<<30/512)
	lastDisks(t, c.compute, serverID, func(d string) bool { return strings.Contains(d, want) })

	must(t, volumes.ExtendSize(ctx, c.block, v.ID, volumes.ExtendSizeOpts{NewSize: 2}).ExtractErr())
	waitVolume(t, c.block, v.ID, "in-use")
	grown := fmt.Sprintf("vdc:%s:%d", serial, 2<<30/512)
	lastDisks(t, c.compute, serverID, func(d string) bool { return strings.Contains(d, grown) })

	waitConsole(t, c.compute, serverID, "STRATUS-WROTE vdc "+serial)
	// A live (forced) snapshot of the attached volume holds what the guest
	// wrote; so does a grown clone of it, attached after the original goes.
	snap, err := snapshots.Create(ctx, c.block, snapshots.CreateOpts{VolumeID: v.ID, Force: true}).Extract()
	must(t, err)
	waitSnapshot(t, c.block, snap.ID, "available")

	must(t, volumeattach.Delete(ctx, c.compute, serverID, v.ID).ExtractErr())
	waitVolume(t, c.block, v.ID, "available")
	after := lastDisks(t, c.compute, serverID, func(d string) bool { return !strings.Contains(d, "vdc") })
	if after != before {
		t.Errorf("disks after detach %q, before attach %q", after, before)
	}

	clone, err := volumes.Create(ctx, c.block, volumes.CreateOpts{SnapshotID: snap.ID, Size: 3}, nil).Extract()
	must(t, err)
	waitVolume(t, c.block, clone.ID, "available")
	_, err = volumeattach.Create(ctx, c.compute, serverID, volumeattach.CreateOpts{VolumeID: clone.ID}).Extract()
	must(t, err)
	waitVolume(t, c.block, clone.ID, "in-use")
	waitConsole(t, c.compute, serverID, "STRATUS-READ vdc STRATUS-MARK-"+v.ID[:8])
	lastDisks(t, c.compute, serverID, func(d string) bool { return strings.Contains(d, fmt.Sprintf("vdc:%s:%d", clone.ID[:20], 3<<30/512)) })
	must(t, volumeattach.Delete(ctx, c.compute, serverID, clone.ID).ExtractErr())
	waitVolume(t, c.block, clone.ID, "available")
	must(t, volumes.Delete(ctx, c.block, clone.ID, nil).ExtractErr())
	must(t, snapshots.Delete(ctx, c.block, snap.ID).ExtractErr())
	waitSnapshot(t, c.block, snap.ID, "deleted")
	if out, _ := exec.Command("virsh", "-c", "qemu:///system", "dumpxml", "--inactive", "stratus-"+serverID).Output(); strings.Contains(string(out), v.ID) {
		t.Errorf("the persistent definition still has the volume:\n%s", out)
	}
	must(t, volumes.Delete(ctx, c.block, v.ID, nil).ExtractErr())
	waitVolume(t, c.block, v.ID, "deleted")
	if out, err := exec.Command("virsh", "-c", "qemu:///system", "vol-list", "stratus-volumes").CombinedOutput(); err != nil || strings.Contains(string(out), v.ID) {
		t.Errorf("the deleted volume's disk is still on the host (err %v):\n%s", err, out)
	}
}

// TestRealGuestBootFromVolume boots a QEMU guest from a volume made from
// the tiny image: the volume holds a real copy of the image, grown to the
// requested size, and the guest runs from it.
func TestRealGuestBootFromVolume(t *testing.T) {
	hypervisortest.RequireSystemLibvirt(t)
	cloud := start(t, "qemu:///system")
	c := clientsFor(t, cloud.Admin(t))
	imageID := uploadImage(t, c.image, "stratus-tiny", tinyImage(t))
	srv, err := servers.Create(ctx, c.compute, servers.CreateOpts{Name: "bfv-guest", FlavorRef: flavorFor(t, c.compute),
		UserData: []byte(diskWatcher), BlockDevice: []servers.BlockDevice{{SourceType: servers.SourceImage,
			DestinationType: servers.DestinationVolume, UUID: imageID, VolumeSize: 1, DeleteOnTermination: true}}}, nil).Extract()
	must(t, err)
	t.Cleanup(func() {
		if servers.Delete(ctx, c.compute, srv.ID).ExtractErr() == nil {
			waitServer(t, c.compute, srv.ID, "DELETED")
		}
	})
	waitServer(t, c.compute, srv.ID, "ACTIVE")
	got, err := servers.Get(ctx, c.compute, srv.ID).Extract()
	must(t, err)
	if len(got.AttachedVolumes) != 1 {
		t.Fatalf("volumes attached = %+v", got.AttachedVolumes)
	}
	root := got.AttachedVolumes[0].ID
	// The root disk is the 1 GiB volume, with the volume id as its serial.
	want := fmt.Sprintf("vda:%s:%d", root[:20], 1<<30/512)
	lastDisks(t, c.compute, srv.ID, func(d string) bool { return strings.Contains(d, want) })
	must(t, servers.Delete(ctx, c.compute, srv.ID).ExtractErr())
	waitServer(t, c.compute, srv.ID, "DELETED")
	waitVolume(t, c.block, root, "deleted")
}

// waitConsole polls the console until it shows want.
func waitConsole(t testing.TB, cc *gophercloud.ServiceClient, id, want string) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		out, err := servers.ShowConsoleOutput(ctx, cc, id, servers.ShowConsoleOutputOpts{}).Extract()
		if err == nil && strings.Contains(out, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the console never showed %q (err %v); output:\n%s", want, err, out)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
