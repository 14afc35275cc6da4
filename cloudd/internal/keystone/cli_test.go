package keystone_test

import (
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
)

type cliToken struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
	Expires   string `json:"expires"`
}

func TestOpenstackCLI(t *testing.T) {
	cloud := cloudtest.Start(t)
	admin := cloud.OpenstackCLI(t)

	// token issue: a scoped token with a compact (Fernet-sized) id.
	var tok cliToken
	admin.JSON(&tok, "token", "issue")
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
	admin.JSON(&catalog, "catalog", "list")
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
	admin.JSON(&endpoints, "endpoint", "list")
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
	admin.JSON(&project, "project", "create", "demo-cli")
	if project.ID == "" || project.Name != "demo-cli" {
		t.Fatalf("project create: %+v", project)
	}
	const alicePassword = "Al1ce-cli-secret"
	var user struct {
		ID               string `json:"id"`
		Name             string `json:"name"`
		DefaultProjectID string `json:"default_project_id"`
	}
	admin.JSON(&user, "user", "create", "alice-cli", "--password", alicePassword, "--project", "demo-cli")
	if user.ID == "" || user.Name != "alice-cli" || user.DefaultProjectID != project.ID {
		t.Fatalf("user create: %+v, want default project %s", user, project.ID)
	}
	admin.OK("role", "add", "--project", "demo-cli", "--user", "alice-cli", "member")

	var assignments []struct {
		Role, User, Project string
	}
	admin.JSON(&assignments, "role", "assignment", "list", "--names")
	found = false
	for _, a := range assignments {
		found = found || (a.User == "alice-cli@Default" && a.Role == "member" && a.Project == "demo-cli@Default")
	}
	if !found {
		t.Errorf("role assignment list --names lacks member for alice-cli@Default on demo-cli@Default: %+v", assignments)
	}

	// As alice: she gets a token for demo-cli but may not list users.
	alice := admin.With("OS_USERNAME=alice-cli", "OS_PASSWORD="+alicePassword, "OS_PROJECT_NAME=demo-cli")
	var aliceTok cliToken
	alice.JSON(&aliceTok, "token", "issue")
	if aliceTok.UserID != user.ID || aliceTok.ProjectID != project.ID {
		t.Errorf("alice's token: user %s project %s, want %s %s", aliceTok.UserID, aliceTok.ProjectID, user.ID, project.ID)
	}
	if errOut := alice.Fails("user", "list"); !strings.Contains(errOut, "HTTP 403") {
		t.Errorf("user list as a member: want HTTP 403, stderr: %s", errOut)
	}

	// An application credential authenticates on its own, until deleted.
	var cred struct{ ID, Name, Secret string }
	admin.JSON(&cred, "application", "credential", "create", "ci-cred")
	if cred.ID == "" || cred.Secret == "" || cred.Name != "ci-cred" {
		t.Fatalf("application credential create: %+v", cred)
	}
	appcred := admin.With("OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME",
		"OS_AUTH_TYPE=v3applicationcredential", "OS_APPLICATION_CREDENTIAL_ID="+cred.ID,
		"OS_APPLICATION_CREDENTIAL_SECRET="+cred.Secret)
	var credTok cliToken
	appcred.JSON(&credTok, "token", "issue")
	if credTok.ProjectID != adminProject || credTok.UserID != tok.UserID {
		t.Errorf("application credential token: user %s project %s, want admin's %s %s",
			credTok.UserID, credTok.ProjectID, tok.UserID, adminProject)
	}
	admin.OK("application", "credential", "delete", "ci-cred")
	if errOut := appcred.Fails("token", "issue"); !strings.Contains(errOut, "HTTP 401") {
		t.Errorf("token issue with a deleted application credential: want HTTP 401, stderr: %s", errOut)
	}

	// A wrong password is refused.
	if errOut := admin.With("OS_PASSWORD=not-the-password").Fails("token", "issue"); !strings.Contains(errOut, "HTTP 401") {
		t.Errorf("token issue with a wrong password: want HTTP 401, stderr: %s", errOut)
	}
}
