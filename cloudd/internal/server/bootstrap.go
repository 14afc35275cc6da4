package server

import (
	"context"
	"fmt"
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
	{"events", "stratus-events", "Stratus lifecycle event feed", "/events/v1"},
}

// AdminOpenRC is the file bootstrap writes with the admin's OS_* settings.
const AdminOpenRC = "admin-openrc.sh"

// bootstrap makes sure the cloud has its projects, roles, admin and
// service users, catalog entries and credential files. A password is set
// when configured, or generated when its credentials file is missing
// (hashes cannot be read back); otherwise the file's password stays and
// the file is rewritten, so a changed public URL reaches it.
func (s *Server) bootstrap(ctx context.Context) error {
	type account struct {
		identity.Account
		file string
	}
	accounts := []account{{identity.Account{Name: identity.AdminUser, Project: identity.AdminProject, Roles: []string{"admin"}},
		filepath.Join(s.cfg.StateDir, AdminOpenRC)}}
	for _, name := range serviceAccounts {
		accounts = append(accounts, account{identity.Account{Name: name, Project: identity.ServiceProject, Roles: []string{"admin", "service"}},
			filepath.Join(s.cfg.StateDir, "credentials", name+"-openrc.sh")})
	}
	accounts[0].Password = optional(s.cfg.AdminPassword)
	known := make([]string, len(accounts))
	for i := range accounts {
		a := &accounts[i]
		known[i] = readOpenRCPassword(a.file)
		if a.Password == nil && known[i] == "" {
			a.Password = optional(identity.NewSecret())
		}
		if a.Password != nil {
			known[i] = *a.Password
		}
	}
	plain := make([]identity.Account, len(accounts))
	for i, a := range accounts {
		plain[i] = a.Account
	}
	if _, err := s.Identity.Bootstrap(ctx, plain); err != nil {
		return err
	}
	for _, e := range catalogEntries {
		if err := s.Identity.RegisterService(ctx, e.typ, e.name, e.description, s.PublicURL+e.path); err != nil {
			return err
		}
	}
	for i, a := range accounts {
		if err := s.writeOpenRC(a.file, a.Name, a.Project, known[i]); err != nil {
			return err
		}
	}
	return nil
}

// readOpenRCPassword returns OS_PASSWORD from a file writeOpenRC wrote, or "".
func readOpenRCPassword(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "export OS_PASSWORD="); ok {
			v = strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'")
			return strings.ReplaceAll(v, `'\''`, "'")
		}
	}
	return ""
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

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
