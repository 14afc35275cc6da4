// Package blockstorage holds the Cinder v3 resources of the Stratus
// provider: volumes, volume types and snapshots. (Attaching a volume to a
// server is Nova's os-volume_attachments, stratus_compute_volume_attach.)
//
// Volumes and snapshots are built asynchronously: Create saves the id
// before it waits for `available`, so a build that fails or outlives its
// timeout leaves a tainted resource in the state rather than an orphan.
package blockstorage

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"

	"github.com/stratus-cloud/stratus/provider/internal/client"
	"github.com/stratus-cloud/stratus/provider/internal/tfutil"
)

// defaultTimeout is terraform-provider-openstack's for volumes; image
// copies can take longer (timeouts {} raises it).
const defaultTimeout = 10 * time.Minute

// pollInterval is how often a volume or snapshot in transition is looked
// at.
var pollInterval = time.Second

// WaitVolume polls volume id until its status is one of want, failing on
// an error status. Gone is reported as the API's 404.
func WaitVolume(ctx context.Context, bc *gophercloud.ServiceClient, id string, want ...string) (*volumes.Volume, error) {
	var v *volumes.Volume
	err := tfutil.Poll(ctx, pollInterval, func() (bool, error) {
		var err error
		if v, err = volumes.Get(ctx, bc, id).Extract(); err != nil {
			return false, err
		}
		if slices.Contains(want, v.Status) {
			return true, nil
		}
		if v.Status == "error" || v.Status == "error_extending" || v.Status == "error_deleting" {
			return false, fmt.Errorf("volume went to %s", v.Status)
		}
		return false, nil
	})
	return v, err
}

// waitVolumeGone polls until volume id is deleted.
func waitVolumeGone(ctx context.Context, bc *gophercloud.ServiceClient, id string) error {
	_, err := WaitVolume(ctx, bc, id, "deleted")
	if client.IsNotFound(err) {
		return nil
	}
	return err
}

// waitSnapshot polls snapshot id until its status is want (or it is gone,
// for want "deleted").
func waitSnapshot(ctx context.Context, bc *gophercloud.ServiceClient, id, want string) (*snapshots.Snapshot, error) {
	var s *snapshots.Snapshot
	err := tfutil.Poll(ctx, pollInterval, func() (bool, error) {
		var err error
		s, err = snapshots.Get(ctx, bc, id).Extract()
		if want == "deleted" && client.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if s.Status == "error" || s.Status == "error_deleting" {
			return false, fmt.Errorf("snapshot went to %s", s.Status)
		}
		return s.Status == want, nil
	})
	return s, err
}
