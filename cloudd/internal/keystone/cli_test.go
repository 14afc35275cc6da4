package keystone_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

// osCLI runs the real openstack command line with a fixed environment, as
// a user who sourced an openrc file would.
type osCLI struct {
	t   *testing.T
	env []string
}

// cliEnv is the process environment without any OS_* variable, plus vars.
func cliEnv(vars []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OS_") {
			env = append(env, kv)
		}
	}
	return append(env, vars...)
}

// with returns a copy whose OS_* variables are changed: "K=V" sets K, a
// bare "K" unsets it.
func (c osCLI) with(changes ...string) osCLI {
	drop := map[string]bool{}
	for _, ch := range changes {
		k, _, _ := strings.Cut(ch, "=")
		drop[k] = true
	}
	var env []string
	for _, kv := range c.env {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			env = append(env, kv)
		}
	}
	for _, ch := range changes {
		if strings.Contains(ch, "=") {
			env = append(env, ch)
		}
	}
	return osCLI{t: c.t, env: env}
}

// run returns stdout, stderr and the exit error of openstack args.
func (c osCLI) run(args ...string) (string, string, error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
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

// fails runs openstack args, requires a non-zero exit and returns stderr.
func (c osCLI) fails(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(args...)
	if err == nil {
		c.t.Fatalf("openstack %s succeeded, want failure\nstdout: %s", strings.Join(args, " "), out)
	}
	if _, isExit := err.(*exec.ExitError); !isExit {
		c.t.Fatalf("openstack %s did not run: %v", strings.Join(args, " "), err)
	}
	return errOut
}

type cliToken struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
	Expires   string `json:"expires"`
}

func TestOpenstackCLI(t *testing.T) {
	if _, err := exec.LookPath("openstack"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("openstack CLI (python3-openstackclient) is required in CI: %v", err)
		}
		t.Skipf("openstack CLI not installed: %v", err)
	}
	cloud := cloudtest.Start(t)
	admin := osCLI{t: t, env: cliEnv(cloud.Env(t))}

	// token issue: a scoped token with a compact (Fernet-sized) id.
	var tok cliToken
	admin.json(&tok, "token", "issue")
	if tok.UserID == "" || tok.ProjectID == "" || tok.ID == "" {
		t.Fatalf("token issue: missing fields: %+v", tok)
	}
	if len(tok.ID) >= 250 {
		t.Errorf("token id is %d characters, want under 250", len(tok.ID))
	}
	adminProject := tok.ProjectID

	// catalog list: identity is there.
	var catalog []struct {
		Name, Type string
	}
	admin.json(&catalog, "catalog", "list")
	found := false
	for _, e := range catalog {
		found = found || e.Type == "identity"
	}
	if !found {
		t.Errorf("catalog list lacks identity: %+v", catalog)
	}

	// endpoint list: identity has public, internal and admin.
	var endpoints []struct {
		ServiceType string `json:"Service Type"`
		Interface   string `json:"Interface"`
		URL         string `json:"URL"`
	}
	admin.json(&endpoints, "endpoint", "list")
	ifaces := map[string]bool{}
	for _, e := range endpoints {
		if e.ServiceType == "identity" {
			ifaces[e.Interface] = true
			if e.URL != cloud.URL+"/identity" {
				t.Errorf("identity %s endpoint URL = %q, want %q", e.Interface, e.URL, cloud.URL+"/identity")
			}
		}
	}
	if len(ifaces) != 3 || !ifaces["public"] || !ifaces["internal"] || !ifaces["admin"] {
		t.Errorf("identity endpoint interfaces = %v, want public, internal and admin", ifaces)
	}

	// A project, a user in it and a role for them.
	var project struct{ ID, Name string }
	admin.json(&project, "project", "create", "demo-cli")
	if project.ID == "" || project.Name != "demo-cli" {
		t.Fatalf("project create: %+v", project)
	}
	const alicePassword = "Al1ce-cli-secret"
	var user struct {
		ID               string `json:"id"`
		Name             string `json:"name"`
		DefaultProjectID string `json:"default_project_id"`
	}
	admin.json(&user, "user", "create", "alice-cli", "--password", alicePassword, "--project", "demo-cli")
	if user.ID == "" || user.Name != "alice-cli" || user.DefaultProjectID != project.ID {
		t.Fatalf("user create: %+v, want default project %s", user, project.ID)
	}
	admin.ok("role", "add", "--project", "demo-cli", "--user", "alice-cli", "member")

	var assignments []struct {
		Role, User, Project string
	}
	admin.json(&assignments, "role", "assignment", "list", "--names")
	found = false
	for _, a := range assignments {
		found = found || (a.User == "alice-cli@Default" && a.Role == "member" && a.Project == "demo-cli@Default")
	}
	if !found {
		t.Errorf("role assignment list --names lacks member for alice-cli@Default on demo-cli@Default: %+v", assignments)
	}

	// As alice: she gets a token for demo-cli but may not list users.
	alice := admin.with("OS_USERNAME=alice-cli", "OS_PASSWORD="+alicePassword, "OS_PROJECT_NAME=demo-cli")
	var aliceTok cliToken
	alice.json(&aliceTok, "token", "issue")
	if aliceTok.UserID != user.ID || aliceTok.ProjectID != project.ID {
		t.Errorf("alice's token: user %s project %s, want %s %s", aliceTok.UserID, aliceTok.ProjectID, user.ID, project.ID)
	}
	if errOut := alice.fails("user", "list"); !strings.Contains(errOut, "HTTP 403") {
		t.Errorf("user list as a member: want HTTP 403, stderr: %s", errOut)
	}

	// An application credential authenticates on its own, until deleted.
	var cred struct{ ID, Name, Secret string }
	admin.json(&cred, "application", "credential", "create", "ci-cred")
	if cred.ID == "" || cred.Secret == "" || cred.Name != "ci-cred" {
		t.Fatalf("application credential create: %+v", cred)
	}
	appcred := admin.with("OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME",
		"OS_AUTH_TYPE=v3applicationcredential", "OS_APPLICATION_CREDENTIAL_ID="+cred.ID,
		"OS_APPLICATION_CREDENTIAL_SECRET="+cred.Secret)
	var credTok cliToken
	appcred.json(&credTok, "token", "issue")
	if credTok.ProjectID != adminProject || credTok.UserID != tok.UserID {
		t.Errorf("application credential token: user %s project %s, want admin's %s %s",
			credTok.UserID, credTok.ProjectID, tok.UserID, adminProject)
	}
	admin.ok("application", "credential", "delete", "ci-cred")
	if errOut := appcred.fails("token", "issue"); !strings.Contains(errOut, "HTTP 401") {
		t.Errorf("token issue with a deleted application credential: want HTTP 401, stderr: %s", errOut)
	}

	// A wrong password is refused.
	if errOut := admin.with("OS_PASSWORD=not-the-password").fails("token", "issue"); !strings.Contains(errOut, "HTTP 401") {
		t.Errorf("token issue with a wrong password: want HTTP 401, stderr: %s", errOut)
	}
}
