package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"tsgate/errs"
	"tsgate/model"
)

// pgType is one row of pg_type plus what format_type prints for it.
type pgType struct {
	oid      int64
	name     string
	len      int
	byval    bool
	category string
	array    int64
	elem     int64
	sqlName  string // format_type's spelling
	align    string
}

// types are the types result columns and catalog columns use, with
// PostgreSQL's OIDs.
var types = []pgType{
	{16, "bool", 1, true, "B", 1000, 0, "boolean", "c"},
	{17, "bytea", -1, false, "U", 1001, 0, "bytea", "i"},
	{18, "char", 1, true, "Z", 1002, 0, `"char"`, "c"},
	{19, "name", 64, false, "S", 1003, 0, "name", "c"},
	{20, "int8", 8, true, "N", 1016, 0, "bigint", "d"},
	{21, "int2", 2, true, "N", 1005, 0, "smallint", "s"},
	{22, "int2vector", -1, false, "A", 1006, 21, "int2vector", "i"},
	{23, "int4", 4, true, "N", 1007, 0, "integer", "i"},
	{24, "regproc", 4, true, "N", 1008, 0, "regproc", "i"},
	{25, "text", -1, false, "S", 1009, 0, "text", "i"},
	{26, "oid", 4, true, "N", 1028, 0, "oid", "i"},
	{30, "oidvector", -1, false, "A", 1013, 26, "oidvector", "i"},
	{114, "json", -1, false, "U", 199, 0, "json", "i"},
	{700, "float4", 4, true, "N", 1021, 0, "real", "i"},
	{701, "float8", 8, true, "N", 1022, 0, "double precision", "d"},
	{1000, "_bool", -1, false, "A", 0, 16, "boolean[]", "i"},
	{1005, "_int2", -1, false, "A", 0, 21, "smallint[]", "i"},
	{1007, "_int4", -1, false, "A", 0, 23, "integer[]", "i"},
	{1009, "_text", -1, false, "A", 0, 25, "text[]", "i"},
	{1016, "_int8", -1, false, "A", 0, 20, "bigint[]", "d"},
	{1021, "_float4", -1, false, "A", 0, 700, "real[]", "i"},
	{1022, "_float8", -1, false, "A", 0, 701, "double precision[]", "d"},
	{1028, "_oid", -1, false, "A", 0, 26, "oid[]", "i"},
	{1042, "bpchar", -1, false, "S", 1014, 0, "character", "i"},
	{1043, "varchar", -1, false, "S", 1015, 0, "character varying", "i"},
	{1082, "date", 4, true, "D", 1182, 0, "date", "i"},
	{1083, "time", 8, true, "D", 1183, 0, "time without time zone", "d"},
	{1114, "timestamp", 8, true, "D", 1115, 0, "timestamp without time zone", "d"},
	{1184, "timestamptz", 8, true, "D", 1185, 0, "timestamp with time zone", "d"},
	{1186, "interval", 16, false, "T", 1187, 0, "interval", "d"},
	{1700, "numeric", -1, false, "N", 1231, 0, "numeric", "i"},
	{2205, "regclass", 4, true, "N", 2210, 0, "regclass", "i"},
	{2206, "regtype", 4, true, "N", 2211, 0, "regtype", "i"},
	{2950, "uuid", 16, false, "U", 2951, 0, "uuid", "c"},
	{3802, "jsonb", -1, false, "U", 3807, 0, "jsonb", "i"},
}

func typeOf(ft model.FieldType) pgType {
	oid := int64(25)
	switch ft {
	case model.TypeFloat:
		oid = 701
	case model.TypeInt:
		oid = 20
	case model.TypeUint:
		oid = 1700
	case model.TypeBool:
		oid = 16
	case model.TypeTime:
		oid = 1184
	}
	for _, t := range types {
		if t.oid == oid {
			return t
		}
	}
	return types[0]
}

