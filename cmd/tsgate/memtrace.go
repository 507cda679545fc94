package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"tsgate/dialects/registry"
	"tsgate/errs"
	"tsgate/gateway"
	"tsgate/memtrace"
)

const memtraceUsage = `usage:
  tsgate memtrace org create [flags] NAME             add an organization with a generated id (org_…); prints it
  tsgate memtrace org add [flags] ORG_ID              add an organization with the id given (-name NAME)
  tsgate memtrace org list [flags]                    list organizations
  tsgate memtrace org delete [flags] ORG_ID           delete an organization with no enabled key, agent or session
  tsgate memtrace org add-backend [flags] ORG_ID      give it its own backend (-url URL as backend.url, -database DB)
  tsgate memtrace org show-backend [flags] ORG_ID     show its backend (secrets masked)
  tsgate memtrace org remove-backend [flags] ORG_ID   unbind it (its memories stay in that backend)
  tsgate memtrace org add-arc|show-arc|remove-arc     memtrace's names: add-arc takes -url http(s)://ARC -database DB [-api-key K]
  tsgate memtrace key create [flags]                  create an API key (-org, -name, -permissions); prints it once
  tsgate memtrace key list [flags]                    list API keys (-org to filter)
  tsgate memtrace key revoke [flags] KEY_ID           disable an API key (running servers forget it within 5 minutes)
  tsgate memtrace keygen master                       print a new master key (memtrace.master_key)`

// runMemtrace manages the memtrace API's orgs and keys, which memtrace
// (and tsgate) deliberately do not expose over HTTP.
func runMemtrace(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprintln(stderr, memtraceUsage)
		return 2
	}
	what := args[0] + " " + args[1]
	fs, cf := configFlagSet("memtrace "+what, stderr)
	name := fs.String("name", "", "organization name (org add) or key name (key create)")
	org := fs.String("org", "org_default", "organization (key create); filter (key list, empty for all)")
	perms := fs.String("permissions", "read,write", "comma-separated: read, write, admin (key create)")
	burl := fs.String("url", "", "backend URL (add-backend: backend.url's syntax; add-arc: Arc's http(s)://host:port)")
	database := fs.String("database", "", "database the organization's memories go in (add-backend, add-arc)")
	arcKey := fs.String("api-key", "", "Arc API token (add-arc)")
	measurement := fs.String("measurement", "", "memtrace's per-instance measurement (add-arc): must be memtrace.measurement")
	// Positional arguments (the org or key id) may stand before, between
	// or after the flags.
	pos, err := parseArgs(fs, args[2:])
	if err != nil {
		return 2
	}
	orgSet := false
	fs.Visit(func(f *flag.Flag) { orgSet = orgSet || f.Name == "org" })
	if what == "keygen master" {
		fmt.Fprintln(stdout, memtrace.NewMasterKey())
		fmt.Fprintln(stderr, "set it as memtrace.master_key (TSGATE_MEMTRACE_MASTER_KEY or MEMTRACE_MASTER_KEY) on every tsgate and for these commands")
		return 0
	}
	cfg, _, err := cf.load()
	if err != nil {
		fmt.Fprintln(stderr, "tsgate:", err)
		return 1
	}
	meta, err := memtrace.OpenMeta(ctx, gateway.MemtraceMetaTarget(cfg))
	if err != nil {
		fmt.Fprintln(stderr, "tsgate:", err)
		return 1
	}
	defer meta.Close()
	fail := func(err error) int {
		fmt.Fprintln(stderr, "tsgate:", err)
		if e := errs.As(err); e.Detail != "" || e.Hint != "" {
			if e.Detail != "" {
				fmt.Fprintln(stderr, "detail:", e.Detail)
			}
			if e.Hint != "" {
				fmt.Fprintln(stderr, "hint:", e.Hint)
			}
		}
		return 1
	}
	switch what {
	case "org add":
		if len(pos) != 1 {
			fmt.Fprintln(stderr, "usage: tsgate memtrace org add [-name NAME] ORG_ID")
			return 2
		}
		if err := meta.CreateOrg(ctx, pos[0], *name); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stderr, "created organization %s; give it a key with: tsgate memtrace key create -org %s -name NAME\n", pos[0], pos[0])
	case "org create":
		if len(pos) != 1 {
			fmt.Fprintln(stderr, "usage: tsgate memtrace org create NAME")
			return 2
		}
		id, err := meta.CreateOrgNamed(ctx, pos[0])
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Organization created\n  id:   %s\n  name: %s\n", id, pos[0])
	case "org delete":
		if len(pos) != 1 {
			fmt.Fprintln(stderr, "usage: tsgate memtrace org delete ORG_ID")
			return 2
		}
		if err := meta.DeleteOrg(ctx, pos[0]); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Organization %s deleted\n", pos[0])
	case "org add-backend", "org add-arc", "org show-backend", "org show-arc", "org remove-backend", "org remove-arc":
		if len(pos) != 1 {
			fmt.Fprintf(stderr, "usage: tsgate memtrace %s ORG_ID\n", what)
			return 2
		}
		return orgBackendCommand(ctx, meta, cfg, what, pos[0], *burl, *database, *arcKey, *measurement, stdout, stderr)
	case "org list":
		orgs, err := meta.Orgs(ctx)
		if err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED")
		for _, o := range orgs {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", o.ID, o.Name, o.CreatedAt.Format("2006-01-02T15:04:05Z"))
		}
		tw.Flush()
	case "key create":
		p, ok := createArgs(stderr, "memtrace key create", *name, *perms, memtrace.ParsePermissions)
		if !ok {
			return 2
		}
		secret, k, err := meta.CreateKey(ctx, *org, *name, p, "")
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, secret)
		fmt.Fprintf(stderr, "created key %d (%s) for %s with %s; the key above is not shown again\n", k.ID, k.Name, k.OrgID, strings.Join(p, ","))
	case "key list":
		filter := ""
		if orgSet {
			filter = *org
		}
		keys, err := meta.Keys(ctx, filter)
		if err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tORG\tPERMISSIONS\tENABLED\tCREATED")
		for _, k := range keys {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%t\t%s\n", k.ID, k.Name, k.OrgID, strings.Join(k.Permissions, ","), k.Enabled, k.CreatedAt.Format("2006-01-02T15:04:05Z"))
		}
		tw.Flush()
	case "key revoke":
		if len(pos) != 1 {
			fmt.Fprintln(stderr, "usage: tsgate memtrace key revoke KEY_ID")
			return 2
		}
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil {
			fmt.Fprintf(stderr, "tsgate: key id %q is not a number (see tsgate memtrace key list)\n", pos[0])
			return 2
		}
		// Revoking disables the key (memtrace deletes the row); either
		// way a running server that verified it keeps accepting it until
		// its 5-minute cache entry expires.
		if err := meta.RevokeKey(ctx, id); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stderr, "revoked key %d\n", id)
	default:
		fmt.Fprintf(stderr, "tsgate: unknown memtrace command %q\n\n%s\n", what, memtraceUsage)
		return 2
	}
	return 0
}

