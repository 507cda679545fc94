"""Calls every public method of Arc's Python client (arc-tsdb-client) against one server.

Usage: driver.py BASE_URL ADMIN_TOKEN

Prints one block per call: the call, then what the client returned or raised. Run it against
tsgate and against a real Arc, with the same starting state, and diff the two outputs
(scripts/clients/arc-python/run.sh does).

What the output leaves out, because it differs on every run of the same server, is replaced
by a placeholder (see normalize()): token values, times of day (created_at, updated_at,
last_used_at, expires_at, last_execution_time, executed_at, execution_time, timestamp,
cutoff_date), durations (execution_time_ms, execution_time_seconds, execution_duration_*,
uptime), a continuous query execution's random execution_id, the write time in Arc's
Parquet file names and the size of Arc's files (total_size_mb, which changes with the
column order below). Two orders that Arc takes from Go map iteration, and so changes between
runs, are sorted: a retention run's affected_measurements, and the columns of SELECT *
(with each row's cells). run.sh replaces the servers' temporary directory with <tmp>.
Everything else is printed as received.

The client's query sub-client (client.query: query, query_arrow, query_pandas, query_polars,
estimate, list_measurements, list_databases, show_tables) imports pyarrow when it is first
used. Where pyarrow is missing, each of those calls is recorded with the ImportError it raises,
and the request the method would have sent is then replayed through the client's own HTTP
layer and decoded with the client's own response model, marked "replay". The replay is this
driver's code, not the client's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import sys
import time
import traceback
from typing import Any, Callable
from urllib.parse import urlparse

import httpx

from arc_client import ArcClient, AsyncArcClient
from arc_client.models.query import EstimateResponse, MeasurementInfo, QueryResponse

DB = "pyclient"
# 2026-11-20T10:00:00Z: old enough for a 7-day retention policy, inside the
# continuous query's explicit window below.
T0_US = 1795168800_000000
T0_NS = T0_US * 1000

TIME_KEYS = {
    "created_at",
    "updated_at",
    "last_used_at",
    "expires_at",
    "last_execution_time",
    "executed_at",
    "execution_time",
    "timestamp",
    "cutoff_date",
}
DURATION_KEYS = {
    "execution_time_ms",
    "execution_time_seconds",
    "execution_duration_seconds",
    "execution_duration_ms",
    "uptime",
}


def normalize(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in TIME_KEYS and v is not None:
                out[k] = "<time>"
            elif k in DURATION_KEYS and v is not None:
                out[k] = "<duration>"
            elif k in ("token", "new_token") and isinstance(v, str) and v:
                out[k] = "<token>"
            elif k == "execution_id" and v:
                out[k] = "<execution_id>"
            elif k == "total_size_mb" and v:
                out[k] = "<size>"
            elif k == "affected_measurements" and isinstance(v, list):
                out[k] = sorted(v)  # Arc lists them in Go map order
            elif k == "files_processed" and isinstance(v, list):
                out[k] = [re.sub(r"_\d{8}_\d{6}_\d+", "_<time>", str(f)) for f in v]
            else:
                out[k] = normalize(v)
        return out
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def render(value: Any, secret: bool = False) -> str:
    """value as one line (a list of models: one line each); secret: a bare token string."""
    if secret and isinstance(value, str) and value:
        return "<token>"
    if hasattr(value, "model_dump"):
        return type(value).__name__ + " " + json.dumps(
            normalize(value.model_dump(mode="json")), sort_keys=True, default=str
        )
    if isinstance(value, list) and value and all(hasattr(v, "model_dump") for v in value):
        lines = [f"list[{type(value[0]).__name__}] ({len(value)})"]
        lines += ["  " + json.dumps(normalize(v.model_dump(mode="json")), sort_keys=True) for v in value]
        return "\n".join(lines)
    return json.dumps(normalize(value), sort_keys=True, default=str)


def show_error(e: BaseException) -> str:
    chain = f"{type(e).__name__}: {e}"
    cause = e.__cause__
    while cause is not None:
        chain += f"\n     caused by {type(cause).__name__}: {cause}"
        cause = cause.__cause__
    return chain


def record(label: str, outcome: Callable[[], Any], secret: bool = False) -> Any:
    """Prints label and what outcome() returned or raised; returns the result or None."""
    print(f"## {label}")
    try:
        result = outcome()
    except Exception as e:  # the client's error is the result being recorded
        print("   raised " + show_error(e))
        return None
    print("   -> " + render(result, secret).replace("\n", "\n   "))
    return result


def call(label: str, fn: Callable[[], Any], token_result: bool = False) -> Any:
    return record(label, fn, token_result)


async def acall(label: str, coro_fn: Callable[[], Any], token_result: bool = False) -> Any:
    try:
        result, err = await coro_fn(), None
    except Exception as e:
        result, err = None, e

    def outcome() -> Any:
        if err is not None:
            raise err
        return result

    return record(label, outcome, token_result)


def flush_and_wait(base: str, token: str) -> None:
    """Harness step, not a client method: Arc buffers writes for up to 5 s."""
    httpx.post(
        base + "/api/v1/write/line-protocol/flush",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    time.sleep(3)
    print("## (harness) POST /api/v1/write/line-protocol/flush, wait 3 s")


def find_id(base: str, token: str, path: str, name: str) -> int:
    """Harness step, not a client method: the id of the object called name under path.

    Used where the client's own list/create cannot return it (see the recorded output)."""
    r = httpx.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    body = r.json()
    items = body if isinstance(body, list) else (body or {}).get("queries") or (body or {}).get("policies") or []
    for item in items or []:
        if item.get("name") == name:
            print(f"## (harness) GET {path}: id of {name!r} is {item['id']}")
            return int(item["id"])
    print(f"## (harness) GET {path}: no {name!r}")
    return -1


