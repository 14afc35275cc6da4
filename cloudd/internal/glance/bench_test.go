package glance_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

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
// Client and server share the process and its GOMAXPROCS, so run it with
// -cpu 1,2 to see both. All three report MB/s (of the 256 MiB).
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
		for b.Loop() {
			b.StopTimer()
			img := createImage(b, sc, images.CreateOpts{Name: "bench", DiskFormat: "raw", ContainerFormat: "bare"})
			f, err := os.Open(src)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			err = imagedata.Upload(ctx, sc, img.ID, f).ExtractErr()
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
	})

	for _, sync := range []bool{false, true} {
		name := "cp"
		if sync {
			name = "cp+sync"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			dst := filepath.Join(dir, "copy.raw")
			for b.Loop() {
				if err := copyFile(dst, src, sync); err != nil {
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
		})
	}
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
