/**
 * A stand-in for `drizzle-kit migrate` and `check` (0.x journal, and 1.0 folders), modelled on
 * drizzle-kit 0.31.11: every pending migration in one transaction, the high-water-mark skip
 * included. Like the real one it writes everything to stdout, redraws its spinner with cursor
 * codes, and on a failed migration exits 1 with the spinner as its last word: drizzle-kit 0.31
 * swallows the SQL error (its task renderer catches it and exits).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { diagnose, locate, q } from '../adapters/migrations/tracking.js';
import { withClient } from '../adapters/migrations/service.js';
import type { StandinIO } from './io.js';

interface Config {
  out: string;
  urlEnv: string;
  table: string | undefined;
  schema: string | undefined;
}

/** drizzle.config.{ts,js,mjs,json}: read the few keys migrate needs, without executing it. */
function readConfig(cwd: string, explicit: string | undefined): Config {
  const candidates = explicit ? [explicit] : ['drizzle.config.ts', 'drizzle.config.js', 'drizzle.config.mjs', 'drizzle.config.json'];
  for (const name of candidates) {
    const file = path.resolve(cwd, name);
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const str = (key: string) => new RegExp(`["']?${key}["']?\\s*:\\s*["'\`]([^"'\`]+)["'\`]`).exec(text)?.[1];
    const migrations = /migrations\s*:\s*\{([^}]*)\}/.exec(text)?.[1] ?? '';
    const inMigrations = (key: string) => new RegExp(`${key}\\s*:\\s*["'\`]([^"'\`]+)["'\`]`).exec(migrations)?.[1];
    return {
      out: str('out') ?? './drizzle',
      urlEnv: /process\.env\.(\w+)/.exec(text)?.[1] ?? 'DATABASE_URL',
      table: inMigrations('table'),
      schema: inMigrations('schema'),
    };
  }
  return { out: './drizzle', urlEnv: 'DATABASE_URL', table: undefined, schema: undefined };
}

const SPIN = '[⣷] applying migrations...';
const REDRAW = '\x1b[2K\x1b[1G';

export async function drizzleKitStandin(args: string[], io: StandinIO): Promise<number> {
  if (args[0] === '--version' || args[0] === '-v') {
    io.out('drizzle-kit: v0.31.11 (drillbook stand-in)\n');
    return 0;
  }
  if (args[0] !== 'migrate' && args[0] !== 'check') {
    io.err(`drillbook's drizzle-kit stand-in rehearses: drizzle-kit migrate, drizzle-kit check (got: drizzle-kit ${args.join(' ')}; rehearse it with the real drizzle-kit: drillbook drill --tools real)\n`);
    return 1;
  }
  const ci = args.indexOf('--config');
  const explicit = ci >= 0 ? args[ci + 1] : args.find((a) => a.startsWith('--config='))?.slice('--config='.length);
  if (!explicit) io.out("No config path provided, using default 'drizzle.config.ts'\n");
  io.out(`Reading config file '${path.resolve(io.cwd, explicit ?? 'drizzle.config.ts')}'\n`);
  const config = readConfig(io.cwd, explicit);
  if (args[0] === 'check') return check(io, path.resolve(io.cwd, config.out));
  const url = io.env[config.urlEnv];
  if (!url) {
    io.out('Error  Please provide required params for Postgres driver:\n    [x] url: undefined\n');
    return 1;
  }
  const dir = path.resolve(io.cwd, config.out);
  io.out("Using 'pg' driver for database querying\n");
  io.out(SPIN);
  let at;
  try {
    at = locate('drizzle', dir, url, { ...(config.table ? { table: config.table } : {}), ...(config.schema ? { schema: config.schema } : {}) });
  } catch {
    // drizzle-orm's readMigrationFiles throws (no journal, missing file): swallowed like any error.
    io.out(`${REDRAW}${SPIN}`);
    return 1;
  }
  return withClient(url, async (c) => {
    const from = `${q(at.schema)}.${q(at.table)}`;
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${q(at.schema)}`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${from} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint${at.nameTracked ? ', name text, applied_at timestamp with time zone DEFAULT now()' : ''})`);
    const d = await diagnose(c, at);
    // 0.x: `pending` is exactly drizzle's rule (when > newest created_at); `skipped` ones stay skipped, silently.
    const pending = at.local.filter((m) => d.entries.find((e) => e.name === m.name)?.state === 'pending');
    await c.query('BEGIN');
    for (const m of pending) {
      for (const stmt of (m.sql ?? '').split('--> statement-breakpoint')) {
        if (!stmt.trim()) continue;
        try {
          await c.query(stmt);
        } catch {
          await c.query('ROLLBACK');
          io.out(`${REDRAW}${SPIN}`);
          return 1;
        }
      }
      if (at.nameTracked) await c.query(`INSERT INTO ${from} ("hash", "created_at", "name") VALUES ($1, $2, $3)`, [m.checksum, m.when, m.name]);
      else await c.query(`INSERT INTO ${from} ("hash", "created_at") VALUES ($1, $2)`, [m.checksum, m.when]);
    }
    await c.query('COMMIT');
    io.out(`${REDRAW}[✓] migrations applied successfully!`);
    return 0;
  });
}

/** `check`: snapshots whose prevId collide (two migrations generated from one parent), as drizzle-kit 0.31 checks. */
function check(io: StandinIO, out: string): number {
  const meta = path.join(out, 'meta');
  const parents = new Map<string, string[]>();
  for (const f of existsSync(meta) ? readdirSync(meta).filter((x) => x.endsWith('_snapshot.json')).sort() : []) {
    try {
      const snap = JSON.parse(readFileSync(path.join(meta, f), 'utf8')) as { prevId?: string };
      if (snap.prevId) parents.set(snap.prevId, [...(parents.get(snap.prevId) ?? []), f]);
    } catch {
      io.out(`Error  ${path.join(meta, f)} is not valid JSON\n`);
      return 1;
    }
  }
  const collisions = [...parents.entries()].filter(([, files]) => files.length > 1);
  if (collisions.length) {
    for (const [parent, files] of collisions) io.out(`Error  [${files.join(', ')}] are pointing to a parent snapshot: ${parent} which is a collision.\n`);
    return 1;
  }
  io.out("Everything's fine 🐶🔥\n");
  return 0;
}
