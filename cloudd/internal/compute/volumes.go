package compute

import "context"

// Volumes is what compute needs of block storage: boot volumes, and
// releasing a deleted server's volumes (deleting those attached with
// delete_on_termination). It is an interface because block storage
// (package volume) sits beside compute, not under it.
type Volumes interface {
	// BootVolume waits until the boot volume of a server created without
	// an image is ready, and returns it and the host it lives on.
	BootVolume(ctx context.Context, serverID string) (volumeID, hostID string, err error)
	// BootVolumeAttached records that the server's domain runs on it.
	BootVolumeAttached(ctx context.Context, serverID string) error
	ServerDeleted(ctx context.Context, serverID string) error
	// OnHost counts the volumes that live on a host.
	OnHost(ctx context.Context, hostID string) (int, error)
}
