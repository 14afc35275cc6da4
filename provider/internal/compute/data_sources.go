package compute

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/availabilityzones"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/hypervisors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

var (
	_ datasource.DataSourceWithConfigure = (*flavorDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*instanceDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*hypervisorDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*zonesDataSource)(nil)
)

// NewFlavorDataSource is stratus_compute_flavor (openstack_compute_flavor_v2).
func NewFlavorDataSource() datasource.DataSource { return &flavorDataSource{} }

type flavorDataSource struct{ tfutil.DataSourceBase }

type flavorDataModel struct {
	ID         types.String  `tfsdk:"id"`
	FlavorID   types.String  `tfsdk:"flavor_id"`
	Name       types.String  `tfsdk:"name"`
	RAM        types.Int64   `tfsdk:"ram"`
	VCPUs      types.Int64   `tfsdk:"vcpus"`
	Disk       types.Int64   `tfsdk:"disk"`
	Swap       types.Int64   `tfsdk:"swap"`
	Ephemeral  types.Int64   `tfsdk:"ephemeral"`
	RxTxFactor types.Float64 `tfsdk:"rx_tx_factor"`
	IsPublic   types.Bool    `tfsdk:"is_public"`
	ExtraSpecs types.Map     `tfsdk:"extra_specs"`
}

func (d *flavorDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_compute_flavor"
}

func (d *flavorDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one flavor by id or name.",
		Attributes: map[string]schema.Attribute{
			"flavor_id": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Id of the flavor to find.",
				Validators: []validator.String{stringvalidator.ExactlyOneOf(path.MatchRoot("flavor_id"), path.MatchRoot("name"))}},
			"name":         schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Name of the flavor to find."},
			"id":           schema.StringAttribute{Computed: true, MarkdownDescription: "Id of the flavor."},
			"ram":          schema.Int64Attribute{Computed: true, MarkdownDescription: "Memory in MiB."},
			"vcpus":        schema.Int64Attribute{Computed: true, MarkdownDescription: "Number of virtual CPUs."},
			"disk":         schema.Int64Attribute{Computed: true, MarkdownDescription: "Root disk in GiB."},
			"swap":         schema.Int64Attribute{Computed: true, MarkdownDescription: "Swap in MiB."},
			"ephemeral":    schema.Int64Attribute{Computed: true, MarkdownDescription: "Ephemeral disk in GiB."},
			"rx_tx_factor": schema.Float64Attribute{Computed: true, MarkdownDescription: "Network bandwidth factor."},
			"is_public":    schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether every project can use the flavor."},
			"extra_specs":  schema.MapAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Extra specs of the flavor."},
		},
	}
}

