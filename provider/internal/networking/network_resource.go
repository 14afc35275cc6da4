package networking

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/mtu"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*networkResource)(nil)
	_ resource.ResourceWithImportState = (*networkResource)(nil)
)

// NewNetworkResource is stratus_networking_network
// (openstack_networking_network_v2).
func NewNetworkResource() resource.Resource { return &networkResource{} }

type networkResource struct{ tfutil.ResourceBase }

type networkModel struct {
	ID           types.String   `tfsdk:"id"`
	Name         types.String   `tfsdk:"name"`
	Description  types.String   `tfsdk:"description"`
	AdminStateUp types.Bool     `tfsdk:"admin_state_up"`
	Shared       types.Bool     `tfsdk:"shared"`
	External     types.Bool     `tfsdk:"external"`
	MTU          types.Int64    `tfsdk:"mtu"`
	TenantID     types.String   `tfsdk:"tenant_id"`
	Timeouts     timeouts.Value `tfsdk:"timeouts"`
}

// networkJSON is a network with the extension attributes Stratus reports.
type networkJSON struct {
	networks.Network
	external.NetworkExternalExt
	mtu.NetworkMTUExt
}

func (r *networkResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_networking_network"
}

func (r *networkResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Neutron network: a layer-2 segment that subnets, ports and routers attach to. " +
			"Everything but the project changes in place. An `external` network is where routers get their gateway and floating IPs come from.",
		Attributes: map[string]schema.Attribute{
			"id":             tfutil.IDAttribute("The network id."),
			"name":           nameAttr("network"),
			"description":    descriptionAttr("network"),
			"admin_state_up": adminStateAttr("network"),
			"shared": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Whether every project may attach ports to the network (admin only); changes in place. Defaults to `false`.",
			},
			"external": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Whether the network is external (`router:external`, admin only): routers take their gateway from it and floating IPs are allocated on it. Changes in place. Defaults to `false`.",
			},
			"mtu": schema.Int64Attribute{
				Optional: true, Computed: true,
				MarkdownDescription: "MTU of the network; chosen by Neutron when not set. Changes in place.",
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
				Validators:          []validator.Int64{int64validator.Between(68, 9216)},
			},
			"tenant_id": tenantAttr("network"),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *networkResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan networkModel
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
	var opts networks.CreateOptsBuilder = networks.CreateOpts{
		Name:         plan.Name.ValueString(),
		Description:  plan.Description.ValueString(),
		AdminStateUp: plan.AdminStateUp.ValueBoolPointer(),
		Shared:       plan.Shared.ValueBoolPointer(),
		TenantID:     plan.TenantID.ValueString(),
	}
	opts = external.CreateOptsExt{CreateOptsBuilder: opts, External: plan.External.ValueBoolPointer()}
	if !plan.MTU.IsUnknown() && !plan.MTU.IsNull() {
		opts = mtu.CreateOptsExt{CreateOptsBuilder: opts, MTU: int(plan.MTU.ValueInt64())}
	}
	var n networkJSON
	if err := networks.Create(ctx, nc, opts).ExtractInto(&n); err != nil {
		resp.Diagnostics.AddError("creating Network ("+plan.Name.ValueString()+")", err.Error())
		return
	}
	setNetwork(&plan, &n)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *networkResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state networkModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	nc := r.Network(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var n networkJSON
	err := networks.Get(ctx, nc, state.ID.ValueString()).ExtractInto(&n)
	if tfutil.Gone(ctx, err, resp, "Network ("+state.ID.ValueString()+")") {
		return
	}
	setNetwork(&state, &n)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *networkResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state networkModel
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
	base := networks.UpdateOpts{}
	if !plan.Name.Equal(state.Name) {
		base.Name = plan.Name.ValueStringPointer()
	}
	if !plan.Description.Equal(state.Description) {
		base.Description = plan.Description.ValueStringPointer()
	}
	if !plan.AdminStateUp.Equal(state.AdminStateUp) {
		base.AdminStateUp = plan.AdminStateUp.ValueBoolPointer()
	}
	if !plan.Shared.Equal(state.Shared) {
		base.Shared = plan.Shared.ValueBoolPointer()
	}
	var opts networks.UpdateOptsBuilder = base
	if !plan.External.Equal(state.External) {
		opts = external.UpdateOptsExt{UpdateOptsBuilder: opts, External: plan.External.ValueBoolPointer()}
	}
	if !plan.MTU.IsUnknown() && !plan.MTU.Equal(state.MTU) {
		opts = mtu.UpdateOptsExt{UpdateOptsBuilder: opts, MTU: int(plan.MTU.ValueInt64())}
	}
	var n networkJSON
	if err := networks.Update(ctx, nc, state.ID.ValueString(), opts).ExtractInto(&n); err != nil {
		resp.Diagnostics.AddError("updating Network ("+state.ID.ValueString()+")", err.Error())
		return
	}
	setNetwork(&plan, &n)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *networkResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state networkModel
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
	tfutil.Deleted(networks.Delete(ctx, nc, state.ID.ValueString()).ExtractErr(), &resp.Diagnostics, "Network ("+state.ID.ValueString()+")")
}

func setNetwork(m *networkModel, n *networkJSON) {
	m.ID = types.StringValue(n.ID)
	m.Name = types.StringValue(n.Name)
	m.Description = types.StringValue(n.Description)
	m.AdminStateUp = types.BoolValue(n.AdminStateUp)
	m.Shared = types.BoolValue(n.Shared)
	m.External = types.BoolValue(n.External)
	m.MTU = types.Int64Value(int64(n.MTU))
	m.TenantID = projectOf(n.ProjectID, n.TenantID)
}
