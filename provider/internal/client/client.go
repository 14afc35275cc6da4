// Package client turns the provider configuration into authenticated
// gophercloud service clients for Stratus (identity, compute, image), and
// holds the one not-found check every resource uses.
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// Config is the provider configuration after OS_* fallbacks were applied.
// Field names follow terraform-provider-openstack.
type Config struct {
	Cloud                       string
	AuthURL                     string
	Region                      string
	UserName                    string
	UserID                      string
	Password                    string
	Token                       string
	TenantID                    string
	TenantName                  string
	UserDomainName              string
	UserDomainID                string
	ProjectDomainName           string
	ProjectDomainID             string
	DomainName                  string
	DomainID                    string
	DefaultDomain               string
	ApplicationCredentialID     string
	ApplicationCredentialName   string
	ApplicationCredentialSecret string
	EndpointType                string
	CACertFile                  string
	ClientCertFile              string
	ClientKeyFile               string
	Insecure                    bool
	UserAgent                   string
}

// Client is what resources get from the provider: an authenticated provider
// client and the endpoint options to find services in the catalog. It is
// safe for concurrent use.
type Client struct {
	Provider     *gophercloud.ProviderClient
	EndpointOpts gophercloud.EndpointOpts
}

// New authenticates with cfg and returns a Client.
func New(ctx context.Context, cfg Config) (*Client, error) {
	var tlsConfig *tls.Config
	eo := gophercloud.EndpointOpts{Region: cfg.Region}
	ao := gophercloud.AuthOptions{}
	if cfg.Cloud != "" {
		var err error
		ao, eo, tlsConfig, err = clouds.Parse(clouds.WithCloudName(cfg.Cloud))
		if err != nil {
			return nil, fmt.Errorf("reading cloud %q from clouds.yaml: %w", cfg.Cloud, err)
		}
		if cfg.Region != "" {
			eo.Region = cfg.Region
		}
	}
	applyConfig(&ao, cfg)
	if ao.IdentityEndpoint == "" {
		return nil, errors.New("auth_url is required (or OS_AUTH_URL, or a cloud from clouds.yaml)")
	}
	if cfg.EndpointType != "" {
		a, err := availability(cfg.EndpointType)
		if err != nil {
			return nil, err
		}
		eo.Availability = a
	} else if eo.Availability == "" {
		eo.Availability = gophercloud.AvailabilityPublic
	}

	tc, err := tlsSettings(tlsConfig, cfg)
	if err != nil {
		return nil, err
	}
	pc, err := openstack.NewClient(ao.IdentityEndpoint)
	if err != nil {
		return nil, fmt.Errorf("auth_url %q: %w", ao.IdentityEndpoint, err)
	}
	if tc != nil {
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.TLSClientConfig = tc
		pc.HTTPClient = http.Client{Transport: transport}
	}
	if cfg.UserAgent != "" {
		pc.UserAgent.Prepend(cfg.UserAgent)
	}
	// Tokens expire during long applies; password and application
	// credential logins can get a new one.
	ao.AllowReauth = ao.TokenID == ""
	if err := openstack.Authenticate(ctx, pc, ao); err != nil {
		return nil, fmt.Errorf("authenticating to %s: %w", ao.IdentityEndpoint, err)
	}
	return &Client{Provider: pc, EndpointOpts: eo}, nil
}

