package tfutil

import (
	"context"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/stratus-cloud/stratus/provider/internal/client"
)

// Services hands out the service clients of the configured provider, and
// reports in diags when there is none or the catalog lacks the service.
type Services struct{ client *client.Client }

func (s Services) service(diags *diag.Diagnostics, name string, get func(*client.Client) (*gophercloud.ServiceClient, error)) *gophercloud.ServiceClient {
	if s.client == nil {
		diags.AddError("provider not configured", "The Stratus provider was not configured before this resource was used.")
		return nil
	}
	sc, err := get(s.client)
	if err != nil {
		diags.AddError("finding the "+name+" service", err.Error())
		return nil
	}
	return sc
}

// Identity is the identity v3 client.
func (s Services) Identity(diags *diag.Diagnostics) *gophercloud.ServiceClient {
	return s.service(diags, "identity", (*client.Client).Identity)
}

// Compute is the compute v2.1 client.
func (s Services) Compute(diags *diag.Diagnostics) *gophercloud.ServiceClient {
	return s.service(diags, "compute", (*client.Client).Compute)
}

// Image is the image v2 client.
func (s Services) Image(diags *diag.Diagnostics) *gophercloud.ServiceClient {
	return s.service(diags, "image", (*client.Client).Image)
}

// Network is the networking v2.0 client.
func (s Services) Network(diags *diag.Diagnostics) *gophercloud.ServiceClient {
	return s.service(diags, "network", (*client.Client).Network)
}

// BlockStorage is the block storage v3 client.
func (s Services) BlockStorage(diags *diag.Diagnostics) *gophercloud.ServiceClient {
	return s.service(diags, "block storage", (*client.Client).BlockStorage)
}

// Provider is the configured client itself, nil before configuration.
func (s Services) Provider() *client.Client { return s.client }

// ResourceBase is embedded by every resource: it takes the client from the
// provider, hands out service clients, and imports by id unless the
// resource has its own ImportState.
type ResourceBase struct{ Services }

// Configure keeps the provider's client.
func (b *ResourceBase) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	b.client = Client(req.ProviderData, &resp.Diagnostics)
}

// ImportState takes the API's id as the import id.
func (b *ResourceBase) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// DataSourceBase is embedded by every data source.
type DataSourceBase struct{ Services }

// Configure keeps the provider's client.
func (b *DataSourceBase) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	b.client = Client(req.ProviderData, &resp.Diagnostics)
}

// Gone handles the error of a Read's GET: a 404 means the resource was
// deleted outside Terraform, so it leaves the state (and the next plan
// creates it again); other errors are reported. It reports whether Read
// must stop.
func Gone(ctx context.Context, err error, resp *resource.ReadResponse, what string) bool {
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return true
	}
	if err != nil {
		resp.Diagnostics.AddError("reading "+what, err.Error())
		return true
	}
	return false
}

// Deleted reports the error of a DELETE, unless it says the resource is
// already gone, which is what Delete wanted.
func Deleted(err error, diags *diag.Diagnostics, what string) {
	if err != nil && !client.IsNotFound(err) {
		diags.AddError("deleting "+what, err.Error())
	}
}