// ddl is the shape of every emulated relation, in PostgreSQL's column
// order. %[1]s is the catalog schema, %[2]s the information_schema one.
const ddl = `
CREATE TABLE %[1]s.pg_namespace (oid INTEGER, nspname VARCHAR, nspowner INTEGER, nspacl VARCHAR[]);
CREATE TABLE %[1]s.pg_class (oid INTEGER, relname VARCHAR, relnamespace INTEGER, reltype INTEGER, reloftype INTEGER,
  relowner INTEGER, relam INTEGER, relfilenode INTEGER, reltablespace INTEGER, relpages INTEGER, reltuples REAL,
  relallvisible INTEGER, reltoastrelid INTEGER, relhasindex BOOLEAN, relisshared BOOLEAN, relpersistence VARCHAR,
  relkind VARCHAR, relnatts SMALLINT, relchecks SMALLINT, relhasrules BOOLEAN, relhastriggers BOOLEAN,
  relhassubclass BOOLEAN, relrowsecurity BOOLEAN, relforcerowsecurity BOOLEAN, relispopulated BOOLEAN,
  relreplident VARCHAR, relispartition BOOLEAN, relrewrite INTEGER, relfrozenxid INTEGER, relminmxid INTEGER,
  relacl VARCHAR[], reloptions VARCHAR[], relpartbound VARCHAR);
CREATE TABLE %[1]s.pg_attribute (attrelid INTEGER, attname VARCHAR, atttypid INTEGER, attstattarget INTEGER,
  attlen SMALLINT, attnum SMALLINT, attndims INTEGER, attcacheoff INTEGER, atttypmod INTEGER, attbyval BOOLEAN,
  attalign VARCHAR, attstorage VARCHAR, attcompression VARCHAR, attnotnull BOOLEAN, atthasdef BOOLEAN,
  atthasmissing BOOLEAN, attidentity VARCHAR, attgenerated VARCHAR, attisdropped BOOLEAN, attislocal BOOLEAN,
  attinhcount INTEGER, attcollation INTEGER, attacl VARCHAR[], attoptions VARCHAR[], attfdwoptions VARCHAR[],
  attmissingval VARCHAR);
CREATE TABLE %[1]s.pg_type (oid INTEGER, typname VARCHAR, typnamespace INTEGER, typowner INTEGER, typlen SMALLINT,
  typbyval BOOLEAN, typtype VARCHAR, typcategory VARCHAR, typispreferred BOOLEAN, typisdefined BOOLEAN,
  typdelim VARCHAR, typrelid INTEGER, typsubscript VARCHAR, typelem INTEGER, typarray INTEGER, typinput VARCHAR,
  typoutput VARCHAR, typreceive VARCHAR, typsend VARCHAR, typmodin VARCHAR, typmodout VARCHAR, typanalyze VARCHAR,
  typalign VARCHAR, typstorage VARCHAR, typnotnull BOOLEAN, typbasetype INTEGER, typtypmod INTEGER,
  typndims INTEGER, typcollation INTEGER, typdefaultbin VARCHAR, typdefault VARCHAR, typacl VARCHAR[]);
CREATE TABLE %[1]s.tsgate_type_names (oid INTEGER, sql_name VARCHAR);
CREATE TABLE %[1]s.pg_database (oid INTEGER, datname VARCHAR, datdba INTEGER, encoding INTEGER,
  datlocprovider VARCHAR, datistemplate BOOLEAN, datallowconn BOOLEAN, datconnlimit INTEGER, datfrozenxid INTEGER,
  datminmxid INTEGER, dattablespace INTEGER, datcollate VARCHAR, datctype VARCHAR, daticulocale VARCHAR,
  datcollversion VARCHAR, datacl VARCHAR[]);
CREATE TABLE %[1]s.pg_settings (name VARCHAR, setting VARCHAR, unit VARCHAR, category VARCHAR, short_desc VARCHAR,
  extra_desc VARCHAR, context VARCHAR, vartype VARCHAR, source VARCHAR, min_val VARCHAR, max_val VARCHAR,
  enumvals VARCHAR[], boot_val VARCHAR, reset_val VARCHAR, sourcefile VARCHAR, sourceline INTEGER,
  pending_restart BOOLEAN);
CREATE TABLE %[1]s.pg_index (indexrelid INTEGER, indrelid INTEGER, indnatts SMALLINT, indnkeyatts SMALLINT,
  indisunique BOOLEAN, indnullsnotdistinct BOOLEAN, indisprimary BOOLEAN, indisexclusion BOOLEAN,
  indimmediate BOOLEAN, indisclustered BOOLEAN, indisvalid BOOLEAN, indcheckxmin BOOLEAN, indisready BOOLEAN,
  indislive BOOLEAN, indisreplident BOOLEAN, indkey SMALLINT[], indcollation INTEGER[], indclass INTEGER[],
  indoption SMALLINT[], indexprs VARCHAR, indpred VARCHAR);
CREATE TABLE %[1]s.pg_description (objoid INTEGER, classoid INTEGER, objsubid INTEGER, description VARCHAR);
CREATE TABLE %[1]s.pg_shdescription (objoid INTEGER, classoid INTEGER, description VARCHAR);
CREATE TABLE %[1]s.pg_proc (oid INTEGER, proname VARCHAR, pronamespace INTEGER, proowner INTEGER, prolang INTEGER,
  procost REAL, prorows REAL, provariadic INTEGER, prosupport VARCHAR, prokind VARCHAR, prosecdef BOOLEAN,
  proleakproof BOOLEAN, proisstrict BOOLEAN, proretset BOOLEAN, provolatile VARCHAR, proparallel VARCHAR,
  pronargs SMALLINT, pronargdefaults SMALLINT, prorettype INTEGER, proargtypes INTEGER[], proallargtypes INTEGER[],
  proargmodes VARCHAR[], proargnames VARCHAR[], proargdefaults VARCHAR, protrftypes INTEGER[], prosrc VARCHAR,
  probin VARCHAR, prosqlbody VARCHAR, proconfig VARCHAR[], proacl VARCHAR[]);
CREATE TABLE %[1]s.pg_enum (oid INTEGER, enumtypid INTEGER, enumsortorder REAL, enumlabel VARCHAR);
CREATE TABLE %[1]s.pg_range (rngtypid INTEGER, rngsubtype INTEGER, rngmultitypid INTEGER, rngcollation INTEGER,
  rngsubopc INTEGER, rngcanonical VARCHAR, rngsubdiff VARCHAR);
CREATE TABLE %[1]s.pg_am (oid INTEGER, amname VARCHAR, amhandler VARCHAR, amtype VARCHAR);
CREATE TABLE %[1]s.pg_roles (rolname VARCHAR, rolsuper BOOLEAN, rolinherit BOOLEAN, rolcreaterole BOOLEAN,
  rolcreatedb BOOLEAN, rolcanlogin BOOLEAN, rolreplication BOOLEAN, rolconnlimit INTEGER, rolpassword VARCHAR,
  rolvaliduntil TIMESTAMPTZ, rolbypassrls BOOLEAN, rolconfig VARCHAR[], oid INTEGER);
CREATE TABLE %[1]s.pg_user (usename VARCHAR, usesysid INTEGER, usecreatedb BOOLEAN, usesuper BOOLEAN,
  userepl BOOLEAN, usebypassrls BOOLEAN, passwd VARCHAR, valuntil TIMESTAMPTZ, useconfig VARCHAR[]);
CREATE TABLE %[1]s.pg_auth_members (oid INTEGER, roleid INTEGER, member INTEGER, grantor INTEGER, admin_option BOOLEAN);
CREATE TABLE %[1]s.pg_inherits (inhrelid INTEGER, inhparent INTEGER, inhseqno INTEGER, inhdetachpending BOOLEAN);
CREATE TABLE %[1]s.pg_constraint (oid INTEGER, conname VARCHAR, connamespace INTEGER, contype VARCHAR,
  condeferrable BOOLEAN, condeferred BOOLEAN, convalidated BOOLEAN, conrelid INTEGER, contypid INTEGER,
  conindid INTEGER, conparentid INTEGER, confrelid INTEGER, confupdtype VARCHAR, confdeltype VARCHAR,
  confmatchtype VARCHAR, conislocal BOOLEAN, coninhcount INTEGER, connoinherit BOOLEAN, conkey SMALLINT[],
  confkey SMALLINT[], conpfeqop INTEGER[], conppeqop INTEGER[], conffeqop INTEGER[], confdelsetcols SMALLINT[],
  conexclop INTEGER[], conbin VARCHAR);
CREATE TABLE %[1]s.pg_attrdef (oid INTEGER, adrelid INTEGER, adnum SMALLINT, adbin VARCHAR);
CREATE TABLE %[1]s.pg_tablespace (oid INTEGER, spcname VARCHAR, spcowner INTEGER, spcacl VARCHAR[], spcoptions VARCHAR[]);
CREATE TABLE %[1]s.pg_collation (oid INTEGER, collname VARCHAR, collnamespace INTEGER, collowner INTEGER,
  collprovider VARCHAR, collisdeterministic BOOLEAN, collencoding INTEGER, collcollate VARCHAR, collctype VARCHAR,
  colliculocale VARCHAR, collversion VARCHAR);
CREATE TABLE %[1]s.pg_extension (oid INTEGER, extname VARCHAR, extowner INTEGER, extnamespace INTEGER,
  extrelocatable BOOLEAN, extversion VARCHAR, extconfig INTEGER[], extcondition VARCHAR[]);
CREATE TABLE %[1]s.pg_trigger (oid INTEGER, tgrelid INTEGER, tgparentid INTEGER, tgname VARCHAR, tgfoid INTEGER,
  tgtype SMALLINT, tgenabled VARCHAR, tgisinternal BOOLEAN, tgconstrrelid INTEGER, tgconstrindid INTEGER,
  tgconstraint INTEGER, tgdeferrable BOOLEAN, tginitdeferred BOOLEAN, tgnargs SMALLINT, tgattr SMALLINT[],
  tgargs VARCHAR, tgqual VARCHAR, tgoldtable VARCHAR, tgnewtable VARCHAR);
CREATE TABLE %[1]s.pg_rewrite (oid INTEGER, rulename VARCHAR, ev_class INTEGER, ev_type VARCHAR, ev_enabled VARCHAR,
  is_instead BOOLEAN, ev_qual VARCHAR, ev_action VARCHAR);
CREATE TABLE %[1]s.pg_policy (oid INTEGER, polname VARCHAR, polrelid INTEGER, polcmd VARCHAR, polpermissive BOOLEAN,
  polroles INTEGER[], polqual VARCHAR, polwithcheck VARCHAR);
CREATE TABLE %[1]s.pg_statistic_ext (oid INTEGER, stxrelid INTEGER, stxname VARCHAR, stxnamespace INTEGER,
  stxowner INTEGER, stxstattarget INTEGER, stxkeys SMALLINT[], stxkind VARCHAR[], stxexprs VARCHAR);
CREATE TABLE %[1]s.pg_publication (oid INTEGER, pubname VARCHAR, pubowner INTEGER, puballtables BOOLEAN,
  pubinsert BOOLEAN, pubupdate BOOLEAN, pubdelete BOOLEAN, pubtruncate BOOLEAN, pubviaroot BOOLEAN);
CREATE TABLE %[1]s.pg_publication_rel (oid INTEGER, prpubid INTEGER, prrelid INTEGER, prqual VARCHAR, prattrs SMALLINT[]);
CREATE TABLE %[1]s.pg_publication_namespace (oid INTEGER, pnpubid INTEGER, pnnspid INTEGER);
CREATE TABLE %[1]s.pg_foreign_table (ftrelid INTEGER, ftserver INTEGER, ftoptions VARCHAR[]);
CREATE TABLE %[1]s.pg_partitioned_table (partrelid INTEGER, partstrat VARCHAR, partnatts SMALLINT,
  partdefid INTEGER, partattrs SMALLINT[], partclass INTEGER[], partcollation INTEGER[], partexprs VARCHAR);
CREATE TABLE %[1]s.pg_sequence (seqrelid INTEGER, seqtypid INTEGER, seqstart BIGINT, seqincrement BIGINT,
  seqmax BIGINT, seqmin BIGINT, seqcache BIGINT, seqcycle BOOLEAN);
CREATE TABLE %[1]s.pg_depend (classid INTEGER, objid INTEGER, objsubid INTEGER, refclassid INTEGER, refobjid INTEGER,
  refobjsubid INTEGER, deptype VARCHAR);
CREATE TABLE %[1]s.pg_event_trigger (oid INTEGER, evtname VARCHAR, evtevent VARCHAR, evtowner INTEGER,
  evtfoid INTEGER, evtenabled VARCHAR, evttags VARCHAR[]);
CREATE TABLE %[1]s.pg_stat_user_tables (relid INTEGER, schemaname VARCHAR, relname VARCHAR, seq_scan BIGINT,
  seq_tup_read BIGINT, idx_scan BIGINT, idx_tup_fetch BIGINT, n_tup_ins BIGINT, n_tup_upd BIGINT, n_tup_del BIGINT,
  n_tup_hot_upd BIGINT, n_live_tup BIGINT, n_dead_tup BIGINT, n_mod_since_analyze BIGINT,
  n_ins_since_vacuum BIGINT, last_vacuum TIMESTAMPTZ, last_autovacuum TIMESTAMPTZ, last_analyze TIMESTAMPTZ,
  last_autoanalyze TIMESTAMPTZ, vacuum_count BIGINT, autovacuum_count BIGINT, analyze_count BIGINT,
  autoanalyze_count BIGINT);
CREATE VIEW %[1]s.pg_stat_all_tables AS SELECT * FROM %[1]s.pg_stat_user_tables;
CREATE TABLE %[1]s.pg_statio_user_tables (relid INTEGER, schemaname VARCHAR, relname VARCHAR,
  heap_blks_read BIGINT, heap_blks_hit BIGINT, idx_blks_read BIGINT, idx_blks_hit BIGINT, toast_blks_read BIGINT,
  toast_blks_hit BIGINT, tidx_blks_read BIGINT, tidx_blks_hit BIGINT);
CREATE TABLE %[1]s.pg_stat_user_indexes (relid INTEGER, indexrelid INTEGER, schemaname VARCHAR, relname VARCHAR,
  indexrelname VARCHAR, idx_scan BIGINT, idx_tup_read BIGINT, idx_tup_fetch BIGINT);
CREATE TABLE %[1]s.pg_stat_activity (datid INTEGER, datname VARCHAR, pid INTEGER, leader_pid INTEGER,
  usesysid INTEGER, usename VARCHAR, application_name VARCHAR, client_addr VARCHAR, client_hostname VARCHAR,
  client_port INTEGER, backend_start TIMESTAMPTZ, xact_start TIMESTAMPTZ, query_start TIMESTAMPTZ,
  state_change TIMESTAMPTZ, wait_event_type VARCHAR, wait_event VARCHAR, state VARCHAR, backend_xid INTEGER,
  backend_xmin INTEGER, query_id BIGINT, query VARCHAR, backend_type VARCHAR);
CREATE TABLE %[1]s.pg_stat_database (datid INTEGER, datname VARCHAR, numbackends INTEGER, xact_commit BIGINT,
  xact_rollback BIGINT, blks_read BIGINT, blks_hit BIGINT, tup_returned BIGINT, tup_fetched BIGINT,
  tup_inserted BIGINT, tup_updated BIGINT, tup_deleted BIGINT, conflicts BIGINT, temp_files BIGINT,
  temp_bytes BIGINT, deadlocks BIGINT, stats_reset TIMESTAMPTZ);
CREATE VIEW %[1]s.pg_tables AS SELECT n.nspname AS schemaname, c.relname AS tablename, 'tsgate' AS tableowner,
  NULL::VARCHAR AS tablespace, c.relhasindex AS hasindexes, c.relhasrules AS hasrules,
  c.relhastriggers AS hastriggers, c.relrowsecurity AS rowsecurity
  FROM %[1]s.pg_class c JOIN %[1]s.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p');
CREATE TABLE %[1]s.pg_views (schemaname VARCHAR, viewname VARCHAR, viewowner VARCHAR, definition VARCHAR);
CREATE TABLE %[1]s.pg_matviews (schemaname VARCHAR, matviewname VARCHAR, matviewowner VARCHAR,
  tablespace VARCHAR, hasindexes BOOLEAN, ispopulated BOOLEAN, definition VARCHAR);
CREATE TABLE %[1]s.pg_indexes (schemaname VARCHAR, tablename VARCHAR, indexname VARCHAR, tablespace VARCHAR,
  indexdef VARCHAR);
CREATE TABLE %[2]s.schemata (catalog_name VARCHAR, schema_name VARCHAR, schema_owner VARCHAR,
  default_character_set_catalog VARCHAR, default_character_set_schema VARCHAR,
  default_character_set_name VARCHAR, sql_path VARCHAR);
CREATE TABLE %[2]s.tables (table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, table_type VARCHAR,
  self_referencing_column_name VARCHAR, reference_generation VARCHAR, user_defined_type_catalog VARCHAR,
  user_defined_type_schema VARCHAR, user_defined_type_name VARCHAR, is_insertable_into VARCHAR,
  is_typed VARCHAR, commit_action VARCHAR);
CREATE TABLE %[2]s.columns (table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, column_name VARCHAR,
  ordinal_position INTEGER, column_default VARCHAR, is_nullable VARCHAR, data_type VARCHAR,
  character_maximum_length INTEGER, character_octet_length INTEGER, numeric_precision INTEGER,
  numeric_precision_radix INTEGER, numeric_scale INTEGER, datetime_precision INTEGER, interval_type VARCHAR,
  interval_precision INTEGER, character_set_catalog VARCHAR, character_set_schema VARCHAR,
  character_set_name VARCHAR, collation_catalog VARCHAR, collation_schema VARCHAR, collation_name VARCHAR,
  domain_catalog VARCHAR, domain_schema VARCHAR, domain_name VARCHAR, udt_catalog VARCHAR, udt_schema VARCHAR,
  udt_name VARCHAR, scope_catalog VARCHAR, scope_schema VARCHAR, scope_name VARCHAR,
  maximum_cardinality INTEGER, dtd_identifier VARCHAR, is_self_referencing VARCHAR, is_identity VARCHAR,
  identity_generation VARCHAR, identity_start VARCHAR, identity_increment VARCHAR, identity_maximum VARCHAR,
  identity_minimum VARCHAR, identity_cycle VARCHAR, is_generated VARCHAR, generation_expression VARCHAR,
  is_updatable VARCHAR);
CREATE TABLE %[2]s.views (table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, view_definition VARCHAR,
  check_option VARCHAR, is_updatable VARCHAR, is_insertable_into VARCHAR, is_trigger_updatable VARCHAR,
  is_trigger_deletable VARCHAR, is_trigger_insertable_into VARCHAR);
CREATE TABLE %[2]s.table_constraints (constraint_catalog VARCHAR, constraint_schema VARCHAR,
  constraint_name VARCHAR, table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR,
  constraint_type VARCHAR, is_deferrable VARCHAR, initially_deferred VARCHAR, enforced VARCHAR,
  nulls_distinct VARCHAR);
CREATE TABLE %[2]s.key_column_usage (constraint_catalog VARCHAR, constraint_schema VARCHAR, constraint_name VARCHAR,
  table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, column_name VARCHAR, ordinal_position INTEGER,
  position_in_unique_constraint INTEGER);
CREATE TABLE %[2]s.routines (specific_catalog VARCHAR, specific_schema VARCHAR, specific_name VARCHAR,
  routine_catalog VARCHAR, routine_schema VARCHAR, routine_name VARCHAR, routine_type VARCHAR, data_type VARCHAR);
`