class Replay:
    """What QueryClient would send, through the client's own SyncHTTPClient and models."""

    def __init__(self, client: ArcClient) -> None:
        self.http = client._get_http()

    def query(self, sql: str, database: str | None = None) -> QueryResponse:
        headers = {"x-arc-database": database} if database else None
        resp = QueryResponse(**self.http.post("/api/v1/query", json={"sql": sql}, headers=headers).json())
        if sql.startswith("SELECT * "):
            # Arc's SELECT * order follows its Parquet writer's map iteration and changes from
            # run to run of the same writes; the columns are printed sorted by name.
            order = sorted(range(len(resp.columns)), key=lambda i: resp.columns[i])
            resp.columns = [resp.columns[i] for i in order]
            resp.data = [[row[i] for i in order] for row in resp.data]
        if "total_size_mb" in resp.columns:
            i = resp.columns.index("total_size_mb")
            resp.data = [row[:i] + ["<size>" if row[i] else row[i]] + row[i + 1 :] for row in resp.data]
        return resp

    def estimate(self, sql: str, database: str | None = None) -> EstimateResponse:
        headers = {"x-arc-database": database} if database else None
        r = self.http.post("/api/v1/query/estimate", json={"sql": sql}, headers=headers)
        return EstimateResponse(**r.json())

    def list_measurements(self, database: str | None = None) -> list[MeasurementInfo]:
        params = {"database": database} if database else {}
        data = self.http.get("/api/v1/measurements", params=params).json()
        return [MeasurementInfo(**m) for m in data.get("measurements", [])]

    def list_databases(self) -> list[str]:
        return [row[0] for row in self.query("SHOW DATABASES").data if row]

    def show_tables(self, database: str | None = None) -> QueryResponse:
        return self.query(f"SHOW TABLES FROM {database or 'default'}")

    def arrow(self, sql: str, database: str | None = None) -> dict[str, Any]:
        """query_arrow's request and its checks before pyarrow decodes the body."""
        headers = {"Accept": "application/vnd.apache.arrow.stream"}
        if database:
            headers["x-arc-database"] = database
        r = self.http.post("/api/v1/query/arrow", json={"sql": sql}, headers=headers)
        ctype = r.headers.get("content-type", "")
        out: dict[str, Any] = {"status": r.status_code, "content_type": ctype}
        if "application/json" in ctype:
            out["error"] = r.json().get("error", "Query failed with unknown error")
        else:
            # An Arrow IPC stream opens with a message's continuation marker.
            out["ipc_stream"] = r.content[:4] == b"\xff\xff\xff\xff"
        return out


