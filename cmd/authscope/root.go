package main

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/authscope/authscope/internal/termtext"
	"github.com/authscope/authscope/tui"
)

// version is set at build time with -ldflags "-X main.version=…"; the
// version command adds the commit from the binary's build info.
var version = "dev"

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var tuiOpts tuiOptions
	inv := &invocation{}
	root := &cobra.Command{
		Use:   "authscope",
		Short: "Reproduce Better Auth + Convex session-rotation races",
		Long: `authscope runs a real client auth stack — session poller, JWT token cache,
in-flight token fetches — against a Better Auth server or a built-in
simulator, and shows every change. Scenarios reproduce the races of
@convex-dev/better-auth PR #329 under the v0.12, pr329 and hardened
token-cache policies.

With no subcommand it opens the live TUI against the built-in simulator, or
against a real Better Auth base URL with --target (and --email/--password or
AUTHSCOPE_EMAIL/AUTHSCOPE_PASSWORD).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			lc, err := loadConfig(cmd)
			if err != nil && lc != nil && cmd.HasParent() {
				// Which file holds the bad value, before the error.
				if s := lc.summary(); s != "" {
					fmt.Fprintln(stderr, "authscope:", s)
				}
			}
			if err == nil {
				_, err = lc.theme()
			}
			if err == nil {
				var km map[string][]string
				if km, err = lc.keymap(); err == nil && km != nil {
					err = tui.ValidateKeys(km)
					if err != nil {
						err = fmt.Errorf("config keymap: %w", err)
					}
				}
			}
			var ee *exitError
			if errors.As(err, &ee) {
				return err // interrupted
			} else if err != nil {
				return fail(exitUsage, "%w", err)
			}
			inv.cfg = lc
			// On stderr, so that it is seen before the TUI takes the
			// screen and stays out of run's and decode's output.
			if s := lc.summary(); s != "" && cmd.HasParent() {
				fmt.Fprintln(stderr, "authscope:", s)
			}
			if w := secretFlagWarning(cmd); w != "" {
				fmt.Fprintln(stderr, "authscope: warning:", w)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if inv.cfg != nil {
				// theme and keymap live only in the config file (or env):
				// they were checked in the pre-run.
				tuiOpts.Theme, _ = inv.cfg.theme()
				tuiOpts.Keys, _ = inv.cfg.keymap()
				tuiOpts.ConfigFile = inv.cfg.file
			}
			if w := secretFlagWarning(cmd); w != "" {
				tuiOpts.Notice = "warning: " + w
			}
			return runTUI(cmd.Context(), tuiOpts, stdout)
		},
	}
	addTUIFlags(root, &tuiOpts)
	addConfigFlag(root)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newSimCmd(stdout),
		newRunCmd(stdout),
		newExploreCmd(stdout),
		newDecodeCmd(stdin, stdout),
		newExportCmd(stdout, stderr),
		newReplayCmd(stdout, inv),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			Args:  cobra.NoArgs,
			Run: func(cmd *cobra.Command, args []string) {
				info, ok := debug.ReadBuildInfo()
				fmt.Fprintln(stdout, termtext.Line(versionLine(version, info, ok)))
			},
		},
	)
	return root
}
