package compute

import (
	"context"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/blockstorage"
	"github.com/stratus-cloud/stratus/provider/internal/client"
	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*volumeAttachResource)(nil)
	_ resource.ResourceWithImportState = (*volumeAttachResource)(nil)
)

// NewVolumeAttachResource is stratus_compute_volume_attach
// (openstack_compute_volume_attach_v2).
func NewVolumeAttachResource() resource.Resource { return &volumeAttachResource{} }

type volumeAttachResource struct{ tfutil.ResourceBase }

type volumeAttachModel struct {
	ID         types.String   `tfsdk:"id"`
	InstanceID types.String   `tfsdk:"instance_id"`
	VolumeID   types.String   `tfsdk:"volume_id"`
	Device     types.String   `tfsdk:"device"`
	Timeouts   timeouts.Value `tfsdk:"timeouts"`
}

func (r *volumeAttachResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_compute_volume_attach"
}

func (r *volumeAttachResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Attaches a volume to a running server (Nova os-volume_attachments) and waits until the volume is `in-use`; " +
			"destroying it detaches the volume and waits until it is `available`, and succeeds when the server or the attachment is already gone. " +
			"The id is `<instance_id>/<volume_id>`, which is also what an import takes. Nothing changes in place.",
		Attributes: map[string]schema.Attribute{
			"id": tfutil.IDAttribute("`<instance_id>/<volume_id>`."),
			"instance_id": schema.StringAttribute{Required: true, PlanModifiers: replace,
				MarkdownDescription: "Id of the server."},
			"volume_id": schema.StringAttribute{Required: true, PlanModifiers: replace,
				MarkdownDescription: "Id of the volume."},
			"device": schema.StringAttribute{Optional: true, Computed: true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace(), stringplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Device name in the guest, such as `/dev/vdb`; the next free one when not set. Nova may name the device otherwise than asked (the guest's kernel picks the name); the configured name is kept."},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Delete: true}),
		},
	}
}

func (r *volumeAttachResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan volumeAttachModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Create, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	cc := r.Compute(&resp.Diagnostics)
	bc := r.BlockStorage(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	server, volume := plan.InstanceID.ValueString(), plan.VolumeID.ValueString()
	a, err := volumeattach.Create(ctx, cc, server, volumeattach.CreateOpts{VolumeID: volume, Device: tfutil.Known(plan.Device)}).Extract()
	if err != nil {
		resp.Diagnostics.AddError("attaching Volume ("+volume+") to Instance ("+server+")", err.Error())
		return
	}
	plan.ID = types.StringValue(server + "/" + volume)
	if tfutil.Known(plan.Device) == "" {
		// Nova may name the device otherwise than asked: a configured
		// name is kept.
		plan.Device = types.StringValue(a.Device)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	if _, err := blockstorage.WaitVolume(ctx, bc, volume, "in-use"); err != nil {
		resp.Diagnostics.AddError("waiting for Volume ("+volume+") to be attached", err.Error())
	}
}

func splitAttachID(id string) (server, volume string) {
	server, volume, _ = strings.Cut(id, "/")
	return server, volume
}

func (r *volumeAttachResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state volumeAttachModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	cc := r.Compute(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	server, volume := splitAttachID(state.ID.ValueString())
	a, err := volumeattach.Get(ctx, cc, server, volume).Extract()
	if tfutil.Gone(ctx, err, resp, "Volume Attachment ("+state.ID.ValueString()+")") {
		return
	}
	state.InstanceID, state.VolumeID = types.StringValue(server), types.StringValue(a.VolumeID)
	if state.Device.ValueString() == "" {
		state.Device = types.StringValue(a.Device)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *volumeAttachResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	tfutil.StorePlan[volumeAttachModel](ctx, req, resp)
}

func (r *volumeAttachResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state volumeAttachModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, state.Timeouts.Delete, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	cc := r.Compute(&resp.Diagnostics)
	bc := r.BlockStorage(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	server, volume := splitAttachID(state.ID.ValueString())
	err := volumeattach.Delete(ctx, cc, server, volume).ExtractErr()
	if client.IsNotFound(err) {
		return
	}
	if err == nil {
		_, err = blockstorage.WaitVolume(ctx, bc, volume, "available")
	}
	tfutil.Deleted(err, &resp.Diagnostics, "Volume Attachment ("+state.ID.ValueString()+")")
}

// ImportState takes `<instance_id>/<volume_id>`.
func (r *volumeAttachResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if server, volume := splitAttachID(req.ID); server == "" || volume == "" {
		resp.Diagnostics.AddError("importing Volume Attachment", "the import id must be <instance_id>/<volume_id>, not "+req.ID)
		return
	}
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
