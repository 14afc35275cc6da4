// Package status is "cloudd status", the openstack-status of Stratus: it
// logs in as the admin of a running cloud, walks the service catalog and
// probes every endpoint, and says plainly what is up and what is not.
package status

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stratus-cloud/stratus/cloudd/internal/config"
	"github.com/stratus-cloud/stratus/cloudd/internal/server"
)

// Run prints the report to out. healthy is false when anything is down;
// err is for failures to even ask (bad flags, unreadable credentials).
func Run(ctx context.Context, out io.Writer, args []string) (healthy bool, err error) {
	fs := flag.NewFlagSet("cloudd status", flag.ContinueOnError)
	stateDir := fs.String("state-dir", envOr("STRATUS_STATE_DIR", config.DefaultStateDir()), "state directory holding admin-openrc.sh (STRATUS_STATE_DIR)")
	if err := fs.Parse(args); err != nil {
		return false, err
	}
	creds, err := credentials(*stateDir)
	if err != nil {
		return false, err
	}
	client := &http.Client{Timeout: 5 * time.Second}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer w.Flush()
	fmt.Fprintf(w, "Stratus at %s\n\n", creds["OS_AUTH_URL"])

	catalog, tok, authErr := login(ctx, client, creds)
	healthy = authErr == nil
	fmt.Fprintln(w, "CHECK\tSTATUS")
	base := strings.TrimSuffix(strings.TrimSuffix(creds["OS_AUTH_URL"], "/"), "/identity/v3")
	for _, path := range []string{"/healthz", "/readyz"} {
		res := probe(ctx, client, base+path)
		healthy = healthy && res == "up"
		fmt.Fprintf(w, "cloudd %s\t%s\n", path, res)
	}
	if authErr != nil {
		fmt.Fprintf(w, "admin login\tDOWN: %v\n", authErr)
		return false, nil
	}
	fmt.Fprintf(w, "admin login\tup\n\nSERVICE\tTYPE\tINTERFACE\tURL\tSTATUS\n")
	for _, svc := range catalog {
		for _, ep := range svc.Endpoints {
			res := probe(ctx, client, ep.URL)
			healthy = healthy && res == "up"
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", svc.Name, svc.Type, ep.Interface, ep.URL, res)
		}
	}
	hostsUp, err := reportHosts(ctx, w, client, catalog, tok)
	if err != nil {
		fmt.Fprintf(w, "\nHOSTS\tDOWN: %v\n", err)
	}
	return healthy && hostsUp && err == nil, nil
}

// reportHosts lists the compute service's hypervisors with their state
// and usage; it reports false when any host is down.
func reportHosts(ctx context.Context, w io.Writer, client *http.Client, catalog []catalogEntry, tok string) (bool, error) {
	url := ""
	for _, svc := range catalog {
		for _, ep := range svc.Endpoints {
			if svc.Type == "compute" && ep.Interface == "public" {
				url = ep.URL
			}
		}
	}
	if url == "" {
		return true, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(url, "/")+"/os-hypervisors/detail", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("X-Auth-Token", tok)
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("compute answered %s", resp.Status)
	}
	var body struct {
		Hypervisors []struct {
			Name     string `json:"hypervisor_hostname"`
			State    string `json:"state"`
			Status   string `json:"status"`
			Type     string `json:"hypervisor_type"`
			URI      string `json:"OS-STRATUS:uri"`
			VCPUs    int    `json:"vcpus"`
			VCPUsUse int    `json:"vcpus_used"`
			RAM      int64  `json:"memory_mb"`
			RAMUsed  int64  `json:"memory_mb_used"`
			VMs      int    `json:"running_vms"`
		} `json:"hypervisors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return false, err
	}
	fmt.Fprintln(w, "\nHOST\tURI\tTYPE\tSERVERS\tVCPUS\tRAM MB\tSTATUS")
	up := true
	for _, h := range body.Hypervisors {
		state := "up"
		if h.State != "up" {
			state, up = "DOWN", false
		}
		if h.Status != "enabled" {
			state += " (disabled)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d/%d\t%d/%d\t%s\n", h.Name, h.URI, h.Type, h.VMs, h.VCPUsUse, h.VCPUs, h.RAMUsed, h.RAM, state)
	}
	if len(body.Hypervisors) == 0 {
		fmt.Fprintln(w, "none\t\t\t\t\t\tno hosts registered")
	}
	return up, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// credentials are the OS_* settings from the environment when OS_AUTH_URL
// is set there, else from <state dir>/admin-openrc.sh.
func credentials(stateDir string) (map[string]string, error) {
	creds := map[string]string{}
	if os.Getenv("OS_AUTH_URL") != "" {
		for _, kv := range os.Environ() {
			if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "OS_") {
				creds[k] = v
			}
		}
		return creds, nil
	}
	creds, err := server.ReadOpenRC(filepath.Join(stateDir, server.AdminOpenRC))
	if err != nil {
		return nil, fmt.Errorf("reading admin credentials (is cloudd bootstrapped with this state dir?): %w", err)
	}
	return creds, nil
}

type catalogEntry struct {
	Type      string `json:"type"`
	Name      string `json:"name"`
	Endpoints []struct {
		Interface string `json:"interface"`
		URL       string `json:"url"`
	} `json:"endpoints"`
}

func login(ctx context.Context, client *http.Client, creds map[string]string) ([]catalogEntry, string, error) {
	body, _ := json.Marshal(map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{
			"name": creds["OS_USERNAME"], "password": creds["OS_PASSWORD"], "domain": map[string]string{"name": creds["OS_USER_DOMAIN_NAME"]},
		}}},
		"scope": map[string]any{"project": map[string]any{"name": creds["OS_PROJECT_NAME"], "domain": map[string]string{"name": creds["OS_PROJECT_DOMAIN_NAME"]}}},
	}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(creds["OS_AUTH_URL"], "/")+"/auth/tokens", bytes.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return nil, "", fmt.Errorf("identity answered %s", resp.Status)
	}
	var tok struct {
		Token struct {
			Catalog []catalogEntry `json:"catalog"`
		} `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		return nil, "", err
	}
	return tok.Token.Catalog, resp.Header.Get("X-Subject-Token"), nil
}

// probe GETs url: anything below 500 (version documents, 401 for APIs that
// want a token) means the service is answering.
func probe(ctx context.Context, client *http.Client, url string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "DOWN: " + err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return "DOWN: " + err.Error()
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return "DOWN: " + resp.Status
	}
	return "up"
}
