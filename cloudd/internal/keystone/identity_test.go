package keystone_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/endpoints"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/services"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/internal/authn"
	"github.com/stratus-cloud/stratus/internal/token"
)

var ctx = context.Background()

// wantStatus fails unless err is an HTTP error with status code.
func wantStatus(t *testing.T, err error, code int, what string) {
	t.Helper()
	if !gophercloud.ResponseCodeIs(err, code) {
		t.Fatalf("%s: got %v, want HTTP %d", what, err, code)
	}
}

// must(f())(t) returns f's value, failing t if f returned an error.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// noErr fails t on err.
func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func roleID(t *testing.T, idc *gophercloud.ServiceClient, name string) string {
	t.Helper()
	page := must(roles.List(idc, roles.ListOpts{Name: name}).AllPages(ctx))(t)
	list := must(roles.ExtractRoles(page))(t)
	if len(list) != 1 {
		t.Fatalf("roles named %s: %d", name, len(list))
	}
	return list[0].ID
}

// newMember creates project and a user holding member on it.
func newMember(t *testing.T, idc *gophercloud.ServiceClient, project, user, password string) (*projects.Project, *users.User) {
	t.Helper()
	p := must(projects.Create(ctx, idc, projects.CreateOpts{Name: project}).Extract())(t)
	u := must(users.Create(ctx, idc, users.CreateOpts{Name: user, Password: password, DefaultProjectID: p.ID}).Extract())(t)
	if err := roles.Assign(ctx, idc, roleID(t, idc, "member"), roles.AssignOpts{UserID: u.ID, ProjectID: p.ID}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	return p, u
}

func tokenRoles(t *testing.T, idc *gophercloud.ServiceClient, tok string) []string {
	t.Helper()
	list := must(tokens.Get(ctx, idc, tok).ExtractRoles())(t)
	var names []string
	for _, r := range list {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	return names
}

func TestProjectsUsersAndRoleAssignments(t *testing.T) {
	cloud := cloudtest.Start(t)
	admin := cloudtest.Identity(t, cloud.Admin(t))

	// Admin's token carries the implied roles admin => member => reader.
	if got := tokenRoles(t, admin, admin.TokenID); !slices.Equal(got, []string{"admin", "member", "reader"}) {
		t.Errorf("admin token roles = %v", got)
	}

	p, u := newMember(t, admin, "blue", "bob", "bob-password")
	_, err := projects.Create(ctx, admin, projects.CreateOpts{Name: "blue"}).Extract()
	wantStatus(t, err, http.StatusConflict, "duplicate project name")

	updated := must(projects.Update(ctx, admin, p.ID, projects.UpdateOpts{Description: new("the blue team")}).Extract())(t)
	if updated.Description != "the blue team" || updated.Name != "blue" {
		t.Errorf("update lost fields: %+v", updated)
	}

	page := must(roles.ListAssignments(admin, roles.ListAssignmentsOpts{ScopeProjectID: p.ID, IncludeNames: new(true)}).AllPages(ctx))(t)
	assignments := must(roles.ExtractRoleAssignments(page))(t)
	if len(assignments) != 1 || assignments[0].User.Name != "bob" || assignments[0].Role.Name != "member" || assignments[0].Scope.Project.Name != "blue" {
		t.Fatalf("assignments on blue = %+v", assignments)
	}
	page = must(roles.ListAssignments(admin, roles.ListAssignmentsOpts{UserID: u.ID, Effective: new(true)}).AllPages(ctx))(t)
	if effective := must(roles.ExtractRoleAssignments(page))(t); len(effective) != 2 {
		t.Errorf("effective assignments of bob = %d, want member and the implied reader", len(effective))
	}

	// Bob logs in with his default project and acts as a member.
	bob := cloudtest.Identity(t, cloud.Login(t, "bob", "bob-password", "blue"))
	if got := tokenRoles(t, bob, bob.TokenID); !slices.Equal(got, []string{"member", "reader"}) {
		t.Errorf("bob's roles = %v", got)
	}
	if got := must(projects.Get(ctx, bob, p.ID).Extract())(t); got.Name != "blue" {
		t.Errorf("bob reads his project: %+v", got)
	}
	adminProject := must(tokens.Get(ctx, admin, admin.TokenID).ExtractProject())(t)
	_, err = projects.Get(ctx, bob, adminProject.ID).Extract()
	wantStatus(t, err, http.StatusForbidden, "member reading another project")
	_, err = users.Create(ctx, bob, users.CreateOpts{Name: "mallory"}).Extract()
	wantStatus(t, err, http.StatusForbidden, "member creating a user")
	err = roles.Assign(ctx, bob, roleID(t, admin, "admin"), roles.AssignOpts{UserID: u.ID, ProjectID: p.ID}).ExtractErr()
	wantStatus(t, err, http.StatusForbidden, "member granting himself admin")

	// Removing the role revokes bob's token and he can no longer scope to blue.
	if err := roles.Unassign(ctx, admin, roleID(t, admin, "member"), roles.UnassignOpts{UserID: u.ID, ProjectID: p.ID}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if ok, _ := tokens.Validate(ctx, admin, bob.TokenID); ok {
		t.Error("bob's token survived losing his role")
	}
	_, err = openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: cloud.AuthURL,
		Username: "bob", Password: "bob-password", DomainName: "Default", TenantName: "blue"})
	wantStatus(t, err, http.StatusUnauthorized, "scoping to a project without a role")

	noErr(t, users.Delete(ctx, admin, u.ID).ExtractErr())
	noErr(t, projects.Delete(ctx, admin, p.ID).ExtractErr())
	_, err = projects.Get(ctx, admin, p.ID).Extract()
	wantStatus(t, err, http.StatusNotFound, "deleted project")

	// The project's life is in the event feed, in order.
	var feed struct {
		Events []struct {
			Type, Subject string
		} `json:"events"`
	}
	_, err = admin.Get(ctx, cloud.URL+"/events/v1/events?after=0", &feed, nil)
	noErr(t, err)
	var blue []string
	for _, e := range feed.Events {
		if e.Subject == p.ID {
			blue = append(blue, e.Type)
		}
	}
	want := []string{"stratus.identity.project.created", "stratus.identity.project.updated", "stratus.identity.project.deleted"}
	if !slices.Equal(blue, want) {
		t.Errorf("events of project blue = %v, want %v", blue, want)
	}
}

func TestWrongPasswordsAndUnknownUsersLookAlike(t *testing.T) {
	cloud := cloudtest.Start(t)
	for _, user := range []string{"admin", "nobody"} {
		_, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: cloud.AuthURL,
			Username: user, Password: "wrong", DomainName: "Default", TenantName: "admin"})
		wantStatus(t, err, http.StatusUnauthorized, "login as "+user)
	}
}

