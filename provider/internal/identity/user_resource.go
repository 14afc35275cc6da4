package identity

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*userResource)(nil)
	_ resource.ResourceWithImportState = (*userResource)(nil)
)

// NewUserResource is stratus_identity_user (openstack_identity_user_v3).
func NewUserResource() resource.Resource { return &userResource{} }

type userResource struct{ tfutil.ResourceBase }

type userModel struct {
	ID               types.String   `tfsdk:"id"`
	Name             types.String   `tfsdk:"name"`
	Description      types.String   `tfsdk:"description"`
	Enabled          types.Bool     `tfsdk:"enabled"`
	DefaultProjectID types.String   `tfsdk:"default_project_id"`
	Password         types.String   `tfsdk:"password"`
	DomainID         types.String   `tfsdk:"domain_id"`
	Timeouts         timeouts.Value `tfsdk:"timeouts"`
}

func (r *userResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_identity_user"
}

func (r *userResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Keystone v3 user. Requires the admin role. Give it roles on projects with `stratus_identity_role_assignment`.",
		Attributes: map[string]schema.Attribute{
			"id": tfutil.IDAttribute("The user id."),
			"name": schema.StringAttribute{
				Required: true, MarkdownDescription: "Login name of the user, unique in its domain.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 255)},
			},
			"description": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(""),
				MarkdownDescription: "Free-form description. Defaults to empty.",
			},
			"enabled": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Whether the user can log in; disabling revokes the user's tokens. Defaults to `true`.",
			},
			"default_project_id": schema.StringAttribute{
				Optional: true, Computed: true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Project the user's tokens are scoped to when a login names none. Keystone cannot unset it once set.",
			},
			"password": schema.StringAttribute{
				Optional: true, Sensitive: true,
				MarkdownDescription: "Password of the user; changes in place. Keystone never returns it, so it is not read back (and not imported).",
			},
			"domain_id": schema.StringAttribute{
				Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Domain of the user. Stratus has one domain, `default`.",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func setUser(m *userModel, u *users.User) {
	m.ID, m.Name, m.Description = types.StringValue(u.ID), types.StringValue(u.Name), types.StringValue(u.Description)
	m.Enabled, m.DefaultProjectID, m.DomainID = types.BoolValue(u.Enabled), types.StringValue(u.DefaultProjectID), types.StringValue(u.DomainID)
}

func (r *userResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan userModel
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
	u, err := users.Create(ctx, ic, users.CreateOpts{
		Name: plan.Name.ValueString(), Description: plan.Description.ValueString(), Enabled: plan.Enabled.ValueBoolPointer(),
		DefaultProjectID: plan.DefaultProjectID.ValueString(), Password: plan.Password.ValueString(),
	}).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating User ("+plan.Name.ValueString()+")", err.Error())
		return
	}
	setUser(&plan, u)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *userResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state userModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ic := r.Identity(&resp.Diagnostics)
	if ic == nil {
		return
	}
	u, err := users.Get(ctx, ic, state.ID.ValueString()).Extract()
	if tfutil.Gone(ctx, err, resp, "User ("+state.ID.ValueString()+")") {
		return
	}
	setUser(&state, u)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *userResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state userModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Update, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	ic := r.Identity(&resp.Diagnostics)
	if ic == nil {
		return
	}
	opts := users.UpdateOpts{
		Name: plan.Name.ValueString(), Description: plan.Description.ValueStringPointer(), Enabled: plan.Enabled.ValueBoolPointer(),
	}
	if !plan.DefaultProjectID.IsUnknown() {
		opts.DefaultProjectID = plan.DefaultProjectID.ValueString()
	}
	if !plan.Password.Equal(state.Password) {
		opts.Password = plan.Password.ValueString()
	}
	u, err := users.Update(ctx, ic, state.ID.ValueString(), opts).Extract()
	if err != nil {
		resp.Diagnostics.AddError("updating User ("+state.ID.ValueString()+")", err.Error())
		return
	}
	setUser(&plan, u)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *userResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state userModel
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
	tfutil.Deleted(users.Delete(ctx, ic, state.ID.ValueString()).ExtractErr(), &resp.Diagnostics, "User ("+state.ID.ValueString()+")")
}
