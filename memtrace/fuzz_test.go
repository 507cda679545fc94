package memtrace

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// FuzzRequest sends arbitrary request lines, Content-Types, origins and
// bodies through the whole HTTP layer (router, CORS, body decoding,
// handlers): it must never panic, and must answer with one of the
// statuses memtrace's framework and handlers use.
func FuzzRequest(f *testing.F) {
	for _, seed := range [][4]string{
		{"GET", "/api/v1/memories?agent_id=a", "", ""},
		{"POST", "/api/v1/memories", "application/json", `{"agent_id":"a","content":"x"}`},
		{"POST", "/API/V1/memories//", "application/vnd.api+json; charset=utf-8", `{"memories":[{"agent_id":"a","content":"y"}]}`},
		{"OPTIONS", "/nothing%20<b>", "", ""},
		{"DELETE", "/api/v1/agents/a%2Fb", "text/plain", "null"},
		{"PUT", "/api/v1/sessions/s/../x", "application/x-www-form-urlencoded", "a=b"},
		{"POST", "/api/v1/sessions/s1/context", "application/json", `{"since":"+5h","include_types":["a-b"]}`},
		{"BREW", "//health", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], true)
	}
	h := newHarness(f)
	srv := New(h.backend, h.meta, WithoutAuth())
	statuses := map[int]bool{200: true, 201: true, 204: true, 400: true, 404: true, 405: true, 409: true, 413: true, 500: true, 503: true}
	f.Fuzz(func(t *testing.T, method, target, contentType, body string, origin bool) {
		raw := method + " " + target + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n"
		if contentType != "" {
			raw += "Content-Type: " + contentType + "\r\n"
		}
		if origin {
			raw += "Origin: http://o\r\nAccess-Control-Request-Method: GET\r\n"
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw + "\r\n" + body)))
		if err != nil {
			return // not a request a server would hand to a handler
		}
		req.RequestURI = target
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if !statuses[w.Code] {
			t.Fatalf("%q: status %d %s", raw, w.Code, w.Body)
		}
	})
}

// FuzzDecoderFor: any Content-Type picks one decoder, without panicking,
// and the JSON ones are exactly those Fiber treats as JSON.
func FuzzDecoderFor(f *testing.F) {
	for _, s := range []string{"application/json", "application/vnd.api+json; charset=utf-8", "text/plain", "", "a+b;c+d", "+", ";+json", "multipart/form-data; boundary=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		d := decoderFor(ct)
		if d == decodeJSON && !strings.Contains(strings.ToLower(ct), "json") {
			t.Fatalf("%q decoded as JSON", ct)
		}
	})
}

// FuzzSealer: opening arbitrary text never panics and never succeeds
// without the key's seal; what Seal made always opens.
func FuzzSealer(f *testing.F) {
	s, err := NewSealer(NewMasterKey())
	if err != nil {
		f.Fatal(err)
	}
	f.Add("postgres://u:p@h/db", "")
	f.Add("", "AAAA")
	f.Fuzz(func(t *testing.T, plain, garbage string) {
		if got, err := s.Open(s.Seal(plain)); err != nil || got != plain {
			t.Fatalf("round trip of %q: %q %v", plain, got, err)
		}
		if _, err := s.Open(garbage); err == nil && garbage != "" {
			// Only a real seal opens; a forged one would need the key.
			t.Fatalf("garbage %q opened", garbage)
		}
	})
}
