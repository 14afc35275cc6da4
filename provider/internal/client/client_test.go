package client

import (
	"reflect"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
)

func TestApplyConfig(t *testing.T) {
	tests := []struct {
		name string
		base gophercloud.AuthOptions // as clouds.yaml gave it
		cfg  Config
		want gophercloud.AuthOptions
	}{
		{
			name: "openrc: user and project by name in Default",
			cfg: Config{AuthURL: "http://c/identity/v3", UserName: "admin", Password: "pw", TenantName: "admin",
				UserDomainName: "Default", ProjectDomainName: "Default"},
			want: gophercloud.AuthOptions{IdentityEndpoint: "http://c/identity/v3", Username: "admin", Password: "pw", DomainName: "Default",
				Scope: &gophercloud.AuthScope{ProjectName: "admin", DomainName: "Default"}},
		},
		{
			name: "no domains: default_domain, then default",
			cfg:  Config{UserName: "u", TenantName: "p"},
			want: gophercloud.AuthOptions{Username: "u", DomainID: "default", Scope: &gophercloud.AuthScope{ProjectName: "p", DomainID: "default"}},
		},
		{
			name: "project id wins over name",
			cfg:  Config{UserID: "uid", Password: "pw", TenantID: "pid", TenantName: "p"},
			want: gophercloud.AuthOptions{UserID: "uid", Password: "pw", Scope: &gophercloud.AuthScope{ProjectID: "pid"}},
		},
		{
			name: "application credential: no scope",
			cfg:  Config{ApplicationCredentialID: "ac", ApplicationCredentialSecret: "s", TenantName: "p"},
			want: gophercloud.AuthOptions{ApplicationCredentialID: "ac", ApplicationCredentialSecret: "s"},
		},
		{
			name: "explicit settings override clouds.yaml",
			base: gophercloud.AuthOptions{IdentityEndpoint: "http://yaml", Username: "y", Password: "old", DomainName: "Default",
				Scope: &gophercloud.AuthScope{ProjectName: "yp", DomainName: "Default"}},
			cfg: Config{Password: "new"},
			want: gophercloud.AuthOptions{IdentityEndpoint: "http://yaml", Username: "y", Password: "new", DomainName: "Default",
				Scope: &gophercloud.AuthScope{ProjectName: "yp", DomainName: "Default"}},
		},
		{
			name: "project from settings keeps the clouds.yaml project domain",
			base: gophercloud.AuthOptions{Username: "y", DomainID: "default", Scope: &gophercloud.AuthScope{ProjectName: "yp", DomainID: "d2"}},
			cfg:  Config{TenantName: "other"},
			want: gophercloud.AuthOptions{Username: "y", DomainID: "default", Scope: &gophercloud.AuthScope{ProjectName: "other", DomainID: "d2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.base
			applyConfig(&got, tt.cfg)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v scope %+v\nwant %+v scope %+v", got, got.Scope, tt.want, tt.want.Scope)
			}
		})
	}
}

func TestAvailability(t *testing.T) {
	for in, want := range map[string]gophercloud.Availability{
		"public": gophercloud.AvailabilityPublic, "publicURL": gophercloud.AvailabilityPublic,
		"internal": gophercloud.AvailabilityInternal, "admin": gophercloud.AvailabilityAdmin,
	} {
		if got, err := availability(in); err != nil || got != want {
			t.Errorf("availability(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := availability("private"); err == nil {
		t.Error("availability(private) succeeded")
	}
}
