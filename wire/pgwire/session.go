package pgwire

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"tsgate/errs"
	"tsgate/model"
	"tsgate/translate/pgparse"
)

// The session layer answers what a PostgreSQL server answers from session
// state, never from data: SET/SHOW/RESET, transaction control, DISCARD,
// cursors, and the probes drivers send on connect. Everything else goes to
// the executor (user data) or the catalog engine.

// setting is a run-time parameter the gateway knows by name.
type setting struct {
	name   string // canonical spelling, as SHOW and ParameterStatus print it
	def    string
	report bool // sent as ParameterStatus (GUC_REPORT in PostgreSQL)
	desc   string
}

var knownSettings = []setting{
	{"server_version", "", true, "Shows the server version."},
	{"server_version_num", "150000", false, "Shows the server version as an integer."},
	{"server_encoding", "UTF8", true, "Shows the server (database) character set encoding."},
	{"client_encoding", "UTF8", true, "Sets the client's character set encoding."},
	{"DateStyle", "ISO, MDY", true, "Sets the display format for date and time values."},
	{"TimeZone", "UTC", true, "Sets the time zone for displaying and interpreting time stamps."},
	{"integer_datetimes", "on", true, "Shows whether datetimes are integer based."},
	{"standard_conforming_strings", "on", true, "Causes '...' strings to treat backslashes literally."},
	{"IntervalStyle", "postgres", true, "Sets the display format for interval values."},
	{"application_name", "", true, "Sets the application name to be reported in statistics and logs."},
	{"is_superuser", "off", true, "Shows whether the current user is a superuser."},
	{"session_authorization", "", true, "Sets the session user name."},
	{"default_transaction_read_only", "off", true, "Sets the default read-only status of new transactions."},
	{"in_hot_standby", "off", true, "Shows whether hot standby is currently active."},
	{"transaction_isolation", "read committed", false, "Sets the current transaction's isolation level."},
	{"default_transaction_isolation", "read committed", false, "Sets the transaction isolation level of each new transaction."},
	{"transaction_read_only", "off", false, "Sets the current transaction's read-only status."},
	{"extra_float_digits", "1", false, "Sets the number of digits displayed for floating-point values."},
	{"search_path", `"$user", public`, false, "Sets the schema search order for names that are not schema-qualified."},
	{"max_identifier_length", "63", false, "Shows the maximum identifier length."},
	{"statement_timeout", "0", false, "Sets the maximum allowed duration of any statement."},
	{"lc_collate", "C.UTF-8", false, "Shows the collation order locale."},
	{"lc_ctype", "C.UTF-8", false, "Shows the character classification and case conversion locale."},
	{"lc_messages", "C.UTF-8", false, "Sets the language in which messages are displayed."},
	{"block_size", "8192", false, "Shows the size of a disk block."},
	{"bytea_output", "hex", false, "Sets the output format for bytea."},
	{"max_index_keys", "32", false, "Shows the maximum number of index keys."},
}

// reportedSettings are sent as ParameterStatus at startup.
var reportedSettings = func() []string {
	var out []string
	for _, s := range knownSettings {
		if s.report {
			out = append(out, s.name)
		}
	}
	return out
}()

func lookupSetting(name string) (setting, bool) {
	for _, s := range knownSettings {
		if strings.EqualFold(s.name, name) {
			return s, true
		}
	}
	return setting{}, false
}

func defaultSettings() map[string]string {
	m := make(map[string]string, len(knownSettings))
	for _, s := range knownSettings {
		m[strings.ToLower(s.name)] = s.def
	}
	return m
}

func (c *conn) show(name string) string {
	switch strings.ToLower(name) {
	case "server_version":
		return c.srv.cfg.ServerVersion
	case "session_authorization":
		return c.user
	}
	return c.settings[strings.ToLower(name)]
}

