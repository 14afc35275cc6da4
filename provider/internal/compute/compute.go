// Package compute holds the Nova v2.1 resources and data sources of the
// Stratus provider: flavors, key pairs, server groups, instances,
// hypervisors and availability zones.
package compute

import (
	"time"
)

// defaultTimeout bounds calls that finish in one request.
const defaultTimeout = 10 * time.Minute
