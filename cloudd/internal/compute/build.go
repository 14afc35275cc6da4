package compute

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/configdrive"
	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor"
	"github.com/stratus-cloud/stratus/cloudd/internal/image"
	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/internal/tasks"
	"github.com/stratus-cloud/stratus/internal/token"
)

// serviceClaims lets compute act for a server's owner towards the image
// service (boot sources, snapshots) after the API call that asked for it.
func serviceClaims(srv Server) *token.Claims {
	return &token.Claims{UserID: srv.UserID, ProjectID: srv.ProjectID, Roles: token.RoleMember | token.RoleReader}
}

// host returns the hypervisor host a server is placed on. Calls on a host
// that is down fail fast with hypervisor.ErrHostDown, and the task retries.
func (s *Service) host(srv Server) (*hypervisor.Host, error) {
	h, ok := s.Hosts.Host(srv.HostURI)
	if !ok {
		return nil, tasks.Permanent("host %s is no longer configured", srv.HostName)
	}
	return h, nil
}

// build takes a server from BUILD to ACTIVE. Every step is idempotent, so
// a build resumed after a crash (or retried after a failure) finishes the
// job instead of leaving half a server.
func (s *Service) build(ctx context.Context, t tasks.Task) error {
	srv, gone, err := s.taskServer(ctx, t.Subject)
	if gone || err != nil || srv.VMState != VMBuilding {
		return err // deleted, or built by an earlier attempt
	}
	var hints Hints
	_ = json.Unmarshal(t.Args, &hints)
	// A server without an image boots from a volume, and goes where it is.
	var bootVolume, volumeHost string
	var img image.Image
	if srv.ImageID == "" && s.Volumes != nil {
		if bootVolume, volumeHost, err = s.Volumes.BootVolume(ctx, srv.ID); err != nil {
			return err
		}
	} else if img, err = s.Images.Get(ctx, serviceClaims(srv), srv.ImageID); err != nil {
		return tasks.Permanent("image %s: %s", srv.ImageID, faultMessage(err))
	}
	if srv.HostID == "" {
		if _, err := s.schedule(ctx, srv, hints, img.Properties, volumeHost); err != nil {
			return err
		}
		var gone bool
		if srv, gone, err = s.taskServer(ctx, t.Subject); gone || err != nil {
			return err
		}
	}
	host, err := s.host(srv)
	if err != nil {
		return err
	}
	if bootVolume == "" {
		if err := host.EnsureImage(ctx, img.ID, img.DiskFormat, img.Size, func(ctx context.Context) (io.ReadCloser, error) {
			r, _, err := s.Images.Open(ctx, img.ID)
			return r, err
		}); err != nil {
			return fmt.Errorf("caching image %s on %s: %w", img.ID, srv.HostName, err)
		}
	}
	nics, err := s.bindPorts(ctx, srv)
	if err != nil {
		return fmt.Errorf("binding ports to %s: %w", srv.HostName, err)
	}
	drive, err := s.configDrive(ctx, srv, nics)
	if err != nil {
		return err
	}
	if err := host.CreateServer(ctx, hypervisor.ServerSpec{
		Cloud: s.cloudID, ID: srv.ID, Name: srv.Name, ProjectID: srv.ProjectID, UserID: srv.UserID,
		FlavorID: srv.Flavor.ID, FlavorName: srv.Flavor.Name, ImageID: srv.ImageID,
		VCPUs: srv.Flavor.VCPUs, MemoryMiB: int64(srv.Flavor.RAMMB), DiskGiB: srv.Flavor.DiskGB, ConfigDrive: drive,
		NICs:         domainNICs(nics),
		BootVolumeID: bootVolume,
	}); err != nil {
		return fmt.Errorf("creating server on %s: %w", srv.HostName, err)
	}
	if bootVolume != "" {
		if err := s.Volumes.BootVolumeAttached(ctx, srv.ID); err != nil {
			return err
		}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE servers SET vm_state = $2, task_state = NULL, power_state = $3, launched_at = now(), updated_at = now()
			WHERE id = $1 AND vm_state = $4`, srv.ID, VMActive, PowerRunning, VMBuilding)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		srv, err = s.getServer(ctx, tx, srv.ID)
		if err != nil {
			return err
		}
		return emitServer(ctx, tx, "created", srv, map[string]any{"launched_at": srv.LaunchedAt, "state": "active"})
	})
}

// configDrive builds the server's config-2 drive: identity, keys, metadata
// and user data in the OpenStack layout cloud-init reads.
func (s *Service) configDrive(ctx context.Context, srv Server, nics []network.NIC) ([]byte, error) {
	d := configdrive.Drive{
		UUID: srv.ID, Name: srv.Name, Hostname: hostname(srv.Name), ProjectID: srv.ProjectID,
		AvailabilityZone: srv.AvailabilityZone, Metadata: srv.Metadata, PublicKeys: map[string]string{},
		Network: networkData(nics),
	}
	if srv.KeyName != "" {
		kp, err := s.GetKeypair(ctx, srv.UserID, srv.KeyName)
		if err == nil {
			d.PublicKeys[kp.Name] = kp.PublicKey
		}
	}
	if srv.UserData != "" {
		raw, err := base64.StdEncoding.DecodeString(srv.UserData)
		if err != nil {
			return nil, tasks.Permanent("user data is not base64: %v", err)
		}
		d.UserData = raw
	}
	return configdrive.Build(d)
}

// hostname derives a DNS label from a server name, as Nova does.
func hostname(name string) string {
	out := make([]rune, 0, len(name))
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			out = append(out, r)
		case r >= 'A' && r <= 'Z':
			out = append(out, r+'a'-'A')
		case r == ' ' || r == '_' || r == '.':
			out = append(out, '-')
		}
	}
	h := string(out)
	for len(h) > 0 && h[0] == '-' {
		h = h[1:]
	}
	if len(h) > 63 {
		h = h[:63]
	}
	if h == "" {
		return "server"
	}
	return h
}

// destroy removes a server from its host, then marks it deleted.
func (s *Service) destroy(ctx context.Context, t tasks.Task) error {
	srv, gone, err := s.taskServer(ctx, t.Subject)
	if gone || err != nil {
		return err // already gone, or retry
	}
	if srv.HostID != "" {
		host, err := s.host(srv)
		if err != nil && !tasks.IsPermanent(err) {
			return err
		}
		if host != nil {
			if err := host.Delete(ctx, srv.ID); err != nil {
				return fmt.Errorf("deleting server from %s: %w", srv.HostName, err)
			}
		}
	}
	if err := s.releasePorts(ctx, srv.ID); err != nil {
		return fmt.Errorf("releasing ports: %w", err)
	}
	if s.Volumes != nil {
		if err := s.Volumes.ServerDeleted(ctx, srv.ID); err != nil {
			return fmt.Errorf("releasing the volumes of %s: %w", srv.ID, err)
		}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE servers SET deleted = true, vm_state = $2, task_state = NULL, power_state = $3,
			terminated_at = now(), updated_at = now() WHERE id = $1`, srv.ID, VMDeleted, PowerNoState); err != nil {
			return err
		}
		return emitServer(ctx, tx, "deleted", srv, map[string]any{"launched_at": srv.LaunchedAt, "terminated_at": s.cfg.Now().UTC()})
	})
}

