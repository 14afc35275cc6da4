// Package compute holds the Nova v2.1 resources and data sources of the
// Stratus provider: flavors, key pairs, server groups, instances,
// hypervisors and availability zones.
package compute

import (
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/stratus-cloud/stratus/provider/internal/client"
)

// defaultTimeout bounds calls that finish in one request.
const defaultTimeout = 10 * time.Minute

func computeClient(c *client.Client, diags *diag.Diagnostics) *gophercloud.ServiceClient {
	if c == nil {
		diags.AddError("provider not configured", "The Stratus provider was not configured before this resource was used.")
		return nil
	}
	sc, err := c.Compute()
	if err != nil {
		diags.AddError("finding the compute service", err.Error())
		return nil
	}
	return sc
}

func imageClient(c *client.Client, diags *diag.Diagnostics) *gophercloud.ServiceClient {
	if c == nil {
		diags.AddError("provider not configured", "The Stratus provider was not configured before this resource was used.")
		return nil
	}
	sc, err := c.Image()
	if err != nil {
		diags.AddError("finding the image service", err.Error())
		return nil
	}
	return sc
}
