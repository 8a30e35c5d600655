// Command server is the zorgkit example portal: the care portal of a
// provider (client lookup by BSN with consent, CBS data set upload, outcome
// reports) and the municipality's view of the same reports, with small cells
// suppressed. It wires together every zorgkit package as a real portal would.
//
//	go run ./examples/server
//
// starts it on http://localhost:8080 with an embedded SQLite database in
// ./zorgkit-data, demo organisations, users and data. The demo passwords are
// printed once, on the first start. Run with -h for the flags; every flag can
// also be set through the environment variable named in its help text.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run starts the portal and serves until ctx is cancelled. It is main without
// the process: tests call it with their own arguments, environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parseConfig(args, getenv)
	if err != nil {
		return err
	}
	app, err := newApp(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	defer app.Close()
	return app.serve(ctx)
}