func TestPasswordChangeRevokesTokens(t *testing.T) {
	cloud := cloudtest.Start(t)
	admin := cloudtest.Identity(t, cloud.Admin(t))
	_, u := newMember(t, admin, "green", "gina", "first-password")
	gina := cloudtest.Identity(t, cloud.Login(t, "gina", "first-password", "green"))
	err := users.ChangePassword(ctx, gina, u.ID, users.ChangePasswordOpts{OriginalPassword: "wrong", Password: "x"}).ExtractErr()
	wantStatus(t, err, http.StatusUnauthorized, "password change with a wrong original")
	noErr(t, users.ChangePassword(ctx, gina, u.ID, users.ChangePasswordOpts{OriginalPassword: "first-password", Password: "second-password"}).ExtractErr())
	if ok, _ := tokens.Validate(ctx, admin, gina.TokenID); ok {
		t.Error("token issued before the password change is still valid")
	}
	cloud.Login(t, "gina", "second-password", "green")
	_, err = openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: cloud.AuthURL,
		Username: "gina", Password: "first-password", DomainName: "Default", TenantName: "green"})
	wantStatus(t, err, http.StatusUnauthorized, "old password")
}

func appCredLogin(cloud *cloudtest.Cloud, id, secret string) (*gophercloud.ProviderClient, error) {
	return openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: cloud.AuthURL,
		ApplicationCredentialID: id, ApplicationCredentialSecret: secret})
}

