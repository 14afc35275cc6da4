package tasks_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stratus-cloud/stratus/internal/tasks"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestShutdownHandsTaskBack: a handler cut short by shutdown that reports
// success (it read its canceled query as "nothing to do") must not mark
// its task done: the task is handed back and runs again.
func TestShutdownHandsTaskBack(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `CREATE TABLE work (
		id bigserial PRIMARY KEY, subject text NOT NULL, kind text NOT NULL,
		args jsonb NOT NULL DEFAULT '{}',
		state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
		attempts int NOT NULL DEFAULT 0, last_error text, leased_until timestamptz,
		created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	runs := 0
	var cancel context.CancelFunc
	r := &tasks.Runner{Pool: pool, Table: "work",
		Run: func(ctx context.Context, _ tasks.Task) error {
			runs++
			if runs == 1 {
				cancel() // shutdown arrives mid-task
			}
			return nil
		},
		Fail: func(context.Context, pgx.Tx, tasks.Task, error) error { return nil }}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return r.Enqueue(ctx, tx, "s1", "k", nil) }); err != nil {
		t.Fatal(err)
	}

	runCtx, c := context.WithCancel(ctx)
	cancel = c
	if _, err := r.RunOnce(runCtx); err != nil {
		t.Fatal(err)
	}
	var state string
	var attempts int
	if err := pool.QueryRow(ctx, "SELECT state, attempts FROM work").Scan(&state, &attempts); err != nil {
		t.Fatal(err)
	}
	if state != "pending" || attempts != 0 {
		t.Fatalf("after shutdown mid-task: state %s, attempts %d; want pending, 0", state, attempts)
	}

	if ran, err := r.RunOnce(ctx); err != nil || !ran {
		t.Fatalf("handed-back task not run again: ran %v, err %v", ran, err)
	}
	if err := pool.QueryRow(ctx, "SELECT state FROM work").Scan(&state); err != nil {
		t.Fatal(err)
	}
	if state != "done" || runs != 2 {
		t.Fatalf("state %s after %d runs; want done after 2", state, runs)
	}
}
