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
	// Applier returns the dataplane of a host, nil when it has none (for
	// example a remote host this process cannot configure). A nil Applier
	// means no host has a dataplane.
	Applier  func(host string) dataplane.Applier
	Interval time.Duration // default 10s

	logged sync.Map // hosts whose missing dataplane was logged once
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
		var applier dataplane.Applier
		switch {
		case strings.HasPrefix(h.URI, "test:"):
			d.logOnce(h, "dataplane off for a simulated host: its networks exist only in the API")
			continue
		case d.Applier != nil:
			applier = d.Applier(h.Name)
		}
		if applier == nil {
			d.logOnce(h, "no dataplane for this host: ports bound to it get no bridges, DHCP or security groups")
			continue
		}
		st, err := d.Network.HostState(ctx, h.Name)
		if err == nil {
			err = applier.Apply(ctx, st)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("dataplane of %s: %w", h.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (d *Dataplanes) logOnce(h Host, msg string) {
	if _, seen := d.logged.LoadOrStore(h.URI, true); !seen {
		slog.Info(msg, "host", h.Name, "uri", h.URI)
	}
}
