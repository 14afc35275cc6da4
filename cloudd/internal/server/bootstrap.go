package server

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/stratus-cloud/stratus/cloudd/internal/identity"
)

// serviceAccounts are the users other Stratus services log in as. Their
// credentials are written to <state dir>/credentials/<name>-openrc.sh.
var serviceAccounts = []string{"metering", "autoscaler"}

// catalogEntries are the APIs cloudd serves itself; each later service adds
// its own line here (cloudd) or registers itself at start (metering,
// autoscaler).
var catalogEntries = []struct{ typ, name, description, path string }{
	{"identity", "keystone", "Stratus identity (Keystone v3)", "/identity"},
	{"image", "glance", "Stratus image service (Glance v2)", "/image"},
	{"compute", "nova", "Stratus compute (Nova v2.1)", "/compute/v2.1"},
	{"network", "neutron", "Stratus networking (Neutron v2.0)", "/network"},
	// Clients take block storage URLs with the project id in them; identity
	// fills in $(project_id)s when it issues a catalog.
	{"volumev3", "cinderv3", "Stratus block storage (Cinder v3)", "/volume/v3/$(project_id)s"},
	{"block-storage", "cinder", "Stratus block storage (Cinder v3)", "/volume/v3/$(project_id)s"},
	{"events", "stratus-events", "Stratus lifecycle event feed", "/events/v1"},
}

// AdminOpenRC is the file bootstrap writes with the admin's OS_* settings.
const AdminOpenRC = "admin-openrc.sh"

// bootstrap makes sure the cloud has its projects, roles, admin and
// service users, catalog entries and credential files. A configured admin
// password is set on every start; otherwise new users get a generated
// password and existing users keep theirs, so a second replica with its own
// state dir never resets the first one's credentials. A credentials file
// is (re)written whenever its password is known, so a changed public URL
// reaches it.
func (s *Server) bootstrap(ctx context.Context) error {
	type account struct {
		identity.Account
		file  string
		known string // the password, when this process knows it
	}
	accounts := []*account{{Account: identity.Account{Name: identity.AdminUser, Project: identity.AdminProject,
		Roles: []string{"admin"}, Password: s.cfg.AdminPassword}, file: filepath.Join(s.cfg.StateDir, AdminOpenRC)}}
	for _, name := range serviceAccounts {
		accounts = append(accounts, &account{Account: identity.Account{Name: name, Project: identity.ServiceProject,
			Roles: []string{"admin", "service"}}, file: filepath.Join(s.cfg.StateDir, "credentials", name+"-openrc.sh")})
	}
	plain := make([]identity.Account, len(accounts))
	for i, a := range accounts {
		a.InitialPassword = identity.NewSecret()
		rc, _ := ReadOpenRC(a.file) // missing: the password is unknown here
		a.known = cmp.Or(a.Password, rc["OS_PASSWORD"])
		plain[i] = a.Account
	}
	created, err := s.Identity.Bootstrap(ctx, plain)
	if err != nil {
		return err
	}
	for _, e := range catalogEntries {
		if err := s.Identity.RegisterService(ctx, e.typ, e.name, e.description, s.PublicURL+e.path); err != nil {
			return err
		}
	}
	for _, a := range accounts {
		if created[a.Name] {
			a.known = cmp.Or(a.Password, a.InitialPassword)
		}
		if a.known == "" {
			slog.Warn("user exists but its password is unknown here; not writing its credentials file",
				"user", a.Name, "file", a.file, "hint", "set STRATUS_ADMIN_PASSWORD (admin) or copy the file from the first replica")
			continue
		}
		if err := s.writeOpenRC(a.file, a.Name, a.Project, a.known); err != nil {
			return err
		}
	}
	return nil
}

// ReadOpenRC reads back the variables of a file writeOpenRC wrote: the
// one parser for cloudd's bootstrap, `cloudd status` and tests.
func ReadOpenRC(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for line := range strings.Lines(string(data)) {
		kv, ok := strings.CutPrefix(strings.TrimSpace(line), "export ")
		if k, v, found := strings.Cut(kv, "="); ok && found {
			v = strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'")
			vars[k] = strings.ReplaceAll(v, `'\''`, "'")
		}
	}
	return vars, nil
}

// writeOpenRC writes the OS_* variables the openstack CLI, gophercloud and
// Terraform read, readable by the owner only.
func (s *Server) writeOpenRC(path, user, project, password string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Stratus credentials for %s, written by cloudd at bootstrap.\n", user)
	for _, kv := range [][2]string{
		{"OS_AUTH_URL", s.PublicURL + "/identity/v3"},
		{"OS_AUTH_TYPE", "password"},
		{"OS_IDENTITY_API_VERSION", "3"},
		{"OS_USERNAME", user},
		{"OS_PASSWORD", password},
		{"OS_PROJECT_NAME", project},
		{"OS_USER_DOMAIN_NAME", identity.DefaultDomainName},
		{"OS_PROJECT_DOMAIN_NAME", identity.DefaultDomainName},
		{"OS_REGION_NAME", identity.DefaultRegion},
		{"OS_INTERFACE", "public"},
	} {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
