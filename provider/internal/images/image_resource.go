package images

import (
	"context"
	"crypto/md5" //nolint:gosec // Glance's legacy checksum is MD5; it is verified, not trusted alone
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/client"
	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ resource.ResourceWithConfigure   = (*imageResource)(nil)
	_ resource.ResourceWithImportState = (*imageResource)(nil)
)

// imageTimeout is terraform-provider-openstack's default for image create.
const imageTimeout = 30 * time.Minute

// NewImageResource is stratus_images_image (openstack_images_image_v2).
func NewImageResource() resource.Resource { return &imageResource{} }

type imageResource struct{ tfutil.ResourceBase }

type imageModel struct {
	ID              types.String   `tfsdk:"id"`
	Name            types.String   `tfsdk:"name"`
	ContainerFormat types.String   `tfsdk:"container_format"`
	DiskFormat      types.String   `tfsdk:"disk_format"`
	LocalFilePath   types.String   `tfsdk:"local_file_path"`
	ImageSourceURL  types.String   `tfsdk:"image_source_url"`
	VerifyChecksum  types.Bool     `tfsdk:"verify_checksum"`
	MinDiskGB       types.Int64    `tfsdk:"min_disk_gb"`
	MinRAMMB        types.Int64    `tfsdk:"min_ram_mb"`
	Protected       types.Bool     `tfsdk:"protected"`
	Visibility      types.String   `tfsdk:"visibility"`
	Tags            types.Set      `tfsdk:"tags"`
	Properties      types.Map      `tfsdk:"properties"`
	Checksum        types.String   `tfsdk:"checksum"`
	HashAlgo        types.String   `tfsdk:"os_hash_algo"`
	HashValue       types.String   `tfsdk:"os_hash_value"`
	SizeBytes       types.Int64    `tfsdk:"size_bytes"`
	Status          types.String   `tfsdk:"status"`
	Owner           types.String   `tfsdk:"owner"`
	CreatedAt       types.String   `tfsdk:"created_at"`
	UpdatedAt       types.String   `tfsdk:"updated_at"`
	File            types.String   `tfsdk:"file"`
	Timeouts        timeouts.Value `tfsdk:"timeouts"`
}

func (r *imageResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_images_image"
}

