package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TinyGuestImage returns the project's tiny guest image (qcow2), built by
// scripts/build-guest-image.sh or reused from its cache.
func TinyGuestImage(t testing.TB) []byte {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	cmd := exec.Command(filepath.Join(filepath.Dir(here), "../../scripts/build-guest-image.sh"))
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
	if err != nil {
		t.Fatal(err)
	}
	return data
}
