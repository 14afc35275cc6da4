package networking

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*floatingIPAssociateResource)(nil)
	_ resource.ResourceWithImportState = (*floatingIPAssociateResource)(nil)
)

// NewFloatingIPAssociateResource is stratus_networking_floatingip_associate
// (openstack_networking_floatingip_associate_v2).
func NewFloatingIPAssociateResource() resource.Resource { return &floatingIPAssociateResource{} }

type floatingIPAssociateResource struct{ tfutil.ResourceBase }

type floatingIPAssociateModel struct {
	ID         types.String   `tfsdk:"id"`
	FloatingIP types.String   `tfsdk:"floating_ip"`
	PortID     types.String   `tfsdk:"port_id"`
	FixedIP    types.String   `tfsdk:"fixed_ip"`
	Timeouts   timeouts.Value `tfsdk:"timeouts"`
}

func (r *floatingIPAssociateResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_networking_floatingip_associate"
}

func (r *floatingIPAssociateResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Associates an existing floating IP with a port (a server's port, for example). " +
			"The id is the floating IP's id, which is also what an import takes. Moving the association to another port happens in place; " +
			"destroying it disassociates the address, and succeeds when the port or the floating IP is already gone.",
		Attributes: map[string]schema.Attribute{
			"id":          tfutil.IDAttribute("Id of the floating IP."),
			"floating_ip": requiredForceNew("The floating address to associate."),
			"port_id": schema.StringAttribute{
				Required: true, MarkdownDescription: "Id of the port to NAT the address to; changes in place.",
			},
			"fixed_ip": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Which fixed IP of the port to NAT to; the port's first when not set. Changes in place.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown(), tfutil.UnknownWhenChanged("port_id")},
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

// floatingIPByAddress is the floating IP with address addr.
func floatingIPByAddress(ctx context.Context, nc *gophercloud.ServiceClient, addr string) (*floatingips.FloatingIP, error) {
	page, err := floatingips.List(nc, floatingips.ListOpts{FloatingIP: addr}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	list, err := floatingips.ExtractFloatingIPs(page)
	if err != nil {
		return nil, err
	}
	if len(list) != 1 {
		return nil, fmt.Errorf("%d floating IPs have the address %q", len(list), addr)
	}
	return &list[0], nil
}

func (r *floatingIPAssociateResource) associate(ctx context.Context, nc *gophercloud.ServiceClient, id string, m *floatingIPAssociateModel) error {
	fip, err := floatingips.Update(ctx, nc, id, floatingips.UpdateOpts{
		PortID: m.PortID.ValueStringPointer(), FixedIP: tfutil.Known(m.FixedIP),
	}).Extract()
	if err != nil {
		return err
	}
	setAssociation(m, fip)
	return nil
}

func (r *floatingIPAssociateResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan floatingIPAssociateModel
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
	fip, err := floatingIPByAddress(ctx, nc, plan.FloatingIP.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("finding Floating IP ("+plan.FloatingIP.ValueString()+")", err.Error())
		return
	}
	if err := r.associate(ctx, nc, fip.ID, &plan); err != nil {
		resp.Diagnostics.AddError("associating Floating IP ("+plan.FloatingIP.ValueString()+") with Port ("+plan.PortID.ValueString()+")", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Read drops the association when the address is gone or no longer
// associated (its port was deleted), so the next plan creates it again.
func (r *floatingIPAssociateResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state floatingIPAssociateModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	nc := r.Network(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	fip, err := floatingips.Get(ctx, nc, state.ID.ValueString()).Extract()
	if tfutil.Gone(ctx, err, resp, "Floating IP Association ("+state.ID.ValueString()+")") {
		return
	}
	if fip.PortID == "" {
		resp.State.RemoveResource(ctx)
		return
	}
	setAssociation(&state, fip)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *floatingIPAssociateResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan floatingIPAssociateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Update, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	nc := r.Network(&resp.Diagnostics)
	if nc == nil {
		return
	}
	if err := r.associate(ctx, nc, plan.ID.ValueString(), &plan); err != nil {
		resp.Diagnostics.AddError("moving Floating IP ("+plan.FloatingIP.ValueString()+") to Port ("+plan.PortID.ValueString()+")", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *floatingIPAssociateResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state floatingIPAssociateModel
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
	_, err := floatingips.Update(ctx, nc, state.ID.ValueString(), floatingips.UpdateOpts{PortID: ptr("")}).Extract()
	tfutil.Deleted(err, &resp.Diagnostics, "Floating IP Association ("+state.ID.ValueString()+")")
}

func setAssociation(m *floatingIPAssociateModel, fip *floatingips.FloatingIP) {
	m.ID = types.StringValue(fip.ID)
	m.FloatingIP = types.StringValue(fip.FloatingIP)
	m.PortID = types.StringValue(fip.PortID)
	m.FixedIP = types.StringValue(fip.FixedIP)
}