// set applies SET name = value (and startup-message parameters).
func (c *conn) set(name, value string) error {
	key := strings.ToLower(name)
	switch key {
	case "client_encoding":
		switch strings.ToUpper(strings.ReplaceAll(value, "-", "")) {
		case "UTF8", "UNICODE":
			value = "UTF8"
		default:
			return sqlErrf(errs.Unsupported, "0A000", "client_encoding %q is not supported: tsgate speaks UTF8 only", value)
		}
	case "datestyle":
		// Output is always ISO; the order part only matters for input.
		if !strings.Contains(strings.ToUpper(value), "ISO") {
			return sqlErrf(errs.Unsupported, "0A000", "DateStyle %q is not supported: tsgate prints ISO dates only", value)
		}
		order := "MDY"
		for _, o := range []string{"DMY", "YMD", "MDY"} {
			if strings.Contains(strings.ToUpper(value), o) {
				order = o
			}
		}
		value = "ISO, " + order
	case "server_version", "server_encoding", "integer_datetimes", "server_version_num", "block_size", "max_identifier_length", "lc_collate", "lc_ctype", "in_hot_standby", "is_superuser":
		return sqlErrf(errs.Invalid, "55P02", "parameter %q cannot be changed", name)
	case "standard_conforming_strings":
		if b, ok := parseBoolSetting(value); !ok || !b {
			return sqlErrf(errs.Unsupported, "0A000", "standard_conforming_strings must stay on")
		}
		value = "on"
	}
	s, known := lookupSetting(name)
	if !known && !strings.Contains(key, ".") {
		// Accepted so clients keep working; logged so the list of
		// settings worth implementing builds itself.
		c.srv.log.Info("pgwire: unknown setting accepted", "name", name, "value", value, "user", c.user)
	}
	c.settings[key] = value
	if known && s.report && c.pid != 0 {
		c.be.Send(&pgproto3.ParameterStatus{Name: s.name, Value: value})
	}
	return nil
}

func parseBoolSetting(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1", "t", "y":
		return true, true
	case "off", "false", "no", "0", "f", "n":
		return false, true
	}
	return false, false
}

// run executes one statement's text (parameters already bound).
func (c *conn) run(sql string) (*result, error) {
	toks := tokens(sql, 8)
	if len(toks) == 0 {
		return &result{empty: true}, nil
	}
	first := ""
	if toks[0].kind == tokIdent {
		first = toks[0].text
	}
	// PostgreSQL's own grammar says what the statement is; the session
	// layer answers what acts on session state without touching an
	// engine, and only queries go on.
	class, err := pgparse.Classify(sql)
	if err != nil {
		return nil, err
	}
	if c.txStatus == 'E' && !(class.Kind == pgparse.KindTransaction && (first == "commit" || first == "end" || first == "rollback" || first == "abort")) {
		return nil, sqlErrf(errs.Invalid, "25P02", "current transaction is aborted, commands ignored until end of transaction block")
	}
	switch class.Kind {
	case pgparse.KindQuery, pgparse.KindExplain, pgparse.KindArc:
	case pgparse.KindOther:
		if first == "prepare" || first == "execute" {
			return nil, sqlErrf(errs.Unsupported, "0A000", "SQL-level %s is not supported; use the extended query protocol", strings.ToUpper(first))
		}
		return nil, sqlErrf(errs.Invalid, "25006", "cannot execute %s: tsgate serves queries only over pg wire (writes go through the Arc API)", class.Statement)
	default:
		r, ok, err := c.sessionCommand(first, sql, toks)
		if !ok {
			return nil, sqlErrf(errs.Unsupported, "0A000", "%s is not supported", class.Statement)
		}
		return r, err
	}
	ctx, cancel := c.begin()
	// The backend does most of its work before the first row (DuckDB
	// materializes), so the statement is cancelable from here on.
	c.setRunning(cancel)
	rows, err := c.query(ctx, sql, toks)
	c.setRunning(nil)
	if err != nil {
		cancel()
		return nil, err
	}
	return &result{rows: rows, tag: "SELECT", cancel: cancel}, nil
}

