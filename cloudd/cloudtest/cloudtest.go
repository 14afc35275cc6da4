// Package cloudtest starts a real cloudd for tests of any Stratus
// component: a fresh database on the test PostgreSQL, a private state dir
// and a loopback listener, bootstrapped exactly as in production. Tests
// talk to it with real clients (gophercloud, the openstack CLI, Terraform).
package cloudtest

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"

	"github.com/stratus-cloud/stratus/cloudd/internal/config"
	"github.com/stratus-cloud/stratus/cloudd/internal/dataplane"
	"github.com/stratus-cloud/stratus/cloudd/internal/identity"
	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/cloudd/internal/server"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// Cloud is a running cloudd.
type Cloud struct {
	URL           string // http://127.0.0.1:<port>
	AuthURL       string // the identity v3 URL for OS_AUTH_URL
	AdminPassword string
	StateDir      string
	DatabaseURL   string
	Server        *server.Server
}

// Options adjust a test cloud; the zero value is the production default.
type Options struct {
	DatabaseURL   string   // share a database with another replica; default: a new one
	AdminPassword string   // default: a random one
	Hosts         []string // libvirt URIs; default: one test:///default host, never the real hypervisor
	// Dataplane realises networks on this machine for qemu:///system hosts
	// (root needed), in nftables tables of this cloud's own and torn down
	// when the test ends; default: no host has a dataplane.
	Dataplane bool
	Tuning    server.Tuning
}

// Start runs a cloudd until the test ends.
func Start(t testing.TB, opts ...Options) *Cloud {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.DatabaseURL == "" {
		o.DatabaseURL = testenv.Database(t)
	}
	c := &Cloud{AdminPassword: cmp.Or(o.AdminPassword, identity.NewSecret()), StateDir: t.TempDir(), DatabaseURL: o.DatabaseURL}
	if o.Hosts == nil {
		o.Hosts = []string{"test:///default"}
	}
	if o.Tuning.Dataplane == nil {
		o.Tuning.Dataplane = c.dataplane(t, o.Dataplane)
	}
	cfg := config.Config{Listen: "127.0.0.1:0", StateDir: c.StateDir, DatabaseURL: o.DatabaseURL, AdminPassword: c.AdminPassword, Hosts: o.Hosts}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, o.Tuning)
	if err != nil {
		cancel()
		t.Fatalf("starting cloudd: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("cloudd shutdown: %v", err)
		}
	})
	c.Server, c.URL = srv, srv.PublicURL
	c.AuthURL = c.URL + "/identity/v3"
	return c
}

// OpenRC is the path of the admin-openrc.sh bootstrap wrote.
// dataplane is the test cloud's local dataplane, or none.
func (c *Cloud) dataplane(t testing.TB, enabled bool) func(network.Host) dataplane.Applier {
	if !enabled {
		return func(network.Host) dataplane.Applier { return nil }
	}
	local := dataplane.NewLinux(filepath.Join(c.StateDir, "dataplane"))
	local.Table = fmt.Sprintf("stratus_%08x", rand.Uint32())
	t.Cleanup(func() { // after cloudd has stopped: cleanups run last-in first-out
		if err := local.Teardown(context.Background()); err != nil {
			t.Errorf("dataplane teardown: %v", err)
		}
	})
	return func(h network.Host) dataplane.Applier {
		if h.URI == "qemu:///system" {
			return local
		}
		return nil
	}
}

func (c *Cloud) OpenRC() string { return filepath.Join(c.StateDir, server.AdminOpenRC) }

// Env returns the OS_* variables of admin-openrc.sh as "K=V" strings, for
// running clients as a user who sourced it.
func (c *Cloud) Env(t testing.TB) []string {
	t.Helper()
	vars, err := server.ReadOpenRC(c.OpenRC())
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// Login authenticates with gophercloud as user/password scoped to project.
func (c *Cloud) Login(t testing.TB, user, password, project string) *gophercloud.ProviderClient {
	t.Helper()
	pc, err := openstack.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{
		IdentityEndpoint: c.AuthURL, Username: user, Password: password, DomainName: "Default",
		TenantName: project, AllowReauth: true,
	})
	if err != nil {
		t.Fatalf("login as %s: %v", user, err)
	}
	return pc
}

// Admin logs in as the bootstrap admin.
func (c *Cloud) Admin(t testing.TB) *gophercloud.ProviderClient {
	return c.Login(t, "admin", c.AdminPassword, "admin")
}

// Identity returns an identity v3 service client for pc.
func Identity(t testing.TB, pc *gophercloud.ProviderClient) *gophercloud.ServiceClient {
	t.Helper()
	sc, err := openstack.NewIdentityV3(pc, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// MemberProject returns the id of project name, creating it with a user of
// the same name (password: the name) holding member there.
func (c *Cloud) MemberProject(t testing.TB, name string) string {
	t.Helper()
	idc := Identity(t, c.Admin(t))
	ctx := context.Background()
	if page, err := projects.List(idc, projects.ListOpts{Name: name}).AllPages(ctx); err == nil {
		if list, _ := projects.ExtractProjects(page); len(list) == 1 {
			return list[0].ID
		}
	}
	p, err := projects.Create(ctx, idc, projects.CreateOpts{Name: name}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	u, err := users.Create(ctx, idc, users.CreateOpts{Name: name, Password: name, DefaultProjectID: p.ID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	page, err := roles.List(idc, roles.ListOpts{Name: "member"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	member, err := roles.ExtractRoles(page)
	if err != nil || len(member) != 1 {
		t.Fatalf("role member: %v", err)
	}
	if err := roles.Assign(ctx, idc, member[0].ID, roles.AssignOpts{UserID: u.ID, ProjectID: p.ID}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// Member logs in as the member user of project name (see MemberProject).
func (c *Cloud) Member(t testing.TB, name string) *gophercloud.ProviderClient {
	t.Helper()
	c.MemberProject(t, name)
	return c.Login(t, name, name, name)
}
