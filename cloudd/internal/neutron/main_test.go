package neutron_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var ctx = context.Background()

// networkV2 is a Neutron client for pc, found through the catalog.
func networkV2(t testing.TB, pc *gophercloud.ProviderClient) *gophercloud.ServiceClient {
	t.Helper()
	nc, err := openstack.NewNetworkV2(pc, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	return nc
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantError fails unless err is an HTTP error with status code and, when
// typ is not empty, a NeutronError of that type.
func wantError(t testing.TB, err error, code int, typ string) {
	t.Helper()
	var e gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &e) || e.Actual != code {
		t.Fatalf("got %v, want HTTP %d %s", err, code, typ)
	}
	var body struct {
		NeutronError struct {
			Type    string  `json:"type"`
			Message string  `json:"message"`
			Detail  *string `json:"detail"`
		}
	}
	if err := json.Unmarshal(e.Body, &body); err != nil || body.NeutronError.Message == "" || body.NeutronError.Detail == nil {
		t.Fatalf("HTTP %d body is not a NeutronError: %s", code, e.Body)
	}
	if typ != "" && body.NeutronError.Type != typ {
		t.Fatalf("NeutronError type %q (%s), want %s", body.NeutronError.Type, body.NeutronError.Message, typ)
	}
}

// raw sends a request to the network endpoint of nc (path relative to it)
// and returns the status and body.
func raw(t testing.TB, nc *gophercloud.ServiceClient, method, path string, body any, header http.Header) (int, []byte) {
	t.Helper()
	var in io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		must(t, err)
		in = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, nc.ServiceURL(path), in)
	must(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Auth-Token", nc.TokenID)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp.StatusCode, data
}

// newNet creates a network with one IPv4 subnet of cidr and returns both.
func newNet(t testing.TB, nc *gophercloud.ServiceClient, name, cidr string, pools ...subnets.AllocationPool) (*networks.Network, *subnets.Subnet) {
	t.Helper()
	n, err := networks.Create(ctx, nc, networks.CreateOpts{Name: name}).Extract()
	must(t, err)
	s, err := subnets.Create(ctx, nc, subnets.CreateOpts{NetworkID: n.ID, CIDR: cidr, IPVersion: gophercloud.IPv4, Name: name + "-subnet",
		AllocationPools: pools}).Extract()
	must(t, err)
	return n, s
}

// startCloud starts a cloud and returns it with an admin network client.
func startCloud(t *testing.T) (*cloudtest.Cloud, *gophercloud.ServiceClient) {
	t.Helper()
	cloud := cloudtest.Start(t)
	return cloud, networkV2(t, cloud.Admin(t))
}

// defaultGroup returns the id of the caller's default security group.
func defaultGroup(t testing.TB, nc *gophercloud.ServiceClient) string {
	t.Helper()
	page, err := groups.List(nc, groups.ListOpts{Name: "default"}).AllPages(ctx)
	must(t, err)
	list, err := groups.ExtractGroups(page)
	must(t, err)
	project := adminProject(t, nc)
	for _, g := range list {
		if g.ProjectID == project {
			return g.ID
		}
	}
	t.Fatalf("no default group in %v", list)
	return ""
}
func ptr[T any](v T) *T { return &v }

// toJSON renders v for substring checks on CLI output.
func toJSON(t testing.TB, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	must(t, err)
	return string(data)
}
