package identity

import (
	"context"
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/client"
	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*roleAssignmentResource)(nil)
	_ resource.ResourceWithImportState = (*roleAssignmentResource)(nil)
)

// NewRoleAssignmentResource is stratus_identity_role_assignment
// (openstack_identity_role_assignment_v3), for users on projects.
func NewRoleAssignmentResource() resource.Resource { return &roleAssignmentResource{} }

type roleAssignmentResource struct{ tfutil.ResourceBase }

type roleAssignmentModel struct {
	ID        types.String   `tfsdk:"id"`
	ProjectID types.String   `tfsdk:"project_id"`
	UserID    types.String   `tfsdk:"user_id"`
	RoleID    types.String   `tfsdk:"role_id"`
	Timeouts  timeouts.Value `tfsdk:"timeouts"`
}

func (r *roleAssignmentResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_identity_role_assignment"
}

func (r *roleAssignmentResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Grants a role to a user on a project. Requires the admin role. An assignment has nothing to change, so every setting replaces it. " +
			"Stratus has no groups and no domain-scoped roles, so there is no `group_id` or `domain_id`.",
		Attributes: map[string]schema.Attribute{
			"id": tfutil.IDAttribute("`<project_id>/<user_id>/<role_id>`."),
			"project_id": schema.StringAttribute{
				Required: true, PlanModifiers: replace, MarkdownDescription: "Project the role is granted on.",
			},
			"user_id": schema.StringAttribute{
				Required: true, PlanModifiers: replace, MarkdownDescription: "User the role is granted to.",
			},
			"role_id": schema.StringAttribute{
				Required: true, PlanModifiers: replace,
				MarkdownDescription: "The role, such as the id of `member` from the `stratus_identity_role` data source.",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Delete: true}),
		},
	}
}

func (r *roleAssignmentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan roleAssignmentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Create, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	ic := r.Identity(&resp.Diagnostics)
	if ic == nil {
		return
	}
	err := roles.Assign(ctx, ic, plan.RoleID.ValueString(), roles.AssignOpts{
		UserID: plan.UserID.ValueString(), ProjectID: plan.ProjectID.ValueString(),
	}).ExtractErr()
	id := strings.Join([]string{plan.ProjectID.ValueString(), plan.UserID.ValueString(), plan.RoleID.ValueString()}, "/")
	if err != nil {
		resp.Diagnostics.AddError("creating Role Assignment ("+id+")", err.Error())
		return
	}
	plan.ID = types.StringValue(id)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *roleAssignmentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state roleAssignmentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ic := r.Identity(&resp.Diagnostics)
	if ic == nil {
		return
	}
	err := roles.Validate(ctx, ic, state.RoleID.ValueString(), roles.ValidateOpts{
		UserID: state.UserID.ValueString(), ProjectID: state.ProjectID.ValueString(),
	}).ExtractErr()
	if tfutil.Gone(ctx, err, resp, "Role Assignment ("+state.ID.ValueString()+")") {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *roleAssignmentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	tfutil.StorePlan[roleAssignmentModel](ctx, req, resp)
}

func (r *roleAssignmentResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state roleAssignmentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, state.Timeouts.Delete, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	ic := r.Identity(&resp.Diagnostics)
	if ic == nil {
		return
	}
	err := roles.Unassign(ctx, ic, state.RoleID.ValueString(), roles.UnassignOpts{
		UserID: state.UserID.ValueString(), ProjectID: state.ProjectID.ValueString(),
	}).ExtractErr()
	if err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.AddError("deleting Role Assignment ("+state.ID.ValueString()+")", err.Error())
	}
}

// ImportState takes `<project_id>/<user_id>/<role_id>`, or
// terraform-provider-openstack's `<domain_id>/<project_id>/<group_id>/<user_id>/<role_id>`
// with empty domain and group.
func (r *roleAssignmentResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	parts := strings.Split(req.ID, "/")
	var project, user, role string
	switch {
	case len(parts) == 3:
		project, user, role = parts[0], parts[1], parts[2]
	case len(parts) == 5 && parts[0] == "" && parts[2] == "":
		project, user, role = parts[1], parts[3], parts[4]
	}
	if project == "" || user == "" || role == "" {
		resp.Diagnostics.AddError("importing Role Assignment",
			fmt.Sprintf("the id %q is not <project_id>/<user_id>/<role_id>", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), project+"/"+user+"/"+role)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project_id"), project)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("user_id"), user)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("role_id"), role)...)
}
