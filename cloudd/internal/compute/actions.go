package compute

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/image"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// conflict is Nova's answer to an action in the wrong state.
func conflict(srv Server, action string) error {
	return osapi.Errorf(http.StatusConflict, "Cannot '%s' instance %s while it is in vm_state %s, task_state %s.",
		action, srv.ID, srv.VMState, cmpStr(srv.TaskState, "None"))
}

func cmpStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// act moves a writable server from one of the allowed vm states (with no
// task running) to taskState and queues the task, in one transaction.
func (s *Service) act(ctx context.Context, c *token.Claims, id, action, taskKind, taskState string, allowed []string, args any,
	also func(ctx context.Context, tx pgx.Tx, srv Server) error) (Server, error) {
	srv, err := s.Get(ctx, c, id)
	if err != nil {
		return Server{}, err
	}
	if err := policy.Authorize(c, policy.Write, srv.ProjectID, "server"); err != nil {
		return Server{}, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Re-read under a row lock: two racing actions must not both pass the state check.
		var vmState, task string
		if err := tx.QueryRow(ctx, "SELECT vm_state, coalesce(task_state, '') FROM servers WHERE id = $1 AND NOT deleted FOR UPDATE",
			id).Scan(&vmState, &task); err != nil {
			return notFoundServer(id, osapi.Errorf(http.StatusNotFound, "gone"))
		}
		srv.VMState, srv.TaskState = vmState, task
		if task != "" || !slices.Contains(allowed, vmState) {
			return conflict(srv, action)
		}
		if also != nil {
			if err := also(ctx, tx, srv); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE servers SET task_state = $2, updated_at = now() WHERE id = $1", id, taskState); err != nil {
			return err
		}
		return s.tasks.Enqueue(ctx, tx, id, taskKind, args)
	})
	if err != nil {
		return Server{}, err
	}
	s.nudge()
	return srv, nil
}

// Start is os-start: SHUTOFF to ACTIVE.
func (s *Service) Start(ctx context.Context, c *token.Claims, id string) error {
	_, err := s.act(ctx, c, id, "start", taskStart, TaskPoweringOn, []string{VMStopped}, powerArgs{}, nil)
	return err
}

// Stop is os-stop: ACTIVE (or ERROR) to SHUTOFF.
func (s *Service) Stop(ctx context.Context, c *token.Claims, id string) error {
	_, err := s.act(ctx, c, id, "stop", taskStop, TaskPoweringOff, []string{VMActive, VMError}, powerArgs{}, nil)
	return err
}

// Reboot is reboot SOFT (from ACTIVE) or HARD (also from SHUTOFF and ERROR).
func (s *Service) Reboot(ctx context.Context, c *token.Claims, id string, hard bool) error {
	allowed, state := []string{VMActive}, TaskRebooting
	if hard {
		allowed, state = []string{VMActive, VMStopped, VMError}, TaskRebootingHard
	}
	_, err := s.act(ctx, c, id, "reboot", taskReboot, state, allowed, powerArgs{Hard: hard}, nil)
	return err
}

// Resize changes a server's flavor in place on its host. The new flavor is
// claimed on the host now, under the host's row lock; the old one is kept
// until the resize is confirmed or reverted.
func (s *Service) Resize(ctx context.Context, c *token.Claims, id, flavorID string) error {
	flavor, err := s.GetFlavor(ctx, c, flavorID)
	if err != nil {
		return badRequestIfMissing(err, "Flavor %s could not be found.", flavorID)
	}
	_, err = s.act(ctx, c, id, "resize", taskResize, TaskResizePrep, []string{VMActive, VMStopped}, resizeArgs{},
		func(ctx context.Context, tx pgx.Tx, srv Server) error {
			if flavor.ID == srv.Flavor.ID {
				return badRequest("When resizing, instances must change flavor!")
			}
			next := FlavorSnapshot{ID: flavor.ID, Name: flavor.Name, VCPUs: flavor.VCPUs, RAMMB: flavor.RAMMB, DiskGB: flavor.DiskGB}
			if srv.ImageID == "" {
				next.DiskGB = 0 // booted from a volume: no local disk to size
			} else if flavor.DiskGB < srv.Flavor.DiskGB {
				return badRequest("Resize error: Unable to resize disk down.")
			}
			if err := s.reserveResize(ctx, tx, srv, next); err != nil {
				return err
			}
			old, _ := json.Marshal(srv.Flavor)
			_, err := tx.Exec(ctx, `UPDATE servers SET old_flavor = $2, flavor_id = $3, flavor_name = $4, vcpus = $5, ram_mb = $6, disk_gb = $7
				WHERE id = $1`, srv.ID, old, next.ID, next.Name, next.VCPUs, next.RAMMB, next.DiskGB)
			return err
		})
	return overQuota(err)
}