// powerArgs are the arguments of start, stop and reboot tasks.
type powerArgs struct {
	Hard bool `json:"hard,omitempty"`
}

// power runs os-start, os-stop and reboot on the host.
func (s *Service) power(ctx context.Context, t tasks.Task) error {
	srv, gone, err := s.taskServer(ctx, t.Subject)
	if gone || err != nil {
		return err
	}
	host, err := s.host(srv)
	if err != nil {
		return err
	}
	var args powerArgs
	_ = json.Unmarshal(t.Args, &args)
	vmState, powerState, event := VMActive, PowerRunning, "power_on"
	switch t.Kind {
	case taskStart:
		err = host.Start(ctx, srv.ID)
	case taskStop:
		err = host.Stop(ctx, srv.ID, true)
		vmState, powerState, event = VMStopped, PowerShutdown, "power_off"
	case taskReboot:
		err = host.Reboot(ctx, srv.ID, args.Hard)
		event = "rebooted"
	}
	if err != nil {
		return fmt.Errorf("%s on %s: %w", t.Kind, srv.HostName, err)
	}
	return s.settle(ctx, srv, vmState, powerState, event, nil)
}

// settle records the outcome of an action and its lifecycle event.
func (s *Service) settle(ctx context.Context, srv Server, vmState string, powerState int, event string, extra map[string]any) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE servers SET vm_state = $2, task_state = NULL, power_state = $3, updated_at = now() WHERE id = $1",
			srv.ID, vmState, powerState); err != nil {
			return err
		}
		srv.VMState, srv.PowerState = vmState, powerState
		return emitServer(ctx, tx, event, srv, extra)
	})
}

