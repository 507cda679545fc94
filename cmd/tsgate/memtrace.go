package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"tsgate/gateway"
	"tsgate/memtrace"
)

const memtraceUsage = `usage:
  tsgate memtrace org add [flags] ORG_ID     add an organization (-name NAME)
  tsgate memtrace org list [flags]           list organizations
  tsgate memtrace key create [flags]         create an API key (-org, -name, -permissions); prints it once
  tsgate memtrace key list [flags]           list API keys (-org to filter)
  tsgate memtrace key revoke [flags] KEY_ID  disable an API key (running servers forget it within 5 minutes)`

// runMemtrace manages the memtrace API's orgs and keys, which memtrace
// (and tsgate) deliberately do not expose over HTTP.
func runMemtrace(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprintln(stderr, memtraceUsage)
		return 2
	}
	what := args[0] + " " + args[1]
	fs := flag.NewFlagSet("memtrace "+what, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf configFlags
	cf.register(fs)
	name := fs.String("name", "", "organization name (org add) or key name (key create)")
	org := fs.String("org", "org_default", "organization (key create); filter (key list, empty for all)")
	perms := fs.String("permissions", "read,write", "comma-separated: read, write, admin (key create)")
	// Positional arguments (the org or key id) may stand before, between
	// or after the flags.
	pos, err := parseArgs(fs, args[2:])
	if err != nil {
		return 2
	}
	orgSet := false
	fs.Visit(func(f *flag.Flag) { orgSet = orgSet || f.Name == "org" })
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
		if *name == "" {
			fmt.Fprintln(stderr, "tsgate: memtrace key create needs -name")
			return 2
		}
		p, err := memtrace.ParsePermissions(*perms)
		if err != nil {
			fmt.Fprintln(stderr, "tsgate:", err)
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
