/**
 * A stand-in for `drizzle-kit migrate` (0.x journal, and 1.0 folders): every pending migration in
 * one transaction, the high-water-mark skip included, 42P07 when a table already exists.
 */
import { existsSync, readFileSync } from 'node:fs';
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

export async function drizzleKitStandin(args: string[], io: StandinIO): Promise<number> {
  if (args[0] !== 'migrate') {
    io.err(`drillbook's drizzle-kit stand-in supports: drizzle-kit migrate (got: drizzle-kit ${args.join(' ')})\n`);
    return 1;
  }
  const ci = args.indexOf('--config');
  const config = readConfig(io.cwd, ci >= 0 ? args[ci + 1] : args.find((a) => a.startsWith('--config='))?.slice(9));
  const url = io.env[config.urlEnv];
  if (!url) {
    io.err(`Error: Please provide required params:\n    [x] url: undefined (${config.urlEnv} is not set)\n`);
    return 1;
  }
  const dir = path.resolve(io.cwd, config.out);
  io.out('[⣷] applying migrations...\n');
  let at;
  try {
    at = locate('drizzle', dir, url, { ...(config.table ? { table: config.table } : {}), ...(config.schema ? { schema: config.schema } : {}) });
  } catch (e) {
    io.err(`Error: ${(e as Error).message}\n`);
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
        } catch (e) {
          await c.query('ROLLBACK');
          const err = e as { code?: string; message: string };
          io.err(`DrizzleQueryError: Failed query: ${stmt.trim()}\nparams: \n    cause: error: ${err.message}\n      code: '${err.code ?? ''}'\n`);
          return 1;
        }
      }
      if (at.nameTracked) await c.query(`INSERT INTO ${from} ("hash", "created_at", "name") VALUES ($1, $2, $3)`, [m.checksum, m.when, m.name]);
      else await c.query(`INSERT INTO ${from} ("hash", "created_at") VALUES ($1, $2)`, [m.checksum, m.when]);
    }
    await c.query('COMMIT');
    io.out('[✓] migrations applied successfully!\n');
    return 0;
  });
}
