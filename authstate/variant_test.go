package authstate

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseVariants(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"all", []string{"v0.12", "pr329", "pr329+pr83", "pr329+pr83+preserve"}},
		{" pr329 ", []string{"pr329"}},
		{"v0.12,hardened+pr83", []string{"v0.12", "hardened+pr83"}},
		{"pr329+preserve+pr83", []string{"pr329+pr83+preserve"}},
		{"v0.12+preserve, pr329,", []string{"v0.12+preserve", "pr329"}},
	} {
		vs, err := ParseVariants(tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		var got []string
		for _, v := range vs {
			got = append(got, v.String())
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %v, want %v", tc.in, got, tc.want)
		}
	}
	v, err := ParseVariant("hardened+pr83+preserve")
	if err != nil || v != (Variant{Policy: "hardened", PR83: true, Preserve: true}) {
		t.Fatalf("ParseVariant: %+v %v", v, err)
	}
}

func TestParseVariantsErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "no variant given",
		"pr330":                 `unknown policy "pr330"`,
		"pr329+pr38":            `unknown switch "pr38"`,
		"pr329+pr83+pr83":       "+pr83 appears twice",
		"preserve":              "preserve is a switch, not a policy",
		"pr83+pr329":            "pr83 is a switch, not a policy",
		"pr329,pr329":           `variant "pr329" is given twice`,
		"pr329+pr83,pr329+pr83": `variant "pr329+pr83" is given twice`,
		"pr329+pr83+preserve,pr329+preserve+pr83": "are the same variant (pr329+pr83+preserve)",
		"pr329+v0.12": "v0.12 is a second one",
		"pr329++pr83": "empty part",
		"all,v0.12":   "cannot be mixed",
	} {
		_, err := ParseVariants(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to say %q", in, err, want)
		}
	}
}

func TestVariantLadderIsACopy(t *testing.T) {
	l := VariantLadder()
	l[0].Policy = "changed"
	if VariantLadder()[0].Policy != "v0.12" {
		t.Fatal("VariantLadder shares its slice with callers")
	}
}
