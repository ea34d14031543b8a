package target

import "strings"

// RedactURL is raw with any user or password in its authority replaced by
// xxxxx, for messages: unlike url.URL.Redacted it also works on a string
// that does not parse ("https://u:pw@host/%zz") or has no scheme
// ("u:pw@host"), whose parse error would otherwise quote the password.
func RedactURL(raw string) string {
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 {
		start = i + 3
	}
	end := len(raw)
	if i := strings.IndexAny(raw[start:], "/?#"); i >= 0 {
		end = start + i
	}
	at := strings.LastIndex(raw[start:end], "@")
	if at < 0 {
		return raw
	}
	at += start
	user := raw[start:at]
	if i := strings.Index(user, ":"); i >= 0 {
		user = user[:i] + ":xxxxx"
	} else {
		user = "xxxxx"
	}
	return raw[:start] + user + raw[at:]
}