// macros are the system functions. %[1]s is the schema, %[3]s the Arc
// database, %[4]s the version() text.
const macros = `
CREATE MACRO %[1]s.version() AS %[4]s;
CREATE MACRO %[1]s.current_database() AS %[3]s;
CREATE MACRO %[1]s.current_schema() AS 'public';
CREATE MACRO %[1]s.current_schemas(b) AS CASE WHEN b THEN ['pg_catalog', 'public'] ELSE ['public'] END;
CREATE MACRO %[1]s.current_setting(n) AS (SELECT setting FROM %[1]s.pg_settings WHERE lower(name) = lower(n)),
  (n, missing_ok) AS (SELECT setting FROM %[1]s.pg_settings WHERE lower(name) = lower(n));
CREATE MACRO %[1]s.set_config(n, v, l) AS v;
CREATE MACRO %[1]s.pg_get_userbyid(o) AS 'tsgate';
CREATE MACRO %[1]s.pg_table_is_visible(o) AS true;
CREATE MACRO %[1]s.pg_type_is_visible(o) AS true;
CREATE MACRO %[1]s.pg_function_is_visible(o) AS true;
CREATE MACRO %[1]s.pg_encoding_to_char(e) AS 'UTF8';
CREATE MACRO %[1]s.format_type(t, m) AS coalesce((SELECT sql_name FROM %[1]s.tsgate_type_names WHERE oid = t), '???');
CREATE MACRO %[1]s.has_table_privilege(a, b) AS true, (a, b, c) AS true;
CREATE MACRO %[1]s.has_schema_privilege(a, b) AS true, (a, b, c) AS true;
CREATE MACRO %[1]s.has_database_privilege(a, b) AS true, (a, b, c) AS true;
CREATE MACRO %[1]s.has_column_privilege(a, b, c) AS true, (a, b, c, d) AS true;
CREATE MACRO %[1]s.has_function_privilege(a, b) AS true, (a, b, c) AS true;
CREATE MACRO %[1]s.has_any_column_privilege(a, b) AS true, (a, b, c) AS true;
CREATE MACRO %[1]s.obj_description(o) AS NULL::VARCHAR, (o, c) AS (SELECT description FROM %[1]s.pg_description WHERE objoid = o AND objsubid = 0 LIMIT 1);
CREATE MACRO %[1]s.col_description(o, n) AS (SELECT description FROM %[1]s.pg_description WHERE objoid = o AND objsubid = n LIMIT 1);
CREATE MACRO %[1]s.shobj_description(o, c) AS NULL::VARCHAR;
CREATE MACRO %[1]s.pg_get_expr(e, r) AS NULL::VARCHAR, (e, r, p) AS NULL::VARCHAR;
CREATE MACRO %[1]s.pg_get_indexdef(o) AS NULL::VARCHAR, (o, c, p) AS NULL::VARCHAR;
CREATE MACRO %[1]s.pg_get_constraintdef(o) AS NULL::VARCHAR, (o, p) AS NULL::VARCHAR;
CREATE MACRO %[1]s.pg_get_viewdef(o) AS NULL::VARCHAR, (o, p) AS NULL::VARCHAR;
CREATE MACRO %[1]s.pg_get_triggerdef(o) AS NULL::VARCHAR, (o, p) AS NULL::VARCHAR;
CREATE MACRO %[1]s.pg_get_partkeydef(o) AS NULL::VARCHAR;
CREATE MACRO %[1]s.pg_get_statisticsobjdef_columns(o) AS NULL::VARCHAR;
CREATE MACRO %[1]s.pg_get_function_result(o) AS NULL::VARCHAR;
CREATE MACRO %[1]s.pg_get_function_arguments(o) AS NULL::VARCHAR;
CREATE MACRO %[1]s.pg_relation_size(o) AS 0::BIGINT, (o, f) AS 0::BIGINT;
CREATE MACRO %[1]s.pg_total_relation_size(o) AS 0::BIGINT;
CREATE MACRO %[1]s.pg_table_size(o) AS 0::BIGINT;
CREATE MACRO %[1]s.pg_indexes_size(o) AS 0::BIGINT;
CREATE MACRO %[1]s.pg_database_size(o) AS 0::BIGINT;
CREATE MACRO %[1]s.pg_size_pretty(b) AS b::VARCHAR || ' bytes';
CREATE MACRO %[1]s.pg_relation_is_publishable(o) AS false;
CREATE MACRO %[1]s.array_upper(a, d) AS CASE WHEN len(a) = 0 THEN NULL ELSE len(a) END;
CREATE MACRO %[1]s.array_lower(a, d) AS CASE WHEN len(a) = 0 THEN NULL ELSE 1 END;
CREATE MACRO %[1]s.pg_backend_pid() AS 0;
CREATE MACRO %[1]s.pg_is_in_recovery() AS false;
CREATE MACRO %[1]s.pg_postmaster_start_time() AS TIMESTAMPTZ '2000-01-01 00:00:00+00';
CREATE MACRO %[1]s.txid_current() AS 1::BIGINT;
CREATE MACRO %[1]s.pg_get_keywords() AS TABLE SELECT NULL::VARCHAR AS word, NULL::VARCHAR AS catcode, NULL::VARCHAR AS catdesc WHERE false;
CREATE MACRO %[1]s.regclass_in(x) AS (SELECT oid FROM %[1]s.pg_class WHERE relname = trim(regexp_replace(x, '^.*\.', ''), '"') ORDER BY relnamespace DESC LIMIT 1);
CREATE MACRO %[1]s.regtype_in(x) AS (SELECT oid FROM %[1]s.pg_type WHERE typname = x OR oid = (SELECT oid FROM %[1]s.tsgate_type_names WHERE sql_name = x LIMIT 1) LIMIT 1);
CREATE MACRO %[1]s.regnamespace_in(x) AS (SELECT oid FROM %[1]s.pg_namespace WHERE nspname = x);
CREATE MACRO %[2]s._pg_expandarray(a) AS unnest(list_transform(a, (x, i) -> {'x': x, 'n': i}));
CREATE MACRO %[1]s.quote_ident(x) AS CASE WHEN regexp_full_match(x, '[a-z_][a-z0-9_$]*') THEN x ELSE '"' || replace(x, '"', '""') || '"' END;
`

