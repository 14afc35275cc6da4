package compute

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*serverGroupResource)(nil)
	_ resource.ResourceWithImportState = (*serverGroupResource)(nil)
)

// NewServerGroupResource is stratus_compute_servergroup (openstack_compute_servergroup_v2).
func NewServerGroupResource() resource.Resource { return &serverGroupResource{} }

type serverGroupResource struct{ tfutil.ResourceBase }

type serverGroupModel struct {
	ID       types.String   `tfsdk:"id"`
	Name     types.String   `tfsdk:"name"`
	Policies types.List     `tfsdk:"policies"`
	Members  types.List     `tfsdk:"members"`
	Timeouts timeouts.Value `tfsdk:"timeouts"`
}

func (r *serverGroupResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_compute_servergroup"
}

func (r *serverGroupResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Nova server group: servers that name it in `scheduler_hints` are placed on the same host (affinity) or on different hosts (anti-affinity). " +
			"Server groups cannot change, so every setting replaces it.",
		Attributes: map[string]schema.Attribute{
			"id": tfutil.IDAttribute("The server group id."),
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the server group.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 255)},
			},
			"policies": schema.ListAttribute{
				ElementType: types.StringType, Required: true,
				MarkdownDescription: "The placement policy, one of `affinity`, `anti-affinity`, `soft-affinity` and `soft-anti-affinity` (a list of one, as in Nova 2.1).",
				PlanModifiers:       []planmodifier.List{listplanmodifier.RequiresReplace()},
				Validators: []validator.List{
					listvalidator.SizeBetween(1, 1),
					listvalidator.ValueStringsAre(stringvalidator.OneOf("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")),
				},
			},
			"members": schema.ListAttribute{
				ElementType: types.StringType, Computed: true,
				MarkdownDescription: "Ids of the servers in the group.",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Delete: true}),
		},
	}
}

func (r *serverGroupResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan serverGroupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Create, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	cc := r.Compute(&resp.Diagnostics)
	if cc == nil {
		return
	}
	sg, err := servergroups.Create(ctx, cc, servergroups.CreateOpts{
		Name:     plan.Name.ValueString(),
		Policies: tfutil.Strings(ctx, plan.Policies, &resp.Diagnostics),
	}).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating Server Group ("+plan.Name.ValueString()+")", err.Error())
		return
	}
	setServerGroup(&plan, sg)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *serverGroupResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state serverGroupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cc := r.Compute(&resp.Diagnostics)
	if cc == nil {
		return
	}
	sg, err := servergroups.Get(ctx, cc, state.ID.ValueString()).Extract()
	if tfutil.Gone(ctx, err, resp, "Server Group ("+state.ID.ValueString()+")") {
		return
	}
	setServerGroup(&state, sg)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *serverGroupResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	tfutil.StorePlan[serverGroupModel](ctx, req, resp)
}

func (r *serverGroupResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state serverGroupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, state.Timeouts.Delete, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	cc := r.Compute(&resp.Diagnostics)
	if cc == nil {
		return
	}
	tfutil.Deleted(servergroups.Delete(ctx, cc, state.ID.ValueString()).ExtractErr(), &resp.Diagnostics, "Server Group ("+state.ID.ValueString()+")")
}

func setServerGroup(m *serverGroupModel, sg *servergroups.ServerGroup) {
	m.ID, m.Name = types.StringValue(sg.ID), types.StringValue(sg.Name)
	m.Policies = tfutil.ListOf(sg.Policies)
	m.Members = tfutil.ListOf(sg.Members)
}
