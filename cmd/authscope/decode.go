package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authscope/authscope/fetcher"
	"github.com/authscope/authscope/fetcher/target"
	"github.com/authscope/authscope/internal/termtext"
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
		Long: `Decode one JWT (an argument, or "-" / nothing to read it from stdin; as the
compact token, "Bearer <jwt>", or the token endpoint's {"token": "<jwt>"}), verify its
signature against a JWKS (--jwks URL, or the target's /convex/jwks) and its
claims (aud = convex, exp with leeway, iss if --issuer), and print the claims
with readable times. The signature itself is never printed.

Without --jwks or --target nothing is verified, and the output says so; the
token still fails (exit 1) when its alg is none or HMAC, or it has expired.

Exit status: 0 valid (or, unverified, nothing wrong seen); 1 the token is
malformed, did not verify, has alg none or HMAC, or has expired; 2 usage or
connection error.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw := "-"
			if len(args) == 1 {
				raw = args[0]
			}
			if raw == "-" {
				line, err := readTokenLine(cmd.Context(), stdin)
				if err != nil {
					return err
				}
				raw = line
			}
			tok, err := tokenFromInput(raw)
			if err != nil {
				return err
			}
			return runDecode(cmd.Context(), o, tok, stdout)
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
		return fail(exitFailed, "malformed token: %s", strings.TrimPrefix(fetcher.Reason(derr), "malformed: "))
	}
	verdict, verr := verifyWith(ctx, o, raw)
	if verr != nil {
		return verr
	}
	now := time.Now()
	var problems []string
	if verdict == notChecked {
		problems = uncheckedProblems(tok, now)
	}
	if o.json {
		// Header keys as in the token, lower case like the claims.
		header := map[string]string{"alg": tok.Header.Alg, "kid": tok.Header.Kid}
		if tok.Header.Typ != "" {
			header["typ"] = tok.Header.Typ
		}
		v := map[string]any{"header": header, "claims": tok.Claims.Raw, "verified": verdict == "", "signature_checked": verdict != notChecked, "problem": ""}
		switch {
		case verdict != "" && verdict != notChecked:
			v["problem"] = verdict
		case len(problems) > 0:
			v["problem"] = strings.Join(problems, "; ")
		}
		b, _ := json.MarshalIndent(v, "", "  ")
		fmt.Fprintln(stdout, string(termtext.JSON(b)))
	} else {
		printToken(stdout, tok, verdict, problems, now)
	}
	if (verdict != "" && verdict != notChecked) || len(problems) > 0 {
		return quiet(exitFailed)
	}
	return nil
}

// tokenFromInput takes the token out of what a user is likely to paste:
// the compact JWT, an Authorization header's "Bearer <jwt>", or the JSON
// the token endpoint answers ({"token": "<jwt>"}).
func tokenFromInput(in string) (string, error) {
	s := strings.TrimSpace(in)
	if len(s) > 0 && s[0] == '{' {
		var body map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &body); err != nil {
			return "", fail(exitFailed, "malformed token: the input starts with { but is not a JSON object: %s", strings.TrimPrefix(err.Error(), "json: "))
		}
		raw, ok := body["token"]
		var tok string
		if !ok || json.Unmarshal(raw, &tok) != nil {
			return "", fail(exitFailed, `malformed token: the JSON has no "token" string (decode takes a JWT, "Bearer <jwt>" or {"token": "<jwt>"})`)
		}
		s = strings.TrimSpace(tok)
	}
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	if s == "" {
		return "", fail(exitUsage, "no token given")
	}
	return s, nil
}

// notChecked is verifyWith's verdict when there was no JWKS to check with.
const notChecked = "not checked"

// uncheckedProblems is what can be said of a token without its JWKS: an
// alg Convex never accepts (none, or an HMAC secret anyone could hold) or
// an exp already past (with the verifier's leeway).
func uncheckedProblems(t *fetcher.Token, now time.Time) []string {
	var out []string
	switch alg := t.Header.Alg; {
	case strings.EqualFold(alg, "none"):
		out = append(out, "alg none: the token is not signed at all")
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		out = append(out, fmt.Sprintf("alg %s: an HMAC secret, not a key Convex accepts (EdDSA or RS256)", termtext.Line(alg)))
	case alg != "EdDSA" && alg != "RS256":
		out = append(out, fmt.Sprintf("alg %s: not EdDSA or RS256, the algorithms Convex accepts", termtext.Line(alg)))
	}
	switch exp := t.Claims.ExpiresAt; {
	case exp.IsZero():
		out = append(out, "no exp: the token never expires")
	case now.After(exp.Add(fetcher.DefaultLeeway)):
		out = append(out, "expired "+now.Sub(exp).Round(time.Second).String()+" ago")
	}
	return out
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
		return notChecked, nil
	}
	keys, err := fetchJWKS(ctx, url)
	if err != nil {
		return "", fail(exitUsage, "fetch JWKS from %s: %w", target.RedactURL(url), err)
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
		// Its error quotes the URL, password included.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if target.RedactURL(url) != url {
			err = errors.New("not a valid URL")
		}
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

// printToken prints the header and claims, one per line. Every value came
// from the token, so every value goes through termtext.Line.
func printToken(w io.Writer, t *fetcher.Token, verdict string, problems []string, now time.Time) {
	line := func(k, v string) { fmt.Fprintf(w, "%-13s %s\n", termtext.Line(k), termtext.Line(v)) }
	h := "alg=" + t.Header.Alg + " kid=" + t.Header.Kid
	if t.Header.Typ != "" {
		h += " typ=" + t.Header.Typ
	}
	line("header", h)
	switch verdict {
	case "":
		line("signature", "verified")
	case notChecked:
		line("signature", "NOT VERIFIED: nothing was checked (give --jwks URL or --target URL)")
	default:
		line("signature", "INVALID: "+verdict)
	}
	for _, p := range problems {
		line("problem", p)
	}
	c := t.Claims
	line("sessionId", c.SessionID)
	line("sub", c.Subject)
	line("iss", c.Issuer)
	line("aud", strings.Join(c.Audience, ", "))
	line("iat", readableTime(c.IssuedAt, now))
	line("exp", readableTime(c.ExpiresAt, now))
	known := map[string]bool{"sessionId": true, "sub": true, "iss": true, "aud": true, "iat": true, "exp": true}
	var rest []string
	for k := range c.Raw {
		if !known[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		line(k, fmt.Sprint(c.Raw[k]))
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
