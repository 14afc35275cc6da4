package compute

import (
	"context"
	"log/slog"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor"
	"github.com/stratus-cloud/stratus/internal/loop"
)

// ReconcileLoop keeps the database true to the hosts.
func (s *Service) ReconcileLoop() *loop.Loop {
	return &loop.Loop{Name: "compute-reconcile", Interval: s.cfg.SyncInterval, RunOnce: s.Reconcile}
}

// Reconcile refreshes every host's reachability and capacity, records
// power states that changed behind our back (a guest that shut down or
// crashed on its own), and removes domains no server owns any more (a
// crash between defining a domain and recording its deletion).
func (s *Service) Reconcile(ctx context.Context) error {
	hosts, err := s.ListHosts(ctx)
	if err != nil {
		return err
	}
	// Finished tasks are history; a week of it is plenty to debug with.
	if _, err := s.pool.Exec(ctx, "DELETE FROM tasks WHERE state <> 'pending' AND updated_at < now() - interval '7 days'"); err != nil {
		return err
	}
	if err := s.reapPorts(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Go(func() {
			if err := s.reconcileHost(ctx, h); err != nil {
				slog.Warn("reconciling host", "host", h.Name, "err", err)
			}
		})
	}
	wg.Wait()
	return nil
}

func (s *Service) reconcileHost(ctx context.Context, h Host) error {
	if err := s.refreshHost(ctx, h.URI); err != nil {
		return err
	}
	hh, ok := s.Hosts.Host(h.URI)
	if !ok || !hh.Up() {
		return nil
	}
	actual, err := hh.Servers(ctx)
	if err != nil {
		return err
	}
	onHost := make(map[string]hypervisor.PowerState, len(actual))
	for _, a := range actual {
		if a.Metadata.Cloud == s.cloudID {
			onHost[a.ID] = a.PowerState
		}
	}
	rows, _ := s.pool.Query(ctx, `SELECT id, power_state FROM servers WHERE host_id = $1 AND NOT deleted
		AND vm_state IN ('active', 'stopped', 'error') AND task_state IS NULL`, h.ID)
	type recorded struct {
		ID    string
		Power int
	}
	settled, err := pgx.CollectRows(rows, pgx.RowToStructByPos[recorded])
	if err != nil {
		return err
	}
	for _, r := range settled {
		state, present := onHost[r.ID]
		if !present {
			state = hypervisor.PowerState(PowerNoState)
		}
		if int(state) == r.Power {
			continue // the common case: nothing to write
		}
		if err := s.recordPower(ctx, r.ID, state); err != nil {
			return err
		}
	}
	rows, _ = s.pool.Query(ctx, "SELECT id FROM servers WHERE host_id = $1 AND NOT deleted", h.ID)
	known, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	owned := make(map[string]bool, len(known))
	for _, id := range known {
		owned[id] = true
	}
	for _, a := range actual {
		if a.Metadata.Cloud == s.cloudID && !owned[a.ID] {
			slog.Info("removing orphaned domain", "host", h.Name, "server", a.ID)
			if err := hh.Delete(ctx, a.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// watch records power changes the host reports as they happen. Events
// arrive after the fact (a reboot's "stopped" can land once the server runs
// again), so an event only says "look": the state recorded is the one the
// host reports now.
func (s *Service) watch(h *hypervisor.Host) {
	h.OnPowerChange(func(id string, _ hypervisor.PowerState) {
		ctx := context.Background()
		state, err := h.PowerState(ctx, id)
		if err != nil {
			return // gone (deleted) or unreachable: the reconciler settles it
		}
		if err := s.recordPower(ctx, id, state); err != nil {
			slog.Warn("recording power change", "server", id, "err", err)
		}
	})
}

// recordPower stores a settled server's power state; a running server that
// stopped becomes SHUTOFF and a stopped one that runs becomes ACTIVE, as
// Nova's power-state sync does. Servers with a task running are left to it.
func (s *Service) recordPower(ctx context.Context, id string, state hypervisor.PowerState) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		srv, err := s.getServer(ctx, tx, id)
		if err != nil || srv.TaskState != "" || srv.PowerState == int(state) {
			return nil
		}
		vmState, event := srv.VMState, ""
		switch {
		case srv.VMState == VMActive && (state == hypervisor.PowerState(PowerShutdown) || state == hypervisor.PowerState(PowerCrashed)):
			vmState, event = VMStopped, "power_off"
		case srv.VMState == VMStopped && state == hypervisor.PowerState(PowerRunning):
			vmState, event = VMActive, "power_on"
		}
		if _, err := tx.Exec(ctx, "UPDATE servers SET power_state = $2, vm_state = $3, updated_at = now() WHERE id = $1 AND task_state IS NULL",
			id, int(state), vmState); err != nil {
			return err
		}
		if event == "" {
			return nil
		}
		srv.VMState, srv.PowerState = vmState, int(state)
		return emitServer(ctx, tx, event, srv, map[string]any{"cause": "host"})
	})
}