// query routes a statement: probes answered here, catalog queries to the
// catalog engine (never the user's data path), the rest to the executor.
func (c *conn) query(ctx context.Context, sql string, head []token) (model.Rows, error) {
	if rows, ok, err := c.probe(sql); ok {
		return rows, err
	}
	ctx, err := c.reader(ctx)
	if err != nil {
		return nil, err
	}
	if c.srv.cfg.Catalog != nil && isCatalogQuery(sql) {
		return c.srv.cfg.Catalog.Query(ctx, Session{User: c.user, Database: c.db}, sql)
	}
	if zone := c.settings["timezone"]; !isUTC(zone) {
		return nil, zoneRefusal(zone)
	}
	return c.srv.exec.Query(ctx, c.db, sql)
}

// isUTC reports whether a TimeZone value names UTC: the zone every engine
// behind pg wire computes and prints timestamps in.
func isUTC(zone string) bool {
	switch strings.ToLower(strings.TrimSpace(zone)) {
	case "utc", "etc/utc", "uct", "etc/uct", "gmt", "etc/gmt", "gmt0", "etc/gmt0", "gmt+0", "gmt-0",
		"etc/gmt+0", "etc/gmt-0", "greenwich", "etc/greenwich", "universal", "etc/universal",
		"zulu", "etc/zulu", "z", "0", "+0", "-0", "00:00", "+00:00", "-00:00":
		return true
	}
	return false
}

// zoneRefusal refuses a query in a session whose TimeZone is not UTC.
// PostgreSQL reads and prints timestamptz in the session's zone: with
// Asia/Shanghai, '2025-11-26' in a WHERE clause is 16:00 UTC the day
// before, date_trunc('day', t) cuts at local midnight and extract(hour)
// is local. tsgate answers in UTC only, so such a session's answers
// would differ from PostgreSQL's: it is refused, not answered. The
// setting itself is kept (pgjdbc sends the JVM's zone at startup), so
// the client can connect and SET TimeZone = 'UTC'.
func zoneRefusal(zone string) error {
	return &errs.Error{Code: errs.Unsupported, SQLState: "0A000",
		Msg:  fmt.Sprintf("TimeZone %q is not supported for queries: tsgate reads and prints timestamps in UTC only, and PostgreSQL would answer in this session's zone", zone),
		Hint: "SET TimeZone = 'UTC' (pgjdbc sends the JVM's zone at startup: run it with -Duser.timezone=UTC)"}
}

// catalogFuncs are system functions only the catalog engine knows.
var catalogFuncs = map[string]bool{
	"version": true, "current_setting": true, "set_config": true, "current_schema": true,
	"current_schemas": true, "current_database": true, "format_type": true, "obj_description": true,
	"col_description": true, "shobj_description": true, "has_table_privilege": true,
	"has_schema_privilege": true, "has_database_privilege": true, "has_column_privilege": true,
	"has_function_privilege": true, "array_to_string": false,
}

// catalogWords are bare words that make a statement a catalog query.
var catalogWords = map[string]bool{
	"information_schema": true, "current_user": true, "session_user": true, "current_role": true,
	"current_catalog": true, "regclass": true, "regtype": true, "regproc": true, "regnamespace": true,
}

// isCatalogQuery reports whether sql reads the system catalog: it names a
// pg_* relation or function, information_schema, or a system function.
// Decided on tokens, so a string literal mentioning pg_class does not
// count.
func isCatalogQuery(sql string) bool {
	found := false
	var prev token
	scan(sql, func(t token) bool {
		if t.kind == tokIdent {
			if strings.HasPrefix(t.text, "pg_") || catalogWords[t.text] {
				found = true
				return false
			}
		}
		if t.kind == tokOp && strings.HasPrefix(t.text, "(") && prev.kind == tokIdent && catalogFuncs[prev.text] {
			found = true
			return false
		}
		prev = t
		return true
	})
	return found
}

