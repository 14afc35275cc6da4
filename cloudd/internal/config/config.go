// Package config reads cloudd's settings from flags, each with an
// environment-variable equivalent, and fills in the embedded defaults.
package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Config is everything cloudd serve needs to know.
type Config struct {
	Listen        string   // STRATUS_LISTEN
	PublicURL     string   // STRATUS_PUBLIC_URL; default http://<listen address>
	StateDir      string   // STRATUS_STATE_DIR
	DatabaseURL   string   // DATABASE_URL; empty: embedded PostgreSQL in the state dir
	AdminPassword string   // STRATUS_ADMIN_PASSWORD; empty: generated at bootstrap
	Hosts         []string // STRATUS_HOSTS (comma-separated) or repeated --host: libvirt URIs
	LogLevel      string   // STRATUS_LOG_LEVEL: debug, info, warn, error
	Scheduler     string   // STRATUS_SCHEDULER: spread (default) or pack
}

// DefaultListen is Keystone's customary port, on loopback only: exposing
// the cloud to a network is an explicit choice.
const DefaultListen = "127.0.0.1:5000"

// DefaultStateDir is /var/lib/stratus for root, else under the user's
// XDG state directory.
func DefaultStateDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/stratus"
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "stratus")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "state", "stratus")
}

// Parse reads args (without the subcommand) over the environment.
func Parse(name string, args []string) (Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c := Config{}
	env := func(key, def string) string {
		if v, ok := os.LookupEnv(key); ok {
			return v
		}
		return def
	}
	fs.StringVar(&c.Listen, "listen", env("STRATUS_LISTEN", DefaultListen), "address to serve the APIs on (STRATUS_LISTEN)")
	fs.StringVar(&c.PublicURL, "public-url", env("STRATUS_PUBLIC_URL", ""), "base URL clients reach the APIs at (STRATUS_PUBLIC_URL); default http://<listen>")
	fs.StringVar(&c.StateDir, "state-dir", env("STRATUS_STATE_DIR", DefaultStateDir()), "state directory (STRATUS_STATE_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("DATABASE_URL", ""), "PostgreSQL URL (DATABASE_URL); empty runs a private PostgreSQL in the state dir")
	fs.StringVar(&c.AdminPassword, "admin-password", env("STRATUS_ADMIN_PASSWORD", ""), "admin password set at bootstrap (STRATUS_ADMIN_PASSWORD); empty generates one")
	fs.StringVar(&c.LogLevel, "log-level", env("STRATUS_LOG_LEVEL", "info"), "log level: debug, info, warn, error (STRATUS_LOG_LEVEL)")
	fs.StringVar(&c.Scheduler, "scheduler", env("STRATUS_SCHEDULER", "spread"), "how servers are weighed onto hosts: spread or pack (STRATUS_SCHEDULER)")
	fs.Func("host", "libvirt URI of a hypervisor host, repeatable (STRATUS_HOSTS, comma-separated)", func(s string) error {
		c.Hosts = append(c.Hosts, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if c.Scheduler != "spread" && c.Scheduler != "pack" {
		return Config{}, fmt.Errorf("scheduler must be spread or pack, not %q", c.Scheduler)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if len(c.Hosts) == 0 {
		for h := range strings.SplitSeq(os.Getenv("STRATUS_HOSTS"), ",") {
			if h = strings.TrimSpace(h); h != "" {
				c.Hosts = append(c.Hosts, h)
			}
		}
	}
	abs, err := filepath.Abs(c.StateDir)
	if err != nil {
		return Config{}, err
	}
	c.StateDir = abs
	return c, nil
}
