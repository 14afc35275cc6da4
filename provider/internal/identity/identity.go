// Package identity holds the Keystone v3 resources and data sources of the
// Stratus provider: projects, users, role assignments, application
// credentials, and project and role lookups.
package identity

import (
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/stratus-cloud/stratus/provider/internal/client"
)

// defaultTimeout bounds identity calls, which take milliseconds.
const defaultTimeout = 10 * time.Minute

func identityClient(c *client.Client, diags *diag.Diagnostics) *gophercloud.ServiceClient {
	if c == nil {
		diags.AddError("provider not configured", "The Stratus provider was not configured before this resource was used.")
		return nil
	}
	ic, err := c.Identity()
	if err != nil {
		diags.AddError("finding the identity service", err.Error())
		return nil
	}
	return ic
}
