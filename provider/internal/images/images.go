// Package images holds the Glance v2 resources and data sources of the
// Stratus provider: images uploaded from a file or URL with their hash
// verified, and image lookup.
package images

import "time"

// defaultTimeout bounds calls that finish in one request.
const defaultTimeout = 10 * time.Minute
