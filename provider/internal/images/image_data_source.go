package images

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var _ datasource.DataSourceWithConfigure = (*imageDataSource)(nil)

// NewImageDataSource is stratus_images_image (openstack_images_image_v2).
func NewImageDataSource() datasource.DataSource { return &imageDataSource{} }

type imageDataSource struct{ tfutil.DataSourceBase }

type imageDataModel struct {
	ID              types.String `tfsdk:"id"`
	Name            types.String `tfsdk:"name"`
	Visibility      types.String `tfsdk:"visibility"`
	Owner           types.String `tfsdk:"owner"`
	Tag             types.String `tfsdk:"tag"`
	MostRecent      types.Bool   `tfsdk:"most_recent"`
	ContainerFormat types.String `tfsdk:"container_format"`
	DiskFormat      types.String `tfsdk:"disk_format"`
	MinDiskGB       types.Int64  `tfsdk:"min_disk_gb"`
	MinRAMMB        types.Int64  `tfsdk:"min_ram_mb"`
	Protected       types.Bool   `tfsdk:"protected"`
	Tags            types.Set    `tfsdk:"tags"`
	Properties      types.Map    `tfsdk:"properties"`
	Checksum        types.String `tfsdk:"checksum"`
	HashValue       types.String `tfsdk:"os_hash_value"`
	SizeBytes       types.Int64  `tfsdk:"size_bytes"`
	Status          types.String `tfsdk:"status"`
	CreatedAt       types.String `tfsdk:"created_at"`
}

func (d *imageDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_images_image"
}

func (d *imageDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one image by id, or by name, visibility, owner and tag. Several matches are an error unless `most_recent` is set.",
		Attributes: map[string]schema.Attribute{
			"id":   schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Id of the image to find."},
			"name": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Name of the image to find."},
			"visibility": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Visibility to filter on.",
				Validators: []validator.String{stringvalidator.OneOf("private", "shared", "community", "public")}},
			"owner":            schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Owner (project id) to filter on."},
			"tag":              schema.StringAttribute{Optional: true, MarkdownDescription: "A tag the image must have."},
			"most_recent":      schema.BoolAttribute{Optional: true, MarkdownDescription: "Pick the most recently created of several matches."},
			"container_format": schema.StringAttribute{Computed: true, MarkdownDescription: "Container format."},
			"disk_format":      schema.StringAttribute{Computed: true, MarkdownDescription: "Disk format."},
			"min_disk_gb":      schema.Int64Attribute{Computed: true, MarkdownDescription: "Smallest root disk (GiB) to boot it."},
			"min_ram_mb":       schema.Int64Attribute{Computed: true, MarkdownDescription: "Smallest memory (MiB) to boot it."},
			"protected":        schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the image is protected from deletion."},
			"tags":             schema.SetAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Tags of the image."},
			"properties":       schema.MapAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Free-form properties."},
			"checksum":         schema.StringAttribute{Computed: true, MarkdownDescription: "MD5 of the data."},
			"os_hash_value":    schema.StringAttribute{Computed: true, MarkdownDescription: "SHA-512 of the data."},
			"size_bytes":       schema.Int64Attribute{Computed: true, MarkdownDescription: "Size of the data in bytes."},
			"status":           schema.StringAttribute{Computed: true, MarkdownDescription: "Glance status."},
			"created_at":       schema.StringAttribute{Computed: true, MarkdownDescription: "When the image was created (RFC 3339)."},
		},
	}
}

func (d *imageDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m imageDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	ic := d.Image(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var img *images.Image
	if id := m.ID.ValueString(); id != "" {
		var err error
		if img, err = images.Get(ctx, ic, id).Extract(); err != nil {
			resp.Diagnostics.AddError("reading Image ("+id+")", err.Error())
			return
		}
	} else {
		opts := images.ListOpts{Name: m.Name.ValueString(), Owner: m.Owner.ValueString(), Visibility: images.ImageVisibility(m.Visibility.ValueString()), Sort: "created_at:desc"}
		if t := m.Tag.ValueString(); t != "" {
			opts.Tags = []string{t}
		}
		page, err := images.List(ic, opts).AllPages(ctx)
		var list []images.Image
		if err == nil {
			list, err = images.ExtractImages(page)
		}
		if err != nil {
			resp.Diagnostics.AddError("listing Images", err.Error())
			return
		}
		switch {
		case len(list) == 0:
			resp.Diagnostics.AddError("finding Image", "no image matches")
			return
		case len(list) > 1 && !m.MostRecent.ValueBool():
			resp.Diagnostics.AddError("finding Image", fmt.Sprintf("%d images match; narrow the search or set most_recent", len(list)))
			return
		}
		img = &list[0]
	}
	var full imageModel
	setImage(&full, img)
	m.ID, m.Name, m.Visibility, m.Owner = full.ID, full.Name, full.Visibility, full.Owner
	m.ContainerFormat, m.DiskFormat, m.MinDiskGB, m.MinRAMMB = full.ContainerFormat, full.DiskFormat, full.MinDiskGB, full.MinRAMMB
	m.Protected, m.Tags, m.Properties, m.Checksum = full.Protected, full.Tags, full.Properties, full.Checksum
	m.HashValue, m.SizeBytes, m.Status, m.CreatedAt = full.HashValue, full.SizeBytes, full.Status, full.CreatedAt
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}
