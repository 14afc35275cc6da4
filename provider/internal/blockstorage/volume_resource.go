package blockstorage

import (
	"context"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*volumeResource)(nil)
	_ resource.ResourceWithImportState = (*volumeResource)(nil)
)

// NewVolumeResource is stratus_blockstorage_volume
// (openstack_blockstorage_volume_v3).
func NewVolumeResource() resource.Resource { return &volumeResource{} }

type volumeResource struct{ tfutil.ResourceBase }

type volumeModel struct {
	ID               types.String   `tfsdk:"id"`
	Name             types.String   `tfsdk:"name"`
	Description      types.String   `tfsdk:"description"`
	Size             types.Int64    `tfsdk:"size"`
	VolumeType       types.String   `tfsdk:"volume_type"`
	AvailabilityZone types.String   `tfsdk:"availability_zone"`
	ImageID          types.String   `tfsdk:"image_id"`
	SnapshotID       types.String   `tfsdk:"snapshot_id"`
	SourceVolID      types.String   `tfsdk:"source_vol_id"`
	Metadata         types.Map      `tfsdk:"metadata"`
	Status           types.String   `tfsdk:"status"`
	Timeouts         timeouts.Value `tfsdk:"timeouts"`
}

func (r *volumeResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_blockstorage_volume"
}

func (r *volumeResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	replaceKeep := []planmodifier.String{stringplanmodifier.RequiresReplace(), stringplanmodifier.UseStateForUnknown()}
	source := stringvalidator.ConflictsWith(path.MatchRoot("image_id"), path.MatchRoot("snapshot_id"), path.MatchRoot("source_vol_id"))
	sourceAttr := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{
			Optional: true, Computed: true, Default: stringdefault.StaticString(""),
			MarkdownDescription: desc + " Changing it replaces the volume.",
			PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()}, Validators: []validator.String{source},
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Cinder volume: a block device for servers (`stratus_compute_volume_attach`, or an instance's `block_device`). " +
			"Create waits until it is `available`, with the id saved first, so a failed build never orphans a volume. " +
			"The name, description and metadata change in place, and so does a larger `size` (an online extend, attached or not); " +
			"a smaller size, another type, zone or source replaces the volume.",
		Attributes: map[string]schema.Attribute{
			"id":          tfutil.IDAttribute("The volume id."),
			"name":        schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(""), MarkdownDescription: "Name of the volume; changes in place."},
			"description": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(""), MarkdownDescription: "Description of the volume; changes in place."},
			"size": schema.Int64Attribute{
				Required: true, MarkdownDescription: "Size in GiB. Growing it extends the volume in place; shrinking it replaces the volume.",
				Validators:    []validator.Int64{int64validator.AtLeast(1)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplaceIf(shrinks, "Cinder cannot shrink a volume.", "Cinder cannot shrink a volume.")},
			},
			"volume_type": schema.StringAttribute{
				Optional: true, Computed: true, PlanModifiers: replaceKeep,
				MarkdownDescription: "Name of the volume type; the default type when not set. Changing it replaces the volume.",
			},
			"availability_zone": schema.StringAttribute{
				Optional: true, Computed: true, PlanModifiers: replaceKeep,
				MarkdownDescription: "Availability zone of the volume; chosen by Cinder when not set. Changing it replaces the volume.",
			},
			"image_id":      sourceAttr("Id of an image to copy into the new volume (a bootable volume)."),
			"snapshot_id":   sourceAttr("Id of a snapshot (`stratus_blockstorage_snapshot`) to make the volume from."),
			"source_vol_id": sourceAttr("Id of a volume to clone."),
			"metadata": schema.MapAttribute{
				ElementType: types.StringType, Optional: true, Computed: true, Default: mapdefault.StaticValue(tfutil.MapOf(nil)),
				MarkdownDescription: "Key/value metadata of the volume; changes in place. Defaults to none.",
			},
			"status": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Cinder status of the volume: `available`, or `in-use` while attached.",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func shrinks(_ context.Context, req planmodifier.Int64Request, resp *int64planmodifier.RequiresReplaceIfFuncResponse) {
	resp.RequiresReplace = !req.StateValue.IsNull() && req.PlanValue.ValueInt64() < req.StateValue.ValueInt64()
}

