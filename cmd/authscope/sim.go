package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/authscope/authscope/fetcher/authsim"
)

type simOptions struct {
	addr     string
	alg      string
	tokenTTL time.Duration
	email    string
	password string
}

func newSimCmd(stdout io.Writer) *cobra.Command {
	o := simOptions{}
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve the built-in Better Auth + Convex simulator",
		Long: `Serve the simulator: Better Auth's endpoints under /api/auth (with the Convex
plugin's /convex/token and /convex/jwks), a Convex-like POST /api/query, and a
control API under /_authsim/ that answers loopback clients only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runSim(cmd.Context(), o, stdout) },
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:3210", "address to listen on (loopback unless you say otherwise)")
	f.StringVar(&o.alg, "alg", "EdDSA", "JWT signing algorithm: EdDSA or RS256")
	f.DurationVar(&o.tokenTTL, "token-ttl", 900*time.Second, "Convex JWT lifetime")
	f.StringVar(&o.email, "email", authsim.DefaultEmail, "the default user's email")
	f.StringVar(&o.password, "password", authsim.DefaultPassword, "the default user's password")
	return cmd
}

func runSim(ctx context.Context, o simOptions, stdout io.Writer) error {
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fail(exitUsage, "listen on %s: %w", o.addr, err)
	}
	origin := "http://" + ln.Addr().String()
	srv, err := authsim.New(authsim.Options{Alg: o.alg, TokenTTL: o.tokenTTL, Email: o.email, Password: o.password, Origin: origin})
	if err != nil {
		ln.Close()
		return fail(exitUsage, "%w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/_authsim/", srv.ControlHandler())
	mux.Handle("/", srv)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	email, password := srv.DefaultUser()
	fmt.Fprintf(stdout, "authscope simulator (%s) listening on %s\n", srv.Alg(), origin)
	fmt.Fprintf(stdout, "  Better Auth base URL: %s/api/auth\n", origin)
	fmt.Fprintf(stdout, "  Convex query:         POST %s/api/query\n", origin)
	fmt.Fprintf(stdout, "  control (loopback):   %s/_authsim/state\n", origin)
	fmt.Fprintf(stdout, "  default user:         %s / %s\n", email, password)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fail(exitUsage, "serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
