package nova_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

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
func computeV2(t testing.TB, pc *gophercloud.ProviderClient) *gophercloud.ServiceClient {
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
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantCode fails unless err is an HTTP error with status code.
func wantCode(t testing.TB, err error, code int, what string) {
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
