package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// runHealthcheck implements `tsgate healthcheck [--url URL]`: GET the Arc
// API's /health and exit 0 on 200, 1 otherwise. The container image's
// HEALTHCHECK runs it (a slim image has no curl); by default it reads
// the configuration, as `serve` does, to find arc.listen.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, cf := configFlagSet("healthcheck", stderr)
	target := fs.String("url", "", "URL to GET (default: /health on arc.listen, on loopback when it listens on every address)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if !noArgs(fs, args, stderr) {
		return 2
	}
	u := *target
	if u == "" {
		cfg, _, err := cf.load()
		if err != nil {
			fmt.Fprintln(stderr, "tsgate healthcheck:", err)
			return 1
		}
		if u, err = healthURL(cfg.Arc.Listen); err != nil {
			fmt.Fprintln(stderr, "tsgate healthcheck:", err)
			return 1
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		fmt.Fprintln(stderr, "tsgate healthcheck:", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "tsgate healthcheck:", err)
		return 1
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "tsgate healthcheck: %s answered %s\n", u, resp.Status)
		return 1
	}
	fmt.Fprintln(stdout, "ok")
	return 0
}

// healthURL is /health on the listen address, reached on loopback when
// the address is every interface's.
func healthURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("arc.listen %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/health", nil
}
