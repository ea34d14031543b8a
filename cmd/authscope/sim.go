package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authscope/authscope/fetcher/authsim"
	"github.com/authscope/authscope/internal/termtext"
)

type simOptions struct {
	addr     string
	alg      string
	tokenTTL time.Duration
	email    string
	password string
	preserve bool
}

func newSimCmd(stdout io.Writer) *cobra.Command {
	o := simOptions{}
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve the built-in Better Auth + Convex simulator",
		Long: `Serve the simulator: Better Auth's endpoints under /api/auth (with the Convex
plugin's /convex/token and /convex/jwks), a Convex-like POST /api/query, and a
control API under /_authsim/ that answers loopback clients only.

With --addr 0.0.0.0:P or :P it listens on every interface (with a warning);
its origin is then http://127.0.0.1:P, and http://localhost:P and
http://[::1]:P are trusted origins too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSim(cmd.Context(), o, stdout, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:3210", "address to listen on (loopback unless you say otherwise)")
	f.StringVar(&o.alg, "alg", "EdDSA", "JWT signing algorithm: EdDSA or RS256")
	f.DurationVar(&o.tokenTTL, "token-ttl", 900*time.Second, "Convex JWT lifetime")
	f.StringVar(&o.email, "email", authsim.DefaultEmail, "the default user's email")
	f.StringVar(&o.password, "password", authsim.DefaultPassword, "the default user's password")
	f.BoolVar(&o.preserve, "preserve-session", false, "change-password with revokeOtherSessions keeps the caller's session and answers token null (models better-auth PR #9345, not merged)")
	return cmd
}

func runSim(ctx context.Context, o simOptions, stdout, stderr io.Writer) error {
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fail(exitUsage, "listen on %s: %w", o.addr, err)
	}
	origin, trusted, exposed := simOrigins(ln.Addr().(*net.TCPAddr))
	if exposed {
		fmt.Fprintf(stderr, "authscope: warning: the simulator listens on %s, which is not loopback only: anyone who can reach it can sign in as the default user, whose password is printed below; use --addr 127.0.0.1:%d to keep it on this machine\n", ln.Addr(), ln.Addr().(*net.TCPAddr).Port)
	}
	srv, err := authsim.New(authsim.Options{Alg: o.alg, TokenTTL: o.tokenTTL, Email: o.email, Password: o.password, Origin: origin, TrustedOrigins: trusted, PreserveSession: o.preserve})
	if err != nil {
		ln.Close()
		return fail(exitUsage, "%w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/_authsim/", srv.ControlHandler())
	mux.Handle("/", srv)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	email, password := srv.DefaultUser()
	if exposed {
		fmt.Fprintf(stdout, "authscope simulator (%s) listening on %s, origin %s\n", srv.Alg(), ln.Addr(), origin)
	} else {
		fmt.Fprintf(stdout, "authscope simulator (%s) listening on %s\n", srv.Alg(), origin)
	}
	fmt.Fprintf(stdout, "  Better Auth base URL: %s/api/auth\n", origin)
	if len(trusted) > 0 {
		fmt.Fprintf(stdout, "  trusted origins:      %s\n", strings.Join(append([]string{origin}, trusted...), ", "))
	}
	fmt.Fprintf(stdout, "  Convex query:         POST %s/api/query\n", origin)
	fmt.Fprintf(stdout, "  control (loopback):   %s/_authsim/state\n", origin)
	if o.preserve {
		fmt.Fprintf(stdout, "  change-password:      keeps the caller's session (better-auth PR #9345, not merged)\n")
	}
	// Both may come from a config file or the environment.
	fmt.Fprintf(stdout, "  default user:         %s / %s\n", termtext.Line(email), termtext.Line(password))
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

// simOrigins picks the simulator's own origin for the address it listens on,
// the further origins it trusts, and whether the address reaches beyond
// loopback. On every interface (0.0.0.0 or ::) the origin is the IPv4
// loopback one, since "http://[::]:P" is no address a browser or client
// can send as its Origin; the loopback names of the same port are trusted
// too, as Better Auth's trustedOrigins would list them.
func simOrigins(a *net.TCPAddr) (origin string, trusted []string, exposed bool) {
	port := strconv.Itoa(a.Port)
	loopbackNames := func(except string) []string {
		var out []string
		for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
			if o := "http://" + h + ":" + port; o != except {
				out = append(out, o)
			}
		}
		return out
	}
	switch {
	case a.IP == nil || a.IP.IsUnspecified():
		origin = "http://127.0.0.1:" + port
		return origin, loopbackNames(origin), true
	case a.IP.IsLoopback():
		origin = "http://" + net.JoinHostPort(a.IP.String(), port)
		return origin, loopbackNames(origin), false
	}
	return "http://" + net.JoinHostPort(a.IP.String(), port), nil, true
}