func (r *imageResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Glance image, uploaded from a local file or downloaded from a URL by the provider and streamed to Stratus. " +
			"The provider hashes the data as it sends it and, with `verify_checksum`, fails unless Stratus stored exactly those bytes " +
			"(`os_hash_value`, SHA-512, and `checksum`, MD5). Stratus inspects every image's format; data that is not what `disk_format` says is refused. " +
			"Name, visibility, protection, minimums, tags and properties change in place; the data and formats replace the image.",
		Attributes: map[string]schema.Attribute{
			"id": tfutil.IDAttribute("The image id."),
			"name": schema.StringAttribute{
				Required: true, MarkdownDescription: "Name of the image; changes in place.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 255)},
			},
			"container_format": schema.StringAttribute{
				Required: true, PlanModifiers: replace,
				MarkdownDescription: "Container format, usually `bare`.",
				Validators:          []validator.String{stringvalidator.OneOf("bare", "ovf", "ova", "aki", "ari", "ami", "docker", "compressed")},
			},
			"disk_format": schema.StringAttribute{
				Required: true, PlanModifiers: replace,
				MarkdownDescription: "Disk format of the data, such as `qcow2`, `raw` or `iso`. Stratus checks that the data is in this format.",
				Validators:          []validator.String{stringvalidator.OneOf("raw", "qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso", "ploop", "aki", "ari", "ami")},
			},
			"local_file_path": schema.StringAttribute{
				Optional: true, PlanModifiers: replace,
				MarkdownDescription: "Path of a local file to upload. Exactly one of `local_file_path` and `image_source_url` must be set. Changing the path replaces the image; changing the file's content alone is not noticed.",
				Validators:          []validator.String{stringvalidator.ExactlyOneOf(path.MatchRoot("local_file_path"), path.MatchRoot("image_source_url"))},
			},
			"image_source_url": schema.StringAttribute{
				Optional: true, PlanModifiers: replace,
				MarkdownDescription: "HTTP(S) URL the provider downloads the image from and streams to Stratus.",
				Validators:          []validator.String{stringvalidator.RegexMatches(urlPattern, "must be an http:// or https:// URL")},
			},
			"verify_checksum": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				PlanModifiers:       []planmodifier.Bool{boolplanmodifier.RequiresReplace()},
				MarkdownDescription: "Fail the create unless the image's `os_hash_value` and `checksum` match the bytes sent. Defaults to `true`.",
			},
			"min_disk_gb": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(0),
				MarkdownDescription: "Smallest root disk (GiB) a server needs to boot the image. Defaults to 0.",
				Validators:          []validator.Int64{int64validator.AtLeast(0)},
			},
			"min_ram_mb": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(0),
				MarkdownDescription: "Smallest memory (MiB) a server needs to boot the image. Defaults to 0.",
				Validators:          []validator.Int64{int64validator.AtLeast(0)},
			},
			"protected": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "A protected image cannot be deleted: set it back to `false` before destroying. Defaults to `false`.",
			},
			"visibility": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("private"),
				MarkdownDescription: "Who can see the image: `private` (the owner's project), `shared` (the owner and members), `community` or `public` (admin only). Defaults to `private`, as in terraform-provider-openstack.",
				Validators:          []validator.String{stringvalidator.OneOf("private", "shared", "community", "public")},
			},
			"tags": schema.SetAttribute{
				ElementType: types.StringType, Optional: true, Computed: true,
				Default:             setdefault.StaticValue(tfutil.SetOf(nil)),
				MarkdownDescription: "Tags of the image. Defaults to none.",
			},
			"properties": schema.MapAttribute{
				ElementType: types.StringType, Optional: true, Computed: true,
				Default:             mapdefault.StaticValue(tfutil.MapOf(nil)),
				MarkdownDescription: "Free-form properties (such as `os_distro` or `hw_disk_bus`). Defaults to none.",
			},
			"checksum": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "MD5 of the image data (Glance's legacy checksum).",
			},
			"os_hash_algo": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Algorithm of `os_hash_value`: `sha512`.",
			},
			"os_hash_value": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Hex digest of the image data.",
			},
			"size_bytes": schema.Int64Attribute{
				Computed: true, PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
				MarkdownDescription: "Size of the image data in bytes.",
			},
			"status": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Glance status: `active` once the data is in.",
			},
			"owner": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Project that owns the image.",
			},
			"created_at": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "When the image was created (RFC 3339).",
			},
			"updated_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When the image last changed (RFC 3339).",
			},
			"file": schema.StringAttribute{
				Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Path of the image data in the image API.",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *imageResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan imageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Create, imageTimeout, &resp.Diagnostics)
	defer cancel()
	ic := r.Image(&resp.Diagnostics)
	if ic == nil {
		return
	}
	// Open the data first: a missing file or a dead URL leaves nothing behind.
	data, err := openSource(ctx, plan)
	if err != nil {
		resp.Diagnostics.AddError("reading the image data", err.Error())
		return
	}
	defer data.Close()

	vis := images.ImageVisibility(plan.Visibility.ValueString())
	img, err := images.Create(ctx, ic, images.CreateOpts{
		Name:            plan.Name.ValueString(),
		ContainerFormat: plan.ContainerFormat.ValueString(),
		DiskFormat:      plan.DiskFormat.ValueString(),
		MinDisk:         int(plan.MinDiskGB.ValueInt64()),
		MinRAM:          int(plan.MinRAMMB.ValueInt64()),
		Protected:       plan.Protected.ValueBoolPointer(),
		Visibility:      &vis,
		Tags:            tfutil.Strings(ctx, plan.Tags, &resp.Diagnostics),
		Properties:      tfutil.StringMap(ctx, plan.Properties, &resp.Diagnostics),
	}).Extract()
	if err != nil {
		resp.Diagnostics.AddError("creating Image ("+plan.Name.ValueString()+")", err.Error())
		return
	}
	// The id goes into state before the upload: a failed upload leaves a
	// tainted image that the next apply replaces, not an orphan.
	id := img.ID
	plan.ID = types.StringValue(id)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
	for _, a := range []string{"local_file_path", "image_source_url", "verify_checksum", "timeouts"} {
		var v any
		switch a {
		case "local_file_path":
			v = plan.LocalFilePath
		case "image_source_url":
			v = plan.ImageSourceURL
		case "verify_checksum":
			v = plan.VerifyChecksum
		case "timeouts":
			v = plan.Timeouts
		}
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(a), v)...)
	}

	sha, md := sha512.New(), md5.New() //nolint:gosec // see the import
	if err := imagedata.Upload(ctx, ic, id, io.TeeReader(data, io.MultiWriter(sha, md))).ExtractErr(); err != nil {
		resp.Diagnostics.AddError("uploading the data of Image ("+id+")", err.Error())
		return
	}
	var got *images.Image
	err = tfutil.Poll(ctx, time.Second, func() (bool, error) {
		var err error
		got, err = images.Get(ctx, ic, id).Extract()
		if err != nil {
			return false, err
		}
		switch got.Status {
		case images.ImageStatusActive:
			return true, nil
		case images.ImageStatusKilled, images.ImageStatusDeleted, images.ImageStatusPendingDelete:
			return false, fmt.Errorf("image went to %s", got.Status)
		}
		return false, nil
	})
	if err != nil {
		resp.Diagnostics.AddError("waiting for Image ("+id+") to become active", err.Error())
		return
	}
	if plan.VerifyChecksum.ValueBool() {
		if err := verify(got, sha, md); err != nil {
			resp.Diagnostics.AddError("verifying the data of Image ("+id+")", err.Error())
			return
		}
	}
	setImage(&plan, got)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

