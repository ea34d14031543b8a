package fetcher

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readBody gives what io.ReadAll of the limited body gives, whatever
// length the answer announced.
func TestReadBodyMatchesReadAll(t *testing.T) {
	const limit = 10
	for _, body := range []string{"", "abc", "0123456789", "0123456789x", strings.Repeat("y", 40)} {
		want, _ := io.ReadAll(io.LimitReader(strings.NewReader(body), limit+1))
		for _, length := range []int64{-1, 0, 2, int64(len(body)), int64(len(body)) + 3, limit, limit + 1} {
			for _, half := range []bool{false, true} {
				var r io.Reader = strings.NewReader(body)
				if half {
					r = iotest.HalfReader(r)
				}
				got, err := readBody(r, length, limit)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("body %q, announced %d (half reads %v): got %q, %v; want %q", body, length, half, got, err, want)
				}
			}
		}
	}
	boom := errors.New("boom")
	if _, err := readBody(iotest.ErrReader(boom), 5, limit); !errors.Is(err, boom) {
		t.Errorf("a failing body: %v, want its error", err)
	}
}