// resizeArgs carry the flavor a resize goes to.
type resizeArgs struct {
	Flavor FlavorSnapshot `json:"flavor"`
}

// resize applies resize, confirm and revert. The flavor columns already
// hold the new flavor (the API claimed it on the host); the host is told
// the sizes to run with.
func (s *Service) resize(ctx context.Context, t tasks.Task) error {
	srv, gone, err := s.taskServer(ctx, t.Subject)
	if gone || err != nil {
		return err
	}
	if t.Kind == taskConfirm {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			state := VMActive
			if srv.PowerState != PowerRunning {
				state = VMStopped
			}
			if _, err := tx.Exec(ctx, "UPDATE servers SET vm_state = $2, task_state = NULL, old_flavor = NULL, updated_at = now() WHERE id = $1",
				srv.ID, state); err != nil {
				return err
			}
			return emitServer(ctx, tx, "resize_confirmed", srv, nil)
		})
	}
	host, err := s.host(srv)
	if err != nil {
		return err
	}
	target := srv.Flavor // resize: already the new flavor
	if t.Kind == taskRevert {
		if srv.OldFlavor == nil {
			return tasks.Permanent("no resize to revert")
		}
		target = *srv.OldFlavor
	}
	wasRunning := srv.PowerState == PowerRunning
	if wasRunning {
		if err := host.Stop(ctx, srv.ID, true); err != nil {
			return err
		}
	}
	// Disks only grow: a revert keeps the resized disk.
	if err := host.ResizeFlavor(ctx, srv.ID, hypervisor.Flavor{ID: target.ID, Name: target.Name, VCPUs: target.VCPUs,
		MemoryMiB: int64(target.RAMMB), DiskGiB: max(target.DiskGB, srv.Flavor.DiskGB)}); err != nil {
		return err
	}
	powerState := PowerShutdown
	if wasRunning {
		if err := host.Start(ctx, srv.ID); err != nil {
			return err
		}
		powerState = PowerRunning
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if t.Kind == taskRevert {
			state := VMActive
			if !wasRunning {
				state = VMStopped
			}
			if _, err := tx.Exec(ctx, `UPDATE servers SET flavor_id = $2, flavor_name = $3, vcpus = $4, ram_mb = $5, disk_gb = $6,
				old_flavor = NULL, vm_state = $7, task_state = NULL, power_state = $8, updated_at = now() WHERE id = $1`,
				srv.ID, target.ID, target.Name, target.VCPUs, target.RAMMB, max(target.DiskGB, srv.Flavor.DiskGB), state, powerState); err != nil {
				return err
			}
			return emitServer(ctx, tx, "resize_reverted", srv, map[string]any{"new_flavor": target})
		}
		if _, err := tx.Exec(ctx, "UPDATE servers SET vm_state = $2, task_state = NULL, power_state = $3, updated_at = now() WHERE id = $1",
			srv.ID, VMResized, powerState); err != nil {
			return err
		}
		return emitServer(ctx, tx, "resized", srv, map[string]any{"old_flavor": srv.OldFlavor})
	})
}

// snapshotArgs name the image a createImage fills.
type snapshotArgs struct {
	ImageID string `json:"image_id"`
}

// snapshot streams the server's disk from its host into the image service.
func (s *Service) snapshot(ctx context.Context, t tasks.Task) error {
	srv, gone, err := s.taskServer(ctx, t.Subject)
	if gone || err != nil {
		return err
	}
	var args snapshotArgs
	if err := json.Unmarshal(t.Args, &args); err != nil {
		return tasks.Permanent("snapshot args: %v", err)
	}
	host, err := s.host(srv)
	if err != nil {
		return err
	}
	disk, _, err := host.SnapshotDisk(ctx, srv.ID)
	if errors.Is(err, hypervisor.ErrHostDown) {
		return err // retried while the host comes back
	}
	if err == nil {
		_, err = s.Images.Upload(ctx, serviceClaims(srv), args.ImageID, disk)
		disk.Close()
	}
	if err != nil {
		// The server itself is fine: as Nova does, the half-made snapshot
		// image goes away instead of the server getting a fault.
		slog.Warn("snapshot failed; deleting its image", "server", srv.ID, "image", args.ImageID, "err", err)
		if derr := s.Images.Delete(ctx, serviceClaims(srv), args.ImageID); derr != nil {
			slog.Warn("deleting failed snapshot image", "image", args.ImageID, "err", derr)
		}
	}
	_, err = s.pool.Exec(ctx, "UPDATE servers SET task_state = NULL, updated_at = now() WHERE id = $1", srv.ID)
	return err
}