func TestApplicationCredentials(t *testing.T) {
	cloud := cloudtest.Start(t)
	admin := cloudtest.Identity(t, cloud.Admin(t))
	adminUser := must(tokens.Get(ctx, admin, admin.TokenID).ExtractUser())(t)

	cred := must(applicationcredentials.Create(ctx, admin, adminUser.ID, applicationcredentials.CreateOpts{
		Name: "readonly", Roles: []applicationcredentials.Role{{Name: "reader"}},
	}).Extract())(t)
	if cred.Secret == "" {
		t.Fatal("the secret is not shown on create")
	}
	shown := must(applicationcredentials.Get(ctx, admin, adminUser.ID, cred.ID).Extract())(t)
	if shown.Secret != "" {
		t.Error("the secret is shown again after create")
	}
	_, err := applicationcredentials.Create(ctx, admin, adminUser.ID, applicationcredentials.CreateOpts{Name: "readonly"}).Extract()
	wantStatus(t, err, http.StatusConflict, "duplicate credential name")

	pc, err := appCredLogin(cloud, cred.ID, cred.Secret)
	if err != nil {
		t.Fatal(err)
	}
	reader := cloudtest.Identity(t, pc)
	if got := tokenRoles(t, admin, reader.TokenID); !slices.Equal(got, []string{"reader"}) {
		t.Errorf("credential token roles = %v, want only reader", got)
	}
	_, err = projects.Create(ctx, reader, projects.CreateOpts{Name: "nope"}).Extract()
	wantStatus(t, err, http.StatusForbidden, "reader credential creating a project")
	_, err = applicationcredentials.Create(ctx, reader, adminUser.ID, applicationcredentials.CreateOpts{Name: "child"}).Extract()
	wantStatus(t, err, http.StatusForbidden, "restricted credential creating another")
	_, err = appCredLogin(cloud, cred.ID, "not-the-secret")
	wantStatus(t, err, http.StatusUnauthorized, "wrong secret")

	noErr(t, applicationcredentials.Delete(ctx, admin, adminUser.ID, cred.ID).ExtractErr())
	if ok, _ := tokens.Validate(ctx, admin, reader.TokenID); ok {
		t.Error("token of a deleted credential is still valid")
	}
	_, err = appCredLogin(cloud, cred.ID, cred.Secret)
	wantStatus(t, err, http.StatusUnauthorized, "deleted credential")

	// A credential that expires takes its tokens' expiry with it.
	expiry := time.Now().Add(2 * time.Second)
	short := must(applicationcredentials.Create(ctx, admin, adminUser.ID, applicationcredentials.CreateOpts{Name: "short", ExpiresAt: &expiry}).Extract())(t)
	pc, err = appCredLogin(cloud, short.ID, short.Secret)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(expiry) + 500*time.Millisecond)
	_, err = projects.List(cloudtest.Identity(t, pc), nil).AllPages(ctx)
	wantStatus(t, err, http.StatusUnauthorized, "expired token")
	_, err = appCredLogin(cloud, short.ID, short.Secret)
	wantStatus(t, err, http.StatusUnauthorized, "expired credential")
}

