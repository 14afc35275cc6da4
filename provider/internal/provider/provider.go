// Package provider is the Stratus Terraform provider: its configuration
// (terraform-provider-openstack's settings and OS_* variables), the client it
// hands to resources, and the list of resources and data sources from the
// service packages.
package provider

import (
	"context"
	"os"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/stratus-cloud/stratus/provider/internal/blockstorage"
	"github.com/stratus-cloud/stratus/provider/internal/client"
	"github.com/stratus-cloud/stratus/provider/internal/compute"
	"github.com/stratus-cloud/stratus/provider/internal/identity"
	"github.com/stratus-cloud/stratus/provider/internal/images"
	"github.com/stratus-cloud/stratus/provider/internal/networking"
)

var _ provider.Provider = (*stratusProvider)(nil)

// New returns the provider factory for version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &stratusProvider{version: version} }
}

type stratusProvider struct {
	version string
}

type providerModel struct {
	Cloud                       types.String `tfsdk:"cloud"`
	AuthURL                     types.String `tfsdk:"auth_url"`
	Region                      types.String `tfsdk:"region"`
	UserName                    types.String `tfsdk:"user_name"`
	UserID                      types.String `tfsdk:"user_id"`
	Password                    types.String `tfsdk:"password"`
	Token                       types.String `tfsdk:"token"`
	TenantID                    types.String `tfsdk:"tenant_id"`
	TenantName                  types.String `tfsdk:"tenant_name"`
	UserDomainName              types.String `tfsdk:"user_domain_name"`
	UserDomainID                types.String `tfsdk:"user_domain_id"`
	ProjectDomainName           types.String `tfsdk:"project_domain_name"`
	ProjectDomainID             types.String `tfsdk:"project_domain_id"`
	DomainName                  types.String `tfsdk:"domain_name"`
	DomainID                    types.String `tfsdk:"domain_id"`
	DefaultDomain               types.String `tfsdk:"default_domain"`
	ApplicationCredentialID     types.String `tfsdk:"application_credential_id"`
	ApplicationCredentialName   types.String `tfsdk:"application_credential_name"`
	ApplicationCredentialSecret types.String `tfsdk:"application_credential_secret"`
	EndpointType                types.String `tfsdk:"endpoint_type"`
	CACertFile                  types.String `tfsdk:"cacert_file"`
	Cert                        types.String `tfsdk:"cert"`
	Key                         types.String `tfsdk:"key"`
	Insecure                    types.Bool   `tfsdk:"insecure"`
}

// setting describes one string setting: its attribute, the OS_* variables
// it falls back to (first set wins) and its description.
type setting struct {
	name      string
	env       []string
	sensitive bool
	desc      string
	validate  []validator.String
}

