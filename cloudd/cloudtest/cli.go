package cloudtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// CLI runs the real openstack command line as a user who sourced the
// cloud's admin-openrc.sh. Tests that use it need python3-openstackclient:
// they fail in CI (CI set) without it and skip elsewhere.
type CLI struct {
	t   testing.TB
	env []string
}

// OpenstackCLI returns the admin's CLI, or skips/fails the test without one.
func (c *Cloud) OpenstackCLI(t testing.TB) CLI {
	t.Helper()
	if _, err := exec.LookPath("openstack"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("openstack CLI (python3-openstackclient) is required in CI: %v", err)
		}
		t.Skipf("openstack CLI not installed: %v", err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OS_") {
			env = append(env, kv)
		}
	}
	return CLI{t: t, env: append(env, c.Env(t)...)}
}

// With returns a copy whose OS_* variables are changed: "K=V" sets K, a
// bare "K" unsets it.
func (c CLI) With(changes ...string) CLI {
	drop := map[string]bool{}
	for _, ch := range changes {
		k, _, _ := strings.Cut(ch, "=")
		drop[k] = true
	}
	var env []string
	for _, kv := range c.env {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			env = append(env, kv)
		}
	}
	for _, ch := range changes {
		if strings.Contains(ch, "=") {
			env = append(env, ch)
		}
	}
	return CLI{t: c.t, env: env}
}

// Run returns stdout, stderr and the exit error of openstack args.
func (c CLI) Run(args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openstack", args...)
	cmd.Env = c.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// OK runs openstack args and fails the test unless it exits 0.
func (c CLI) OK(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.Run(args...)
	if err != nil {
		c.t.Fatalf("openstack %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// JSON runs openstack args -f json and decodes the output into v.
func (c CLI) JSON(v any, args ...string) {
	c.t.Helper()
	out := c.OK(append(args, "-f", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("openstack %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Fails runs openstack args, requires a non-zero exit and returns stderr.
func (c CLI) Fails(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.Run(args...)
	if err == nil {
		c.t.Fatalf("openstack %s succeeded, want failure\nstdout: %s", strings.Join(args, " "), out)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		c.t.Fatalf("openstack %s did not run: %v", strings.Join(args, " "), err)
	}
	return errOut
}
