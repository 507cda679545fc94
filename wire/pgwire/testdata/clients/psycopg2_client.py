"""psycopg2 against tsgate: SCRAM login, parameters (psycopg2 binds on the
client side), server-side named cursor (DECLARE/FETCH), an error with
SQLSTATE. Prints OK; exits 1 on failure."""
import datetime
import os
import sys

import psycopg2

conn = psycopg2.connect(os.environ["PGURL"])
cur = conn.cursor()
cur.execute("SELECT 1")
assert cur.fetchone() == (1,), "SELECT 1"
cur.execute("SELECT host, usage, count, time FROM cpu WHERE host = %s ORDER BY time", ("a",))
rows = cur.fetchall()
assert [r[:3] for r in rows] == [("a", 1.5, 3), ("a", 3.5, 5)], rows
assert rows[0][3] == datetime.datetime(2025, 11, 26, tzinfo=datetime.timezone.utc), rows[0][3]
try:
    cur.execute("SELECT nosuchcol FROM cpu")
    sys.exit("expected an error")
except psycopg2.Error as e:
    assert e.pgcode, e
conn.rollback()
# A named cursor is DECLARE … CURSOR / FETCH inside a transaction.
nc = conn.cursor("c1")
nc.itersize = 2
nc.execute("SELECT host FROM cpu ORDER BY time")
assert [r[0] for r in nc] == ["a", "b", "a"]
nc.close()
conn.commit()
conn.close()
print("OK")
