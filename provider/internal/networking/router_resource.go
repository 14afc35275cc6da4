package networking

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*routerResource)(nil)
	_ resource.ResourceWithImportState = (*routerResource)(nil)
)

// NewRouterResource is stratus_networking_router
// (openstack_networking_router_v2).
func NewRouterResource() resource.Resource { return &routerResource{} }

type routerResource struct{ tfutil.ResourceBase }

type routerModel struct {
	ID                types.String   `tfsdk:"id"`
	Name              types.String   `tfsdk:"name"`
	Description       types.String   `tfsdk:"description"`
	AdminStateUp      types.Bool     `tfsdk:"admin_state_up"`
	ExternalNetworkID types.String   `tfsdk:"external_network_id"`
	EnableSNAT        types.Bool     `tfsdk:"enable_snat"`
	TenantID          types.String   `tfsdk:"tenant_id"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`
}

func (r *routerResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_networking_router"
}

func (r *routerResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Neutron router: routes between the subnets attached to it (`stratus_networking_router_interface`) and, " +
			"through its gateway on an external network, to the outside, with SNAT and floating IPs. Everything but the project changes in place.",
		Attributes: map[string]schema.Attribute{
			"id":             tfutil.IDAttribute("The router id."),
			"name":           nameAttr("router"),
			"description":    descriptionAttr("router"),
			"admin_state_up": adminStateAttr("router"),
			"external_network_id": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(""),
				MarkdownDescription: "Id of the external network of the router's gateway; no gateway when empty. Changes in place.",
			},
			"enable_snat": schema.BoolAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Whether traffic leaving through the gateway is source-NATed to the gateway address; Neutron's default (`true`) when not set. Only admins may turn it off.",
				PlanModifiers:       []planmodifier.Bool{boolplanmodifier.UseStateForUnknown(), tfutil.UnknownWhenChanged("external_network_id")},
			},
			"tenant_id": tenantAttr("router"),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func gatewayInfo(m routerModel) *routers.GatewayInfo {
	gw := &routers.GatewayInfo{NetworkID: m.ExternalNetworkID.ValueString()}
	if gw.NetworkID != "" && !m.EnableSNAT.IsUnknown() && !m.EnableSNAT.IsNull() {
		gw.EnableSNAT = m.EnableSNAT.ValueBoolPointer()
	}
	return gw
}

func (r *routerResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan routerModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Create, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	nc := r.Network(&resp.Diagnostics)
	if nc == nil {
		return
	}
	opts := routers.CreateOpts{
		Name:         plan.Name.ValueString(),
		Description:  plan.Description.ValueString(),
		AdminStateUp: plan.AdminStateUp.ValueBoolPointer(),
		TenantID:     tfutil.Known(plan.TenantID),
	}
	if plan.ExternalNetworkID.ValueString() != "" {
		opts.GatewayInfo = gatewayInfo(plan)
	}
	rt, err := routers.Create(ctx, nc, opts).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating Router ("+plan.Name.ValueString()+")", err.Error())
		return
	}
	setRouter(&plan, rt)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *routerResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state routerModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	nc := r.Network(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	rt, err := routers.Get(ctx, nc, state.ID.ValueString()).Extract()
	if tfutil.Gone(ctx, err, resp, "Router ("+state.ID.ValueString()+")") {
		return
	}
	setRouter(&state, rt)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *routerResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state routerModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Update, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	nc := r.Network(&resp.Diagnostics)
	if nc == nil {
		return
	}
	opts := routerUpdate{UpdateOpts: routers.UpdateOpts{Name: plan.Name.ValueString()}}
	opts.setName = !plan.Name.Equal(state.Name)
	if !plan.Description.Equal(state.Description) {
		opts.Description = plan.Description.ValueStringPointer()
	}
	if !plan.AdminStateUp.Equal(state.AdminStateUp) {
		opts.AdminStateUp = plan.AdminStateUp.ValueBoolPointer()
	}
	if !plan.ExternalNetworkID.Equal(state.ExternalNetworkID) || !plan.EnableSNAT.IsUnknown() && !plan.EnableSNAT.Equal(state.EnableSNAT) {
		opts.GatewayInfo = gatewayInfo(plan)
	}
	rt, err := routers.Update(ctx, nc, state.ID.ValueString(), opts).Extract()
	if err != nil {
		resp.Diagnostics.AddError("updating Router ("+state.ID.ValueString()+")", err.Error())
		return
	}
	setRouter(&plan, rt)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// routerUpdate is routers.UpdateOpts that can also clear the name, which
// UpdateOpts leaves out of the body when empty.
type routerUpdate struct {
	routers.UpdateOpts
	setName bool
}

func (o routerUpdate) ToRouterUpdateMap() (map[string]any, error) {
	m, err := o.UpdateOpts.ToRouterUpdateMap()
	if err != nil || !o.setName {
		return m, err
	}
	m["router"].(map[string]any)["name"] = o.Name
	return m, nil
}

func (r *routerResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state routerModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, state.Timeouts.Delete, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	nc := r.Network(&resp.Diagnostics)
	if nc == nil {
		return
	}
	tfutil.Deleted(routers.Delete(ctx, nc, state.ID.ValueString()).ExtractErr(), &resp.Diagnostics, "Router ("+state.ID.ValueString()+")")
}

func setRouter(m *routerModel, rt *routers.Router) {
	m.ID = types.StringValue(rt.ID)
	m.Name = types.StringValue(rt.Name)
	m.Description = types.StringValue(rt.Description)
	m.AdminStateUp = types.BoolValue(rt.AdminStateUp)
	m.ExternalNetworkID = types.StringValue(rt.GatewayInfo.NetworkID)
	m.TenantID = projectOf(rt.ProjectID, rt.TenantID)
	switch {
	case rt.GatewayInfo.EnableSNAT != nil:
		m.EnableSNAT = types.BoolValue(*rt.GatewayInfo.EnableSNAT)
	case m.EnableSNAT.IsUnknown():
		// No gateway, so no SNAT setting.
		m.EnableSNAT = types.BoolNull()
	}
}
