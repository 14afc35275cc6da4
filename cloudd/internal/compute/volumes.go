package compute

import "context"

// Volumes is what compute tells block storage about servers: a deleted
// server's volumes are detached (and deleted when attached with
// delete_on_termination). It is an interface because block storage
// (package volume) sits beside compute, not under it.
type Volumes interface {
	ServerDeleted(ctx context.Context, serverID string) error
}