// probe answers the one-function SELECTs drivers send on connect
// (SELECT version(), SELECT current_setting('x'), SELECT
// current_database()) from session state.
func (c *conn) probe(sql string) (model.Rows, bool, error) {
	t := tokens(sql, 16)
	if len(t) < 4 || t[0].kind != tokIdent || t[0].text != "select" {
		return nil, false, nil
	}
	i := 1
	if t[i].kind == tokIdent && t[i].text == "pg_catalog" && i+2 < len(t) && t[i+1].text == "." {
		i += 2
	}
	if t[i].kind != tokIdent || i+2 >= len(t) || t[i+1].text != "(" {
		return nil, false, nil
	}
	fn := t[i].text
	var arg *token
	j := i + 2
	if t[j].kind == tokString {
		arg = &t[j]
		j++
	}
	if j >= len(t) || t[j].text != ")" {
		return nil, false, nil
	}
	j++
	col := fn
	if j < len(t) && t[j].kind == tokIdent && t[j].text == "as" {
		j++
	}
	if j < len(t) && (t[j].kind == tokIdent || t[j].kind == tokQIdent) {
		col = t[j].text
		j++
	}
	if j != len(t) {
		return nil, false, nil
	}
	var v string
	switch {
	case fn == "version" && arg == nil:
		v = "PostgreSQL " + c.srv.cfg.ServerVersion + " on x86_64-pc-linux-gnu, compiled by Go (tsgate gateway)"
	case fn == "current_setting" && arg != nil:
		name := unquoteString(arg.text)
		if _, known := lookupSetting(name); !known {
			if _, set := c.settings[strings.ToLower(name)]; !set {
				return nil, true, sqlErrf(errs.NotFound, "42704", "unrecognized configuration parameter %q", name)
			}
		}
		v = c.show(name)
	case fn == "current_database" && arg == nil:
		v = c.db
	case fn == "current_schema" && arg == nil:
		v = "public"
	default:
		return nil, false, nil
	}
	return oneText(col, v), true, nil
}

func oneText(col, v string) model.Rows {
	return &model.SliceRows{
		Cols: []model.ResultColumn{{Name: col, Type: model.TypeString, BackendType: "TEXT"}},
		Data: [][]model.Value{{model.String(v)}},
	}
}

// unquoteString turns a string literal token into its value.
func unquoteString(s string) string {
	switch {
	case strings.HasPrefix(s, "'"):
		s = strings.TrimSuffix(s[1:], "'")
		return strings.ReplaceAll(s, "''", "'")
	case strings.HasPrefix(s, "E'") || strings.HasPrefix(s, "e'"):
		s = strings.TrimSuffix(s[2:], "'")
		s = strings.ReplaceAll(s, "''", "'")
		return strings.ReplaceAll(s, `\'`, "'")
	case strings.HasPrefix(s, "$"):
		i := strings.IndexByte(s[1:], '$')
		if i >= 0 {
			tag := s[:i+2]
			return strings.TrimSuffix(strings.TrimPrefix(s, tag), tag)
		}
	}
	return s
}

func (c *conn) notice(state, msg string) {
	c.be.Send(&pgproto3.NoticeResponse{Severity: "WARNING", SeverityUnlocalized: "WARNING", Code: state, Message: msg})
}

