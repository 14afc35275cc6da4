// Package tasks owns durable background work kept in a PostgreSQL table: a
// worker leases a task, keeps extending the lease while it runs, and
// records the outcome; a lease that runs out (its worker died) makes the
// task eligible again, and a task cut short by shutdown is handed back at
// once. Handlers must therefore be idempotent. A subject's tasks run one at
// a time, in order.
//
// The table lives in the owning service's schema:
//
//	CREATE TABLE <name> (
//	    id bigserial PRIMARY KEY, subject text NOT NULL, kind text NOT NULL,
//	    args jsonb NOT NULL DEFAULT '{}',
//	    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
//	    attempts int NOT NULL DEFAULT 0, last_error text, leased_until timestamptz,
//	    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
//
// Compute's server tasks (subject column server_id) and block storage's
// volume tasks both run on it.
package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Task is a leased unit of work.
type Task struct {
	ID       int64
	Subject  string
	Kind     string
	Args     json.RawMessage
	Attempts int
}

// Runner leases and runs the tasks of one table.
type Runner struct {
	Pool  *pgxpool.Pool
	Table string
	// SubjectColumn names the subject column (default "subject"; compute's
	// tasks table calls it server_id).
	SubjectColumn string
	// Run does the work. An error marked Permanent, or any error on the
	// last attempt, fails the task for good and calls Fail.
	Run func(ctx context.Context, t Task) error
	// Fail records, in tx, what a task's failure means for its subject.
	Fail func(ctx context.Context, tx pgx.Tx, t Task, cause error) error

	Workers      int           // default 4
	Lease        time.Duration // default 5m
	MaxAttempts  int           // default 3
	PollInterval time.Duration // default 200ms

	wakeOnce sync.Once
	wake     chan struct{}
}

func (r *Runner) defaults() {
	r.wakeOnce.Do(func() {
		r.wake = make(chan struct{}, 1)
		if r.SubjectColumn == "" {
			r.SubjectColumn = "subject"
		}
		if r.Workers == 0 {
			r.Workers = 4
		}
		if r.Lease == 0 {
			r.Lease = 5 * time.Minute
		}
		if r.MaxAttempts == 0 {
			r.MaxAttempts = 3
		}
		if r.PollInterval == 0 {
			r.PollInterval = 200 * time.Millisecond
		}
	})
}

// Enqueue records work in tx; it runs once tx commits (call Nudge then).
// args are stored as JSON (a json.RawMessage as it is).
func (r *Runner) Enqueue(ctx context.Context, tx pgx.Tx, subject, kind string, args any) error {
	raw, err := json.Marshal(args)
	if err != nil {
		return err
	}
	r.defaults()
	_, err = tx.Exec(ctx, "INSERT INTO "+r.Table+" ("+r.SubjectColumn+", kind, args) VALUES ($1, $2, $3)", subject, kind, raw)
	return err
}

// Nudge wakes an idle worker.
func (r *Runner) Nudge() {
	r.defaults()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Runner) lease(ctx context.Context) (*Task, error) {
	subject := r.SubjectColumn
	rows, _ := r.Pool.Query(ctx, `UPDATE `+r.Table+` SET leased_until = now() + $1::interval, attempts = attempts + 1, updated_at = now()
		WHERE id = (
			SELECT t.id FROM `+r.Table+` t
			 WHERE t.state = 'pending' AND (t.leased_until IS NULL OR t.leased_until < now())
			   AND NOT EXISTS (SELECT 1 FROM `+r.Table+` e WHERE e.`+subject+` = t.`+subject+` AND e.state = 'pending' AND e.id < t.id)
			 ORDER BY t.id FOR UPDATE SKIP LOCKED LIMIT 1)
		RETURNING id, `+subject+`, kind, args, attempts`, r.Lease.String())
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Task])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return &t, err
}

// RunOnce leases and runs one task; it reports whether there was one.
func (r *Runner) RunOnce(ctx context.Context) (bool, error) {
	r.defaults()
	t, err := r.lease(ctx)
	if err != nil || t == nil {
		return false, err
	}
	stop := r.keepLease(ctx, t.ID)
	err = r.Run(ctx, *t)
	stop()
	book := context.WithoutCancel(ctx)
	switch {
	case ctx.Err() != nil:
		// Cut short by shutdown, whatever the handler made of it (it may
		// have taken its canceled queries for "nothing to do"): hand the
		// task back; handlers are idempotent.
		_, err = r.Pool.Exec(book, "UPDATE "+r.Table+" SET leased_until = NULL, attempts = attempts - 1, updated_at = now() WHERE id = $1", t.ID)
	case err == nil:
		_, err = r.Pool.Exec(book, "UPDATE "+r.Table+" SET state = 'done', leased_until = NULL, updated_at = now() WHERE id = $1", t.ID)
	case t.Attempts >= r.MaxAttempts || IsPermanent(err):
		slog.Warn("task failed for good", "table", r.Table, "task", t.ID, "kind", t.Kind, "subject", t.Subject, "err", err)
		cause := err
		err = pgx.BeginFunc(book, r.Pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(book, "UPDATE "+r.Table+" SET state = 'failed', leased_until = NULL, last_error = $2, updated_at = now() WHERE id = $1",
				t.ID, cause.Error()); err != nil {
				return err
			}
			return r.Fail(book, tx, *t, cause)
		})
	default:
		slog.Info("task failed; will retry", "table", r.Table, "task", t.ID, "kind", t.Kind, "subject", t.Subject, "attempt", t.Attempts, "err", err)
		_, err = r.Pool.Exec(book, "UPDATE "+r.Table+" SET leased_until = now() + $2::interval, last_error = $3, updated_at = now() WHERE id = $1",
			t.ID, (time.Duration(t.Attempts) * time.Second).String(), err.Error())
	}
	return true, err
}

func (r *Runner) keepLease(ctx context.Context, id int64) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(r.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				_, _ = r.Pool.Exec(ctx, "UPDATE "+r.Table+" SET leased_until = now() + $2::interval WHERE id = $1", id, r.Lease.String())
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// Work runs the workers until ctx ends.
func (r *Runner) Work(ctx context.Context) {
	r.defaults()
	var wg sync.WaitGroup
	for range max(r.Workers, 0) {
		wg.Go(func() {
			for ctx.Err() == nil {
				ran, err := r.RunOnce(ctx)
				if err != nil && ctx.Err() == nil {
					slog.Error("task worker", "table", r.Table, "err", err)
				}
				if ran {
					continue
				}
				select {
				case <-ctx.Done():
				case <-r.wake:
				case <-time.After(r.PollInterval):
				}
			}
		})
	}
	wg.Wait()
}

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// Permanent returns an error that fails its task without retries.
func Permanent(format string, args ...any) error {
	return permanentError{fmt.Errorf(format, args...)}
}

// IsPermanent reports whether err was made by Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