// orgBackendCommand runs add-, show- and remove-backend, and memtrace's
// add-, show- and remove-arc.
func orgBackendCommand(ctx context.Context, meta *memtrace.Meta, cfg gateway.Config, what, org, burl, database, arcKey, measurement string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintln(stderr, "tsgate:", err)
		if h := errs.As(err).Hint; h != "" {
			fmt.Fprintln(stderr, "hint:", h)
		}
		return 1
	}
	sealer := func() (*memtrace.Sealer, error) {
		if cfg.Memtrace.MasterKey == "" {
			return nil, errs.New(errs.Invalid, "MEMTRACE_MASTER_KEY is not set; generate one with `tsgate memtrace keygen master` and set memtrace.master_key (TSGATE_MEMTRACE_MASTER_KEY or MEMTRACE_MASTER_KEY)")
		}
		return memtrace.NewSealer(cfg.Memtrace.MasterKey)
	}
	switch strings.TrimPrefix(what, "org ") {
	case "add-backend", "add-arc":
		s, err := sealer()
		if err != nil {
			return fail(err)
		}
		if database == "" && strings.HasSuffix(what, "-backend") {
			database = cfg.Memtrace.Database
		}
		if strings.HasSuffix(what, "-arc") {
			if measurement != "" && measurement != cfg.Memtrace.Measurement {
				return fail(errs.Newf(errs.Invalid, "-measurement %q: every organization's memories are rows of memtrace.measurement (%q) here", measurement, cfg.Memtrace.Measurement))
			}
			if burl, err = arcBackendURL(burl, database, arcKey); err != nil {
				return fail(err)
			}
		}
		if burl != "" {
			// Fail here, not on the first request: the URL must name a
			// backend this build has and that answers.
			b, err := registry.Open(ctx, burl)
			if err != nil {
				return fail(err)
			}
			b.Close()
		}
		if _, err := meta.SetOrgBackend(ctx, s, org, burl, database); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Arc instance bound to %s\n  url:      %s\n  database: %s\n", org, memtrace.MaskURL(burl), database)
		fmt.Fprintf(stderr, "running servers use it within %s\n", "10 seconds")
	case "show-backend", "show-arc":
		s, err := sealer()
		if err != nil {
			return fail(err)
		}
		b, err := meta.OrgBackendOf(ctx, s, org)
		if err != nil {
			return fail(err)
		}
		if b == nil {
			return fail(errs.Newf(errs.NotFound, "no arc instance configured for %s", org))
		}
		fmt.Fprintf(stdout, "Arc instance for %s\n  id:          %s\n  url:         %s\n  database:    %s\n  measurement: %s\n  created:     %s\n",
			org, b.ID, memtrace.MaskURL(b.URL), b.Database, cfg.Memtrace.Measurement, b.CreatedAt.Format("2006-01-02 15:04"))
	case "remove-backend", "remove-arc":
		if err := meta.RemoveOrgBackend(ctx, org); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Arc instance removed from %s\n", org)
	}
	return 0
}

// arcBackendURL turns memtrace's add-arc arguments (Arc's HTTP URL, its
// database and API key) into tsgate's arc:// backend URL.
func arcBackendURL(raw, database, apiKey string) (string, error) {
	if raw == "" {
		return "", errs.New(errs.Invalid, "--url is required")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", errs.New(errs.Invalid, "--url must be Arc's http:// or https:// address (host:port)")
	}
	q := url.Values{}
	if apiKey != "" {
		q.Set("token", apiKey)
	}
	if u.Scheme == "https" {
		q.Set("tls", "true")
	}
	out := &url.URL{Scheme: "arc", Host: u.Host, Path: "/" + database, RawQuery: q.Encode()}
	return out.String(), nil
}
