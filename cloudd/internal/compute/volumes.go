package compute

import (
	"context"

	"github.com/stratus-cloud/stratus/internal/token"
)

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

// BestHost is the host the scheduler would pick now for a server of
// flavorID in zone az, without claiming it: where a boot volume made for
// that server should be created, since the server must then go where its
// volume is. "" when no host fits.
func (s *Service) BestHost(ctx context.Context, c *token.Claims, flavorID, az string) (string, error) {
	flavor, err := s.GetFlavor(ctx, c, flavorID)
	if err != nil {
		return "", badRequestIfMissing(err, "Flavor %s could not be found.", flavorID)
	}
	srv := Server{Flavor: FlavorSnapshot{VCPUs: flavor.VCPUs, RAMMB: flavor.RAMMB}, AvailabilityZone: az}
	hosts, err := s.candidates(ctx, nil, srv, Hints{}, "")
	if err != nil {
		return "", err
	}
	hosts = filter(hosts, srv, Hints{}, "", nil, false)
	if len(hosts) == 0 {
		return "", nil
	}
	weigh(hosts, "", s.cfg.Pack)
	return hosts[0].ID, nil
}
