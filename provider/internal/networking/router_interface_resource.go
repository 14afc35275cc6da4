package networking

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*routerInterfaceResource)(nil)
	_ resource.ResourceWithImportState = (*routerInterfaceResource)(nil)
)

// NewRouterInterfaceResource is stratus_networking_router_interface
// (openstack_networking_router_interface_v2).
func NewRouterInterfaceResource() resource.Resource { return &routerInterfaceResource{} }

type routerInterfaceResource struct{ tfutil.ResourceBase }

type routerInterfaceModel struct {
	ID       types.String   `tfsdk:"id"`
	RouterID types.String   `tfsdk:"router_id"`
	SubnetID types.String   `tfsdk:"subnet_id"`
	PortID   types.String   `tfsdk:"port_id"`
	Timeouts timeouts.Value `tfsdk:"timeouts"`
}

func (r *routerInterfaceResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_networking_router_interface"
}

func (r *routerInterfaceResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replaceKeep := []planmodifier.String{stringplanmodifier.RequiresReplace(), stringplanmodifier.UseStateForUnknown()}
	oneOf := stringvalidator.ExactlyOneOf(path.MatchRoot("subnet_id"), path.MatchRoot("port_id"))
	resp.Schema = schema.Schema{
		MarkdownDescription: "Attaches a subnet to a router, by the subnet (the router takes the subnet's gateway address) or by an existing port. " +
			"The id is the id of the router's port on the subnet, which is also what an import takes. Nothing changes in place.",
		Attributes: map[string]schema.Attribute{
			"id":        tfutil.IDAttribute("Id of the router's port on the subnet."),
			"router_id": requiredForceNew("Id of the router."),
			"subnet_id": schema.StringAttribute{
				Optional: true, Computed: true, PlanModifiers: replaceKeep, Validators: []validator.String{oneOf},
				MarkdownDescription: "Id of the subnet to attach; the router gets its gateway address. Exactly one of `subnet_id` and `port_id` must be set.",
			},
			"port_id": schema.StringAttribute{
				Optional: true, Computed: true, PlanModifiers: replaceKeep,
				MarkdownDescription: "Id of an unused port to attach the router with; created by Neutron when `subnet_id` is given.",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Delete: true}),
		},
	}
}

func (r *routerInterfaceResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan routerInterfaceModel
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
	info, err := routers.AddInterface(ctx, nc, plan.RouterID.ValueString(), routers.AddInterfaceOpts{
		SubnetID: tfutil.Known(plan.SubnetID), PortID: tfutil.Known(plan.PortID),
	}).Extract()
	if err != nil {
		resp.Diagnostics.AddError("adding an interface to Router ("+plan.RouterID.ValueString()+")", err.Error())
		return
	}
	plan.ID, plan.PortID, plan.SubnetID = types.StringValue(info.PortID), types.StringValue(info.PortID), types.StringValue(info.SubnetID)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Read looks at the router's port: the interface is gone when the port
// is, or when it no longer belongs to the router.
func (r *routerInterfaceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state routerInterfaceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	nc := r.Network(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := ports.Get(ctx, nc, state.ID.ValueString()).Extract()
	if tfutil.Gone(ctx, err, resp, "Router Interface ("+state.ID.ValueString()+")") {
		return
	}
	imported := state.RouterID.IsNull()
	if !imported && p.DeviceID != state.RouterID.ValueString() || p.DeviceID == "" {
		resp.State.RemoveResource(ctx)
		return
	}
	state.RouterID, state.PortID = types.StringValue(p.DeviceID), types.StringValue(p.ID)
	if len(p.FixedIPs) > 0 {
		state.SubnetID = types.StringValue(p.FixedIPs[0].SubnetID)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *routerInterfaceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	tfutil.StorePlan[routerInterfaceModel](ctx, req, resp)
}

func (r *routerInterfaceResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state routerInterfaceModel
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
	_, err := routers.RemoveInterface(ctx, nc, state.RouterID.ValueString(), routers.RemoveInterfaceOpts{PortID: state.ID.ValueString()}).Extract()
	tfutil.Deleted(err, &resp.Diagnostics, "Router Interface ("+state.ID.ValueString()+")")
}
