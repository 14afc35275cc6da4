package networking

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*floatingIPResource)(nil)
	_ resource.ResourceWithImportState = (*floatingIPResource)(nil)
)

// NewFloatingIPResource is stratus_networking_floatingip
// (openstack_networking_floatingip_v2).
func NewFloatingIPResource() resource.Resource { return &floatingIPResource{} }

type floatingIPResource struct{ tfutil.ResourceBase }

type floatingIPModel struct {
	ID          types.String   `tfsdk:"id"`
	Pool        types.String   `tfsdk:"pool"`
	Address     types.String   `tfsdk:"address"`
	PortID      types.String   `tfsdk:"port_id"`
	FixedIP     types.String   `tfsdk:"fixed_ip"`
	Description types.String   `tfsdk:"description"`
	TenantID    types.String   `tfsdk:"tenant_id"`
	Timeouts    timeouts.Value `tfsdk:"timeouts"`
}

func (r *floatingIPResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_networking_floatingip"
}

func (r *floatingIPResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Neutron floating IP: an address of an external network, NATed by a router to a port's fixed IP. " +
			"Associate it here with `port_id` or separately with `stratus_networking_floatingip_associate` (not both). " +
			"The description and association change in place, and an update sends only what changed, so a new description never drops the association.",
		Attributes: map[string]schema.Attribute{
			"id":   tfutil.IDAttribute("The floating IP id."),
			"pool": requiredForceNew("Name of the external network to allocate the address on; changing it replaces the floating IP."),
			"address": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "The floating address; the next free one of the pool when not set (admins may ask for one). Changing it replaces the floating IP.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace(), stringplanmodifier.UseStateForUnknown()},
			},
			"port_id": schema.StringAttribute{
				Optional: true, Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Id of the port the address is NATed to; empty when unassociated. Changes in place.",
			},
			"fixed_ip": schema.StringAttribute{
				Optional: true, Computed: true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown(), tfutil.UnknownWhenChanged("port_id")},
				MarkdownDescription: "Which fixed IP of `port_id` to NAT to, when the port has several.",
			},
			"description": descriptionAttr("floating IP"),
			"tenant_id":   tenantAttr("floating IP"),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

// externalNetworkID is the id of the external network named pool.
func externalNetworkID(ctx context.Context, nc *gophercloud.ServiceClient, pool string) (string, error) {
	yes := true
	page, err := networks.List(nc, external.ListOptsExt{ListOptsBuilder: networks.ListOpts{Name: pool}, External: &yes}).AllPages(ctx)
	if err != nil {
		return "", err
	}
	list, err := networks.ExtractNetworks(page)
	if err != nil {
		return "", err
	}
	switch len(list) {
	case 0:
		return "", fmt.Errorf("no external network is named %q", pool)
	case 1:
		return list[0].ID, nil
	}
	return "", fmt.Errorf("%d external networks are named %q", len(list), pool)
}

func (r *floatingIPResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan floatingIPModel
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
	netID, err := externalNetworkID(ctx, nc, plan.Pool.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("finding the pool of a Floating IP", err.Error())
		return
	}
	fip, err := floatingips.Create(ctx, nc, floatingips.CreateOpts{
		FloatingNetworkID: netID,
		FloatingIP:        tfutil.Known(plan.Address),
		PortID:            tfutil.Known(plan.PortID),
		FixedIP:           tfutil.Known(plan.FixedIP),
		Description:       plan.Description.ValueString(),
		TenantID:          tfutil.Known(plan.TenantID),
	}).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating Floating IP in ("+plan.Pool.ValueString()+")", err.Error())
		return
	}
	setFloatingIP(&plan, fip)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *floatingIPResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state floatingIPModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	nc := r.Network(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	fip, err := floatingips.Get(ctx, nc, state.ID.ValueString()).Extract()
	if tfutil.Gone(ctx, err, resp, "Floating IP ("+state.ID.ValueString()+")") {
		return
	}
	if state.Pool.IsNull() {
		// An import: the pool is the name of the floating network.
		n, err := networks.Get(ctx, nc, fip.FloatingNetworkID).Extract()
		if err != nil {
			resp.Diagnostics.AddError("reading the pool of Floating IP ("+fip.ID+")", err.Error())
			return
		}
		state.Pool = types.StringValue(n.Name)
	}
	setFloatingIP(&state, fip)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *floatingIPResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state floatingIPModel
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
	var opts floatingips.UpdateOpts
	if !plan.Description.Equal(state.Description) {
		opts.Description = plan.Description.ValueStringPointer()
	}
	if !plan.PortID.IsUnknown() && !plan.PortID.Equal(state.PortID) || !plan.FixedIP.IsUnknown() && !plan.FixedIP.Equal(state.FixedIP) {
		opts.PortID = ptr(tfutil.Known(plan.PortID))
		opts.FixedIP = tfutil.Known(plan.FixedIP)
	}
	fip, err := floatingips.Update(ctx, nc, state.ID.ValueString(), opts).Extract()
	if err != nil {
		resp.Diagnostics.AddError("updating Floating IP ("+state.ID.ValueString()+")", err.Error())
		return
	}
	setFloatingIP(&plan, fip)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *floatingIPResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state floatingIPModel
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
	tfutil.Deleted(floatingips.Delete(ctx, nc, state.ID.ValueString()).ExtractErr(), &resp.Diagnostics, "Floating IP ("+state.ID.ValueString()+")")
}

func setFloatingIP(m *floatingIPModel, fip *floatingips.FloatingIP) {
	m.ID = types.StringValue(fip.ID)
	m.Address = types.StringValue(fip.FloatingIP)
	m.PortID = types.StringValue(fip.PortID)
	m.FixedIP = types.StringValue(fip.FixedIP)
	m.Description = types.StringValue(fip.Description)
	m.TenantID = projectOf(fip.ProjectID, fip.TenantID)
}
