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
// HTTP on loopback (streamed, md5 and sha512 computed, synced, inspected,
// activated) and, for comparison, copies the same file to another file
// with a sync, which bounds what the disk allows. Both report MB/s.
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
	mbps := func(b *testing.B) {
		b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
	}

	b.Run("http-upload", func(b *testing.B) {
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
		mbps(b)
	})

	b.Run("file-copy", func(b *testing.B) {
		dst := filepath.Join(dir, "copy.raw")
		for b.Loop() {
			if err := copyFile(dst, src); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			_ = os.Remove(dst)
			b.StartTimer()
		}
		mbps(b)
	})
}

func copyFile(dst, src string) error {
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
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