// sessionCommand answers statements that act on session state.
func (c *conn) sessionCommand(first, sql string, head []token) (*result, bool, error) {
	switch first {
	case "set":
		return c.setCommand(sql)
	case "show":
		return c.showCommand(sql)
	case "reset":
		all := tokens(sql, 3)
		if len(all) < 2 {
			return nil, true, sqlErrf(errs.Invalid, "42601", "syntax error at end of input")
		}
		if all[1].text == "all" {
			user := c.settings["application_name"]
			c.settings = defaultSettings()
			c.settings["application_name"] = user
		} else if s, ok := lookupSetting(all[1].text); ok {
			c.set(s.name, s.def)
		} else {
			delete(c.settings, all[1].text)
		}
		return &result{tag: "RESET"}, true, nil
	case "discard":
		w := words(sql, 2)
		what := "ALL"
		if len(w) > 1 {
			what = strings.ToUpper(w[1])
		}
		if what == "ALL" {
			if c.txStatus != 'I' {
				return nil, true, sqlErrf(errs.Invalid, "25001", "DISCARD ALL cannot run inside a transaction block")
			}
			c.closePortals()
			c.resetSession()
		}
		return &result{tag: "DISCARD " + what}, true, nil
	case "begin", "start":
		if first == "start" && (len(head) < 2 || head[1].text != "transaction") {
			return nil, false, nil
		}
		if c.txStatus != 'I' {
			c.notice("25001", "there is already a transaction in progress")
		} else {
			c.txStatus = 'T'
		}
		return &result{tag: "BEGIN"}, true, nil
	case "commit", "end":
		tag := "COMMIT"
		switch c.txStatus {
		case 'I':
			c.notice("25P01", "there is no transaction in progress")
		case 'E':
			tag = "ROLLBACK"
		}
		c.endTx()
		return &result{tag: tag}, true, nil
	case "rollback", "abort":
		if len(head) > 1 && head[1].text == "to" {
			// ROLLBACK TO SAVEPOINT: nothing was written, so the
			// failed state is all there is to undo.
			if c.txStatus == 'E' {
				c.txStatus = 'T'
			}
			return &result{tag: "ROLLBACK"}, true, nil
		}
		if c.txStatus == 'I' {
			c.notice("25P01", "there is no transaction in progress")
		}
		c.endTx()
		return &result{tag: "ROLLBACK"}, true, nil
	case "savepoint":
		return &result{tag: "SAVEPOINT"}, true, nil
	case "release":
		return &result{tag: "RELEASE"}, true, nil
	case "unlisten":
		return &result{tag: "UNLISTEN"}, true, nil
	case "listen":
		// No notifications are ever sent; listening is harmless.
		return &result{tag: "LISTEN"}, true, nil
	case "deallocate":
		t := tokens(sql, 4)
		i := 1
		if i < len(t) && t[i].kind == tokIdent && t[i].text == "prepare" {
			i++
		}
		if i >= len(t) {
			return nil, true, sqlErrf(errs.Invalid, "42601", "syntax error at end of input")
		}
		if t[i].kind == tokIdent && t[i].text == "all" {
			c.stmts = map[string]*prepared{}
			return &result{tag: "DEALLOCATE ALL"}, true, nil
		}
		if _, ok := c.stmts[t[i].text]; !ok {
			return nil, true, sqlErrf(errs.NotFound, "26000", "prepared statement %q does not exist", t[i].text)
		}
		delete(c.stmts, t[i].text)
		return &result{tag: "DEALLOCATE"}, true, nil
	case "declare":
		r, err := c.declare(sql)
		return r, true, err
	case "fetch", "move":
		r, err := c.fetch(sql, first == "move")
		return r, true, err
	case "close":
		r, err := c.closeCursor(sql)
		return r, true, err
	}
	return nil, false, nil
}

// endTx leaves a transaction block; cursors without HOLD close with it.
func (c *conn) endTx() {
	c.txStatus = 'I'
	c.closeCursors(false)
}