func TestRevocationReachesOtherReplicas(t *testing.T) {
	first := cloudtest.Start(t)
	second := cloudtest.Start(t, cloudtest.Options{DatabaseURL: first.DatabaseURL, AdminPassword: first.AdminPassword})
	tok := first.Admin(t).TokenID

	// A token from one replica works on the other: they share keys.
	other := cloudtest.Identity(t, second.Admin(t))
	if ok, err := tokens.Validate(ctx, other, tok); !ok {
		t.Fatalf("replica 2 rejects replica 1's token: %v", err)
	}
	noErr(t, tokens.Revoke(ctx, cloudtest.Identity(t, first.Admin(t)), tok).Err)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := tokens.Validate(ctx, other, tok)
		if !ok && err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica 2 still accepts a token revoked on replica 1 (ok=%v, err=%v)", ok, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Another service verifies tokens by itself: it fetches the public keys
// and revocation events once, then needs no call per request.
func TestServicesVerifyTokensThemselves(t *testing.T) {
	cloud := cloudtest.Start(t)
	admin := cloudtest.Identity(t, cloud.Admin(t))
	var body struct {
		Keys []struct {
			ID        uint32 `json:"id"`
			PublicKey string `json:"public_key"`
		} `json:"token_keys"`
	}
	_, err := admin.Get(ctx, admin.ServiceURL("OS-STRATUS", "token-keys"), &body, nil)
	noErr(t, err)
	keys := map[uint32]ed25519.PublicKey{}
	for _, k := range body.Keys {
		raw, err := base64.StdEncoding.DecodeString(k.PublicKey)
		noErr(t, err)
		keys[k.ID] = raw
	}
	ring := token.NewKeyring(nil)
	ring.SetKeys(keys)
	verifier := authn.NewVerifier(ring)
	c, err := verifier.Verify(admin.TokenID)
	if err != nil || !c.Roles.Has(token.RoleAdmin) {
		t.Fatalf("a service's own verification of an admin token: %+v, %v", c, err)
	}
	if _, err := verifier.Verify(admin.TokenID + "x"); err == nil {
		t.Error("a tampered token verified")
	}
	member := cloudtest.Identity(t, cloud.Member(t, "plain"))
	_, err = member.Get(ctx, member.ServiceURL("OS-STRATUS", "token-keys"), &body, nil)
	wantStatus(t, err, http.StatusForbidden, "a member listing token keys")
}

func TestTokenMethodKeepsExpiryAndRescopes(t *testing.T) {
	cloud := cloudtest.Start(t)
	admin := cloudtest.Identity(t, cloud.Admin(t))
	first := must(tokens.Get(ctx, admin, admin.TokenID).ExtractToken())(t)
	res := tokens.Create(ctx, admin, &tokens.AuthOptions{TokenID: admin.TokenID, Scope: tokens.Scope{ProjectName: "service", DomainName: "Default"}})
	_, err := res.ExtractToken()
	// admin has no role on the service project.
	wantStatus(t, err, http.StatusUnauthorized, "rescoping to a project without a role")

	res = tokens.Create(ctx, admin, &tokens.AuthOptions{TokenID: admin.TokenID, Scope: tokens.Scope{ProjectName: "admin", DomainName: "Default"}})
	renewed := must(res.ExtractToken())(t)
	if renewed.ID == first.ID || renewed.ExpiresAt.After(first.ExpiresAt) {
		t.Errorf("renewed token %v expires %v, original %v", renewed.ID, renewed.ExpiresAt, first.ExpiresAt)
	}
}

func TestCatalogServicesAndEndpoints(t *testing.T) {
	cloud := cloudtest.Start(t)
	admin := cloudtest.Identity(t, cloud.Admin(t))
	svc := must(services.Create(ctx, admin, services.CreateOpts{Type: "dns", Extra: map[string]any{"name": "designate"}}).Extract())(t)
	ep := must(endpoints.Create(ctx, admin, endpoints.CreateOpts{ServiceID: svc.ID, Availability: gophercloud.AvailabilityPublic,
		URL: "http://dns.example/v2", Region: "RegionOne"}).Extract())(t)
	_, err := endpoints.Create(ctx, admin, endpoints.CreateOpts{ServiceID: svc.ID, Availability: "sideways", URL: "http://x"}).Extract()
	wantStatus(t, err, http.StatusBadRequest, "endpoint with a bad interface")

	must(endpoints.Update(ctx, admin, ep.ID, endpoints.UpdateOpts{URL: "http://dns.example/v2.1"}).Extract())(t)
	page := must(endpoints.List(admin, endpoints.ListOpts{ServiceID: svc.ID}).AllPages(ctx))(t)
	list := must(endpoints.ExtractEndpoints(page))(t)
	if len(list) != 1 || list[0].URL != "http://dns.example/v2.1" {
		t.Fatalf("endpoints of dns = %+v", list)
	}
	catalog := must(tokens.Get(ctx, admin, cloud.Admin(t).TokenID).ExtractServiceCatalog())(t)
	if !slices.ContainsFunc(catalog.Entries, func(e tokens.CatalogEntry) bool { return e.Type == "dns" }) {
		t.Error("new service missing from a new token's catalog")
	}
	noErr(t, services.Delete(ctx, admin, svc.ID).ExtractErr())
	_, err = endpoints.Update(ctx, admin, ep.ID, endpoints.UpdateOpts{URL: "http://y"}).Extract()
	wantStatus(t, err, http.StatusNotFound, "endpoint of a deleted service")
}

func TestImpliedRoles(t *testing.T) {
	cloud := cloudtest.Start(t)
	admin := cloudtest.Identity(t, cloud.Admin(t))
	rules := must(roles.ListRoleInferenceRules(ctx, admin).Extract())(t)
	implies := map[string][]string{}
	for _, r := range rules.RoleInferenceRuleList {
		for _, i := range r.ImpliedRoles {
			implies[r.PriorRole.Name] = append(implies[r.PriorRole.Name], i.Name)
		}
	}
	if !slices.Equal(implies["admin"], []string{"member"}) || !slices.Equal(implies["member"], []string{"reader"}) {
		t.Errorf("implications = %v", implies)
	}
	// reader => admin would close a cycle.
	_, err := roles.CreateRoleInferenceRule(ctx, admin, roleID(t, admin, "reader"), roleID(t, admin, "admin")).Extract()
	wantStatus(t, err, http.StatusBadRequest, "cyclic implication")
	_, err = admin.Post(ctx, admin.ServiceURL("roles"), map[string]any{"role": map[string]any{"description": "no name"}}, nil, nil)
	wantStatus(t, err, http.StatusBadRequest, "role without a name")
}
