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
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stratus-cloud/stratus/cloudd/internal/config"
	"github.com/stratus-cloud/stratus/cloudd/internal/identity"
	"github.com/stratus-cloud/stratus/cloudd/internal/schema"
	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/loop"
)

// Server is a running cloudd.
type Server struct {
	cfg       config.Config
	PublicURL string
	Identity  *identity.Service
	Pool      *pgxpool.Pool

	embedded *db.Embedded
	listener net.Listener
	http     *http.Server
	loops    []*loop.Loop
}

// New prepares a cloudd: database up and migrated, cloud bootstrapped,
// listener bound. Serve starts answering.
func New(ctx context.Context, cfg config.Config) (s *Server, err error) {
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
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	s.loops = []*loop.Loop{s.Identity.TrustLoop()}
	return s, nil
}

// Serve answers requests until ctx ends, then shuts down in order: stop
// accepting, let requests in flight finish, stop loops, close the database.
func (s *Server) Serve(ctx context.Context) error {
	for _, l := range s.loops {
		l.Start(ctx)
	}
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
	s.release(context.WithoutCancel(ctx))
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (s *Server) release(ctx context.Context) {
	for _, l := range s.loops {
		l.Stop()
	}
	if s.listener != nil {
		_ = s.listener.Close()
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