def query_methods(client: ArcClient, replay: Replay, sql: str, database: str | None) -> None:
    """Every query-client method for one statement, then its replay."""
    call(f"query.query({sql!r}, database={database!r})", lambda: client.query.query(sql, database))
    call(f"query.query_arrow({sql!r})", lambda: client.query.query_arrow(sql, database))
    call(f"query.query_pandas({sql!r})", lambda: client.query.query_pandas(sql, database))
    call(f"query.query_polars({sql!r})", lambda: client.query.query_polars(sql, database))
    call(f"replay query({sql!r}, database={database!r})", lambda: replay.query(sql, database))
    call(f"replay query_arrow({sql!r}) up to decoding", lambda: replay.arrow(sql, database))


def run_sync(base: str, host: str, port: int, admin: str) -> None:
    print("# sync client (ArcClient)")
    client = ArcClient(host=host, port=port, token=admin, database=DB)
    replay = Replay(client)
    call("repr(client)", lambda: repr(client).replace(str(port), "<port>"))
    call("client.config (token, port hidden)", lambda: client.config.model_copy(update={"token": "<token>", "port": 0}))

    def context_manager() -> Any:
        with ArcClient(host=host, port=port, token=admin, database=DB) as c:
            return c.health().status

    call("with ArcClient(...) as c: c.health().status", context_manager)
    call("health()", client.health)
    call("ready()", client.ready)

    # --- auth -----------------------------------------------------------------------------
    call("auth.verify() admin", client.auth.verify)
    call("auth.verify() no token", ArcClient(host=host, port=port).auth.verify)
    call("auth.verify() wrong token", ArcClient(host=host, port=port, token="not-a-token").auth.verify)
    call(
        "auth.create_token('py-reader', read)",
        lambda: client.auth.create_token("py-reader", description="python client", permissions=["read"]),
    )
    call(
        "auth.create_token('py-writer', write, expires_in='24h')",
        lambda: client.auth.create_token("py-writer", permissions=["write"], expires_in="24h"),
    )
    call("auth.create_token('py-reader') again", lambda: client.auth.create_token("py-reader"))
    call("auth.create_token('py-bad', permissions=['fly'])", lambda: client.auth.create_token("py-bad", permissions=["fly"]))
    tokens = call("auth.list_tokens()", client.auth.list_tokens) or []
    ids = {t.name: t.id for t in tokens}
    rid = ids.get("py-reader", -1)
    wid = ids.get("py-writer", -1)
    call("auth.get_token(reader)", lambda: client.auth.get_token(rid))
    call("auth.get_token(9999)", lambda: client.auth.get_token(9999))
    call(
        "auth.update_token(reader, description, permissions=[read, write])",
        lambda: client.auth.update_token(rid, description="python client, rw", permissions=["read", "write"]),
    )
    call("auth.get_token(reader) after update", lambda: client.auth.get_token(rid))
    call("auth.update_token(reader, name='py-reader2')", lambda: client.auth.update_token(rid, name="py-reader2"))
    call("auth.update_token(9999, description)", lambda: client.auth.update_token(9999, description="x"))
    new_reader = call("auth.rotate_token(reader)", lambda: client.auth.rotate_token(rid), token_result=True)
    call("auth.rotate_token(9999)", lambda: client.auth.rotate_token(9999))
    reader = ArcClient(host=host, port=port, token=new_reader or "x", database=DB)
    call("auth.verify() rotated reader token", reader.auth.verify)
    call("auth.list_tokens() with reader token", reader.auth.list_tokens)
    call("auth.create_token() with reader token", lambda: reader.auth.create_token("nope"))
    call("write.write_point() with reader token (read, write)", lambda: reader.write.write_point("perm", {"v": 1.0}, timestamp=T0_US))
    call("auth.revoke_token(reader)", lambda: client.auth.revoke_token(rid))
    call("auth.verify() revoked reader token", reader.auth.verify)
    call("auth.get_token(reader) after revoke", lambda: client.auth.get_token(rid))
    call("auth.revoke_token(9999)", lambda: client.auth.revoke_token(9999))
    call("auth.delete_token(writer)", lambda: client.auth.delete_token(wid))
    call("auth.delete_token(writer) again", lambda: client.auth.delete_token(wid))
    call("auth.list_tokens() at end", client.auth.list_tokens)

    # --- writes ---------------------------------------------------------------------------
    lp = [
        f"cpu,host=a,region=us usage=10.5,n=1i,ok=true,note=\"x y\" {T0_NS}",
        f"cpu,host=b,region=eu usage=20.25,n=2i,ok=false,note=\"z\" {T0_NS + 1_000_000_000}",
        f"cpu,host=a,region=us usage=30,n=3i,ok=true,note=\"q\\\"uote\" {T0_NS + 2_000_000_000}",
    ]
    call("write.write_line_protocol(list, gzip)", lambda: client.write.write_line_protocol(lp))
    call(
        "write.write_line_protocol(str, compress=False)",
        lambda: client.write.write_line_protocol(
            f"cpu,host=c usage=40.125,n=4i,ok=true,note=\"w\" {T0_NS + 3_000_000_000}", compress=False
        ),
    )
    call(
        "write.write_point(mem, tags, timestamp)",
        lambda: client.write.write_point(
            "mem", {"used": 512, "free": 1.5, "up": True, "state": "ok"}, tags={"host": "a", "empty": ""}, timestamp=T0_US
        ),
    )
    call(
        "write.write_point(other db, compress=False)",
        lambda: client.write.write_point("mem", {"used": 1}, timestamp=T0_US, database="pyclient_other", compress=False),
    )
    call(
        "write.write_columnar(disk, us)",
        lambda: client.write.write_columnar(
            "disk",
            {
                "time": [T0_US, T0_US + 1_000_000, T0_US + 2_000_000],
                "host": ["a", "b", "a"],
                "used": [10.0, 20.5, 30.25],
                "inodes": [100, 200, 300],
                "ro": [False, True, False],
            },
        ),
    )
    call(
        "write.write_columnar(disk_ms, time_unit='ms', compress=False)",
        lambda: client.write.write_columnar(
            "disk_ms", {"time": [T0_US // 1000, T0_US // 1000 + 1], "v": [1.0, 2.0]}, compress=False, time_unit="ms"
        ),
    )
    call(
        "write.write_columnar(disk_s, time_unit='s')",
        lambda: client.write.write_columnar("disk_s", {"time": [T0_US // 1_000_000], "v": [7]}, time_unit="s"),
    )
    call(
        "write.write_columnar(mismatched lengths)",
        lambda: client.write.write_columnar("bad", {"time": [T0_US], "v": [1, 2]}),
    )
    call(
        "write.write_columnar(time_unit='ns')",
        lambda: client.write.write_columnar("bad", {"time": [T0_US], "v": [1]}, time_unit="ns"),
    )
    call(
        "write.write_records(2 rows, row format)",
        lambda: client.write.write_records(
            [
                {"measurement": "net", "timestamp": T0_US, "fields": {"rx": 100, "tx": 1.5}, "tags": {"if": "eth0"}},
                {"measurement": "net", "timestamp": T0_US + 1_000_000, "fields": {"rx": 200, "tx": 2.5}, "tags": {"if": "eth1"}},
            ]
        ),
    )
    call(
        "write.write_records(compress=False)",
        lambda: client.write.write_records(
            [{"measurement": "net2", "timestamp": T0_US, "fields": {"rx": 1}}], compress=False
        ),
    )
    call("write.write_records([])", lambda: client.write.write_records([]))
    try:
        import pandas as pd

        df = pd.DataFrame(
            {
                "time": pd.to_datetime([T0_US, T0_US + 1_000_000], unit="us"),
                "host": ["a", "b"],
                "load": [0.5, 1.5],
            }
        )
        call("write.write_dataframe(pandas, datetime time)", lambda: client.write.write_dataframe(df, "load", tag_columns=["host"]))
        df2 = pd.DataFrame({"ts": [T0_US], "v": [3]})
        call("write.write_dataframe(pandas, time_column='ts')", lambda: client.write.write_dataframe(df2, "load2", time_column="ts"))
        call("write.write_dataframe(pandas, missing time column)", lambda: client.write.write_dataframe(df2, "load3"))
    except ImportError as e:
        print("## write.write_dataframe(pandas)\n   not run: " + show_error(e))
    for lib in ("polars", "pyarrow"):
        try:
            __import__(lib)
            print(f"## write.write_dataframe({lib})\n   library present but not exercised by this driver")
        except ImportError as e:
            print(f"## write.write_dataframe({lib} frame)\n   not run: " + show_error(e))
    call("write.write_dataframe(dict)", lambda: client.write.write_dataframe({"time": [1]}, "x"))

    def buffered_rows() -> dict[str, Any]:
        with client.write.buffered(batch_size=3, flush_interval=60) as buf:
            for i in range(5):
                buf.write(
                    {"measurement": "buf", "timestamp": T0_US + i * 1_000_000, "fields": {"v": float(i)}, "tags": {"k": "t"}}
                )
            pending_after_writes = buf.pending_count
            buf.write_columnar("buf_col", {"time": [T0_US, T0_US + 1], "v": [1.0, 2.0]})
            pending = buf.pending_measurements
            buf.flush()
            return {"pending_after_5_writes": pending_after_writes, "pending_before_flush": pending, "pending_after_flush": buf.pending_count}

    call("write.buffered(batch_size=3): 5 x write, write_columnar, flush", buffered_rows)
    call("write.write_line_protocol(bad line)", lambda: client.write.write_line_protocol("cpu,host=a"))
    call("write.write_line_protocol(conflict, v=1)", lambda: client.write.write_line_protocol(f"conflict v=1 {T0_NS}"))
    flush_and_wait(base, admin)
    call(
        "write.write_line_protocol(conflict, v=\"text\")",
        lambda: client.write.write_line_protocol(f"conflict v=\"text\" {T0_NS + 1_000_000_000}"),
    )
    flush_and_wait(base, admin)

    # --- queries --------------------------------------------------------------------------
    query_methods(client, replay, "SELECT time, host, region, usage, n, ok, note FROM cpu ORDER BY time", None)
    for m in ("mem", "disk", "disk_ms", "disk_s", "net", "net2", "load", "load2", "buf", "buf_col", "conflict", "perm"):
        call(f"replay query(SELECT * FROM {m} ORDER BY time)", lambda m=m: replay.query(f"SELECT * FROM {m} ORDER BY time"))
    call("replay query(mem, database=pyclient_other)", lambda: replay.query("SELECT * FROM mem", "pyclient_other"))
    call("replay query(count per host, group by)", lambda: replay.query("SELECT host, count(*) AS c, avg(usage) AS a FROM cpu GROUP BY host ORDER BY host"))
    call("replay query(unknown table)", lambda: replay.query("SELECT * FROM nothing_here"))
    call("replay query_arrow(unknown table) up to decoding", lambda: replay.arrow("SELECT * FROM nothing_here"))
    call("replay query_arrow(SHOW DATABASES) up to decoding", lambda: replay.arrow("SHOW DATABASES"))
    call("replay query(syntax error)", lambda: replay.query("SELEC 1"))
    call("replay query(DROP TABLE)", lambda: replay.query("DROP TABLE cpu"))
    call("query.query('')", lambda: client.query.query(""))
    call("query.estimate(SELECT * FROM cpu)", lambda: client.query.estimate("SELECT * FROM cpu"))
    call("replay estimate(SELECT * FROM cpu)", lambda: replay.estimate("SELECT * FROM cpu"))
    call("replay estimate(syntax error)", lambda: replay.estimate("SELEC 1"))
    call("query.list_measurements(pyclient)", lambda: client.query.list_measurements(DB))
    call("replay list_measurements(pyclient)", lambda: [m for m in replay.list_measurements(DB)])
    call("query.list_databases()", lambda: client.query.list_databases())
    call("replay list_databases()", replay.list_databases)
    call("query.show_tables(pyclient)", lambda: client.query.show_tables(DB))
    call("replay show_tables(pyclient)", lambda: replay.show_tables(DB))
    call("query.show_tables() (database 'default')", lambda: client.query.show_tables())
    call("replay show_tables() (database 'default')", lambda: replay.show_tables())

    # --- retention ------------------------------------------------------------------------
    rp = call(
        "retention.create('py-rp', pyclient, 7 days, measurement=net2, buffer_days=0)",
        lambda: client.retention.create("py-rp", DB, 7, measurement="net2", buffer_days=0),
    )
    rpid = rp.id if rp else find_id(base, admin, "/api/v1/retention", "py-rp")
    call("retention.create('py-rp', 30 days) again", lambda: client.retention.create("py-rp", DB, 30))
    call("retention.create(retention_days=0)", lambda: client.retention.create("py-rp0", DB, 0))
    call("retention.list()", client.retention.list)
    call("retention.get(id)", lambda: client.retention.get(rpid))
    call("retention.get(9999)", lambda: client.retention.get(9999))
    call("retention.execute(id) dry run", lambda: client.retention.execute(rpid))
    call("retention.execute(id, dry_run=False, confirm=True)", lambda: client.retention.execute(rpid, dry_run=False, confirm=True))
    call("retention.execute(9999)", lambda: client.retention.execute(9999))
    call("retention.get_executions(id)", lambda: client.retention.get_executions(rpid))
    flush_and_wait(base, admin)
    call("replay query(SELECT count(*) FROM net2)", lambda: replay.query("SELECT count(*) AS n FROM net2"))
    call("retention.get_executions(id, limit=1)", lambda: client.retention.get_executions(rpid, limit=1))
    call("retention.update(id, retention_days=14)", lambda: client.retention.update(rpid, retention_days=14))
    call("retention.get(id) after update", lambda: client.retention.get(rpid))
    call("retention.update(9999, name)", lambda: client.retention.update(9999, name="x"))
    call("retention.update(id, is_active=False)", lambda: client.retention.update(rpid, is_active=False))
    call("retention.execute(id) inactive", lambda: client.retention.execute(rpid))
    call("retention.delete(id)", lambda: client.retention.delete(rpid))
    call("retention.delete(id) again", lambda: client.retention.delete(rpid))
    call("retention.list() at end", client.retention.list)

    # --- continuous queries ---------------------------------------------------------------
    cq_sql = (
        "SELECT time_bucket(INTERVAL '1 minute', time) AS time, host, avg(usage) AS usage_avg "
        "FROM pyclient.cpu WHERE time >= {start_time} AND time < {end_time} GROUP BY 1, host"
    )
    # Interval 5s: below the 10 s tsgate's scheduler runs a query at, so only these explicit
    # calls run it on either server (tsgate would otherwise run a new query at its next 5 s tick,
    # a documented difference, and make the execution history depend on timing).
    cq = call(
        "continuous_queries.create('py-cq', cpu -> cpu_1m, 5s)",
        lambda: client.continuous_queries.create(
            "py-cq", DB, "cpu", "cpu_1m", cq_sql, "5s", description="per-minute cpu"
        ),
    )
    cqid = cq.id if cq else find_id(base, admin, "/api/v1/continuous_queries", "py-cq")
    call(
        "continuous_queries.create('py-cq') again",
        lambda: client.continuous_queries.create("py-cq", DB, "cpu", "cpu_1m", cq_sql, "5s"),
    )
    call(
        "continuous_queries.create(bad interval)",
        lambda: client.continuous_queries.create("py-cq-bad", DB, "cpu", "x", cq_sql, "soon"),
    )
    call("continuous_queries.list()", client.continuous_queries.list)
    call("continuous_queries.list(database=pyclient, is_active=True)", lambda: client.continuous_queries.list(database=DB, is_active=True))
    call("continuous_queries.list(database=none_such)", lambda: client.continuous_queries.list(database="none_such"))
    call("continuous_queries.get(id)", lambda: client.continuous_queries.get(cqid))
    call("continuous_queries.get(9999)", lambda: client.continuous_queries.get(9999))
    start = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
    end = dt.datetime(2026, 11, 20, 11, 0, tzinfo=dt.timezone.utc)
    call("continuous_queries.execute(id, start, end, dry_run=True)", lambda: client.continuous_queries.execute(cqid, start, end, dry_run=True))
    call("continuous_queries.execute(id, start, end)", lambda: client.continuous_queries.execute(cqid, start, end))
    call("continuous_queries.execute(9999)", lambda: client.continuous_queries.execute(9999, start, end))
    call("continuous_queries.get_executions(id)", lambda: client.continuous_queries.get_executions(cqid))
    flush_and_wait(base, admin)
    call("replay query(SELECT * FROM cpu_1m ORDER BY time, host)", lambda: replay.query("SELECT * FROM cpu_1m ORDER BY time, host"))
    call(
        "continuous_queries.update(id, description, interval=5m)",
        lambda: client.continuous_queries.update(cqid, description="every five", interval="5m"),
    )
    call("continuous_queries.update(9999, name)", lambda: client.continuous_queries.update(9999, name="x"))
    call("continuous_queries.execute(id, start, end, dry_run=True) after update", lambda: client.continuous_queries.execute(cqid, start, end, dry_run=True))
    call("continuous_queries.delete(id)", lambda: client.continuous_queries.delete(cqid))
    call("continuous_queries.delete(id) again", lambda: client.continuous_queries.delete(cqid))

    # --- delete ---------------------------------------------------------------------------
    call("delete.get_config()", client.delete.get_config)
    call("delete.delete(disk, host = 'b') dry run", lambda: client.delete.delete(DB, "disk", "host = 'b'"))
    call("delete.delete(disk, host = 'b', dry_run=False)", lambda: client.delete.delete(DB, "disk", "host = 'b'", dry_run=False))
    call(
        "delete.delete(disk, host = 'b', dry_run=False, confirm=True)",
        lambda: client.delete.delete(DB, "disk", "host = 'b'", dry_run=False, confirm=True),
    )
    call("delete.delete(disk, '')", lambda: client.delete.delete(DB, "disk", " "))
    call("delete.delete(disk, 1=1, no confirm)", lambda: client.delete.delete(DB, "disk", "1=1", dry_run=False))
    call("delete.delete(nothing_here, 1=1)", lambda: client.delete.delete(DB, "nothing_here", "1=1", dry_run=False, confirm=True))
    call("delete.delete(disk, bad where)", lambda: client.delete.delete(DB, "disk", "host = ; DROP TABLE x", dry_run=False))
    flush_and_wait(base, admin)
    call("replay query(SELECT host, used FROM disk ORDER BY time)", lambda: replay.query("SELECT host, used FROM disk ORDER BY time"))

    client.close()
    call("client.close(); health() after close (reopens)", client.health)


async def run_async(host: str, port: int, admin: str) -> None:
    print("# async client (AsyncArcClient)")
    base = f"http://{host}:{port}"
    async with AsyncArcClient(host=host, port=port, token=admin, database=DB) as client:
        await acall("health()", client.health)
        await acall("ready()", client.ready)
        await acall("auth.verify()", client.auth.verify)
        await acall("auth.create_token('py-async', read)", lambda: client.auth.create_token("py-async", permissions=["read"]))
        tokens = await acall("auth.list_tokens()", client.auth.list_tokens) or []
        aid = {t.name: t.id for t in tokens}.get("py-async", -1)
        await acall("auth.get_token(id)", lambda: client.auth.get_token(aid))
        await acall("auth.update_token(id, permissions=[read, write])", lambda: client.auth.update_token(aid, permissions=["read", "write"]))
        await acall("auth.rotate_token(id)", lambda: client.auth.rotate_token(aid), token_result=True)
        await acall("auth.revoke_token(id)", lambda: client.auth.revoke_token(aid))
        await acall("auth.delete_token(id)", lambda: client.auth.delete_token(aid))
        await acall(
            "write.write_line_protocol",
            lambda: client.write.write_line_protocol(f"acpu,host=a usage=1.5 {T0_NS}\nacpu,host=b usage=2.5 {T0_NS + 1_000_000_000}"),
        )
        await acall("write.write_point", lambda: client.write.write_point("amem", {"used": 5}, {"host": "a"}, T0_US))
        await acall(
            "write.write_columnar",
            lambda: client.write.write_columnar("adisk", {"time": [T0_US], "host": ["a"], "used": [1.25]}),
        )
        await acall(
            "write.write_records",
            lambda: client.write.write_records([{"measurement": "anet", "timestamp": T0_US, "fields": {"rx": 9}}]),
        )

        async def buffered() -> dict[str, int]:
            async with client.write.buffered(batch_size=2, flush_interval=60) as buf:
                for i in range(3):
                    await buf.write({"measurement": "abuf", "timestamp": T0_US + i, "fields": {"v": i}})
                pending = buf.pending_count
                await buf.write_columnar("abuf", {"time": [T0_US + 10], "v": [10]})
            return {"pending_after_3_writes": pending}

        await acall("write.buffered(batch_size=2)", buffered)
        try:
            import pandas as pd

            adf = pd.DataFrame({"time": pd.to_datetime([T0_US], unit="us"), "v": [2.5]})
            await acall("write.write_dataframe(pandas)", lambda: client.write.write_dataframe(adf, "aload"))
        except ImportError as e:
            print("## write.write_dataframe(pandas)\n   not run: " + show_error(e))
        await acall("query.query()", lambda: client.query.query("SELECT 1"))
        await acall("query.query_arrow()", lambda: client.query.query_arrow("SELECT 1"))
        await acall("query.estimate()", lambda: client.query.estimate("SELECT 1"))
        await acall("query.list_measurements()", lambda: client.query.list_measurements())
        await acall("query.query_pandas()", lambda: client.query.query_pandas("SELECT 1"))
        await acall("query.query_polars()", lambda: client.query.query_polars("SELECT 1"))
        await acall("query.list_databases()", lambda: client.query.list_databases())
        await acall("query.show_tables()", lambda: client.query.show_tables())
        flush_and_wait(base, admin)
        arp = await acall("retention.create('py-arp', 30 days)", lambda: client.retention.create("py-arp", DB, 30))
        await acall("retention.list()", client.retention.list)
        pid = arp.id if arp else find_id(base, admin, "/api/v1/retention", "py-arp")
        await acall("retention.get(id)", lambda: client.retention.get(pid))
        await acall("retention.update(id, buffer_days=1)", lambda: client.retention.update(pid, buffer_days=1))
        await acall("retention.execute(id) dry run", lambda: client.retention.execute(pid))
        await acall("retention.get_executions(id)", lambda: client.retention.get_executions(pid))
        await acall("retention.delete(id)", lambda: client.retention.delete(pid))
        cq = await acall(
            "continuous_queries.create",
            lambda: client.continuous_queries.create(
                "py-acq", DB, "acpu", "acpu_1h", "SELECT time_bucket(INTERVAL '1 hour', time) AS time, avg(usage) AS u FROM pyclient.acpu WHERE time >= {start_time} AND time < {end_time} GROUP BY 1", "5s"
            ),
        )
        qid = cq.id if cq else find_id(base, admin, "/api/v1/continuous_queries", "py-acq")
        await acall("continuous_queries.list()", client.continuous_queries.list)
        await acall("continuous_queries.get(id)", lambda: client.continuous_queries.get(qid))
        await acall("continuous_queries.update(id, is_active=False)", lambda: client.continuous_queries.update(qid, is_active=False))
        await acall(
            "continuous_queries.execute(id, dry_run=True)",
            lambda: client.continuous_queries.execute(qid, "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", dry_run=True),
        )
        await acall("continuous_queries.get_executions(id)", lambda: client.continuous_queries.get_executions(qid))
        await acall("continuous_queries.delete(id)", lambda: client.continuous_queries.delete(qid))
        flush_and_wait(base, admin)
        await acall("delete.get_config()", client.delete.get_config)
        await acall("delete.delete(adisk, host = 'a') dry run", lambda: client.delete.delete(DB, "adisk", "host = 'a'"))


def main() -> None:
    base, admin = sys.argv[1], sys.argv[2]
    u = urlparse(base)
    import arc_client

    print(f"# arc_client {arc_client.__version__}")
    try:
        run_sync(base, u.hostname or "127.0.0.1", u.port or 80, admin)
        asyncio.run(run_async(u.hostname or "127.0.0.1", u.port or 80, admin))
    except Exception:
        traceback.print_exc()
        sys.exit(1)


if __name__ == "__main__":
    main()
