package glance_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

// BenchmarkImageUpload uploads a 256 MiB image file with gophercloud over
// HTTP on loopback (streamed from the file, md5 and sha512 computed,
// synced, inspected, activated) and, for comparison, copies the same file
// on the same file system twice:
//
//   - cp: what cp(1) does on Linux, copy_file_range into the page cache
//     and no sync; the data is not on disk when it ends.
//   - cp+sync: the same copy followed by fsync, the durable equivalent of
//     an upload, so the gap between cp and cp+sync is what durability costs.
//
// Each reports MB/s (of the 256 MiB) and cpu-ms/op, the CPU time (user and
// system) the process used per copy: for the upload that is client and
// server, which share the process. CPU time hardly moves when other load
// on the machine skews the wall clock, and it shows what the upload can
// reach on more cores.
//
// Run it with -cpu 1,2: GOMAXPROCS then applies to client and server at
// once. The loops are b.N loops, not b.Loop, because testing runs a
// benchmark once before it applies the -cpu value (golang/go#49980) and
// b.Loop does all its iterations in that run: the figures labelled with
// the first -cpu value would come from the previous one.
func BenchmarkImageUpload(b *testing.B) {
	const size = 256 << 20
	ctx := context.Background()
	cloud := cloudtest.Start(b)
	sc := imageClient(b, cloud.Admin(b))
	dir := b.TempDir()
	src := filepath.Join(dir, "disk.raw")
	if err := os.WriteFile(src, payload(11, size), 0o600); err != nil {
		b.Fatal(err)
	}

	b.Run("http-upload", func(b *testing.B) {
		b.SetBytes(size)
		var cpu cpuMeter
		for range b.N {
			b.StopTimer()
			img := createImage(b, sc, images.CreateOpts{Name: "bench", DiskFormat: "raw", ContainerFormat: "bare"})
			f, err := os.Open(src)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			cpu.start()
			err = imagedata.Upload(ctx, sc, img.ID, f).ExtractErr()
			cpu.stop()
			b.StopTimer()
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			if err := images.Delete(ctx, sc, img.ID).ExtractErr(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		cpu.report(b)
	})

	for _, sync := range []bool{false, true} {
		name := "cp"
		if sync {
			name = "cp+sync"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			dst := filepath.Join(dir, "copy.raw")
			var cpu cpuMeter
			for range b.N {
				cpu.start()
				err := copyFile(dst, src, sync)
				cpu.stop()
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				// Removing the copy drops its dirty pages too, so an unsynced
				// copy does not leave writeback behind for the next round.
				if err := os.Remove(dst); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			cpu.report(b)
		})
	}
}

// cpuMeter adds up the CPU time the process uses between start and stop.
type cpuMeter struct{ begin, total time.Duration }

func (m *cpuMeter) start() { m.begin = processCPU() }
func (m *cpuMeter) stop()  { m.total += processCPU() - m.begin }

func (m *cpuMeter) report(b *testing.B) {
	b.ReportMetric(m.total.Seconds()*1e3/float64(b.N), "cpu-ms/op")
}

// processCPU is the user and system time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// copyFile copies src to a new file dst as cp does: io.Copy between two
// *os.File is copy_file_range(2) on Linux, like GNU cp 9. With sync, dst
// is fsynced before it is closed.
func copyFile(dst, src string, sync bool) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if sync {
		if err := out.Sync(); err != nil {
			out.Close()
			return err
		}
	}
	return out.Close()
}