// build materializes db's catalog in sn's schemas.
func (c *Catalog) build(ctx context.Context, db string, sn *snapshot) error {
	var stmts []string
	stmts = append(stmts, "CREATE SCHEMA "+sn.schema, "CREATE SCHEMA "+sn.is)
	for _, s := range strings.Split(fmt.Sprintf(ddl, sn.schema, sn.is), ";\n") {
		if strings.TrimSpace(s) != "" {
			stmts = append(stmts, s)
		}
	}
	ver := "PostgreSQL " + c.serverVersion + " on x86_64-pc-linux-gnu, compiled by Go (tsgate gateway)"
	for _, s := range strings.Split(fmt.Sprintf(macros, sn.schema, sn.is, quoteLit(db), quoteLit(ver)), ";\n") {
		if strings.TrimSpace(s) != "" {
			stmts = append(stmts, s)
		}
	}
	ins := func(table string, rows []string) {
		if len(rows) > 0 {
			stmts = append(stmts, "INSERT INTO "+table+" VALUES "+strings.Join(rows, ",\n"))
		}
	}
	S := sn.schema + "."
	ins(S+"pg_namespace", []string{
		fmt.Sprintf("(%d, 'pg_catalog', %d, NULL)", oidPGCatalog, oidOwner),
		fmt.Sprintf("(%d, 'public', %d, NULL)", oidPublic, oidOwner),
		fmt.Sprintf("(%d, 'information_schema', %d, NULL)", oidInfoSch, oidOwner),
	})
	var trows, tnames []string
	for _, t := range types {
		tt := "b" // base types, arrays included (typtype 'b', typcategory 'A')
		trows = append(trows, fmt.Sprintf("(%d, %s, %d, %d, %d, %t, '%s', '%s', false, true, ',', 0, NULL, %d, %d, %s, %s, %s, %s, NULL, NULL, NULL, '%s', 'p', false, 0, -1, 0, %d, NULL, NULL, NULL)",
			t.oid, quoteLit(t.name), oidPGCatalog, oidOwner, t.len, t.byval, tt, t.category, t.elem, t.array,
			quoteLit(t.name+"in"), quoteLit(t.name+"out"), quoteLit(t.name+"recv"), quoteLit(t.name+"send"), t.align, collation(t)))
		tnames = append(tnames, fmt.Sprintf("(%d, %s)", t.oid, quoteLit(t.sqlName)))
	}
	ins(S+"pg_type", trows)
	ins(S+"tsgate_type_names", tnames)
	// The system relations clients name in regclass casts
	// ('pg_class'::regclass) exist too, in pg_catalog, with their real OIDs.
	var crows []string
	for _, r := range []struct {
		oid  int64
		name string
	}{{1259, "pg_class"}, {1247, "pg_type"}, {1249, "pg_attribute"}, {1255, "pg_proc"}, {2615, "pg_namespace"},
		{1262, "pg_database"}, {2609, "pg_description"}, {2610, "pg_index"}, {2606, "pg_constraint"}, {3501, "pg_enum"}} {
		crows = append(crows, classRow(r.oid, r.name, oidPGCatalog, 0))
	}
	tables, err := c.src.Tables(ctx, db)
	if err != nil {
		return err
	}
	var arows, strows, istab, iscol []string
	for _, t := range tables {
		oid := stableOID(db, t.Name)
		crows = append(crows, classRow(oid, t.Name, oidPublic, len(t.Columns)))
		strows = append(strows, fmt.Sprintf("(%d, 'public', %s, 0, 0, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0)", oid, quoteLit(t.Name)))
		istab = append(istab, fmt.Sprintf("(%s, 'public', %s, 'BASE TABLE', NULL, NULL, NULL, NULL, NULL, 'NO', 'NO', NULL)", quoteLit(db), quoteLit(t.Name)))
		for i, col := range t.Columns {
			pt := typeOf(col.Type)
			arows = append(arows, fmt.Sprintf("(%d, %s, %d, -1, %d, %d, 0, -1, -1, %t, '%s', 'p', '', %t, false, false, '', '', false, true, 0, %d, NULL, NULL, NULL, NULL)",
				oid, quoteLit(col.Name), pt.oid, pt.len, i+1, pt.byval, pt.align, col.NotNull, collation(pt)))
			nullable := "YES"
			if col.NotNull {
				nullable = "NO"
			}
			prec, radix, scale, dtp := "NULL", "NULL", "NULL", "NULL"
			switch pt.oid {
			case 20:
				prec, radix, scale = "64", "2", "0"
			case 701:
				prec, radix = "53", "2"
			case 1184:
				dtp = "6"
			}
			iscol = append(iscol, fmt.Sprintf("(%s, 'public', %s, %s, %d, NULL, '%s', %s, NULL, NULL, %s, %s, %s, %s, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, %s, 'pg_catalog', %s, NULL, NULL, NULL, NULL, '%d', 'NO', 'NO', NULL, NULL, NULL, NULL, NULL, 'NO', 'NEVER', NULL, 'NO')",
				quoteLit(db), quoteLit(t.Name), quoteLit(col.Name), i+1, nullable, quoteLit(pt.sqlName), prec, radix, scale, dtp, quoteLit(db), quoteLit(pt.name), i+1))
		}
	}
	ins(S+"pg_class", crows)
	ins(S+"pg_attribute", arows)
	ins(S+"pg_stat_user_tables", strows)
	ins(sn.is+".tables", istab)
	ins(sn.is+".columns", iscol)
	ins(sn.is+".schemata", []string{
		fmt.Sprintf("(%s, 'public', 'tsgate', NULL, NULL, NULL, NULL)", quoteLit(db)),
		fmt.Sprintf("(%s, 'pg_catalog', 'tsgate', NULL, NULL, NULL, NULL)", quoteLit(db)),
		fmt.Sprintf("(%s, 'information_schema', 'tsgate', NULL, NULL, NULL, NULL)", quoteLit(db)),
	})
	var drows, sdrows []string
	dbs, err := c.src.Databases(ctx)
	if err != nil {
		return err
	}
	seen := false
	for _, d := range dbs {
		seen = seen || d == db
	}
	if !seen {
		dbs = append(dbs, db) // the session's database, even before its first write
	}
	for _, d := range dbs {
		oid := stableOID(d)
		drows = append(drows, fmt.Sprintf("(%d, %s, %d, 6, 'c', false, true, -1, 0, 0, 1663, 'C.UTF-8', 'C.UTF-8', NULL, NULL, NULL)", oid, quoteLit(d), oidOwner))
		sdrows = append(sdrows, fmt.Sprintf("(%d, %s, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL)", oid, quoteLit(d)))
	}
	ins(S+"pg_database", drows)
	ins(S+"pg_stat_database", sdrows)
	var srows []string
	for _, s := range settingRows(c.serverVersion) {
		srows = append(srows, fmt.Sprintf("(%s, %s, NULL, 'Ungrouped', %s, NULL, 'user', 'string', 'default', NULL, NULL, NULL, %s, %s, NULL, NULL, false)",
			quoteLit(s[0]), quoteLit(s[1]), quoteLit(s[2]), quoteLit(s[1]), quoteLit(s[1])))
	}
	ins(S+"pg_settings", srows)
	ins(S+"pg_am", []string{"(2, 'heap', 'heap_tableam_handler', 't')", "(403, 'btree', 'bthandler', 'i')"})
	ins(S+"pg_roles", []string{fmt.Sprintf("('tsgate', false, true, false, false, true, false, -1, '********', NULL, false, NULL, %d)", oidOwner)})
	ins(S+"pg_user", []string{fmt.Sprintf("('tsgate', %d, false, false, false, false, '********', NULL, NULL)", oidOwner)})
	ins(S+"pg_tablespace", []string{"(1663, 'pg_default', 10, NULL, NULL)", "(1664, 'pg_global', 10, NULL, NULL)"})
	ins(S+"pg_collation", []string{"(100, 'default', 11, 10, 'd', true, -1, NULL, NULL, NULL, NULL)", "(950, 'C', 11, 10, 'c', true, -1, 'C', 'C', NULL, NULL)"})
	ins(S+"pg_extension", []string{"(13500, 'plpgsql', 10, 11, false, '1.0', NULL, NULL)"})
	engine, err := c.engine()
	if err != nil {
		return err
	}
	conn, err := engine.Conn(ctx)
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "catalog engine unavailable")
	}
	defer conn.Close()
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return errs.Wrap(errs.Internal, err, "building the pg catalog: "+err.Error())
		}
	}
	return sn.inventory(ctx, conn)
}