func (r *volumeResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan volumeModel
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
	v, err := volumes.Create(ctx, bc, volumes.CreateOpts{
		Name:             plan.Name.ValueString(),
		Description:      plan.Description.ValueString(),
		Size:             int(plan.Size.ValueInt64()),
		VolumeType:       tfutil.Known(plan.VolumeType),
		AvailabilityZone: tfutil.Known(plan.AvailabilityZone),
		ImageID:          plan.ImageID.ValueString(),
		SnapshotID:       plan.SnapshotID.ValueString(),
		SourceVolID:      plan.SourceVolID.ValueString(),
		Metadata:         tfutil.StringMap(ctx, plan.Metadata, &resp.Diagnostics),
	}, nil).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating Volume ("+plan.Name.ValueString()+")", err.Error())
		return
	}
	// Saved before waiting: a volume that fails to build stays known.
	plan.ID = types.StringValue(v.ID)
	setVolume(&plan, v)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	if v, err = WaitVolume(ctx, bc, v.ID, "available"); err != nil {
		resp.Diagnostics.AddError("waiting for Volume ("+plan.ID.ValueString()+") to become available", err.Error())
		return
	}
	setVolume(&plan, v)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *volumeResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state volumeModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	bc := r.BlockStorage(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	v, err := volumes.Get(ctx, bc, state.ID.ValueString()).Extract()
	if tfutil.Gone(ctx, err, resp, "Volume ("+state.ID.ValueString()+")") {
		return
	}
	if v.Status == "deleting" || v.Status == "deleted" {
		resp.State.RemoveResource(ctx)
		return
	}
	setVolume(&state, v)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *volumeResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state volumeModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Update, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	bc := r.BlockStorage(&resp.Diagnostics)
	if bc == nil {
		return
	}
	id := state.ID.ValueString()
	if !plan.Name.Equal(state.Name) || !plan.Description.Equal(state.Description) || !plan.Metadata.Equal(state.Metadata) {
		md := tfutil.StringMap(ctx, plan.Metadata, &resp.Diagnostics)
		if md == nil {
			md = map[string]string{}
		}
		opts := volumes.UpdateOpts{Name: plan.Name.ValueStringPointer(), Description: plan.Description.ValueStringPointer(), Metadata: md}
		if _, err := volumes.Update(ctx, bc, id, opts).Extract(); err != nil {
			resp.Diagnostics.AddError("updating Volume ("+id+")", err.Error())
			return
		}
		// Update replaces the metadata, but an empty map is not sent:
		// clearing it is a PUT of the metadata itself.
		if len(md) == 0 && len(state.Metadata.Elements()) > 0 {
			_, err := bc.Put(ctx, bc.ServiceURL("volumes", id, "metadata"), map[string]any{"metadata": md}, nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
			if err != nil {
				resp.Diagnostics.AddError("clearing the metadata of Volume ("+id+")", err.Error())
				return
			}
		}
	}
	if plan.Size.ValueInt64() > state.Size.ValueInt64() {
		if err := volumes.ExtendSize(ctx, bc, id, volumes.ExtendSizeOpts{NewSize: int(plan.Size.ValueInt64())}).ExtractErr(); err != nil {
			resp.Diagnostics.AddError("extending Volume ("+id+")", err.Error())
			return
		}
		if _, err := WaitVolume(ctx, bc, id, "available", "in-use"); err != nil {
			resp.Diagnostics.AddError("waiting for Volume ("+id+") to be extended", err.Error())
			return
		}
	}
	v, err := volumes.Get(ctx, bc, id).Extract()
	if err != nil {
		resp.Diagnostics.AddError("reading Volume ("+id+")", err.Error())
		return
	}
	setVolume(&plan, v)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *volumeResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state volumeModel
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
	err := volumes.Delete(ctx, bc, id, volumes.DeleteOpts{}).ExtractErr()
	if err == nil {
		err = waitVolumeGone(ctx, bc, id)
	}
	tfutil.Deleted(err, &resp.Diagnostics, "Volume ("+id+")")
}

func setVolume(m *volumeModel, v *volumes.Volume) {
	m.ID = types.StringValue(v.ID)
	m.Name = types.StringValue(v.Name)
	m.Description = types.StringValue(v.Description)
	m.Size = types.Int64Value(int64(v.Size))
	m.VolumeType = types.StringValue(v.VolumeType)
	m.AvailabilityZone = types.StringValue(v.AvailabilityZone)
	m.SnapshotID = types.StringValue(v.SnapshotID)
	m.SourceVolID = types.StringValue(v.SourceVolID)
	if m.ImageID.IsNull() || m.ImageID.IsUnknown() {
		// An import: the image the volume was made from, if any. A clone
		// or a snapshot's volume inherits its source's image metadata
		// without having been made from the image.
		m.ImageID = types.StringValue("")
		if v.SnapshotID == "" && v.SourceVolID == "" {
			m.ImageID = types.StringValue(v.VolumeImageMetadata["image_id"])
		}
	}
	m.Metadata = tfutil.MapOf(v.Metadata)
	m.Status = types.StringValue(v.Status)
}
