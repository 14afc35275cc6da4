package outbox_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/outbox"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const ddl = `CREATE TABLE events (
	id bigserial PRIMARY KEY, seq bigint UNIQUE, event_id uuid NOT NULL, source text NOT NULL, type text NOT NULL,
	subject text NOT NULL, time timestamptz NOT NULL, data jsonb NOT NULL);
CREATE INDEX events_unsequenced ON events (id) WHERE seq IS NULL;`

func newFeed(t *testing.T) (*outbox.Feed, *pgxpool.Pool) {
	ctx := context.Background()
	pool, err := db.Open(ctx, testenv.Database(t), "public")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, ddl); err != nil {
		t.Fatal(err)
	}
	return &outbox.Feed{Pool: pool}, pool
}

func emit(t *testing.T, tx pgx.Tx, subject string) {
	t.Helper()
	if err := outbox.Emit(context.Background(), tx, "/test", "test.thing.created", subject, map[string]string{"name": subject}); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, f *outbox.Feed, after int64) []outbox.Event {
	t.Helper()
	events, err := f.Read(context.Background(), after, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// A transaction that began writing first but commits last must still be
// delivered, after the ones that committed before it: a cursor never
// passes an event it has not returned.
func TestLateCommitIsNeitherLostNorRepeated(t *testing.T) {
	ctx := context.Background()
	feed, pool := newFeed(t)

	early, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	emit(t, early, "early") // takes the lower row id

	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { emit(t, tx, "late"); return nil })
	if err != nil {
		t.Fatal(err)
	}
	rolledBack, _ := pool.Begin(ctx)
	emit(t, rolledBack, "never")
	_ = rolledBack.Rollback(ctx)

	first := read(t, feed, 0)
	if len(first) != 1 || first[0].Subject != "late" {
		t.Fatalf("first read = %+v, want only the committed 'late'", first)
	}
	cursor := first[0].Seq
	if err := early.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	second := read(t, feed, cursor)
	if len(second) != 1 || second[0].Subject != "early" || second[0].Seq <= cursor {
		t.Fatalf("after the late commit = %+v, want 'early' past cursor %d", second, cursor)
	}
	if again := read(t, feed, second[0].Seq); len(again) != 0 {
		t.Fatalf("events repeated: %+v", again)
	}
	if all := read(t, feed, 0); len(all) != 2 {
		t.Fatalf("whole feed = %d events, want 2 (the rolled-back one never appears)", len(all))
	}
}

func TestLongPollWakesForNewEvent(t *testing.T) {
	ctx := context.Background()
	feed, pool := newFeed(t)
	got := make(chan []outbox.Event)
	go func() {
		events, _ := feed.Read(ctx, 0, 10, 10e9)
		got <- events
	}()
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { emit(t, tx, "wake"); return nil }); err != nil {
		t.Fatal(err)
	}
	if events := <-got; len(events) != 1 || events[0].Subject != "wake" {
		t.Fatalf("long poll returned %+v", events)
	}
}