var settings = []setting{
	{name: "cloud", env: []string{"OS_CLOUD"}, desc: "Name of an entry in `clouds.yaml` (searched as the `openstack` CLI does: `OS_CLIENT_CONFIG_FILE`, `./clouds.yaml`, `~/.config/openstack/clouds.yaml`, `/etc/openstack/clouds.yaml`) to take settings from. Settings given here or in `OS_*` variables override the file."},
	{name: "auth_url", env: []string{"OS_AUTH_URL"}, desc: "Identity (Keystone v3) endpoint, for example `http://127.0.0.1:5000/identity/v3`."},
	{name: "region", env: []string{"OS_REGION_NAME"}, desc: "Region of the service catalog to use. Stratus has one region, `RegionOne`."},
	{name: "user_name", env: []string{"OS_USERNAME"}, desc: "User name to log in with."},
	{name: "user_id", env: []string{"OS_USER_ID"}, desc: "User id to log in with, instead of `user_name`."},
	{name: "password", env: []string{"OS_PASSWORD"}, sensitive: true, desc: "Password of the user."},
	{name: "token", env: []string{"OS_TOKEN", "OS_AUTH_TOKEN"}, sensitive: true, desc: "An existing identity token to use instead of logging in. Tokens cannot be renewed, so long applies may outlive them."},
	{name: "tenant_id", env: []string{"OS_TENANT_ID", "OS_PROJECT_ID"}, desc: "Id of the project to scope the token to."},
	{name: "tenant_name", env: []string{"OS_TENANT_NAME", "OS_PROJECT_NAME"}, desc: "Name of the project to scope the token to."},
	{name: "user_domain_name", env: []string{"OS_USER_DOMAIN_NAME"}, desc: "Domain name of the user. Stratus has one domain, `Default`."},
	{name: "user_domain_id", env: []string{"OS_USER_DOMAIN_ID"}, desc: "Domain id of the user. Stratus has one domain, `default`."},
	{name: "project_domain_name", env: []string{"OS_PROJECT_DOMAIN_NAME"}, desc: "Domain name of the project in `tenant_name`."},
	{name: "project_domain_id", env: []string{"OS_PROJECT_DOMAIN_ID"}, desc: "Domain id of the project in `tenant_name`."},
	{name: "domain_name", env: []string{"OS_DOMAIN_NAME"}, desc: "Domain name used for both the user and the project when their own domain settings are empty."},
	{name: "domain_id", env: []string{"OS_DOMAIN_ID"}, desc: "Domain id used for both the user and the project when their own domain settings are empty."},
	{name: "default_domain", env: []string{"OS_DEFAULT_DOMAIN"}, desc: "Domain id assumed when no domain is given at all. Defaults to `default`."},
	{name: "application_credential_id", env: []string{"OS_APPLICATION_CREDENTIAL_ID"}, desc: "Id of an application credential to log in with; the credential's project is the scope."},
	{name: "application_credential_name", env: []string{"OS_APPLICATION_CREDENTIAL_NAME"}, desc: "Name of an application credential to log in with, together with `user_name` or `user_id`."},
	{name: "application_credential_secret", env: []string{"OS_APPLICATION_CREDENTIAL_SECRET"}, sensitive: true, desc: "Secret of the application credential."},
	{name: "endpoint_type", env: []string{"OS_ENDPOINT_TYPE", "OS_INTERFACE"}, desc: "Catalog interface to use: `public` (default), `internal` or `admin`.",
		validate: []validator.String{stringvalidator.OneOf("public", "publicURL", "internal", "internalURL", "admin", "adminURL")}},
	{name: "cacert_file", env: []string{"OS_CACERT"}, desc: "PEM file of the certificate authorities to trust for HTTPS endpoints."},
	{name: "cert", env: []string{"OS_CERT"}, desc: "PEM client certificate for mutual TLS."},
	{name: "key", env: []string{"OS_KEY"}, sensitive: true, desc: "PEM private key of `cert`."},
}

func (p *stratusProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "stratus"
	resp.Version = p.version
}

