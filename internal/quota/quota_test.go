package quota_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/quota"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func newStore(t *testing.T) *quota.Store {
	ctx := context.Background()
	pool, err := db.Open(ctx, testenv.Database(t), "public")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `CREATE TABLE quotas (project_id text NOT NULL, resource text NOT NULL,
		hard_limit bigint NOT NULL, PRIMARY KEY (project_id, resource));
		CREATE TABLE widgets (id serial PRIMARY KEY, project_id text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return &quota.Store{Pool: pool, Defaults: map[string]int64{"widgets": 10}}
}

func TestLimitsDefaultsAndOverrides(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.Set(ctx, "p1", map[string]int64{"widgets": 3}); err != nil {
		t.Fatal(err)
	}
	for project, want := range map[string]int64{"p1": 3, "p2": 10} {
		limits, err := s.Limits(ctx, s.Pool, project)
		if err != nil || limits["widgets"] != want {
			t.Errorf("%s: widgets = %d (%v), want %d", project, limits["widgets"], err, want)
		}
	}
	for _, bad := range []map[string]int64{{"gadgets": 1}, {"widgets": -2}} {
		if err := s.Set(ctx, "p1", bad); !errors.Is(err, osapi.ErrBadRequest) {
			t.Errorf("Set(%v) = %v, want a bad request", bad, err)
		}
	}
	if err := s.Reset(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if limits, _ := s.Limits(ctx, s.Pool, "p1"); limits["widgets"] != 10 {
		t.Errorf("after reset: %d", limits["widgets"])
	}
}

// Thirty concurrent creates against a limit of five: exactly five win.
func TestReserveIsExactUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.Set(ctx, "p1", map[string]int64{"widgets": 5}); err != nil {
		t.Fatal(err)
	}
	count := func(ctx context.Context, tx pgx.Tx) (n int64, err error) {
		err = tx.QueryRow(ctx, "SELECT count(*) FROM widgets WHERE project_id = 'p1'").Scan(&n)
		return n, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	over, created := 0, 0
	for range 30 {
		wg.Go(func() {
			err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
				if err := s.Reserve(ctx, tx, "p1", "widgets", 1, count); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, "INSERT INTO widgets (project_id) VALUES ('p1')")
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			var overErr *quota.OverError
			switch {
			case err == nil:
				created++
			case errors.As(err, &overErr) && errors.Is(err, osapi.ErrOverQuota):
				over++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if created != 5 || over != 25 {
		t.Fatalf("created %d, refused %d; want 5 and 25", created, over)
	}
}
