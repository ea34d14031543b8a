package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authscope/authscope/fetcher"
	"github.com/authscope/authscope/fetcher/target"
)

type decodeOptions struct {
	jwks   string
	target string
	issuer string
	json   bool
}

func newDecodeCmd(stdin io.Reader, stdout io.Writer) *cobra.Command {
	o := decodeOptions{}
	cmd := &cobra.Command{
		Use:   "decode [TOKEN|-]",
		Short: "Decode one JWT, verify it, and print its claims",
		Long: `Decode one JWT (an argument, or "-" / nothing to read it from stdin), verify its
signature against a JWKS (--jwks URL, or the target's /convex/jwks) and its
claims (aud = convex, exp with leeway, iss if --issuer), and print the claims
with readable times. The signature itself is never printed.

Exit status: 0 valid; 1 the token is malformed or did not verify; 2 usage or
connection error.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw := "-"
			if len(args) == 1 {
				raw = args[0]
			}
			if raw == "-" {
				line, err := bufio.NewReader(io.LimitReader(stdin, 64<<10)).ReadString('\n')
				if err != nil && err != io.EOF {
					return fail(exitUsage, "read token from stdin: %w", err)
				}
				raw = line
			}
			return runDecode(cmd.Context(), o, strings.TrimSpace(raw), stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.jwks, "jwks", "", "JWKS URL to verify against (e.g. http://127.0.0.1:3210/api/auth/convex/jwks)")
	f.StringVar(&o.target, "target", "", "Better Auth base URL whose /convex/jwks to use")
	f.StringVar(&o.issuer, "issuer", "", "require this iss")
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

func runDecode(ctx context.Context, o decodeOptions, raw string, stdout io.Writer) error {
	if raw == "" {
		return fail(exitUsage, "no token given")
	}
	tok, derr := fetcher.DecodeJWT(raw)
	if derr != nil {
		return fail(exitFailed, "malformed token: %s", fetcher.Reason(derr))
	}
	verdict, verr := verifyWith(ctx, o, raw)
	if verr != nil {
		return verr
	}
	if o.json {
		b, _ := json.MarshalIndent(map[string]any{"header": tok.Header, "claims": tok.Claims.Raw, "verified": verdict == "", "problem": verdict}, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		printToken(stdout, tok, verdict, time.Now())
	}
	if verdict != "" && verdict != "not checked" {
		return quiet(exitFailed)
	}
	return nil
}

// verifyWith returns "" when the token verified, a reason when it did not,
// or "not checked" when no JWKS was given.
func verifyWith(ctx context.Context, o decodeOptions, raw string) (string, error) {
	url := o.jwks
	if url == "" && o.target != "" {
		base, err := target.NormalizeBaseURL(o.target)
		if err != nil {
			return "", fail(exitUsage, "--target: %w", err)
		}
		url = base + "/convex/jwks"
	}
	if url == "" {
		return "not checked", nil
	}
	keys, err := fetchJWKS(ctx, url)
	if err != nil {
		return "", fail(exitUsage, "fetch JWKS from %s: %w", url, err)
	}
	v := &fetcher.Verifier{Keys: keys, Issuer: o.issuer}
	if _, err := v.Verify(raw); err != nil {
		return fetcher.Reason(err), nil
	}
	return "", nil
}

func fetchJWKS(ctx context.Context, url string) (*fetcher.JWKS, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var set fetcher.JWKS
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("not a JWKS: %w", err)
	}
	return &set, nil
}

func printToken(w io.Writer, t *fetcher.Token, verdict string, now time.Time) {
	fmt.Fprintf(w, "%-13s alg=%s kid=%s", "header", t.Header.Alg, t.Header.Kid)
	if t.Header.Typ != "" {
		fmt.Fprintf(w, " typ=%s", t.Header.Typ)
	}
	fmt.Fprintln(w)
	switch verdict {
	case "":
		fmt.Fprintf(w, "%-13s verified\n", "signature")
	case "not checked":
		fmt.Fprintf(w, "%-13s not checked (give --jwks URL or --target URL)\n", "signature")
	default:
		fmt.Fprintf(w, "%-13s INVALID: %s\n", "signature", verdict)
	}
	c := t.Claims
	fmt.Fprintf(w, "%-13s %s\n", "sessionId", c.SessionID)
	fmt.Fprintf(w, "%-13s %s\n", "sub", c.Subject)
	fmt.Fprintf(w, "%-13s %s\n", "iss", c.Issuer)
	fmt.Fprintf(w, "%-13s %s\n", "aud", strings.Join(c.Audience, ", "))
	fmt.Fprintf(w, "%-13s %s\n", "iat", readableTime(c.IssuedAt, now))
	fmt.Fprintf(w, "%-13s %s\n", "exp", readableTime(c.ExpiresAt, now))
	known := map[string]bool{"sessionId": true, "sub": true, "iss": true, "aud": true, "iat": true, "exp": true}
	var rest []string
	for k := range c.Raw {
		if !known[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		fmt.Fprintf(w, "%-13s %v\n", k, c.Raw[k])
	}
}

func readableTime(t, now time.Time) string {
	if t.IsZero() {
		return "(missing)"
	}
	d := t.Sub(now).Round(time.Second)
	rel := "in " + d.String()
	if d < 0 {
		rel = (-d).String() + " ago"
	}
	return fmt.Sprintf("%s (%s, unix %d)", t.UTC().Format(time.RFC3339), rel, t.Unix())
}
