package network

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/stratus-cloud/stratus/cloudd/internal/dataplane"
	"github.com/stratus-cloud/stratus/internal/loop"
)

// Host is a hypervisor host as the dataplane loop sees it.
type Host struct{ Name, URI string }

// Dataplanes keeps every host's dataplane converged on its desired state:
// after each networking change (the service's wake-up) and every Interval
// as a resync that mends drift, restarts and missed wake-ups.
type Dataplanes struct {
	Network *Service
	Hosts   func(ctx context.Context) ([]Host, error)
	// Applier returns the dataplane of a host by its libvirt URI, nil when
	// it has none (for example a remote host this process cannot
	// configure). A nil Applier means no host has a dataplane.
	Applier  func(uri string) dataplane.Applier
	Interval time.Duration // default 10s

	logged   sync.Map // hosts whose missing dataplane was logged once
	applying sync.Map // host name -> *sync.Mutex
}

// Loop returns the background loop that runs RunOnce.
func (d *Dataplanes) Loop() *loop.Loop {
	interval := d.Interval
	if interval == 0 {
		interval = 10 * time.Second
	}
	return &loop.Loop{Name: "dataplanes", Interval: interval, RunOnce: d.RunOnce, Wake: d.Network.Changed()}
}

// RunOnce applies the desired state of every host that has a dataplane.
// Simulated hosts (libvirt test: URIs) never have one.
func (d *Dataplanes) RunOnce(ctx context.Context) error {
	hosts, err := d.Hosts(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, h := range hosts {
		if err := d.apply(ctx, h); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ApplyHost brings one host's dataplane up to date now; compute calls it
// (through Service.OnBind) after binding a server's ports, so the bridges
// exist before the domain that plugs into them.
func (d *Dataplanes) ApplyHost(ctx context.Context, name string) error {
	hosts, err := d.Hosts(ctx)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		if h.Name == name {
			return d.apply(ctx, h)
		}
	}
	return nil
}

func (d *Dataplanes) apply(ctx context.Context, h Host) error {
	var applier dataplane.Applier
	switch {
	case strings.HasPrefix(h.URI, "test:"):
		d.logOnce(h, "dataplane off for a simulated host: its networks exist only in the API")
		return nil
	case d.Applier != nil:
		applier = d.Applier(h.URI)
	}
	if applier == nil {
		d.logOnce(h, "no dataplane for this host: ports bound to it get no bridges, DHCP or security groups")
		return nil
	}
	// One apply at a time per host: the loop and a server build may meet.
	mu, _ := d.applying.LoadOrStore(h.Name, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	st, err := d.Network.HostState(ctx, h.Name)
	if err == nil {
		err = applier.Apply(ctx, st)
	}
	if err != nil {
		return fmt.Errorf("dataplane of %s: %w", h.Name, err)
	}
	return nil
}

func (d *Dataplanes) logOnce(h Host, msg string) {
	if _, seen := d.logged.LoadOrStore(h.URI, true); !seen {
		slog.Info(msg, "host", h.Name, "uri", h.URI)
	}
}
