// node-postgres against tsgate: SCRAM login, simple and extended queries,
// an error with SQLSTATE. Prints "OK" on success; exits 1 on failure.
const { Client } = require('pg');

async function main() {
  const c = new Client({ connectionString: process.env.PGURL });
  await c.connect();
  const one = await c.query('SELECT 1 AS one');
  if (one.rows[0].one !== 1) throw new Error('SELECT 1: ' + JSON.stringify(one.rows));
  // Extended protocol with a parameter (node-pg sends types unspecified).
  const r = await c.query('SELECT host, usage, count FROM cpu WHERE host = $1 ORDER BY time', ['a']);
  const got = r.rows.map((x) => `${x.host} ${x.usage} ${x.count}`).join('|');
  if (got !== 'a 1.5 3|a 3.5 5') throw new Error('rows: ' + got);
  // A named prepared statement reused.
  for (const h of ['a', 'b']) {
    const p = await c.query({ name: 'byhost', text: 'SELECT count(*) AS n FROM cpu WHERE host = $1', values: [h] });
    if (p.rows.length !== 1) throw new Error('prepared: ' + JSON.stringify(p.rows));
  }
  try {
    await c.query('SELECT nosuchcol FROM cpu');
    throw new Error('expected an error');
  } catch (e) {
    if (!e.code) throw e;
  }
  const t = await c.query('SELECT time FROM cpu ORDER BY time LIMIT 1');
  if (!(t.rows[0].time instanceof Date) || t.rows[0].time.toISOString() !== '2025-11-26T00:00:00.000Z') throw new Error('time: ' + t.rows[0].time);
  await c.end();
  console.log('OK');
}

main().catch((e) => { console.error(e); process.exit(1); });
