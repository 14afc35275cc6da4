// Package tfcli runs the real Terraform CLI the way users do, with the
// provider built from this tree as a separate plugin process, against an
// in-process cloud: for the quickstart test and the benchmarks, which
// measure and check whole `terraform init/apply/plan/destroy` runs.
//
// The provider binary is installed into a private -plugin-dir, so nothing
// is downloaded and the user's TF_CLI_CONFIG_FILE is left alone. Terraform
// authenticates from the cloud's admin-openrc.sh (OS_* variables) like an
// operator who sourced it.
package tfcli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

// providerVersion is the version the built provider is installed as.
const providerVersion = "0.0.1"

// Workspace is a Terraform working directory bound to a cloud.
type Workspace struct {
	Dir       string
	pluginDir string
	tf        string
	env       []string
}

// New builds the provider, writes files (name to content) into a fresh
// working directory and runs `terraform init` there. It skips or fails t
// as acceptance tests do without TF_ACC or a Terraform CLI (acctest.Start
// checked that already).
func New(t testing.TB, cloud *acctest.Cloud, files map[string]string) *Workspace {
	t.Helper()
	w := &Workspace{Dir: t.TempDir(), pluginDir: buildProvider(t), tf: os.Getenv("TF_ACC_TERRAFORM_PATH")}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(w.Dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w.env = append(os.Environ(), cloud.Env(t)...)
	w.env = append(w.env, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0")
	w.Run(t, "init", "-no-color", "-plugin-dir="+w.pluginDir)
	return w
}

// Dir reads the *.tf files of dir, for New.
func Dir(t testing.TB, dir string) map[string]string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no *.tf files in %s (%v)", dir, err)
	}
	files := map[string]string{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(n)] = string(b)
	}
	return files
}

// Run runs terraform with args and returns its standard output; it fails
// t if Terraform fails.
func (w *Workspace) Run(t testing.TB, args ...string) string {
	t.Helper()
	out, code, err := w.run(args...)
	if err != nil || code != 0 {
		t.Fatalf("terraform %s: exit %d %v\n%s", strings.Join(args, " "), code, err, out)
	}
	return out
}

// PlanIsEmpty runs `terraform plan -detailed-exitcode` with extra args and
// reports whether it proposes no change; the plan's output comes along for
// error messages. A failing plan fails t.
func (w *Workspace) PlanIsEmpty(t testing.TB, args ...string) (bool, string) {
	t.Helper()
	out, code, err := w.run(append([]string{"plan", "-no-color", "-detailed-exitcode"}, args...)...)
	switch {
	case err == nil && code == 0:
		return true, out
	case err == nil && code == 2:
		return false, out
	}
	t.Fatalf("terraform plan: exit %d %v\n%s", code, err, out)
	return false, out
}

func (w *Workspace) run(args ...string) (string, int, error) {
	cmd := exec.Command(w.tf, args...)
	cmd.Dir, cmd.Env = w.Dir, w.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), exit.ExitCode(), nil
	}
	return out.String(), 0, err
}

// buildProvider builds terraform-provider-stratus into a plugin directory
// laid out as `terraform init -plugin-dir` expects and returns it.
func buildProvider(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "registry.terraform.io", "stratus-cloud", "stratus", providerVersion,
		runtime.GOOS+"_"+runtime.GOARCH, "terraform-provider-stratus_v"+providerVersion)
	cmd := exec.Command("go", "build", "-o", bin, "github.com/stratus-cloud/stratus/provider")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	return dir
}

// RequiredProviders is the terraform block a configuration needs to use
// the provider.
const RequiredProviders = `
terraform {
  required_providers {
    stratus = {
      source = "stratus-cloud/stratus"
    }
  }
}

provider "stratus" {}
`
