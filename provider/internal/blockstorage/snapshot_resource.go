package blockstorage

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*snapshotResource)(nil)
	_ resource.ResourceWithImportState = (*snapshotResource)(nil)
)

// NewSnapshotResource is stratus_blockstorage_snapshot (terraform-provider-
// openstack has only a snapshot data source).
func NewSnapshotResource() resource.Resource { return &snapshotResource{} }

type snapshotResource struct{ tfutil.ResourceBase }

type snapshotModel struct {
	ID          types.String   `tfsdk:"id"`
	VolumeID    types.String   `tfsdk:"volume_id"`
	Name        types.String   `tfsdk:"name"`
	Description types.String   `tfsdk:"description"`
	Force       types.Bool     `tfsdk:"force"`
	Size        types.Int64    `tfsdk:"size"`
	Status      types.String   `tfsdk:"status"`
	Timeouts    timeouts.Value `tfsdk:"timeouts"`
}

func (r *snapshotResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_blockstorage_snapshot"
}

func (r *snapshotResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Cinder snapshot of a volume, to make new volumes from (`snapshot_id` of `stratus_blockstorage_volume`). " +
			"Create waits until it is `available`, with the id saved first. The name and description change in place.",
		Attributes: map[string]schema.Attribute{
			"id": tfutil.IDAttribute("The snapshot id."),
			"volume_id": schema.StringAttribute{Required: true, MarkdownDescription: "Id of the volume to snapshot; changing it replaces the snapshot.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"name": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(""),
				MarkdownDescription: "Name of the snapshot; changes in place."},
			"description": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(""),
				MarkdownDescription: "Description of the snapshot; changes in place."},
			"force": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Snapshot the volume even while it is attached (`in-use`). Only used on create: changing it later (or after an import) only records it. Defaults to `false`."},
			"size": schema.Int64Attribute{Computed: true, MarkdownDescription: "Size of the snapshot in GiB, the volume's when it was taken.",
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}},
			"status": schema.StringAttribute{Computed: true, MarkdownDescription: "Cinder status of the snapshot.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Delete: true}),
		},
	}
}

func (r *snapshotResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan snapshotModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Create, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	bc := r.BlockStorage(&resp.Diagnostics)
	if bc == nil {
		return
	}
	s, err := snapshots.Create(ctx, bc, snapshots.CreateOpts{
		VolumeID: plan.VolumeID.ValueString(), Name: plan.Name.ValueString(), Description: plan.Description.ValueString(), Force: plan.Force.ValueBool(),
	}).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating Snapshot of Volume ("+plan.VolumeID.ValueString()+")", err.Error())
		return
	}
	setSnapshot(&plan, s)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	if s, err = waitSnapshot(ctx, bc, s.ID, "available"); err != nil {
		resp.Diagnostics.AddError("waiting for Snapshot ("+plan.ID.ValueString()+") to become available", err.Error())
		return
	}
	setSnapshot(&plan, s)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *snapshotResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state snapshotModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	bc := r.BlockStorage(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	s, err := snapshots.Get(ctx, bc, state.ID.ValueString()).Extract()
	if tfutil.Gone(ctx, err, resp, "Snapshot ("+state.ID.ValueString()+")") {
		return
	}
	if state.Force.IsNull() {
		state.Force = types.BoolValue(false) // an import
	}
	setSnapshot(&state, s)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *snapshotResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state snapshotModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	bc := r.BlockStorage(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	s, err := snapshots.Update(ctx, bc, state.ID.ValueString(), snapshots.UpdateOpts{
		Name: plan.Name.ValueStringPointer(), Description: plan.Description.ValueStringPointer(),
	}).Extract()
	if err != nil {
		resp.Diagnostics.AddError("updating Snapshot ("+state.ID.ValueString()+")", err.Error())
		return
	}
	setSnapshot(&plan, s)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *snapshotResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state snapshotModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, state.Timeouts.Delete, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	bc := r.BlockStorage(&resp.Diagnostics)
	if bc == nil {
		return
	}
	id := state.ID.ValueString()
	err := snapshots.Delete(ctx, bc, id).ExtractErr()
	if err == nil {
		_, err = waitSnapshot(ctx, bc, id, "deleted")
	}
	tfutil.Deleted(err, &resp.Diagnostics, "Snapshot ("+id+")")
}

func setSnapshot(m *snapshotModel, s *snapshots.Snapshot) {
	m.ID = types.StringValue(s.ID)
	m.VolumeID = types.StringValue(s.VolumeID)
	m.Name = types.StringValue(s.Name)
	m.Description = types.StringValue(s.Description)
	m.Size = types.Int64Value(int64(s.Size))
	m.Status = types.StringValue(s.Status)
}