// inventory records what the snapshot defines: the only relations and the
// only functions beyond DuckDB's allowed built-ins a catalog query may
// name (its pg_catalog macros by bare name, as the search path finds
// them; its information_schema ones qualified, as clients call them).
func (sn *snapshot) inventory(ctx context.Context, conn *sql.Conn) error {
	sn.tables, sn.isTables, sn.macros = map[string]bool{}, map[string]bool{}, map[string]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN (?, ?)
		UNION ALL SELECT schema_name, view_name FROM duckdb_views() WHERE schema_name IN (?, ?)
		UNION ALL SELECT '()', function_name FROM duckdb_functions() WHERE schema_name = ?
		UNION ALL SELECT '()', schema_name || '.' || function_name FROM duckdb_functions() WHERE schema_name = ?`,
		sn.schema, sn.is, sn.schema, sn.is, sn.schema, sn.is)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "listing the pg catalog")
	}
	defer rows.Close()
	for rows.Next() {
		var schema, name string
		if err := rows.Scan(&schema, &name); err != nil {
			return errs.Wrap(errs.Internal, err, "listing the pg catalog")
		}
		name = strings.ToLower(name)
		switch schema {
		case sn.schema:
			sn.tables[name] = true
		case sn.is:
			sn.isTables[name] = true
		default:
			sn.macros[name] = true
		}
	}
	return rows.Err()
}

func collation(t pgType) int {
	if t.category == "S" {
		return 100
	}
	return 0
}

func classRow(oid int64, name string, ns int64, natts int) string {
	return fmt.Sprintf("(%d, %s, %d, 0, 0, %d, 2, %d, 0, 0, -1, 0, 0, false, false, 'p', 'r', %d, 0, false, false, false, false, false, true, 'd', false, 0, 0, 0, NULL, NULL, NULL)",
		oid, quoteLit(name), ns, oidOwner, oid, natts)
}

// settingRows are pg_settings' rows: name, value, description. They show
// server defaults; SHOW and current_setting() in a simple SELECT answer
// from the session itself.
func settingRows(serverVersion string) [][3]string {
	return [][3]string{
		{"server_version", serverVersion, "Shows the server version."},
		{"server_version_num", "150000", "Shows the server version as an integer."},
		{"server_encoding", "UTF8", "Shows the server (database) character set encoding."},
		{"client_encoding", "UTF8", "Sets the client's character set encoding."},
		{"DateStyle", "ISO, MDY", "Sets the display format for date and time values."},
		{"TimeZone", "UTC", "Sets the time zone for displaying and interpreting time stamps."},
		{"integer_datetimes", "on", "Shows whether datetimes are integer based."},
		{"standard_conforming_strings", "on", "Causes '...' strings to treat backslashes literally."},
		{"IntervalStyle", "postgres", "Sets the display format for interval values."},
		{"transaction_isolation", "read committed", "Sets the current transaction's isolation level."},
		{"default_transaction_isolation", "read committed", "Sets the transaction isolation level of each new transaction."},
		{"default_transaction_read_only", "off", "Sets the default read-only status of new transactions."},
		{"max_identifier_length", "63", "Shows the maximum identifier length."},
		{"max_index_keys", "32", "Shows the maximum number of index keys."},
		{"search_path", `"$user", public`, "Sets the schema search order for names that are not schema-qualified."},
		{"extra_float_digits", "1", "Sets the number of digits displayed for floating-point values."},
		{"lc_collate", "C.UTF-8", "Shows the collation order locale."},
		{"lc_ctype", "C.UTF-8", "Shows the character classification and case conversion locale."},
		{"block_size", "8192", "Shows the size of a disk block."},
		{"statement_timeout", "0", "Sets the maximum allowed duration of any statement."},
	}
}