func (d *flavorDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m flavorDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	cc := d.Compute(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var f *flavors.Flavor
	var err error
	if id := m.FlavorID.ValueString(); id != "" {
		f, err = flavors.Get(ctx, cc, id).Extract()
	} else {
		f, err = findFlavor(ctx, cc, m.Name.ValueString())
	}
	if err != nil {
		resp.Diagnostics.AddError("finding Flavor", err.Error())
		return
	}
	specs, err := flavors.ListExtraSpecs(ctx, cc, f.ID).Extract()
	if err != nil {
		resp.Diagnostics.AddError("reading extra specs of Flavor ("+f.ID+")", err.Error())
		return
	}
	m.ID, m.FlavorID, m.Name = types.StringValue(f.ID), types.StringValue(f.ID), types.StringValue(f.Name)
	m.RAM, m.VCPUs, m.Disk = types.Int64Value(int64(f.RAM)), types.Int64Value(int64(f.VCPUs)), types.Int64Value(int64(f.Disk))
	m.Swap, m.Ephemeral = types.Int64Value(int64(f.Swap)), types.Int64Value(int64(f.Ephemeral))
	m.RxTxFactor, m.IsPublic, m.ExtraSpecs = types.Float64Value(f.RxTxFactor), types.BoolValue(f.IsPublic), tfutil.MapOf(specs)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// NewInstanceDataSource is stratus_compute_instance (openstack_compute_instance_v2).
func NewInstanceDataSource() datasource.DataSource { return &instanceDataSource{} }

type instanceDataSource struct{ tfutil.DataSourceBase }

type instanceDataModel struct {
	ID               types.String `tfsdk:"id"`
	Name             types.String `tfsdk:"name"`
	ImageID          types.String `tfsdk:"image_id"`
	FlavorID         types.String `tfsdk:"flavor_id"`
	KeyPair          types.String `tfsdk:"key_pair"`
	Metadata         types.Map    `tfsdk:"metadata"`
	AvailabilityZone types.String `tfsdk:"availability_zone"`
	PowerState       types.String `tfsdk:"power_state"`
	Status           types.String `tfsdk:"status"`
	HostID           types.String `tfsdk:"host_id"`
	Created          types.String `tfsdk:"created"`
	Updated          types.String `tfsdk:"updated"`
}

func (d *instanceDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_compute_instance"
}

func (d *instanceDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one server by id.",
		Attributes: map[string]schema.Attribute{
			"id":                schema.StringAttribute{Required: true, MarkdownDescription: "Id of the server."},
			"name":              schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the server."},
			"image_id":          schema.StringAttribute{Computed: true, MarkdownDescription: "Image the server booted."},
			"flavor_id":         schema.StringAttribute{Computed: true, MarkdownDescription: "Flavor of the server."},
			"key_pair":          schema.StringAttribute{Computed: true, MarkdownDescription: "Key pair of the server; empty for none."},
			"metadata":          schema.MapAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Metadata of the server."},
			"availability_zone": schema.StringAttribute{Computed: true, MarkdownDescription: "Availability zone of the server."},
			"power_state":       schema.StringAttribute{Computed: true, MarkdownDescription: "`active`, `shutoff`, or the lower-cased status otherwise."},
			"status":            schema.StringAttribute{Computed: true, MarkdownDescription: "Nova status, such as `ACTIVE`."},
			"host_id":           schema.StringAttribute{Computed: true, MarkdownDescription: "Opaque id of the server's host."},
			"created":           schema.StringAttribute{Computed: true, MarkdownDescription: "When the server was created (RFC 3339)."},
			"updated":           schema.StringAttribute{Computed: true, MarkdownDescription: "When the server last changed (RFC 3339)."},
		},
	}
}

func (d *instanceDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m instanceDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	cc := d.Compute(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	srv, err := servers.Get(ctx, cc, m.ID.ValueString()).Extract()
	if err != nil {
		resp.Diagnostics.AddError("reading Instance ("+m.ID.ValueString()+")", err.Error())
		return
	}
	imageID, _ := srv.Image["id"].(string)
	flavorID, _ := srv.Flavor["id"].(string)
	power := map[string]string{"ACTIVE": "active", "SHUTOFF": "shutoff"}[srv.Status]
	if power == "" {
		power = strings.ToLower(srv.Status)
	}
	m.Name, m.ImageID, m.FlavorID, m.KeyPair = types.StringValue(srv.Name), types.StringValue(imageID), types.StringValue(flavorID), types.StringValue(srv.KeyName)
	m.Metadata, m.AvailabilityZone = tfutil.MapOf(srv.Metadata), types.StringValue(srv.AvailabilityZone)
	m.PowerState, m.Status, m.HostID = types.StringValue(power), types.StringValue(srv.Status), types.StringValue(srv.HostID)
	m.Created = types.StringValue(srv.Created.UTC().Format(time.RFC3339))
	m.Updated = types.StringValue(srv.Updated.UTC().Format(time.RFC3339))
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// NewHypervisorDataSource is stratus_compute_hypervisor (openstack_compute_hypervisor_v2).
func NewHypervisorDataSource() datasource.DataSource { return &hypervisorDataSource{} }

type hypervisorDataSource struct{ tfutil.DataSourceBase }

type hypervisorDataModel struct {
	ID       types.String `tfsdk:"id"`
	Hostname types.String `tfsdk:"hostname"`
	HostIP   types.String `tfsdk:"host_ip"`
	State    types.String `tfsdk:"state"`
	Status   types.String `tfsdk:"status"`
	Type     types.String `tfsdk:"type"`
	VCPUs    types.Int64  `tfsdk:"vcpus"`
	Memory   types.Int64  `tfsdk:"memory"`
	Disk     types.Int64  `tfsdk:"disk"`
}

func (d *hypervisorDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_compute_hypervisor"
}

func (d *hypervisorDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up a hypervisor (a libvirt host of Stratus) by host name. Requires the admin role.",
		Attributes: map[string]schema.Attribute{
			"hostname": schema.StringAttribute{Required: true, MarkdownDescription: "Host name of the hypervisor."},
			"id":       schema.StringAttribute{Computed: true, MarkdownDescription: "Id of the hypervisor."},
			"host_ip":  schema.StringAttribute{Computed: true, MarkdownDescription: "IP address of the host."},
			"state":    schema.StringAttribute{Computed: true, MarkdownDescription: "`up` or `down`."},
			"status":   schema.StringAttribute{Computed: true, MarkdownDescription: "`enabled` or `disabled`."},
			"type":     schema.StringAttribute{Computed: true, MarkdownDescription: "Hypervisor type, such as `QEMU`."},
			"vcpus":    schema.Int64Attribute{Computed: true, MarkdownDescription: "Number of CPUs of the host."},
			"memory":   schema.Int64Attribute{Computed: true, MarkdownDescription: "Memory of the host in MiB."},
			"disk":     schema.Int64Attribute{Computed: true, MarkdownDescription: "Local disk of the host in GiB."},
		},
	}
}

func (d *hypervisorDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m hypervisorDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	cc := d.Compute(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	page, err := hypervisors.List(cc, nil).AllPages(ctx)
	var list []hypervisors.Hypervisor
	if err == nil {
		list, err = hypervisors.ExtractHypervisors(page)
	}
	if err != nil {
		resp.Diagnostics.AddError("listing Hypervisors", err.Error())
		return
	}
	for _, h := range list {
		if h.HypervisorHostname != m.Hostname.ValueString() {
			continue
		}
		m.ID, m.HostIP, m.State, m.Status = types.StringValue(h.ID), types.StringValue(h.HostIP), types.StringValue(h.State), types.StringValue(h.Status)
		m.Type, m.VCPUs = types.StringValue(h.HypervisorType), types.Int64Value(int64(h.VCPUs))
		m.Memory, m.Disk = types.Int64Value(int64(h.MemoryMB)), types.Int64Value(int64(h.LocalGB))
		resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
		return
	}
	resp.Diagnostics.AddError("finding Hypervisor", fmt.Sprintf("no hypervisor has the host name %q", m.Hostname.ValueString()))
}

// NewAvailabilityZonesDataSource is stratus_compute_availability_zones
// (openstack_compute_availability_zones_v2).
func NewAvailabilityZonesDataSource() datasource.DataSource { return &zonesDataSource{} }

type zonesDataSource struct{ tfutil.DataSourceBase }

type zonesDataModel struct {
	ID    types.String `tfsdk:"id"`
	State types.String `tfsdk:"state"`
	Names types.List   `tfsdk:"names"`
}

func (d *zonesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_compute_availability_zones"
}

func (d *zonesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the names of the compute availability zones.",
		Attributes: map[string]schema.Attribute{
			"state": schema.StringAttribute{Optional: true, Computed: true,
				MarkdownDescription: "`available` (default) lists the zones that can take servers, `unavailable` the others.",
				Validators:          []validator.String{stringvalidator.OneOf("available", "unavailable")}},
			"names": schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Names of the zones, sorted."},
			"id":    schema.StringAttribute{Computed: true, MarkdownDescription: "The state listed."},
		},
	}
}

func (d *zonesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m zonesDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	cc := d.Compute(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	page, err := availabilityzones.List(cc).AllPages(ctx)
	var list []availabilityzones.AvailabilityZone
	if err == nil {
		list, err = availabilityzones.ExtractAvailabilityZones(page)
	}
	if err != nil {
		resp.Diagnostics.AddError("listing Availability Zones", err.Error())
		return
	}
	state := m.State.ValueString()
	if state == "" {
		state = "available"
	}
	names := []string{}
	for _, z := range list {
		if z.ZoneState.Available == (state == "available") {
			names = append(names, z.ZoneName)
		}
	}
	sort.Strings(names)
	m.ID, m.State, m.Names = types.StringValue(state), types.StringValue(state), tfutil.ListOf(names)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}
