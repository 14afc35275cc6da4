// Command cloudd is the Stratus control plane: it serves the OpenStack
// identity API (and, as they arrive, compute, network, block storage and
// image) and reports the health of a running cloud.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/stratus-cloud/stratus/cloudd/internal/config"
	"github.com/stratus-cloud/stratus/cloudd/internal/server"
	"github.com/stratus-cloud/stratus/cloudd/internal/status"
)

const usage = `usage: cloudd <command> [flags]

commands:
  serve    run the control plane (cloudd serve -h for settings)
  status   report every service, endpoint and host of a running cloud
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "serve":
		err = serve(ctx, args)
	case "status":
		var healthy bool
		healthy, err = status.Run(ctx, os.Stdout, args)
		if err == nil && !healthy {
			os.Exit(1)
		}
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "cloudd: unknown command %q\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cloudd:", err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, args []string) error {
	cfg, err := config.Parse("cloudd serve", args)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("log level: %w", err)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	return srv.Serve(ctx)
}
