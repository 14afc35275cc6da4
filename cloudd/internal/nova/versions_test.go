package nova_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/apiversions"
)

func TestVersionDocumentsNeedNoToken(t *testing.T) {
	cloud, cc := adminCompute(t)

	for _, path := range []string{"/compute", "/compute/", "/compute/v2.1", "/compute/v2.1/"} {
		resp, err := http.Get(cloud.URL + path)
		must(t, err)
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s without a token: %d %s", path, resp.StatusCode, data)
		}
		if !strings.Contains(string(data), `"min_version":"2.1"`) {
			t.Errorf("GET %s: no min_version 2.1 in %s", path, data)
		}
	}

	// gophercloud's discovery reads both documents.
	page, err := apiversions.List(cc).AllPages(novaCtx)
	must(t, err)
	list, err := apiversions.ExtractAPIVersions(page)
	must(t, err)
	byID := map[string]apiversions.APIVersion{}
	for _, v := range list {
		byID[v.ID] = v
	}
	if v := byID["v2.1"]; v.Status != "CURRENT" || v.Version != "2.1" || v.MinVersion != "2.1" {
		t.Errorf("v2.1 in the version list = %+v", v)
	}
	if v := byID["v2.0"]; v.Status != "SUPPORTED" {
		t.Errorf("v2.0 in the version list = %+v", v)
	}
	v, err := apiversions.Get(novaCtx, cc, "v2.1").Extract()
	must(t, err)
	if v.ID != "v2.1" || v.Version != "2.1" || v.Status != "CURRENT" {
		t.Errorf("v2.1 document = %+v", v)
	}

	resp, err := http.Get(cloud.URL + "/compute/v2.1/flavors")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("flavors without a token: %d, want 401", resp.StatusCode)
	}
}

func TestMicroversionNegotiation(t *testing.T) {
	_, cc := adminCompute(t)
	for _, tc := range []struct {
		name    string
		header  http.Header
		status  int
		fault   string // root key of the error body
		version string // echoed when the request is served
	}{
		{"absent means the minimum", nil, http.StatusOK, "", "2.1"},
		{"explicit 2.1", http.Header{"Openstack-Api-Version": {"compute 2.1"}}, http.StatusOK, "", "2.1"},
		{"latest is the maximum", http.Header{"Openstack-Api-Version": {"compute latest"}}, http.StatusOK, "", "2.1"},
		{"legacy header", http.Header{"X-Openstack-Nova-Api-Version": {"2.1"}}, http.StatusOK, "", "2.1"},
		{"other services only", http.Header{"Openstack-Api-Version": {"volume 3.59"}}, http.StatusOK, "", "2.1"},
		{"compute among several", http.Header{"Openstack-Api-Version": {"volume 3.59, compute 2.1"}}, http.StatusOK, "", "2.1"},
		{"above the maximum", http.Header{"Openstack-Api-Version": {"compute 2.999"}}, http.StatusNotAcceptable, "computeFault", ""},
		{"below the minimum", http.Header{"Openstack-Api-Version": {"compute 2.0"}}, http.StatusNotAcceptable, "computeFault", ""},
		{"legacy above the maximum", http.Header{"X-Openstack-Nova-Api-Version": {"3.0"}}, http.StatusNotAcceptable, "computeFault", ""},
		{"garbage", http.Header{"Openstack-Api-Version": {"compute banana"}}, http.StatusBadRequest, "badRequest", ""},
		{"leading zero", http.Header{"Openstack-Api-Version": {"compute 2.01"}}, http.StatusBadRequest, "badRequest", ""},
		{"no version", http.Header{"Openstack-Api-Version": {"compute"}}, http.StatusBadRequest, "badRequest", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := rawRequest(t, cc, http.MethodGet, "flavors", nil, tc.header)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if !strings.Contains(resp.Header.Get("Vary"), "OpenStack-API-Version") {
				t.Errorf("Vary = %q", resp.Header.Get("Vary"))
			}
			if tc.fault != "" {
				var fault map[string]struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				}
				must(t, json.Unmarshal(body, &fault))
				if f, ok := fault[tc.fault]; !ok || f.Code != tc.status || f.Message == "" {
					t.Errorf("error body %s, want a %s fault with code %d", body, tc.fault, tc.status)
				}
				return
			}
			if got := resp.Header.Get("OpenStack-API-Version"); got != "compute "+tc.version {
				t.Errorf("OpenStack-API-Version = %q, want %q", got, "compute "+tc.version)
			}
			if got := resp.Header.Get("X-OpenStack-Nova-API-Version"); got != tc.version {
				t.Errorf("X-OpenStack-Nova-API-Version = %q, want %q", got, tc.version)
			}
		})
	}
}
