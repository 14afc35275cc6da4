package compute

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/tasks"
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

// nudge wakes an idle worker.
func (s *Service) nudge() { s.tasks.Nudge() }

// newRunner runs the tasks table through the shared runner (internal/tasks:
// leases, lease extension, retries with backoff, hand-back on shutdown),
// keyed by server, so a server's tasks run in order.
func (s *Service) newRunner() *tasks.Runner {
	return &tasks.Runner{Pool: s.pool, Table: "tasks", SubjectColumn: "server_id", Run: s.run, Fail: s.fail,
		Workers: s.cfg.Workers, Lease: s.cfg.TaskLease, MaxAttempts: s.cfg.MaxAttempts, PollInterval: s.cfg.PollInterval}
}

// RunTaskOnce leases and runs one task. It reports whether there was one.
func (s *Service) RunTaskOnce(ctx context.Context) (bool, error) { return s.tasks.RunOnce(ctx) }

// Workers runs the task workers until ctx ends.
func (s *Service) Workers(ctx context.Context) { s.tasks.Work(ctx) }

// taskServer reads a task's server. gone (with a nil error) means it was
// deleted meanwhile and there is nothing left to do; any other error (a
// canceled or failed query) is returned so the task is retried.
func (s *Service) taskServer(ctx context.Context, id string) (srv Server, gone bool, err error) {
	srv, err = s.getServer(ctx, s.pool, id)
	if e, _ := osapi.AsError(err); err != nil && e.Status == http.StatusNotFound {
		return Server{}, true, nil
	}
	return srv, false, err
}

// fail records, in the transaction that fails the task for good, that its
// server is in ERROR with a fault.
func (s *Service) fail(ctx context.Context, tx pgx.Tx, t tasks.Task, cause error) error {
	fault, _ := json.Marshal(Fault{Code: http.StatusInternalServerError, Message: faultMessage(cause), Created: s.cfg.Now().UTC()})
	if t.Kind == taskDelete {
		// A server that cannot be removed from its host stays visible in ERROR.
		_, err := tx.Exec(ctx, "UPDATE servers SET vm_state = $2, task_state = NULL, fault = $3, updated_at = now() WHERE id = $1", t.Subject, VMError, fault)
		return err
	}
	srv, err := s.getServer(ctx, tx, t.Subject)
	if e, _ := osapi.AsError(err); err != nil && e.Status == http.StatusNotFound {
		return nil // deleted meanwhile
	}
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE servers SET vm_state = $2, task_state = NULL, fault = $3, updated_at = now() WHERE id = $1",
		t.Subject, VMError, fault); err != nil {
		return err
	}
	return emitServer(ctx, tx, "error", srv, map[string]any{"fault": faultMessage(cause), "task": t.Kind})
}

func faultMessage(err error) string {
	if e, internal := osapi.AsError(err); !internal {
		return e.Message
	}
	return err.Error()
}

// run dispatches a task to its handler.
func (s *Service) run(ctx context.Context, t tasks.Task) error {
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
	return tasks.Permanent("unknown task kind %q", t.Kind)
}
