package authstate

import (
	"fmt"
	"strings"
)

// Variant is a token-cache policy plus switches that change other layers of
// the stack, so that fixes made in different upstream projects can be
// compared side by side:
//
//   - PR83 gives the Convex client model convex-js PR #83's provider (no
//     clearAuth on a fetcher swap); it changes nothing when the Convex
//     client model is off.
//   - Preserve makes the server keep the caller's session on a password
//     change with revokeOtherSessions (better-auth PR #9345, not merged):
//     only the simulator has that switch.
//
// Its name is the policy followed by the switches, in that order:
// "pr329+pr83+preserve".
type Variant struct {
	Policy   string
	PR83     bool
	Preserve bool
}

// Variant switch names, as they follow the policy in a variant's name.
const (
	SwitchPR83     = "pr83"
	SwitchPreserve = "preserve"
)

// String is the variant's canonical name.
func (v Variant) String() string {
	s := v.Policy
	if v.PR83 {
		s += "+" + SwitchPR83
	}
	if v.Preserve {
		s += "+" + SwitchPreserve
	}
	return s
}

// VariantLadder is the list "all" stands for: each rung adds one upstream
// fix to the one before.
func VariantLadder() []Variant {
	return []Variant{
		{Policy: "v0.12"},
		{Policy: "pr329"},
		{Policy: "pr329", PR83: true},
		{Policy: "pr329", PR83: true, Preserve: true},
	}
}

// ParseVariant reads one variant name: a policy, then +pr83 and/or
// +preserve in any order.
func ParseVariant(s string) (Variant, error) {
	name := strings.TrimSpace(s)
	if name == "" {
		return Variant{}, fmt.Errorf("empty variant (want a policy such as pr329, optionally with +%s and +%s)", SwitchPR83, SwitchPreserve)
	}
	parts := strings.Split(name, "+")
	var v Variant
	for i, p := range parts {
		p = strings.TrimSpace(p)
		switch {
		case i == 0 && (p == SwitchPR83 || p == SwitchPreserve):
			return Variant{}, fmt.Errorf("variant %q: %s is a switch, not a policy; put a policy first, e.g. pr329+%s", name, p, p)
		case i == 0:
			if _, err := PolicyByName(p); err != nil {
				return Variant{}, fmt.Errorf("variant %q: %w", name, err)
			}
			v.Policy = p
		case p == SwitchPR83:
			if v.PR83 {
				return Variant{}, fmt.Errorf("variant %q: +%s appears twice", name, p)
			}
			v.PR83 = true
		case p == SwitchPreserve:
			if v.Preserve {
				return Variant{}, fmt.Errorf("variant %q: +%s appears twice", name, p)
			}
			v.Preserve = true
		case p == "":
			return Variant{}, fmt.Errorf("variant %q: an empty part between the + signs", name)
		default:
			if _, err := PolicyByName(p); err == nil {
				return Variant{}, fmt.Errorf("variant %q: a variant has one policy; %s is a second one", name, p)
			}
			return Variant{}, fmt.Errorf("variant %q: unknown switch %q (want %s or %s)", name, p, SwitchPR83, SwitchPreserve)
		}
	}
	return v, nil
}

// ParseVariants reads a comma-separated list of variants, or "all" for
// VariantLadder. A variant given twice (under any spelling) is an error.
func ParseVariants(s string) ([]Variant, error) {
	if strings.TrimSpace(s) == "all" {
		return VariantLadder(), nil
	}
	var out []Variant
	seen := map[Variant]string{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if item == "all" {
			return nil, fmt.Errorf("all stands for the whole list %s and cannot be mixed with other variants", ladderNames())
		}
		v, err := ParseVariant(item)
		if err != nil {
			return nil, err
		}
		if first, dup := seen[v]; dup {
			if first == item {
				return nil, fmt.Errorf("variant %q is given twice", item)
			}
			return nil, fmt.Errorf("variants %q and %q are the same variant (%s)", first, item, v)
		}
		seen[v] = item
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no variant given (want a comma-separated list such as %s, or all)", ladderNames())
	}
	return out, nil
}

func ladderNames() string {
	var names []string
	for _, v := range VariantLadder() {
		names = append(names, v.String())
	}
	return strings.Join(names, ",")
}
