package guard

// deniedFunctions are DuckDB built-ins a query may not call, by reason.
// Everything else DuckDB 1.5 builds in (scalar, aggregate, window and
// macro functions, operators) is allowed: functions_gen.go holds that
// list, and TestFunctionList regenerates it from the linked engine, so a
// DuckDB upgrade shows every new function in review before it is
// callable.
func deniedFunctions() map[string]string {
	const (
		settings   = "reads the engine's settings or session"
		state      = "changes session or engine state"
		sleep      = "holds a connection doing nothing"
		catalog    = "reflects on the engine's catalog"
		reflection = "runs or rewrites SQL text"
		logs       = "reads or writes the engine's log"
	)
	return map[string]string{
		"current_setting": settings, "getvariable": settings, "current_query": settings,
		"current_query_id": settings, "current_connection_id": settings, "current_transaction_id": settings,
		"txid_current": settings, "in_search_path": settings, "current_schema": settings,
		"current_schemas": settings, "current_database": settings, "current_catalog": settings,
		"current_role": settings, "current_user": settings, "session_user": settings, "user": settings,
		"inet_client_addr": settings, "inet_client_port": settings, "inet_server_addr": settings,
		"inet_server_port": settings, "pg_postmaster_start_time": settings, "pg_conf_load_time": settings,
		"get_block_size": settings,

		"setseed": state, "nextval": state, "currval": state,

		"sleep_ms": sleep, "pg_sleep": sleep,

		"json_serialize_sql": reflection, "json_deserialize_sql": reflection, "json_execute_serialized_sql": reflection,

		"write_log": logs, "parse_duckdb_log_message": logs,

		"col_description": catalog, "obj_description": catalog, "shobj_description": catalog,
		"format_pg_type": catalog, "format_type": catalog, "map_to_pg_oid": catalog,
		"has_any_column_privilege": catalog, "has_column_privilege": catalog, "has_database_privilege": catalog,
		"has_foreign_data_wrapper_privilege": catalog, "has_function_privilege": catalog,
		"has_language_privilege": catalog, "has_schema_privilege": catalog, "has_sequence_privilege": catalog,
		"has_server_privilege": catalog, "has_table_privilege": catalog, "has_tablespace_privilege": catalog,
		"pg_collation_is_visible": catalog, "pg_conversion_is_visible": catalog, "pg_function_is_visible": catalog,
		"pg_get_constraintdef": catalog, "pg_get_expr": catalog, "pg_get_viewdef": catalog, "pg_has_role": catalog,
		"pg_is_other_temp_schema": catalog, "pg_my_temp_schema": catalog, "pg_opclass_is_visible": catalog,
		"pg_operator_is_visible": catalog, "pg_opfamily_is_visible": catalog, "pg_table_is_visible": catalog,
		"pg_ts_config_is_visible": catalog, "pg_ts_dict_is_visible": catalog, "pg_ts_parser_is_visible": catalog,
		"pg_ts_template_is_visible": catalog, "pg_type_is_visible": catalog,
	}
}
