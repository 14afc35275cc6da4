// Package identity holds the Keystone v3 resources and data sources of the
// Stratus provider: projects, users, role assignments, application
// credentials, and project and role lookups.
package identity

import (
	"time"
)

// defaultTimeout bounds identity calls, which take milliseconds.
const defaultTimeout = 10 * time.Minute
