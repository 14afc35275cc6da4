package nova_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var novaCtx = context.Background()

// computeV2 is a Nova client for pc, found through the catalog as every
// real client finds it.
func computeV2(t *testing.T, pc *gophercloud.ProviderClient) *gophercloud.ServiceClient {
	t.Helper()
	cc, err := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

// adminCompute starts a cloud and returns it with an admin Nova client.
func adminCompute(t *testing.T) (*cloudtest.Cloud, *gophercloud.ServiceClient) {
	t.Helper()
	cloud := cloudtest.Start(t)
	return cloud, computeV2(t, cloud.Admin(t))
}

// memberCompute returns a Nova client for the member of project name
// (created on first use) and the project's id.
func memberCompute(t *testing.T, cloud *cloudtest.Cloud, name string) (*gophercloud.ServiceClient, string) {
	t.Helper()
	project := cloud.MemberProject(t, name)
	return computeV2(t, cloud.Member(t, name)), project
}

// must fails t on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantCode fails unless err is an HTTP error with status code.
func wantCode(t *testing.T, err error, code int, what string) {
	t.Helper()
	if !gophercloud.ResponseCodeIs(err, code) {
		t.Fatalf("%s: got %v, want HTTP %d", what, err, code)
	}
}

// faultBody returns the body of an HTTP error from gophercloud.
func faultBody(t *testing.T, err error) map[string]map[string]any {
	t.Helper()
	var e gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &e) {
		t.Fatalf("not an HTTP error: %v", err)
	}
	var body map[string]map[string]any
	if jerr := json.Unmarshal(e.Body, &body); jerr != nil {
		t.Fatalf("error body is not JSON: %v: %s", jerr, e.Body)
	}
	return body
}

// rawRequest sends a request to the compute endpoint of cc (path relative
// to it) with cc's token unless noToken, and returns the response and its
// body.
func rawRequest(t *testing.T, cc *gophercloud.ServiceClient, method, path string, body any, header http.Header) (*http.Response, []byte) {
	t.Helper()
	var in io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		must(t, err)
		in = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(novaCtx, method, cc.ServiceURL(path), in)
	must(t, err)
	req.Header.Set("Content-Type", "application/json")
	if cc.TokenID != "" {
		req.Header.Set("X-Auth-Token", cc.TokenID)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp, data
}

// insertServer records a server row directly, standing in for a server
// build where a test is about counting (quota usage, group members), not
// about booting.
func insertServer(t *testing.T, cloud *cloudtest.Cloud, project, group string, vcpus, ramMB int, deleted bool) string {
	t.Helper()
	id := uuid.NewString()
	_, err := cloud.Server.Pool.Exec(novaCtx, `INSERT INTO servers (id, name, project_id, user_id, flavor_id, vcpus, ram_mb, disk_gb,
			flavor_name, vm_state, server_group_id, deleted)
		VALUES ($1, 'counted', $2, 'someone', '42', $3, $4, 1, 's1.nano', 'active', nullif($5, ''), $6)`,
		id, project, vcpus, ramMB, group, deleted)
	must(t, err)
	return id
}

// osCLI runs the real openstack command line as a user who sourced an
// openrc file.
type osCLI struct {
	t   *testing.T
	env []string
}

// newCLI returns the CLI as the cloud's admin, skipping the test when the
// CLI is missing (and failing it in CI, where it must be there).
func newCLI(t *testing.T, cloud *cloudtest.Cloud) osCLI {
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
	return osCLI{t: t, env: append(env, cloud.Env(t)...)}
}

// run returns stdout, stderr and the exit error of openstack args.
func (c osCLI) run(args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(novaCtx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openstack", args...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// ok runs openstack args and fails the test unless it exits 0.
func (c osCLI) ok(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("openstack %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// json runs openstack args -f json and decodes the output into v.
func (c osCLI) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "-f", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("openstack %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}
