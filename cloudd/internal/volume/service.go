// Package volume owns block storage: volumes, volume types, snapshots and
// attachments, the Cinder status machine that guards them, their quotas
// and lifecycle events, and the durable tasks that make, fill, attach,
// grow and remove the disks on the hosts (package hypervisor).
//
// A volume lives on one host, in that host's "stratus-volumes" storage
// pool; it can only be attached to a server on the same host.
package volume

import (
	"context"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stratus-cloud/stratus/cloudd/internal/hypervisor"
	"github.com/stratus-cloud/stratus/cloudd/internal/image"
	"github.com/stratus-cloud/stratus/internal/tasks"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Images is what volumes need of the image service: sources for volumes
// made from an image.
type Images interface {
	Get(ctx context.Context, c *token.Claims, id string) (image.Image, error)
	Open(ctx context.Context, id string) (io.ReadCloser, int64, error)
}

// Config tunes the service; zero values take the defaults.
type Config struct {
	Workers      int           // task workers; default 4, negative for none
	TaskLease    time.Duration // default 5m
	MaxAttempts  int           // default 3
	PollInterval time.Duration // default 200ms
}

// Service is the block storage domain over PostgreSQL and the hosts.
type Service struct {
	pool   *pgxpool.Pool
	Hosts  *hypervisor.Pool
	Images Images
	tasks  *tasks.Runner
}

// New returns the block storage service.
func New(pool *pgxpool.Pool, images Images, hosts *hypervisor.Pool, cfg Config) *Service {
	s := &Service{pool: pool, Hosts: hosts, Images: images}
	s.tasks = &tasks.Runner{Pool: pool, Table: "volume_tasks", Run: s.run, Fail: s.fail,
		Workers: cfg.Workers, Lease: cfg.TaskLease, MaxAttempts: cfg.MaxAttempts, PollInterval: cfg.PollInterval}
	return s
}

// Workers runs the task workers until ctx ends; a task cut short resumes
// on the next start.
func (s *Service) Workers(ctx context.Context) { s.tasks.Work(ctx) }

// RunTaskOnce runs one pending task, for tests; it reports whether there was one.
func (s *Service) RunTaskOnce(ctx context.Context) (bool, error) { return s.tasks.RunOnce(ctx) }

// enqueue records work in tx; callers nudge the workers after commit.
func (s *Service) enqueue(ctx context.Context, tx pgx.Tx, subject, kind string, args any) error {
	return s.tasks.Enqueue(ctx, tx, subject, kind, args)
}