func (p *stratusProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	attrs := map[string]schema.Attribute{
		"insecure": schema.BoolAttribute{
			Optional:            true,
			MarkdownDescription: "Skip verification of HTTPS certificates (`OS_INSECURE`). Only for tests.",
		},
	}
	for _, s := range settings {
		desc := s.desc + " Falls back to `" + s.env[0] + "`"
		for _, e := range s.env[1:] {
			desc += " or `" + e + "`"
		}
		attrs[s.name] = schema.StringAttribute{
			Optional:            true,
			Sensitive:           s.sensitive,
			MarkdownDescription: desc + ".",
			Validators:          s.validate,
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Manages a [Stratus](https://github.com/stratus-cloud/stratus) cloud: identity, compute, images, networking and block storage. " +
			"Settings and their `OS_*` variables are those of terraform-provider-openstack, so `source admin-openrc.sh` is enough to configure it.",
		Attributes: attrs,
	}
}

func (p *stratusProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	values := map[string]types.String{
		"cloud": m.Cloud, "auth_url": m.AuthURL, "region": m.Region, "user_name": m.UserName, "user_id": m.UserID,
		"password": m.Password, "token": m.Token, "tenant_id": m.TenantID, "tenant_name": m.TenantName,
		"user_domain_name": m.UserDomainName, "user_domain_id": m.UserDomainID,
		"project_domain_name": m.ProjectDomainName, "project_domain_id": m.ProjectDomainID,
		"domain_name": m.DomainName, "domain_id": m.DomainID, "default_domain": m.DefaultDomain,
		"application_credential_id": m.ApplicationCredentialID, "application_credential_name": m.ApplicationCredentialName,
		"application_credential_secret": m.ApplicationCredentialSecret, "endpoint_type": m.EndpointType,
		"cacert_file": m.CACertFile, "cert": m.Cert, "key": m.Key,
	}
	get := map[string]string{}
	for _, s := range settings {
		v := values[s.name]
		if v.IsUnknown() {
			resp.Diagnostics.AddAttributeError(path.Root(s.name), "Unknown provider setting",
				"The provider cannot log in with a value that is only known after apply: set "+s.name+" to a literal or leave it to "+s.env[0]+".")
			continue
		}
		get[s.name] = v.ValueString()
		for _, e := range s.env {
			if get[s.name] != "" {
				break
			}
			get[s.name] = os.Getenv(e)
		}
	}
	insecure := m.Insecure.ValueBool()
	if m.Insecure.IsNull() {
		insecure, _ = strconv.ParseBool(os.Getenv("OS_INSECURE"))
	}
	if resp.Diagnostics.HasError() {
		return
	}
	cfg := client.Config{
		Cloud: get["cloud"], AuthURL: get["auth_url"], Region: get["region"], UserName: get["user_name"], UserID: get["user_id"],
		Password: get["password"], Token: get["token"], TenantID: get["tenant_id"], TenantName: get["tenant_name"],
		UserDomainName: get["user_domain_name"], UserDomainID: get["user_domain_id"],
		ProjectDomainName: get["project_domain_name"], ProjectDomainID: get["project_domain_id"],
		DomainName: get["domain_name"], DomainID: get["domain_id"], DefaultDomain: get["default_domain"],
		ApplicationCredentialID: get["application_credential_id"], ApplicationCredentialName: get["application_credential_name"],
		ApplicationCredentialSecret: get["application_credential_secret"], EndpointType: get["endpoint_type"],
		CACertFile: get["cacert_file"], ClientCertFile: get["cert"], ClientKeyFile: get["key"], Insecure: insecure,
		UserAgent: "terraform-provider-stratus/" + p.version,
	}
	c, err := client.New(ctx, cfg)
	if err != nil {
		resp.Diagnostics.AddError("configuring the Stratus provider", err.Error())
		return
	}
	tflog.Debug(ctx, "authenticated to Stratus", map[string]any{"auth_url": cfg.AuthURL, "region": c.EndpointOpts.Region})
	resp.ResourceData = c
	resp.DataSourceData = c
}

func (p *stratusProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		identity.NewProjectResource,
		identity.NewUserResource,
		identity.NewRoleAssignmentResource,
		identity.NewApplicationCredentialResource,
		compute.NewFlavorResource,
		compute.NewKeypairResource,
		compute.NewServerGroupResource,
		compute.NewInstanceResource,
		compute.NewVolumeAttachResource,
		images.NewImageResource,
		networking.NewNetworkResource,
		networking.NewSubnetResource,
		networking.NewPortResource,
		networking.NewSecgroupResource,
		networking.NewSecgroupRuleResource,
		networking.NewRouterResource,
		networking.NewRouterInterfaceResource,
		networking.NewFloatingIPResource,
		networking.NewFloatingIPAssociateResource,
		blockstorage.NewVolumeResource,
		blockstorage.NewVolumeTypeResource,
		blockstorage.NewSnapshotResource,
	}
}

func (p *stratusProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		identity.NewProjectDataSource,
		identity.NewRoleDataSource,
		compute.NewFlavorDataSource,
		compute.NewInstanceDataSource,
		compute.NewHypervisorDataSource,
		compute.NewAvailabilityZonesDataSource,
		images.NewImageDataSource,
		networking.NewNetworkDataSource,
		networking.NewSubnetDataSource,
	}
}
