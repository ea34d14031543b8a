package authsim

import (
	"encoding/json"
	"regexp"
	"strings"
)

// The request bodies are validated with zod on the real server; better-call
// turns the issues into 400 {"message":"[body.x] <zod message>; …",
// "code":"VALIDATION_ERROR"}. The messages below are zod v4's.

type fieldKind int

const (
	kindString fieldKind = iota
	kindNonEmptyString
	kindEmail
	kindBool
)

type fieldRule struct {
	name     string
	kind     fieldKind
	optional bool
}

// zodType names a decoded JSON value as zod's "received …" does.
func zodType(v any, present bool) string {
	if !present {
		return "undefined"
	}
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case []any:
		return "array"
	default:
		return "object"
	}
}

// zod v4's default email pattern.
var emailPattern = regexp.MustCompile(`^(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`)

func validEmail(s string) bool { return emailPattern.MatchString(s) }

// validateBody checks the body against an object schema. withRecord adds the
// second issue zod reports for sign-up's `.and(z.record(...))` when the body
// is not an object.
func (c *call) validateBody(rules []fieldRule, withRecord bool) *apiError {
	m, ok := c.body.(map[string]any)
	if !ok {
		got := zodType(c.body, c.bodyPresent)
		msg := "[body] Invalid input: expected object, received " + got
		if withRecord {
			msg += "; [body] Invalid input: expected record, received " + got
		}
		return newAPIError(400, "VALIDATION_ERROR", msg)
	}
	var issues []string
	for _, rule := range rules {
		v, present := m[rule.name]
		if !present && rule.optional {
			continue
		}
		prefix := "[body." + rule.name + "] "
		switch rule.kind {
		case kindString, kindNonEmptyString, kindEmail:
			str, isStr := v.(string)
			if !isStr || !present {
				issues = append(issues, prefix+"Invalid input: expected string, received "+zodType(v, present))
				continue
			}
			if rule.kind == kindNonEmptyString && str == "" {
				issues = append(issues, prefix+"Too small: expected string to have >=1 characters")
			}
			if rule.kind == kindEmail && !validEmail(str) {
				issues = append(issues, prefix+"Invalid email address")
			}
		case kindBool:
			if _, isBool := v.(bool); !isBool || !present {
				issues = append(issues, prefix+"Invalid input: expected boolean, received "+zodType(v, present))
			}
		}
	}
	if len(issues) > 0 {
		return newAPIError(400, "VALIDATION_ERROR", strings.Join(issues, "; "))
	}
	return nil
}

func (c *call) str(key string) string {
	v, _ := c.bodyField(key)
	s, _ := v.(string)
	return s
}

// boolField returns a boolean body field and whether it was given.
func (c *call) boolField(key string) (value, given bool) {
	v, ok := c.bodyField(key)
	b, isBool := v.(bool)
	return b, ok && isBool
}

var (
	signUpRules = []fieldRule{
		{name: "name", kind: kindString},
		{name: "email", kind: kindEmail},
		{name: "password", kind: kindNonEmptyString},
		{name: "image", kind: kindString, optional: true},
		{name: "callbackURL", kind: kindString, optional: true},
		{name: "rememberMe", kind: kindBool, optional: true},
	}
	signInRules = []fieldRule{
		{name: "email", kind: kindString},
		{name: "password", kind: kindString},
		{name: "callbackURL", kind: kindString, optional: true},
		{name: "rememberMe", kind: kindBool, optional: true},
	}
	changePasswordRules = []fieldRule{
		{name: "newPassword", kind: kindString},
		{name: "currentPassword", kind: kindString},
		{name: "revokeOtherSessions", kind: kindBool, optional: true},
	}
	revokeSessionRules = []fieldRule{
		{name: "token", kind: kindString},
	}
)
