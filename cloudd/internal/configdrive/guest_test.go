package configdrive

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTinyGuestBoot boots the tiny guest (scripts/build-guest-image.sh)
// under QEMU TCG with a config drive from Build, once as a virtio disk and
// once as an IDE CD-ROM, and waits for the guest to report its hostname and
// the output of its user-data script on the serial console.
func TestTinyGuestBoot(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a guest")
	}
	qemu := need(t, "qemu-system-x86_64", "QEMU")
	for _, tool := range []string{"mkfs.vfat", "mcopy", "syslinux", "qemu-img", "apt-get", "dpkg-deb"} {
		need(t, tool, "the guest image build (scripts/setup.sh installs it)")
	}
	image := buildGuestImage(t)

	iso, err := Build(Drive{
		UUID:       "0d6e7a52-8c1f-4b7e-9a53-4f0f6b1f2a01",
		Name:       "tiny test",
		Hostname:   "tiny-test",
		PublicKeys: map[string]string{"tester": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBn4mbL1aT2p3yQ0m9oQp7kqf5kL0b7mS2ZcdH0u1x9v tester"},
		UserData:   []byte("#!/bin/sh\necho STRATUS-USERDATA-OK $(hostname)\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	isoPath := filepath.Join(t.TempDir(), "config.iso")
	if err := os.WriteFile(isoPath, iso, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		drive []string
	}{
		{"virtio-disk", []string{"-drive", "file=" + isoPath + ",if=virtio,format=raw,readonly=on"}},
		{"ide-cdrom", []string{"-cdrom", isoPath}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-accel", "tcg", "-m", "256", "-nographic", "-nodefaults", "-serial", "stdio",
				"-drive", "file=" + image + ",if=virtio,snapshot=on"}, tc.drive...)
			b := bootGuest(t, qemu, args, 90*time.Second, []string{
				"STRATUS-USERDATA-OK tiny-test",
				"stratus-guest: ready hostname=tiny-test",
			})
			t.Logf("%s: console output after %.2fs, first guest line (stratus-guest: booting) after %.2fs, ready after %.2fs",
				tc.name, b.firstOutput.Seconds(), b.firstLine.Seconds(), b.ready.Seconds())
			for _, want := range []string{
				"stratus-guest: user-data exit=0",
				"versions: 2018-08-27 latest", // Rock Ridge names, as Linux reads them
				"stratus-guest: ssh keys: 1 in /root/.ssh/authorized_keys",
			} {
				if !strings.Contains(b.console, want) {
					t.Errorf("console has no %q:\n%s", want, b.console)
				}
			}
		})
	}
}

// need returns the path of tool, or ends the test: a failure in CI (where
// scripts/setup.sh installs everything), a skip elsewhere.
func need(t *testing.T, tool, what string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		for _, dir := range []string{"/usr/sbin", "/sbin"} {
			if _, err := os.Stat(filepath.Join(dir, tool)); err == nil {
				return filepath.Join(dir, tool)
			}
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found: %s is required in CI", tool, what)
		}
		t.Skipf("%s not found (%s)", tool, what)
	}
	return path
}

// buildGuestImage runs scripts/build-guest-image.sh, which returns the cached
// image at once when it is up to date, and returns the image's path.
func buildGuestImage(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "scripts", "build-guest-image.sh")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("scripts/build-guest-image.sh not found above the package directory")
		}
		dir = parent
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(dir, "scripts", "build-guest-image.sh"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("build-guest-image.sh: %v\n%s", err, stderr.String())
	}
	image := strings.TrimSpace(string(out))
	info, err := os.Stat(image)
	if err != nil {
		t.Fatalf("build-guest-image.sh printed %q: %v", image, err)
	}
	t.Logf("guest image %s: %d KiB (%.1fs to build or check)%s", image, info.Size()/1024,
		time.Since(start).Seconds(), strings.TrimRight("\n"+stderr.String(), "\n"))
	return image
}

type boot struct {
	console                       string
	firstOutput, firstLine, ready time.Duration
}

// bootGuest runs QEMU until its console has shown every marker, then kills
// it; the guest's console is QEMU's stdout.
func bootGuest(t *testing.T, qemu string, args []string, timeout time.Duration, markers []string) boot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, args...)
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitOnce sync.Once
	stop := func() {
		waitOnce.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	defer stop()

	type line struct {
		text string
		at   time.Duration
	}
	lines := make(chan line)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			select {
			case lines <- line{strings.TrimRight(sc.Text(), "\r"), time.Since(start)}:
			case <-ctx.Done():
				return
			}
		}
	}()

	var b boot
	var console strings.Builder
	seen := map[string]bool{}
	for len(seen) < len(markers) {
		select {
		case l, ok := <-lines:
			if !ok {
				stop()
				t.Fatalf("QEMU exited before the guest was ready: %v\nstderr: %s\nconsole:\n%s", cmd.ProcessState, stderr.String(), console.String())
			}
			console.WriteString(l.text + "\n")
			if b.firstOutput == 0 {
				b.firstOutput = l.at
			}
			if b.firstLine == 0 && strings.Contains(l.text, "stratus-guest: booting") {
				b.firstLine = l.at
			}
			for _, m := range markers {
				if !seen[m] && strings.Contains(l.text, m) {
					seen[m] = true
					b.ready = l.at
				}
			}
		case <-ctx.Done():
			stop()
			t.Fatalf("guest not ready after %v (saw %d of %d markers)\nstderr: %s\nconsole:\n%s", timeout, len(seen), len(markers), stderr.String(), console.String())
		}
	}
	stop()
	b.console = console.String()
	return b
}