var urlPattern = regexp.MustCompile(`^https?://`)

// openSource opens the local file or starts the download.
func openSource(ctx context.Context, m imageModel) (io.ReadCloser, error) {
	if p := m.LocalFilePath.ValueString(); p != "" {
		return os.Open(p)
	}
	u := m.ImageSourceURL.ValueString()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return resp.Body, nil
}

// verify compares what the image service stored with what was sent.
func verify(img *images.Image, sha, md hash.Hash) error {
	algo, _ := img.Properties["os_hash_algo"].(string)
	value, _ := img.Properties["os_hash_value"].(string)
	if algo != "sha512" || value == "" {
		return fmt.Errorf("the image service reports no sha512 hash (os_hash_algo %q)", algo)
	}
	if sent := hex.EncodeToString(sha.Sum(nil)); value != sent {
		return fmt.Errorf("os_hash_value is %s, but the data sent hashes to %s", value, sent)
	}
	if sent := hex.EncodeToString(md.Sum(nil)); img.Checksum != "" && img.Checksum != sent {
		return fmt.Errorf("checksum is %s, but the data sent hashes to %s", img.Checksum, sent)
	}
	return nil
}

// reserved are keys Glance reports among the properties that are not
// user properties.
var reserved = map[string]bool{
	"os_hash_algo": true, "os_hash_value": true, "os_hidden": true, "self": true, "stores": true,
	"direct_url": true, "locations": true, "properties": true,
}

func setImage(m *imageModel, img *images.Image) {
	m.ID, m.Name = types.StringValue(img.ID), types.StringValue(img.Name)
	m.ContainerFormat, m.DiskFormat = types.StringValue(img.ContainerFormat), types.StringValue(img.DiskFormat)
	m.MinDiskGB, m.MinRAMMB = types.Int64Value(int64(img.MinDiskGigabytes)), types.Int64Value(int64(img.MinRAMMegabytes))
	m.Protected, m.Visibility = types.BoolValue(img.Protected), types.StringValue(string(img.Visibility))
	m.Tags = tfutil.SetOf(img.Tags)
	props := map[string]string{}
	for k, v := range img.Properties {
		if s, ok := v.(string); ok && !reserved[k] && !strings.HasPrefix(k, "os_glance") {
			props[k] = s
		}
	}
	m.Properties = tfutil.MapOf(props)
	m.Checksum = types.StringValue(img.Checksum)
	algo, _ := img.Properties["os_hash_algo"].(string)
	value, _ := img.Properties["os_hash_value"].(string)
	m.HashAlgo, m.HashValue = types.StringValue(algo), types.StringValue(value)
	m.SizeBytes = types.Int64Value(img.SizeBytes)
	m.Status, m.Owner = types.StringValue(string(img.Status)), types.StringValue(img.Owner)
	m.CreatedAt = types.StringValue(img.CreatedAt.UTC().Format(time.RFC3339))
	m.UpdatedAt = types.StringValue(img.UpdatedAt.UTC().Format(time.RFC3339))
	m.File = types.StringValue(img.File)
	if m.VerifyChecksum.IsNull() || m.VerifyChecksum.IsUnknown() {
		m.VerifyChecksum = types.BoolValue(true)
	}
}

