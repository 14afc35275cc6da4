package format_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/cloudd/internal/image/format"
)

// TestQemuImgImages checks the inspector against images qemu-img itself
// writes: it must name their format and report the virtual size qemu-img
// reports, and refuse the ones that reach into other files.
func TestQemuImgImages(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skipf("qemu-img not installed: %v", err)
	}
	dir := t.TempDir()
	qemuImg := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("qemu-img", args...).CombinedOutput(); err != nil {
			t.Fatalf("qemu-img %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	qemuImg("create", "-f", "raw", path("base.raw"), "16M")

	for _, tc := range []struct {
		name, qemuFormat string
		opts             string
		want             string // format name, or "" for a refusal
		why              string
	}{
		{"qcow2", "qcow2", "", format.QCOW2, ""},
		{"qcow2 v2", "qcow2", "compat=0.10", format.QCOW2, ""},
		{"qcow2 lazy refcounts", "qcow2", "lazy_refcounts=on", format.QCOW2, ""},
		{"qcow2 extended l2", "qcow2", "extended_l2=on", format.QCOW2, ""},
		{"vmdk", "vmdk", "", format.VMDK, ""},
		{"vmdk streamOptimized", "vmdk", "subformat=streamOptimized", format.VMDK, ""},
		{"vhd", "vpc", "", format.VHD, ""},
		{"vhdx", "vhdx", "", format.VHDX, ""},
		{"vdi", "vdi", "", format.VDI, ""},
		{"qed", "qed", "", format.QED, ""},
		{"raw", "raw", "", format.Raw, ""},
		{"qcow2 with backing file", "qcow2", "backing_file=" + path("base.raw") + ",backing_fmt=raw", "", "backing file"},
		{"qcow2 with data file", "qcow2", "data_file=" + path("data.raw"), "", "external data file"},
		{"vmdk monolithicFlat", "vmdk", "subformat=monolithicFlat", "", "descriptor file"},
		{"vmdk twoGbMaxExtentSparse", "vmdk", "subformat=twoGbMaxExtentSparse", "", "descriptor file"},
		{"qed with backing file", "qed", "backing_file=" + path("base.raw") + ",backing_fmt=raw", "", "backing file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := path(strings.ReplaceAll(tc.name, " ", "-"))
			args := []string{"create", "-f", tc.qemuFormat}
			if tc.opts != "" {
				args = append(args, "-o", tc.opts)
			}
			qemuImg(append(args, file, "64M")...)
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			info, err := format.Inspect(f, st.Size())
			if tc.want == "" {
				var fe *format.Error
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.why) {
					t.Fatalf("Inspect = %+v, %v; want a refusal mentioning %q", info, err, tc.why)
				}
				return
			}
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			out, err := exec.Command("qemu-img", "info", "--output=json", "-f", tc.qemuFormat, file).Output()
			if err != nil {
				t.Fatal(err)
			}
			var qi struct {
				VirtualSize int64 `json:"virtual-size"`
			}
			if err := json.Unmarshal(out, &qi); err != nil {
				t.Fatal(err)
			}
			if info.Format != tc.want || info.VirtualSize != qi.VirtualSize {
				t.Errorf("Inspect = %+v, want format %s and qemu-img's virtual size %d", info, tc.want, qi.VirtualSize)
			}
		})
	}
}
