package main

import "testing"

func TestHealthURL(t *testing.T) {
	for _, c := range []struct{ listen, want string }{
		{":8000", "http://127.0.0.1:8000/health"},
		{"0.0.0.0:8000", "http://127.0.0.1:8000/health"},
		{"[::]:8000", "http://127.0.0.1:8000/health"},
		{"127.0.0.1:9000", "http://127.0.0.1:9000/health"},
		{"10.1.2.3:8000", "http://10.1.2.3:8000/health"},
		{"[::1]:8000", "http://[::1]:8000/health"},
	} {
		if got, err := healthURL(c.listen); err != nil || got != c.want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", c.listen, got, err, c.want)
		}
	}
	if _, err := healthURL("8000"); err == nil {
		t.Error("a listen address without a port was accepted")
	}
}