func (c *conn) setCommand(sql string) (*result, bool, error) {
	t := tokens(sql, 0)
	i := 1
	if i < len(t) && (t[i].text == "session" || t[i].text == "local") {
		if t[i].text == "session" && i+1 < len(t) && t[i+1].text == "characteristics" {
			return &result{tag: "SET"}, true, nil
		}
		i++
	}
	if i >= len(t) {
		return nil, true, sqlErrf(errs.Invalid, "42601", "syntax error at end of input")
	}
	var name string
	switch {
	case t[i].text == "transaction":
		// SET TRANSACTION ISOLATION LEVEL …/READ ONLY: reads are all
		// there is, every level means the same here.
		return &result{tag: "SET"}, true, nil
	case t[i].text == "time" && i+1 < len(t) && t[i+1].text == "zone":
		name, i = "TimeZone", i+2
	case t[i].text == "names":
		name, i = "client_encoding", i+1
	default:
		name = t[i].text
		i++
		for i+1 < len(t) && t[i].text == "." {
			name += "." + t[i+1].text
			i += 2
		}
		if i < len(t) && (t[i].text == "=" || t[i].text == "to") {
			i++
		}
	}
	var parts []string
	for ; i < len(t); i++ {
		switch t[i].kind {
		case tokString:
			parts = append(parts, unquoteString(t[i].text))
		case tokOp:
			if t[i].text == "," {
				continue
			}
			if t[i].text == "-" && i+1 < len(t) {
				parts = append(parts, "-"+t[i+1].text)
				i++
				continue
			}
			parts = append(parts, t[i].text)
		default:
			parts = append(parts, t[i].text)
		}
	}
	if len(parts) == 0 {
		return nil, true, sqlErrf(errs.Invalid, "42601", "syntax error at end of input")
	}
	value := strings.Join(parts, ", ")
	if len(parts) == 1 && (parts[0] == "default" || parts[0] == "local") && t[len(t)-1].kind == tokIdent {
		if s, ok := lookupSetting(name); ok {
			value = s.def
		}
	}
	if err := c.set(name, value); err != nil {
		return nil, true, err
	}
	return &result{tag: "SET"}, true, nil
}

func (c *conn) showCommand(sql string) (*result, bool, error) {
	w := words(sql, 5)
	if len(w) < 2 {
		return nil, true, sqlErrf(errs.Invalid, "42601", "syntax error at end of input")
	}
	name := w[1]
	switch {
	case name == "tables" || name == "databases" || name == "measurements":
		// Arc's SHOW statements: the translator answers them.
		return nil, false, nil
	case name == "all":
		keys := make([]string, 0, len(c.settings))
		for k := range c.settings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		rows := &model.SliceRows{Cols: []model.ResultColumn{
			{Name: "name", Type: model.TypeString, BackendType: "TEXT"},
			{Name: "setting", Type: model.TypeString, BackendType: "TEXT"},
			{Name: "description", Type: model.TypeString, BackendType: "TEXT"},
		}}
		for _, k := range keys {
			s, _ := lookupSetting(k)
			n := k
			if s.name != "" {
				n = s.name
			}
			rows.Data = append(rows.Data, []model.Value{model.String(n), model.String(c.show(k)), model.String(s.desc)})
		}
		return &result{rows: rows, tag: "SHOW"}, true, nil
	case name == "time" && len(w) > 2 && w[2] == "zone":
		name = "TimeZone"
	case name == "transaction" && len(w) > 2 && w[2] == "isolation":
		name = "transaction_isolation"
	case name == "session" && len(w) > 2 && w[2] == "authorization":
		name = "session_authorization"
	}
	if s, ok := lookupSetting(name); ok {
		name = s.name
	} else if _, set := c.settings[strings.ToLower(name)]; !set {
		return nil, true, sqlErrf(errs.NotFound, "42704", "unrecognized configuration parameter %q", name)
	}
	r := oneText(name, c.show(name))
	return &result{rows: r, tag: "SHOW"}, true, nil
}

// cursor is a DECLAREd cursor: an open result read forward by FETCH.
type cursor struct {
	name   string
	res    *result
	hold   bool
	binary bool
}

func (c *conn) closeCursors(all bool) {
	for k, cur := range c.cursors {
		if all || !cur.hold {
			cur.res.close()
			delete(c.cursors, k)
		}
	}
}

