package identity

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ datasource.DataSourceWithConfigure = (*projectDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*roleDataSource)(nil)
)

// NewProjectDataSource is stratus_identity_project (openstack_identity_project_v3).
func NewProjectDataSource() datasource.DataSource { return &projectDataSource{} }

type projectDataSource struct{ tfutil.DataSourceBase }

type projectDataModel struct {
	ID          types.String `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	Description types.String `tfsdk:"description"`
	Enabled     types.Bool   `tfsdk:"enabled"`
	Tags        types.Set    `tfsdk:"tags"`
	DomainID    types.String `tfsdk:"domain_id"`
}

func (d *projectDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_identity_project"
}

func (d *projectDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	oneOf := []validator.String{stringvalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name"))}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one project by id or name. Listing projects requires the admin role.",
		Attributes: map[string]schema.Attribute{
			"id":          schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Id of the project to find.", Validators: oneOf},
			"name":        schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Name of the project to find."},
			"description": schema.StringAttribute{Computed: true, MarkdownDescription: "Description of the project."},
			"enabled":     schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the project is enabled."},
			"tags":        schema.SetAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Tags of the project."},
			"domain_id":   schema.StringAttribute{Computed: true, MarkdownDescription: "Domain of the project."},
		},
	}
}

func (d *projectDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m projectDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	ic := d.Identity(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var p *projects.Project
	if id := m.ID.ValueString(); id != "" {
		var err error
		if p, err = projects.Get(ctx, ic, id).Extract(); err != nil {
			resp.Diagnostics.AddError("reading Project ("+id+")", err.Error())
			return
		}
	} else {
		page, err := projects.List(ic, projects.ListOpts{Name: m.Name.ValueString()}).AllPages(ctx)
		var list []projects.Project
		if err == nil {
			list, err = projects.ExtractProjects(page)
		}
		if err != nil {
			resp.Diagnostics.AddError("listing Projects", err.Error())
			return
		}
		if len(list) != 1 {
			resp.Diagnostics.AddError("finding Project", fmt.Sprintf("%d projects are named %q, want 1", len(list), m.Name.ValueString()))
			return
		}
		p = &list[0]
	}
	m.ID, m.Name, m.Description = types.StringValue(p.ID), types.StringValue(p.Name), types.StringValue(p.Description)
	m.Enabled, m.Tags, m.DomainID = types.BoolValue(p.Enabled), tfutil.SetOf(p.Tags), types.StringValue(p.DomainID)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// NewRoleDataSource is stratus_identity_role (openstack_identity_role_v3).
func NewRoleDataSource() datasource.DataSource { return &roleDataSource{} }

type roleDataSource struct{ tfutil.DataSourceBase }

type roleDataModel struct {
	ID       types.String `tfsdk:"id"`
	Name     types.String `tfsdk:"name"`
	DomainID types.String `tfsdk:"domain_id"`
}

func (d *roleDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_identity_role"
}

func (d *roleDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up a role by name, for `stratus_identity_role_assignment`. Stratus has `admin`, `member`, `reader` and `service`.",
		Attributes: map[string]schema.Attribute{
			"name":      schema.StringAttribute{Required: true, MarkdownDescription: "Name of the role, such as `member`."},
			"id":        schema.StringAttribute{Computed: true, MarkdownDescription: "Id of the role."},
			"domain_id": schema.StringAttribute{Computed: true, MarkdownDescription: "Domain of the role; empty for global roles."},
		},
	}
}

func (d *roleDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m roleDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	ic := d.Identity(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	page, err := roles.List(ic, roles.ListOpts{Name: m.Name.ValueString()}).AllPages(ctx)
	var list []roles.Role
	if err == nil {
		list, err = roles.ExtractRoles(page)
	}
	if err != nil {
		resp.Diagnostics.AddError("listing Roles", err.Error())
		return
	}
	if len(list) != 1 {
		resp.Diagnostics.AddError("finding Role", fmt.Sprintf("%d roles are named %q, want 1", len(list), m.Name.ValueString()))
		return
	}
	m.ID, m.DomainID = types.StringValue(list[0].ID), types.StringValue(list[0].DomainID)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}
