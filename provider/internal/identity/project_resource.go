package identity

import (
	"context"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/client"
	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*projectResource)(nil)
	_ resource.ResourceWithImportState = (*projectResource)(nil)
)

// NewProjectResource is stratus_identity_project (openstack_identity_project_v3).
func NewProjectResource() resource.Resource { return &projectResource{} }

type projectResource struct{ tfutil.ResourceBase }

type projectModel struct {
	ID          types.String   `tfsdk:"id"`
	Name        types.String   `tfsdk:"name"`
	Description types.String   `tfsdk:"description"`
	Enabled     types.Bool     `tfsdk:"enabled"`
	Tags        types.Set      `tfsdk:"tags"`
	DomainID    types.String   `tfsdk:"domain_id"`
	ParentID    types.String   `tfsdk:"parent_id"`
	Timeouts    timeouts.Value `tfsdk:"timeouts"`
}

func (r *projectResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_identity_project"
}

func (r *projectResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Keystone v3 project: the unit that owns servers, images and quotas. Requires the admin role.",
		Attributes: map[string]schema.Attribute{
			"id": tfutil.IDAttribute("The project id."),
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the project, unique in its domain.",
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 64)},
			},
			"description": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(""),
				MarkdownDescription: "Free-form description. Defaults to empty.",
			},
			"enabled": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Whether the project can be used: tokens for a disabled project are refused and existing ones revoked. Defaults to `true`.",
			},
			"tags": schema.SetAttribute{
				ElementType: types.StringType, Optional: true, Computed: true,
				Default:             setdefault.StaticValue(tfutil.SetOf(nil)),
				MarkdownDescription: "Tags of the project. Defaults to none.",
			},
			"domain_id": schema.StringAttribute{
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Domain of the project. Stratus has one domain, `default`.",
			},
			"parent_id": schema.StringAttribute{
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Parent of the project: its domain, since Stratus has no project hierarchy.",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *projectResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan projectModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Create, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	ic := r.identity(&resp.Diagnostics)
	if ic == nil {
		return
	}
	p, err := projects.Create(ctx, ic, projects.CreateOpts{
		Name:        plan.Name.ValueString(),
		Description: plan.Description.ValueString(),
		Enabled:     plan.Enabled.ValueBoolPointer(),
		Tags:        tfutil.Strings(ctx, plan.Tags, &resp.Diagnostics),
	}).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating Project ("+plan.Name.ValueString()+")", err.Error())
		return
	}
	setProject(&plan, p)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *projectResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state projectModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ic := r.identity(&resp.Diagnostics)
	if ic == nil {
		return
	}
	p, err := projects.Get(ctx, ic, state.ID.ValueString()).Extract()
	if tfutil.Gone(ctx, err, resp, "Project ("+state.ID.ValueString()+")") {
		return
	}
	setProject(&state, p)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *projectResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan projectModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Update, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	ic := r.identity(&resp.Diagnostics)
	if ic == nil {
		return
	}
	tags := tfutil.Strings(ctx, plan.Tags, &resp.Diagnostics)
	if tags == nil {
		tags = []string{}
	}
	p, err := projects.Update(ctx, ic, plan.ID.ValueString(), projects.UpdateOpts{
		Name:        plan.Name.ValueString(),
		Description: plan.Description.ValueStringPointer(),
		Enabled:     plan.Enabled.ValueBoolPointer(),
		Tags:        &tags,
	}).Extract()
	if err != nil {
		resp.Diagnostics.AddError("updating Project ("+plan.ID.ValueString()+")", err.Error())
		return
	}
	setProject(&plan, p)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *projectResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state projectModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, state.Timeouts.Delete, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	ic := r.identity(&resp.Diagnostics)
	if ic == nil {
		return
	}
	err := projects.Delete(ctx, ic, state.ID.ValueString()).ExtractErr()
	if err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.AddError("deleting Project ("+state.ID.ValueString()+")", err.Error())
	}
}

func (r *projectResource) identity(diags *diag.Diagnostics) *gophercloud.ServiceClient {
	return r.Identity(diags)
}

func setProject(m *projectModel, p *projects.Project) {
	m.ID = types.StringValue(p.ID)
	m.Name = types.StringValue(p.Name)
	m.Description = types.StringValue(p.Description)
	m.Enabled = types.BoolValue(p.Enabled)
	m.Tags = tfutil.SetOf(p.Tags)
	m.DomainID = types.StringValue(p.DomainID)
	m.ParentID = types.StringValue(p.ParentID)
}
