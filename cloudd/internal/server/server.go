// Package server wires cloudd together: configuration, PostgreSQL (embedded
// or external), migrations, bootstrap, the HTTP router with its shared
// middleware, background loops, and orderly shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stratus-cloud/stratus/cloudd/internal/compute"
	"github.com/stratus-cloud/stratus/cloudd/internal/config"
	"github.com/stratus-cloud/stratus/cloudd/internal/dataplane"
	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor"
	"github.com/stratus-cloud/stratus/cloudd/internal/identity"
	"github.com/stratus-cloud/stratus/cloudd/internal/image"
	"github.com/stratus-cloud/stratus/cloudd/internal/network"
	"github.com/stratus-cloud/stratus/cloudd/internal/schema"
	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/loop"
)

// Server is a running cloudd.
type Server struct {
	cfg       config.Config
	PublicURL string
	Identity  *identity.Service
	Images    *image.Service
	Compute   *compute.Service
	Network   *network.Service
	Hosts     *hypervisor.Pool
	Pool      *pgxpool.Pool

	embedded *db.Embedded
	listener net.Listener
	http     *http.Server
	loops    []*loop.Loop
}

// Tuning adjusts internals that operators have no reason to touch and
// tests do (shorter leases and sync intervals).
type Tuning struct {
	Compute compute.Config
	// Dataplane returns the dataplane of a host by its libvirt URI, nil
	// for none; a nil Dataplane leaves every host without one (networks
	// exist only in the API).
	Dataplane func(uri string) dataplane.Applier
}

// New prepares a cloudd: database up and migrated, cloud bootstrapped,
// hosts connected, listener bound. Serve starts answering.
func New(ctx context.Context, cfg config.Config, tuning ...Tuning) (s *Server, err error) {
	var tune Tuning
	if len(tuning) > 0 {
		tune = tuning[0]
	}
	s = &Server{cfg: cfg}
	defer func() {
		if err != nil {
			s.release(context.WithoutCancel(ctx))
		}
	}()
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	url := cfg.DatabaseURL
	if url == "" {
		if s.embedded, err = db.StartEmbedded(ctx, cfg.StateDir); err != nil {
			return nil, err
		}
		url = s.embedded.URL()
	}
	if s.Pool, err = db.Open(ctx, url, schema.Name); err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, s.Pool, schema.Name, schema.Migrations); err != nil {
		return nil, err
	}
	s.Identity = identity.New(s.Pool, identity.Config{})
	if err := s.Identity.SyncTrust(ctx); err != nil {
		return nil, err
	}
	if s.Images, err = image.New(s.Pool, image.Config{StateDir: cfg.StateDir}); err != nil {
		return nil, err
	}
	// Storage pool directories live on each host, next to libvirt's own,
	// where QEMU's user can reach them whatever our state dir's mode.
	s.Hosts = hypervisor.NewPoolWithConfig(hypervisor.Config{
		ImagesDir:    "/var/lib/libvirt/stratus/images",
		InstancesDir: "/var/lib/libvirt/stratus/instances",
	})
	s.Network = network.New(s.Pool)
	tune.Compute.Pack = cfg.Scheduler == "pack"
	s.Compute = compute.New(s.Pool, s.Images, s.Hosts, tune.Compute)
	s.Compute.Networking = s.Network
	if s.listener, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, err
	}
	s.PublicURL = cfg.PublicURL
	if s.PublicURL == "" {
		s.PublicURL = "http://" + s.listener.Addr().String()
	}
	if err := s.bootstrap(ctx); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if err := s.Compute.EnsureDefaultFlavors(ctx); err != nil {
		return nil, fmt.Errorf("default flavors: %w", err)
	}
	if err := s.Compute.ConnectHosts(ctx, s.defaultHosts(ctx)); err != nil {
		return nil, fmt.Errorf("hosts: %w", err)
	}
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	dataplanes := &network.Dataplanes{Network: s.Network, Applier: tune.Dataplane, Hosts: s.dataplaneHosts}
	s.Network.OnBind = dataplanes.ApplyHost
	s.loops = []*loop.Loop{s.Identity.TrustLoop(), s.Compute.ReconcileLoop(), dataplanes.Loop()}
	return s, nil
}

// Serve answers requests until ctx ends, then shuts down in order: stop
// accepting, let requests in flight finish, stop loops, close the database.
func (s *Server) Serve(ctx context.Context) error {
	for _, l := range s.loops {
		l.Start(ctx)
	}
	workCtx, stopWork := context.WithCancel(ctx)
	var workers sync.WaitGroup
	workers.Go(func() { s.Compute.Workers(workCtx) })
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	slog.Info("cloudd serving", "url", s.PublicURL, "state_dir", s.cfg.StateDir)
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		slog.Info("cloudd shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		err = s.http.Shutdown(shutdownCtx)
	}
	stopWork() // a task cut short resumes on the next start, from its lease
	workers.Wait()
	s.release(context.WithoutCancel(ctx))
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// defaultHosts are the configured hosts; with none configured and none
// registered before, the local hypervisor when libvirtd answers, else
// libvirt's test driver.
func (s *Server) defaultHosts(ctx context.Context) []string {
	if len(s.cfg.Hosts) > 0 {
		return s.cfg.Hosts
	}
	if known, err := s.Compute.ListHosts(ctx); err != nil || len(known) > 0 {
		return nil
	}
	probe := hypervisor.NewPool()
	defer probe.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := probe.Add(localHypervisor).Info(ctx); err != nil {
		slog.Info("libvirtd does not answer; using libvirt's test driver as the only host", "uri", simulatedHost, "err", err)
		return []string{simulatedHost}
	}
	return []string{localHypervisor}
}

// dataplaneHosts are the compute hosts, by the names ports are bound to.
func (s *Server) dataplaneHosts(ctx context.Context) ([]network.Host, error) {
	hosts, err := s.Compute.ListHosts(ctx)
	out := make([]network.Host, len(hosts))
	for i, h := range hosts {
		out[i] = network.Host{Name: h.Name, URI: h.URI}
	}
	return out, err
}

const (
	localHypervisor = "qemu:///system"
	simulatedHost   = "test:///default"
)

func (s *Server) release(ctx context.Context) {
	for _, l := range s.loops {
		l.Stop()
	}
	if s.listener != nil {
		_ = s.listener.Close()
	}
	if s.Hosts != nil {
		s.Hosts.Close()
	}
	if s.Pool != nil {
		s.Pool.Close()
	}
	if s.embedded != nil {
		if err := s.embedded.Stop(ctx); err != nil {
			slog.Error("stopping embedded PostgreSQL", "err", err)
		}
	}
}
