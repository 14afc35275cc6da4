// Package outbox owns lifecycle events: services record them in the same
// transaction as the change they describe (transactional outbox), and the
// feed hands them out in a stable order behind a cursor.
//
// Row ids come from a sequence and so can commit out of order; a reader
// that trusted them could skip an event committed late. Instead each
// committed event gets a feed position (seq) from a sequencer that runs
// under an advisory lock and only ever sees committed rows, so positions
// grow in the order events became visible and a cursor never passes an
// event it has not returned.
//
// The table lives in the owning service's schema:
//
//	CREATE TABLE events (
//	    id bigserial PRIMARY KEY, seq bigint UNIQUE,
//	    event_id uuid NOT NULL, source text NOT NULL, type text NOT NULL,
//	    subject text NOT NULL, time timestamptz NOT NULL, data jsonb NOT NULL);
//	CREATE INDEX events_unsequenced ON events (id) WHERE seq IS NULL;
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stratus-cloud/stratus/internal/db"
)

// Event is a CloudEvents 1.0 event with its feed position.
type Event struct {
	Seq     int64           `json:"seq"`
	ID      string          `json:"id"`
	Source  string          `json:"source"`
	Type    string          `json:"type"`
	Subject string          `json:"subject"`
	Time    time.Time       `json:"time"`
	Data    json.RawMessage `json:"data"`
}

// Emit records an event inside tx; it becomes visible when tx commits and
// disappears with it when tx rolls back.
func Emit(ctx context.Context, tx pgx.Tx, source, typ, subject string, data any) error {
	payload, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encoding %s event: %w", typ, err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO events (event_id, source, type, subject, time, data)
		VALUES ($1, $2, $3, $4, now(), $5)`, uuid.New(), source, typ, subject, payload)
	return err
}

// Feed reads events of one service's schema.
type Feed struct {
	Pool *pgxpool.Pool
	// PollInterval is how often a long poll looks again (default 100ms).
	PollInterval time.Duration
}

// sequence gives committed, unpositioned events their feed positions, in
// id order. Only one sequencer runs at a time across all replicas; a
// caller that finds the lock taken simply reads what is positioned so far.
func (f *Feed) sequence(ctx context.Context) error {
	return pgx.BeginFunc(ctx, f.Pool, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1)", db.LockKey("outbox-sequencer")).Scan(&locked); err != nil || !locked {
			return err
		}
		_, err := tx.Exec(ctx, `
			WITH base AS (SELECT coalesce(max(seq), 0) AS n FROM events),
			     pending AS (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM events WHERE seq IS NULL)
			UPDATE events e SET seq = base.n + pending.rn FROM pending, base WHERE e.id = pending.id`)
		return err
	})
}

// Read returns up to limit events after position after, waiting up to wait
// for the first one to appear.
func (f *Feed) Read(ctx context.Context, after int64, limit int, wait time.Duration) ([]Event, error) {
	deadline := time.Now().Add(wait)
	interval := f.PollInterval
	if interval == 0 {
		interval = 100 * time.Millisecond
	}
	for {
		if err := f.sequence(ctx); err != nil {
			return nil, err
		}
		rows, _ := f.Pool.Query(ctx, `SELECT seq, event_id::text, source, type, subject, time, data
			FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
		events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Event, error) {
			var e Event
			err := row.Scan(&e.Seq, &e.ID, &e.Source, &e.Type, &e.Subject, &e.Time, &e.Data)
			return e, err
		})
		if err != nil || len(events) > 0 || !time.Now().Before(deadline) {
			return events, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(interval, time.Until(deadline))):
		}
	}
}