// reserveResize checks the project's cores and ram for the growth and that
// the server's host can hold the new flavor.
func (s *Service) reserveResize(ctx context.Context, tx pgx.Tx, srv Server, next FlavorSnapshot) error {
	growth := map[string]int64{"cores": int64(next.VCPUs - srv.Flavor.VCPUs), "ram": int64(next.RAMMB - srv.Flavor.RAMMB)}
	if err := s.Quotas.ReserveMany(ctx, tx, srv.ProjectID, growth,
		func(ctx context.Context, tx pgx.Tx) (map[string]int64, error) { return s.usage(ctx, tx, srv.ProjectID) }); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "SELECT 1 FROM hosts WHERE id = $1 FOR UPDATE", srv.HostID); err != nil {
		return err
	}
	hosts, err := s.candidates(ctx, tx, srv, Hints{}, srv.HostID)
	if err != nil {
		return err
	}
	// candidates excluded this server's own usage, so compare the whole new flavor.
	if len(hosts) != 1 || !hosts[0].fits(next) {
		return badRequest("No valid host was found. Host %s cannot hold flavor %s.", srv.HostName, next.Name)
	}
	return nil
}

// ConfirmResize keeps the new flavor.
func (s *Service) ConfirmResize(ctx context.Context, c *token.Claims, id string) error {
	_, err := s.act(ctx, c, id, "confirmResize", taskConfirm, TaskResizeConfirming, []string{VMResized}, nil, nil)
	return err
}

// RevertResize goes back to the old flavor.
func (s *Service) RevertResize(ctx context.Context, c *token.Claims, id string) error {
	_, err := s.act(ctx, c, id, "revertResize", taskRevert, TaskResizeReverting, []string{VMResized}, nil, nil)
	return err
}

// CreateImage snapshots a server's disk into a new image owned by its
// project and returns the image id at once; the image becomes active when
// the snapshot task has streamed it.
func (s *Service) CreateImage(ctx context.Context, c *token.Claims, id, name string, metadata map[string]string) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "", badRequest("Invalid input for field/attribute name: a name is required.")
	}
	var args snapshotArgs // filled in below, before the task is queued
	_, err := s.act(ctx, c, id, "createImage", taskSnapshot, TaskSnapshot, []string{VMActive, VMStopped}, &args,
		func(ctx context.Context, tx pgx.Tx, srv Server) error {
			if h, ok := s.Hosts.Host(srv.HostURI); ok && h.Simulated() {
				return osapi.Errorf(http.StatusNotImplemented, "Host %s is simulated (libvirt test driver): its disks have no content to snapshot.", srv.HostName)
			}
			if srv.ImageID == "" {
				return osapi.Errorf(http.StatusNotImplemented, "Server %s boots from a volume; snapshot the volume instead (volume snapshots of attached volumes are not supported yet).", srv.ID)
			}
			props := map[string]string{"instance_uuid": srv.ID, "image_type": "snapshot", "base_image_ref": srv.ImageID}
			for k, v := range metadata {
				props[k] = v
			}
			img, err := s.Images.Create(ctx, c, image.Image{Name: name, DiskFormat: "qcow2", ContainerFormat: "bare",
				Visibility: "private", MinDisk: srv.Flavor.DiskGB, Properties: props})
			if err != nil {
				return err
			}
			args.ImageID = img.ID
			return nil
		})
	return args.ImageID, err
}

// Delete removes a server. Builds that have not started are cancelled; a
// running task finishes first, since tasks of one server run in order.
func (s *Service) Delete(ctx context.Context, c *token.Claims, id string) error {
	srv, err := s.Get(ctx, c, id)
	if err != nil {
		return err
	}
	if err := policy.Authorize(c, policy.Write, srv.ProjectID, "server"); err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var task string
		if err := tx.QueryRow(ctx, "SELECT coalesce(task_state, '') FROM servers WHERE id = $1 AND NOT deleted FOR UPDATE", id).Scan(&task); err != nil {
			return notFoundServer(id, osapi.Errorf(http.StatusNotFound, "gone"))
		}
		if task == TaskDeleting {
			return nil // already on its way out
		}
		if _, err := tx.Exec(ctx, `UPDATE tasks SET state = 'failed', last_error = 'cancelled by delete', updated_at = now()
			WHERE server_id = $1 AND state = 'pending' AND (leased_until IS NULL OR leased_until < now())`, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE servers SET task_state = $2, updated_at = now() WHERE id = $1", id, TaskDeleting); err != nil {
			return err
		}
		return s.tasks.Enqueue(ctx, tx, id, taskDelete, nil)
	})
	if err == nil {
		s.nudge()
	}
	return err
}

// ConsoleOutput returns the last lines of the server's serial console
// (all of it when lines <= 0).
func (s *Service) ConsoleOutput(ctx context.Context, c *token.Claims, id string, lines int) (string, error) {
	srv, err := s.Get(ctx, c, id)
	if err != nil {
		return "", err
	}
	if srv.HostID == "" || srv.VMState == VMBuilding && srv.TaskState == TaskScheduling {
		return "", conflict(srv, "os-getConsoleOutput")
	}
	host, err := s.host(srv)
	if err != nil {
		return "", osapi.Errorf(http.StatusConflict, "The console of instance %s is not reachable: %v", id, err)
	}
	log, err := host.ConsoleLog(ctx, srv.ID, 1<<20)
	if errors.Is(err, errors.ErrUnsupported) {
		return "", osapi.Errorf(http.StatusNotImplemented, "Host %s is simulated (libvirt test driver) and has no console.", srv.HostName)
	}
	if err != nil {
		return "", err
	}
	out := string(log)
	if lines > 0 {
		all := strings.SplitAfter(out, "\n")
		if all[len(all)-1] == "" {
			all = all[:len(all)-1]
		}
		if len(all) > lines {
			out = strings.Join(all[len(all)-lines:], "")
		}
	}
	return out, nil
}