func (r *imageResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state imageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ic := r.Image(&resp.Diagnostics)
	if ic == nil {
		return
	}
	img, err := images.Get(ctx, ic, state.ID.ValueString()).Extract()
	if client.IsNotFound(err) || err == nil && (img.Status == images.ImageStatusDeleted || img.Status == images.ImageStatusPendingDelete) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("reading Image ("+state.ID.ValueString()+")", err.Error())
		return
	}
	setImage(&state, img)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *imageResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state imageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, plan.Timeouts.Update, imageTimeout, &resp.Diagnostics)
	defer cancel()
	ic := r.Image(&resp.Diagnostics)
	if ic == nil {
		return
	}
	id := state.ID.ValueString()
	ops := patchOps(ctx, plan, state, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	img, err := images.Update(ctx, ic, id, ops).Extract()
	if err != nil {
		resp.Diagnostics.AddError("updating Image ("+id+")", err.Error())
		return
	}
	setImage(&plan, img)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// patchOps is the JSON patch from state to plan.
func patchOps(ctx context.Context, plan, state imageModel, diags *diag.Diagnostics) images.UpdateOpts {
	var ops images.UpdateOpts
	if !plan.Name.Equal(state.Name) {
		ops = append(ops, images.ReplaceImageName{NewName: plan.Name.ValueString()})
	}
	if !plan.Visibility.Equal(state.Visibility) {
		ops = append(ops, images.UpdateVisibility{Visibility: images.ImageVisibility(plan.Visibility.ValueString())})
	}
	if !plan.Protected.Equal(state.Protected) {
		ops = append(ops, images.ReplaceImageProtected{NewProtected: plan.Protected.ValueBool()})
	}
	if !plan.MinDiskGB.Equal(state.MinDiskGB) {
		ops = append(ops, images.ReplaceImageMinDisk{NewMinDisk: int(plan.MinDiskGB.ValueInt64())})
	}
	if !plan.MinRAMMB.Equal(state.MinRAMMB) {
		ops = append(ops, images.ReplaceImageMinRam{NewMinRam: int(plan.MinRAMMB.ValueInt64())})
	}
	if !plan.Tags.Equal(state.Tags) {
		tags := tfutil.Strings(ctx, plan.Tags, diags)
		if tags == nil {
			tags = []string{}
		}
		ops = append(ops, images.ReplaceImageTags{NewTags: tags})
	}
	want := tfutil.StringMap(ctx, plan.Properties, diags)
	have := tfutil.StringMap(ctx, state.Properties, diags)
	keys := make([]string, 0, len(want)+len(have))
	for k := range want {
		keys = append(keys, k)
	}
	for k := range have {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		w, inWant := want[k]
		h, inHave := have[k]
		switch {
		case inWant && !inHave:
			ops = append(ops, images.UpdateImageProperty{Op: images.AddOp, Name: k, Value: w})
		case inWant && w != h:
			ops = append(ops, images.UpdateImageProperty{Op: images.ReplaceOp, Name: k, Value: w})
		case !inWant:
			ops = append(ops, images.UpdateImageProperty{Op: images.RemoveOp, Name: k})
		}
	}
	return ops
}

func (r *imageResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state imageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := tfutil.Timeout(ctx, state.Timeouts.Delete, defaultTimeout, &resp.Diagnostics)
	defer cancel()
	ic := r.Image(&resp.Diagnostics)
	if ic == nil {
		return
	}
	tfutil.Deleted(images.Delete(ctx, ic, state.ID.ValueString()).ExtractErr(), &resp.Diagnostics, "Image ("+state.ID.ValueString()+")")
}
