// Package loop gives Stratus background work one shape: a RunOnce that
// tests call directly, run every Interval between Start and Stop, with
// failures logged and retried on the next tick.
package loop

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Loop runs RunOnce periodically.
type Loop struct {
	Name     string
	Interval time.Duration
	RunOnce  func(ctx context.Context) error
	// Wake, when set, runs RunOnce early each time it fires (a change to
	// act on before the next tick).
	Wake <-chan struct{}

	cancel context.CancelFunc
	done   sync.WaitGroup
}

// Start runs RunOnce now and then every Interval until Stop.
func (l *Loop) Start(ctx context.Context) {
	ctx, l.cancel = context.WithCancel(ctx)
	l.done.Go(func() {
		ticker := time.NewTicker(l.Interval)
		defer ticker.Stop()
		for {
			if err := l.RunOnce(ctx); err != nil && !errors.Is(err, context.Canceled) {
				slog.Warn("background loop failed; retrying", "loop", l.Name, "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			case <-l.Wake:
			}
		}
	})
}

// Stop ends the loop and waits for a running RunOnce to return.
func (l *Loop) Stop() {
	if l.cancel != nil {
		l.cancel()
	}
	l.done.Wait()
}
