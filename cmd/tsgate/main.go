package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"tsgate/auth"
	"tsgate/gateway"
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() map[string]command {
	return map[string]command{
		"serve":       {"run the gateway", runServe},
		"migrate":     {"copy data between backends, resumable, and verify it", runMigrate},
		"conformance": {"score backends against the embedded reference on the conformance corpus", runConformance},
		"memtrace":    {"manage the memtrace API's organizations, their backends and keys: org create|add|list|delete|add-backend|show-backend|remove-backend, key create|list|revoke, keygen master", runMemtrace},
		"token":       {"manage API tokens: create, list, revoke", runToken},
		"healthcheck": {"exit 0 when the running gateway's /health answers 200 (the container's HEALTHCHECK)", runHealthcheck},
		"translate":   {"translate a SQL query for a backend, or show why it cannot be", runTranslate},
		"version": {"print the version", func(_ context.Context, _ []string, out, _ io.Writer) int {
			fmt.Fprintln(out, "tsgate", version)
			return 0
		}},
	}
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	// Everything tsgate creates — the store and its WAL, token files,
	// memtrace's metadata, queues, logs — is its user's alone.
	syscall.Umask(0o077)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "tsgate: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: tsgate <command> [flags]")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	names := make([]string, 0, len(cmds))
	for name := range cmds {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(tw, "  %s\t%s\n", name, cmds[name].summary)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nRun 'tsgate <command> -h' for a command's flags.")
}

// configFlags are the flags every command that reads the configuration
// shares; set ones override file and environment.
type configFlags struct {
	config, dataDir, backend, arcListen string
}

// configFlagSet is the flag set of the command name, reporting to
// stderr, with the configuration flags on it.
func configFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *configFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &configFlags{}
	fs.StringVar(&c.config, "config", "", "configuration file (default: tsgate.toml in ., /etc/tsgate/, $HOME/.tsgate/)")
	fs.StringVar(&c.dataDir, "data-dir", "", "data directory (env TSGATE_DATA_DIR, default ./data)")
	fs.StringVar(&c.backend, "backend", "", "backend URL (env TSGATE_BACKEND_URL, default: embedded DuckDB)")
	fs.StringVar(&c.arcListen, "arc-listen", "", "Arc API listen address (env TSGATE_ARC_LISTEN, default :8000)")
	return fs, c
}

func (c *configFlags) load() (gateway.Config, string, error) {
	cfg, file, err := gateway.LoadConfig(c.config, os.Environ())
	if err != nil {
		return cfg, file, err
	}
	if c.dataDir != "" {
		cfg.DataDir = c.dataDir
	}
	if c.backend != "" {
		cfg.Backend.URL = c.backend
	}
	if c.arcListen != "" {
		cfg.Arc.Listen = c.arcListen
	}
	return cfg, file, cfg.Validate()
}

func runServe(ctx context.Context, args []string, _, stderr io.Writer) int {
	fs, cf := configFlagSet("serve", stderr)
	if !noArgs(fs, args, stderr) {
		return 2
	}
	cfg, file, err := cf.load()
	if err != nil {
		fmt.Fprintln(stderr, "tsgate:", err)
		return 1
	}
	log := gateway.NewLogger(cfg.Log, stderr)
	if file != "" {
		log.Info("configuration", "file", file)
	}
	g, err := gateway.New(ctx, cfg, log, stderr)
	if err != nil {
		log.Error("start failed", "err", err)
		return 1
	}
	// From here on, log through the gateway so that reloads show in
	// GET /api/v1/logs too.
	log = g.Logger()
	// SIGHUP re-reads the configuration (file, environment, flags) and
	// applies [migration]: a switch-over without a restart.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				ncfg, _, err := cf.load()
				if err == nil {
					err = g.Reload(ctx, ncfg)
				}
				if err != nil {
					log.Error("reload failed; the running configuration stays", "err", err)
				} else {
					log.Info("configuration reloaded")
				}
			}
		}
	}()
	if err := g.Run(ctx); err != nil {
		log.Error("stopped with error", "err", err)
		return 1
	}
	return 0
}

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: tsgate token create|list|revoke [flags]")
		return 2
	}
	fs, cf := configFlagSet("token "+args[0], stderr)
	name := fs.String("name", "", "token name (create)")
	perms := fs.String("permissions", "read,write", "comma-separated: read, write, delete, admin (create)")
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return 2
	}
	if args[0] != "revoke" && len(pos) > 0 {
		fmt.Fprintf(stderr, "tsgate token %s: unexpected argument %q\n", args[0], pos[0])
		return 2
	}
	cfg, _, err := cf.load()
	if err != nil {
		fmt.Fprintln(stderr, "tsgate:", err)
		return 1
	}
	// auth.store_url (TSGATE_AUTH_STORE_URL) names the replicas' shared
	// store; without it, the token file in the data directory.
	store, err := gateway.OpenTokens(ctx, cfg, gateway.NewLogger(cfg.Log, stderr))
	if err != nil {
		fmt.Fprintln(stderr, "tsgate:", err)
		return 1
	}
	defer store.Close()
	switch args[0] {
	case "create":
		p, ok := createArgs(stderr, "token create", *name, *perms, auth.ParsePermissions)
		if !ok {
			return 2
		}
		secret, t, err := store.Create(*name, "", p)
		if err != nil {
			fmt.Fprintln(stderr, "tsgate:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", secret)
		fmt.Fprintf(stderr, "created token %d (%s) with %s; the secret above is not shown again\n", t.Seq, t.Name, *perms)
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPERMISSIONS\tCREATED\tSTATUS")
		for _, t := range store.List() {
			ps := make([]string, len(t.Permissions))
			for i, p := range t.Permissions {
				ps[i] = string(p)
			}
			status := "enabled"
			switch {
			case t.Disabled:
				status = "revoked"
			case !t.Active(time.Now()):
				status = "expired"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", t.Seq, t.Name, strings.Join(ps, ","), t.CreatedAt.Format("2006-01-02T15:04:05Z"), status)
		}
		tw.Flush()
	case "revoke":
		if len(pos) != 1 {
			fmt.Fprintln(stderr, "usage: tsgate token revoke ID [--data-dir DIR]")
			return 2
		}
		if err := store.Revoke(pos[0]); err != nil {
			fmt.Fprintln(stderr, "tsgate:", err)
			return 1
		}
	default:
		fmt.Fprintf(stderr, "tsgate: unknown token command %q\n", args[0])
		return 2
	}
	return 0
}
