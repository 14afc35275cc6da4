package nova

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/cloudd/internal/compute"
	"github.com/stratus-cloud/stratus/cloudd/internal/volume"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

// bootMapping is the one block_device_mapping_v2 entry Stratus takes: the
// boot disk (boot_index 0) as a volume, given (source_type volume) or made
// for the server from an image or a volume snapshot.
type bootMapping struct {
	SourceType          string
	UUID                string
	VolumeSize          int
	DeleteOnTermination bool
}

func invalidBDM(format string, args ...any) error {
	return osapi.Errorf(http.StatusBadRequest, "Block Device Mapping is Invalid: "+format, args...)
}

// parseBootMapping reads block_device_mapping_v2; nil when there is none.
func parseBootMapping(raw json.RawMessage) (*bootMapping, error) {
	if emptyJSON(raw) {
		return nil, nil
	}
	var list []struct {
		SourceType          string          `json:"source_type"`
		DestinationType     string          `json:"destination_type"`
		UUID                string          `json:"uuid"`
		BootIndex           json.RawMessage `json:"boot_index"`
		VolumeSize          json.RawMessage `json:"volume_size"`
		DeleteOnTermination bool            `json:"delete_on_termination"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, invalidBDM("%v", err)
	}
	if len(list) != 1 {
		return nil, invalidBDM("Stratus takes exactly one mapping, the boot volume (boot_index 0); attach further volumes after the server is built.")
	}
	m := list[0]
	if idx := strings.Trim(string(m.BootIndex), `" `); idx != "0" {
		return nil, invalidBDM("the mapping must be the boot device (boot_index 0).")
	}
	if m.DestinationType != "volume" {
		return nil, invalidBDM("destination_type must be volume; local block devices are not supported.")
	}
	b := &bootMapping{SourceType: m.SourceType, UUID: m.UUID, DeleteOnTermination: m.DeleteOnTermination}
	if s := strings.Trim(string(m.VolumeSize), `" `); s != "" && s != "null" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return nil, invalidBDM("volume_size must be a positive integer.")
		}
		b.VolumeSize = n
	}
	switch m.SourceType {
	case "volume", "snapshot":
	case "image":
		if b.VolumeSize == 0 {
			return nil, invalidBDM("volume_size is required to boot from a volume made from image %s.", m.UUID)
		}
	default:
		return nil, invalidBDM("source_type %q is not supported (volume, image or snapshot).", m.SourceType)
	}
	if m.UUID == "" {
		return nil, invalidBDM("uuid is required.")
	}
	return b, nil
}

// createWithBoot creates a server, with its boot volume when boot is set:
// a given volume must be available; one from an image or snapshot is
// created for the server first (so a bad source is a 400 before any
// server exists), and discarded again if the server cannot be created.
func (a *API) createWithBoot(r *http.Request, req compute.CreateRequest, boot *bootMapping) (compute.Server, error) {
	ctx, c := r.Context(), claims(r)
	if boot == nil {
		return a.Compute.Create(ctx, c, req)
	}
	if a.Volumes == nil {
		return compute.Server{}, invalidBDM("this cloud has no block storage.")
	}
	volumeID, made := boot.UUID, false
	switch boot.SourceType {
	case "volume":
		v, err := a.Volumes.Get(ctx, c, boot.UUID)
		if err != nil || v.ProjectID != c.ProjectID {
			return compute.Server{}, invalidBDM("failed to get volume %s.", boot.UUID)
		}
		if v.Status != volume.StatusAvailable {
			return compute.Server{}, invalidBDM("volume %s is %s; it must be available to boot from it.", v.ID, v.Status)
		}
	default:
		vreq := volume.CreateRequest{Name: req.Name + "-boot", SizeGB: boot.VolumeSize, AvailabilityZone: req.AvailabilityZone}
		if boot.SourceType == "image" {
			// The server goes where its volume is: put the volume where
			// the server fits. (A snapshot's clone stays on its host.)
			host, err := a.Compute.BestHost(ctx, c, req.FlavorID, req.AvailabilityZone)
			if err != nil {
				return compute.Server{}, err
			}
			vreq.ImageID, vreq.HostID = boot.UUID, host
		} else {
			vreq.SnapshotID = boot.UUID
		}
		v, err := a.Volumes.Create(ctx, c, vreq)
		if err != nil {
			return compute.Server{}, err
		}
		volumeID, made = v.ID, true
	}
	req.ImageID, req.BootFromVolume = "", true
	srv, err := a.Compute.Create(ctx, c, req)
	if err == nil {
		if err = a.Volumes.ReserveBoot(ctx, c, volume.Server{ID: srv.ID, ProjectID: srv.ProjectID}, volumeID, boot.DeleteOnTermination); err != nil {
			_ = a.Compute.Delete(ctx, c, srv.ID)
		}
	}
	if err != nil {
		if made {
			_ = a.Volumes.Discard(ctx, volumeID)
		}
		return compute.Server{}, err
	}
	return srv, nil
}