// applyConfig lays the explicit settings over what clouds.yaml gave.
func applyConfig(ao *gophercloud.AuthOptions, cfg Config) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&ao.IdentityEndpoint, cfg.AuthURL)
	set(&ao.Username, cfg.UserName)
	set(&ao.UserID, cfg.UserID)
	set(&ao.Password, cfg.Password)
	set(&ao.TokenID, cfg.Token)
	set(&ao.ApplicationCredentialID, cfg.ApplicationCredentialID)
	set(&ao.ApplicationCredentialName, cfg.ApplicationCredentialName)
	set(&ao.ApplicationCredentialSecret, cfg.ApplicationCredentialSecret)

	// The user's domain: user_domain_*, then domain_*, then default_domain
	// for a user given by name.
	if v := firstOf(cfg.UserDomainID, cfg.DomainID); v != "" {
		ao.DomainID, ao.DomainName = v, ""
	} else if v := firstOf(cfg.UserDomainName, cfg.DomainName); v != "" {
		ao.DomainName, ao.DomainID = v, ""
	}
	if ao.Username != "" && ao.DomainID == "" && ao.DomainName == "" {
		ao.DomainID = firstOf(cfg.DefaultDomain, "default")
	}

	// Application credentials carry their own scope.
	if ao.ApplicationCredentialID != "" || ao.ApplicationCredentialName != "" {
		ao.Scope, ao.TenantID, ao.TenantName = nil, "", ""
		return
	}
	switch {
	case cfg.TenantID != "":
		ao.Scope = &gophercloud.AuthScope{ProjectID: cfg.TenantID}
	case cfg.TenantName != "":
		s := &gophercloud.AuthScope{ProjectName: cfg.TenantName}
		switch {
		case firstOf(cfg.ProjectDomainID, cfg.DomainID) != "":
			s.DomainID = firstOf(cfg.ProjectDomainID, cfg.DomainID)
		case firstOf(cfg.ProjectDomainName, cfg.DomainName) != "":
			s.DomainName = firstOf(cfg.ProjectDomainName, cfg.DomainName)
		case ao.Scope != nil && (ao.Scope.DomainID != "" || ao.Scope.DomainName != ""):
			s.DomainID, s.DomainName = ao.Scope.DomainID, ao.Scope.DomainName
		default:
			s.DomainID = firstOf(cfg.DefaultDomain, "default")
		}
		ao.Scope = s
	}
	if ao.Scope != nil {
		// The scope says it all; gophercloud refuses both.
		ao.TenantID, ao.TenantName = "", ""
	}
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func availability(endpointType string) (gophercloud.Availability, error) {
	switch strings.TrimSuffix(strings.ToLower(endpointType), "url") {
	case "public":
		return gophercloud.AvailabilityPublic, nil
	case "internal":
		return gophercloud.AvailabilityInternal, nil
	case "admin":
		return gophercloud.AvailabilityAdmin, nil
	}
	return "", fmt.Errorf("endpoint_type %q: want public, internal or admin", endpointType)
}

func tlsSettings(base *tls.Config, cfg Config) (*tls.Config, error) {
	if cfg.CACertFile == "" && cfg.ClientCertFile == "" && !cfg.Insecure {
		return base, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		tc = base.Clone()
	}
	if cfg.CACertFile != "" {
		pem, err := os.ReadFile(cfg.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("cacert_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cacert_file %s: no PEM certificates", cfg.CACertFile)
		}
		tc.RootCAs = pool
	}
	if cfg.ClientCertFile != "" || cfg.ClientKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.ClientCertFile, cfg.ClientKeyFile)
		if err != nil {
			return nil, fmt.Errorf("cert/key: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if cfg.Insecure {
		tc.InsecureSkipVerify = true //nolint:gosec // the user asked for it with insecure = true
	}
	return tc, nil
}

// Identity returns an identity v3 client.
func (c *Client) Identity() (*gophercloud.ServiceClient, error) {
	return openstack.NewIdentityV3(c.Provider, c.EndpointOpts)
}

// Compute returns a compute v2.1 client.
func (c *Client) Compute() (*gophercloud.ServiceClient, error) {
	return openstack.NewComputeV2(c.Provider, c.EndpointOpts)
}

// Image returns an image v2 client.
func (c *Client) Image() (*gophercloud.ServiceClient, error) {
	return openstack.NewImageV2(c.Provider, c.EndpointOpts)
}

// authResult is what gophercloud keeps of the last token request.
type authResult interface {
	ExtractUser() (*tokens.User, error)
	ExtractProject() (*tokens.Project, error)
}

func (c *Client) auth() (authResult, error) {
	if res, ok := c.Provider.GetAuthResult().(authResult); ok {
		return res, nil
	}
	return nil, errors.New("the provider's identity token is not a Keystone v3 token")
}

// CurrentUserID is the id of the user the provider authenticated as.
func (c *Client) CurrentUserID() (string, error) {
	res, err := c.auth()
	if err != nil {
		return "", err
	}
	u, err := res.ExtractUser()
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// CurrentProjectID is the id of the project the provider's token is scoped to.
func (c *Client) CurrentProjectID() (string, error) {
	res, err := c.auth()
	if err != nil {
		return "", err
	}
	p, err := res.ExtractProject()
	if err != nil {
		return "", err
	}
	if p == nil {
		return "", errors.New("the token is not scoped to a project")
	}
	return p.ID, nil
}

// IsNotFound reports whether err is the API's 404.
func IsNotFound(err error) bool {
	return gophercloud.ResponseCodeIs(err, http.StatusNotFound)
}

// Network returns a networking v2.0 client (catalog type network).
func (c *Client) Network() (*gophercloud.ServiceClient, error) {
	return openstack.NewNetworkV2(c.Provider, c.EndpointOpts)
}

// BlockStorage returns a block storage v3 client (catalog type
// block-storage, or volumev3 as older clouds name it).
func (c *Client) BlockStorage() (*gophercloud.ServiceClient, error) {
	return openstack.NewBlockStorageV3(c.Provider, c.EndpointOpts)
}
