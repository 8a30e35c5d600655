package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// debugRoutes are served on the separate debug address (-debug-addr), never
// on the portal's own: /metrics for Prometheus, and the Go runtime's
// profiles, for finding where the time goes under load. The address is the
// protection: bind it to loopback or an operations network only. The
// command line is not served (pprof's /cmdline): it may hold a database
// URL with its password.
func (a *app) debugRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.handler(""))
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// serveDebug serves debugRoutes on the debug address until ctx is cancelled.
func (a *app) serveDebug(ctx context.Context) error {
	l, err := net.Listen("tcp", a.cfg.DebugAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.debugRoutes(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	a.log.Info("debug listening", "url", "http://"+l.Addr().String())
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("debug listener", "err", err)
		}
	}()
	return nil
}
