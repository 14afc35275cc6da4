package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/osapi"
)

// Task kinds.
const (
	taskBuild    = "build"
	taskDelete   = "delete"
	taskStart    = "start"
	taskStop     = "stop"
	taskReboot   = "reboot"
	taskResize   = "resize"
	taskConfirm  = "confirm_resize"
	taskRevert   = "revert_resize"
	taskSnapshot = "snapshot"
)

// task is a leased unit of durable work.
type task struct {
	ID       int64
	ServerID string
	Kind     string
	Args     json.RawMessage
	Attempts int
}

// enqueue records work on a server in tx; it runs once tx commits.
func (s *Service) enqueue(ctx context.Context, tx pgx.Tx, serverID, kind string, args any) error {
	raw, ok := args.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(args); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, "INSERT INTO tasks (server_id, kind, args) VALUES ($1, $2, $3)", serverID, kind, raw)
	return err
}

// nudge wakes an idle worker.
func (s *Service) nudge() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// lease takes the oldest runnable task: pending, not leased by a live
// worker, and the first pending task of its server (a server's tasks run
// in order). A lease that ran out belongs to a worker that died; taking it
// over is how work resumes after a crash.
func (s *Service) lease(ctx context.Context) (*task, error) {
	rows, _ := s.pool.Query(ctx, `UPDATE tasks SET leased_until = now() + $1::interval, attempts = attempts + 1, updated_at = now()
		WHERE id = (
			SELECT t.id FROM tasks t
			 WHERE t.state = 'pending' AND (t.leased_until IS NULL OR t.leased_until < now())
			   AND NOT EXISTS (SELECT 1 FROM tasks e WHERE e.server_id = t.server_id AND e.state = 'pending' AND e.id < t.id)
			 ORDER BY t.id FOR UPDATE SKIP LOCKED LIMIT 1)
		RETURNING id, server_id, kind, args, attempts`, s.cfg.TaskLease.String())
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[task])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return &t, err
}

// RunTaskOnce leases and runs one task. It reports whether there was one.
func (s *Service) RunTaskOnce(ctx context.Context) (bool, error) {
	t, err := s.lease(ctx)
	if err != nil || t == nil {
		return false, err
	}
	stop := s.keepLease(ctx, t.ID)
	err = s.run(ctx, t)
	stop()
	// The outcome is recorded even when ctx ended meanwhile (shutdown).
	book := context.WithoutCancel(ctx)
	switch {
	case err == nil:
		_, err = s.pool.Exec(book, "UPDATE tasks SET state = 'done', leased_until = NULL, updated_at = now() WHERE id = $1", t.ID)
	case ctx.Err() != nil:
		// Cut short by a shutdown: hand the task back at once, attempt
		// not counted, instead of leaving it to wait out its lease.
		_, err = s.pool.Exec(book, "UPDATE tasks SET leased_until = NULL, attempts = attempts - 1, updated_at = now() WHERE id = $1", t.ID)
	case t.Attempts >= s.cfg.MaxAttempts || isPermanent(err):
		slog.Warn("task failed for good", "task", t.ID, "kind", t.Kind, "server", t.ServerID, "err", err)
		err = s.fail(book, t, err)
	default:
		slog.Info("task failed; will retry", "task", t.ID, "kind", t.Kind, "server", t.ServerID, "attempt", t.Attempts, "err", err)
		// Retry after a short backoff rather than a whole lease.
		_, err = s.pool.Exec(book, "UPDATE tasks SET leased_until = now() + $2::interval, last_error = $3, updated_at = now() WHERE id = $1",
			t.ID, (time.Duration(t.Attempts) * time.Second).String(), err.Error())
	}
	return true, err
}

// keepLease extends a running task's lease until stopped, so slow work
// (an image upload to a host) is not mistaken for a dead worker.
func (s *Service) keepLease(ctx context.Context, id int64) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(s.cfg.TaskLease / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				_, _ = s.pool.Exec(ctx, "UPDATE tasks SET leased_until = now() + $2::interval WHERE id = $1", id, s.cfg.TaskLease.String())
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

func permanent(format string, args ...any) error {
	return permanentError{fmt.Errorf(format, args...)}
}

func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// fail ends a task for good and puts its server in ERROR with a fault.
func (s *Service) fail(ctx context.Context, t *task, cause error) error {
	fault, _ := json.Marshal(Fault{Code: http.StatusInternalServerError, Message: faultMessage(cause), Created: s.cfg.Now().UTC()})
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE tasks SET state = 'failed', leased_until = NULL, last_error = $2, updated_at = now() WHERE id = $1",
			t.ID, cause.Error()); err != nil {
			return err
		}
		if t.Kind == taskDelete {
			// A server that cannot be removed from its host stays visible in ERROR.
			_, err := tx.Exec(ctx, "UPDATE servers SET vm_state = $2, task_state = NULL, fault = $3, updated_at = now() WHERE id = $1", t.ServerID, VMError, fault)
			return err
		}
		srv, err := s.getServer(ctx, tx, t.ServerID)
		if err != nil {
			return nil // deleted meanwhile
		}
		if _, err := tx.Exec(ctx, "UPDATE servers SET vm_state = $2, task_state = NULL, fault = $3, updated_at = now() WHERE id = $1",
			t.ServerID, VMError, fault); err != nil {
			return err
		}
		return emitServer(ctx, tx, "error", srv, map[string]any{"fault": faultMessage(cause), "task": t.Kind})
	})
}

func faultMessage(err error) string {
	if e, internal := osapi.AsError(err); !internal {
		return e.Message
	}
	return err.Error()
}

// Workers runs the task workers until ctx ends.
func (s *Service) Workers(ctx context.Context) {
	var wg sync.WaitGroup
	for range max(s.cfg.Workers, 0) {
		wg.Go(func() {
			for ctx.Err() == nil {
				ran, err := s.RunTaskOnce(ctx)
				if err != nil && ctx.Err() == nil {
					slog.Error("task worker", "err", err)
				}
				if ran {
					continue
				}
				select {
				case <-ctx.Done():
				case <-s.wake:
				case <-time.After(s.cfg.PollInterval):
				}
			}
		})
	}
	wg.Wait()
}

// run dispatches a task to its handler.
func (s *Service) run(ctx context.Context, t *task) error {
	switch t.Kind {
	case taskBuild:
		return s.build(ctx, t)
	case taskDelete:
		return s.destroy(ctx, t)
	case taskStart, taskStop, taskReboot:
		return s.power(ctx, t)
	case taskResize, taskConfirm, taskRevert:
		return s.resize(ctx, t)
	case taskSnapshot:
		return s.snapshot(ctx, t)
	}
	return permanent("unknown task kind %q", t.Kind)
}