// declare: DECLARE name [BINARY] [ASENSITIVE|INSENSITIVE] [[NO] SCROLL]
// CURSOR [{WITH|WITHOUT} HOLD] FOR query.
func (c *conn) declare(sql string) (*result, error) {
	t := tokens(sql, 0)
	if len(t) < 4 || (t[1].kind != tokIdent && t[1].kind != tokQIdent) {
		return nil, sqlErrf(errs.Invalid, "42601", "syntax error in DECLARE")
	}
	name := t[1].text
	cur := &cursor{name: name}
	i := 2
	for ; i < len(t) && t[i].kind == tokIdent && t[i].text != "cursor"; i++ {
		switch t[i].text {
		case "binary":
			cur.binary = true
		case "scroll":
			if t[i-1].text != "no" {
				return nil, sqlErrf(errs.Unsupported, "0A000", "SCROLL cursors are not supported: cursors here read forward only")
			}
		}
	}
	i++
	for ; i < len(t) && t[i].kind == tokIdent && t[i].text != "for"; i++ {
		if t[i].text == "with" && i+1 < len(t) && t[i+1].text == "hold" {
			cur.hold = true
		}
	}
	if i >= len(t) || t[i].text != "for" {
		return nil, sqlErrf(errs.Invalid, "42601", "syntax error in DECLARE: expected FOR")
	}
	query := strings.TrimSpace(sql[t[i].end:])
	if !cur.hold && c.txStatus == 'I' {
		return nil, sqlErrf(errs.Invalid, "25P01", "DECLARE CURSOR can only be used in transaction blocks")
	}
	if _, dup := c.cursors[name]; dup {
		return nil, sqlErrf(errs.Conflict, "42P03", "cursor %q already exists", name)
	}
	// The cursor's query outlives this statement: its context is the
	// session's, canceled when the cursor closes.
	ctx, cancel := context.WithCancel(c.ctx)
	rows, err := c.query(ctx, query, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	cur.res = &result{rows: rows, cancel: cancel}
	c.cursors[name] = cur
	return &result{tag: "DECLARE CURSOR"}, nil
}

// fetch: FETCH|MOVE [NEXT|FORWARD [n|ALL]|n|ALL] [FROM|IN] name.
func (c *conn) fetch(sql string, move bool) (*result, error) {
	t := tokens(sql, 0)
	count := 1
	i := 1
	for ; i < len(t)-1; i++ {
		switch {
		case t[i].kind == tokNumber:
			n, err := strconv.Atoi(t[i].text)
			if err != nil {
				return nil, sqlErrf(errs.Invalid, "42601", "syntax error at or near %q", t[i].text)
			}
			count = n
		case t[i].text == "all":
			count = -1
		case t[i].text == "next" || t[i].text == "forward" || t[i].text == "from" || t[i].text == "in":
		case t[i].text == "prior" || t[i].text == "first" || t[i].text == "last" || t[i].text == "absolute" || t[i].text == "relative" || t[i].text == "backward" || t[i].text == "-":
			return nil, sqlErrf(errs.Unsupported, "55000", "cursor can only scan forward")
		}
	}
	if i >= len(t) {
		return nil, sqlErrf(errs.Invalid, "42601", "syntax error at end of input")
	}
	cur, ok := c.cursors[t[i].text]
	if !ok {
		return nil, sqlErrf(errs.NotFound, "34000", "cursor %q does not exist", t[i].text)
	}
	lr := &limitRows{src: cur.res.rows, left: count}
	if move {
		vals := make([]model.Value, len(lr.Columns()))
		for lr.Next(vals) {
		}
		if err := lr.Err(); err != nil {
			return nil, err
		}
		return &result{tag: "MOVE " + strconv.Itoa(lr.n)}, nil
	}
	return &result{rows: lr, tag: "FETCH", binary: cur.binary}, nil
}

func (c *conn) closeCursor(sql string) (*result, error) {
	t := tokens(sql, 3)
	if len(t) < 2 {
		return nil, sqlErrf(errs.Invalid, "42601", "syntax error at end of input")
	}
	if t[1].kind == tokIdent && t[1].text == "all" {
		c.closeCursors(true)
		return &result{tag: "CLOSE CURSOR"}, nil
	}
	cur, ok := c.cursors[t[1].text]
	if !ok {
		return nil, sqlErrf(errs.NotFound, "34000", "cursor %q does not exist", t[1].text)
	}
	cur.res.close()
	delete(c.cursors, cur.name)
	return &result{tag: "CLOSE CURSOR"}, nil
}
