// Package testenv starts what Stratus integration tests run against: a real
// PostgreSQL (one throwaway server per test binary, one fresh database per
// test) and, in cloudd's tests, a real cloudd on a loopback port.
package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
)

var (
	pgOnce   sync.Once
	pgServer *db.Embedded
	pgAdmin  string // URL of the maintenance database
	pgErr    error
	dbSeq    atomic.Int64
)

// Main runs a package's tests and stops the shared PostgreSQL afterwards.
// Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if pgServer != nil {
		_ = pgServer.Stop(context.Background())
		_ = os.RemoveAll(strings.TrimSuffix(pgServer.Dir, "/postgres"))
	}
	os.Exit(code)
}

// Database returns the URL of a new, empty database for this test. The
// server is STRATUS_TEST_DATABASE_URL's when set, else a private one this
// process starts once (durability off: tests do not survive crashes).
func Database(t testing.TB) string {
	t.Helper()
	pgOnce.Do(startPostgres)
	if pgErr != nil {
		t.Fatalf("test PostgreSQL: %v", pgErr)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgAdmin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), dbSeq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(pgAdmin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func startPostgres() {
	if admin := os.Getenv("STRATUS_TEST_DATABASE_URL"); admin != "" {
		pgAdmin = admin
		return
	}
	// PostgreSQL runs as the postgres user when we are root, so the state
	// dir must be reachable by it: not under a private t.TempDir.
	dir, err := os.MkdirTemp("", "stratus-testpg-")
	if err != nil {
		pgErr = err
		return
	}
	pgServer, pgErr = db.StartEmbedded(context.Background(), dir,
		"fsync=off", "synchronous_commit=off", "full_page_writes=off")
	if pgErr == nil {
		pgAdmin = strings.Replace(pgServer.URL(), "/stratus?", "/postgres?", 1)
	}
}
