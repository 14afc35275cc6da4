package db

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Embedded is a private PostgreSQL server living in a state directory. It
// listens only on a Unix socket inside that directory, so several Stratus
// services on one machine can share it and nothing else can reach it.
type Embedded struct {
	Dir     string // <state dir>/postgres: socket directory, data in Dir/data
	binDir  string
	cred    *syscall.Credential
	started bool // we started it, so we stop it
}

// embeddedPort only names the socket file; no TCP port is opened.
const embeddedPort = 5432

// StartEmbedded starts (or adopts an already running) private server under
// stateDir. When run as root the server runs as the "postgres" user, since
// PostgreSQL refuses to run as root. settings are extra "name=value" server
// settings (tests turn durability off).
func StartEmbedded(ctx context.Context, stateDir string, settings ...string) (*Embedded, error) {
	binDir, err := findPostgresBin()
	if err != nil {
		return nil, err
	}
	e := &Embedded{Dir: filepath.Join(stateDir, "postgres"), binDir: binDir}
	if os.Geteuid() == 0 {
		if e.cred, err = postgresCredential(); err != nil {
			return nil, err
		}
	}
	if err := e.prepareDirs(stateDir); err != nil {
		return nil, err
	}
	if e.running(ctx) {
		slog.Info("using running embedded PostgreSQL", "dir", e.Dir)
		return e, e.ensureDatabase(ctx)
	}
	if _, err := os.Stat(filepath.Join(e.dataDir(), "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if out, err := e.run(ctx, "initdb", "-D", e.dataDir(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
			return nil, fmt.Errorf("initdb: %w: %s", err, out)
		}
	}
	logFile := filepath.Join(e.Dir, "server.log")
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses='' -c max_connections=300", embeddedPort, e.Dir)
	for _, s := range settings {
		opts += " -c " + s
	}
	if out, err := e.run(ctx, "pg_ctl", "-D", e.dataDir(), "-l", logFile, "-w", "-t", "60", "-o", opts, "start"); err != nil {
		return nil, fmt.Errorf("starting embedded PostgreSQL (log in %s): %w: %s", logFile, err, out)
	}
	e.started = true
	slog.Info("started embedded PostgreSQL", "dir", e.Dir)
	return e, e.ensureDatabase(ctx)
}

// URL is the connection string for the embedded server's database.
func (e *Embedded) URL() string {
	q := url.Values{"host": {e.Dir}, "port": {strconv.Itoa(embeddedPort)}, "sslmode": {"disable"}}
	return "postgres://postgres@/stratus?" + q.Encode()
}

// Stop shuts the server down if this process started it.
func (e *Embedded) Stop(ctx context.Context) error {
	if !e.started {
		return nil
	}
	out, err := e.run(ctx, "pg_ctl", "-D", e.dataDir(), "-m", "fast", "-w", "stop")
	if err != nil {
		return fmt.Errorf("stopping embedded PostgreSQL: %w: %s", err, out)
	}
	return nil
}

func (e *Embedded) dataDir() string { return filepath.Join(e.Dir, "data") }

func (e *Embedded) prepareDirs(stateDir string) error {
	if err := os.MkdirAll(e.dataDir(), 0o700); err != nil {
		return err
	}
	if e.cred == nil {
		return nil
	}
	// The server user must be able to reach its directory through ours.
	if err := os.Chmod(stateDir, 0o711); err != nil {
		return err
	}
	for _, d := range []string{e.Dir, e.dataDir()} {
		if err := os.Chown(d, int(e.cred.Uid), int(e.cred.Gid)); err != nil {
			return err
		}
	}
	if out, err := e.run(context.Background(), "postgres", "--version"); err != nil {
		return fmt.Errorf("user postgres cannot run %s: %w: %s", e.binDir, err, out)
	}
	probe := exec.Command("test", "-w", e.Dir)
	probe.SysProcAttr = &syscall.SysProcAttr{Credential: e.cred}
	if probe.Run() != nil {
		return fmt.Errorf("user postgres cannot reach %s: give every parent directory search (x) permission or choose a state dir outside a private home", e.Dir)
	}
	return nil
}

func (e *Embedded) running(ctx context.Context) bool {
	_, err := e.run(ctx, "pg_ctl", "-D", e.dataDir(), "status")
	return err == nil
}

func (e *Embedded) ensureDatabase(ctx context.Context) error {
	out, err := e.run(ctx, "psql", "-h", e.Dir, "-p", strconv.Itoa(embeddedPort), "-U", "postgres", "-d", "postgres",
		"-tAc", "SELECT 1 FROM pg_database WHERE datname = 'stratus'")
	if err != nil {
		return fmt.Errorf("checking database: %w: %s", err, out)
	}
	if strings.TrimSpace(string(out)) == "1" {
		return nil
	}
	if out, err := e.run(ctx, "createdb", "-h", e.Dir, "-p", strconv.Itoa(embeddedPort), "-U", "postgres", "stratus"); err != nil &&
		!bytes.Contains(out, []byte("already exists")) {
		return fmt.Errorf("createdb: %w: %s", err, out)
	}
	return nil
}

func (e *Embedded) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(e.binDir, tool), args...)
	cmd.Dir = "/"
	if e.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: e.cred}
	}
	// Detach from our process group so Ctrl-C reaches cloudd, which then
	// stops the server in order, instead of killing both at once.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.WaitDelay = 5 * time.Second
	return cmd.CombinedOutput()
}

func postgresCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a 'postgres' user for the embedded PostgreSQL (install postgresql-15): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// findPostgresBin picks STRATUS_PG_BIN, else the newest
// /usr/lib/postgresql/<version>/bin, else the directory of pg_ctl on PATH.
func findPostgresBin() (string, error) {
	if dir := os.Getenv("STRATUS_PG_BIN"); dir != "" {
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no PostgreSQL server binaries found: install postgresql-15 (scripts/setup.sh does) or set DATABASE_URL")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}
