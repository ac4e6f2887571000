/**
 * A stand-in for `mix ecto.migrate` and `mix ecto.migrations`. Ecto migrations are Elixir, so each
 * fixture carries a .sql beside its .exs with the same effect; the stand-in runs that, then writes
 * the (version, inserted_at) row in the same transaction, as Ecto does.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { diagnose, locate, q } from '../adapters/migrations/tracking.js';
import { withClient } from '../adapters/migrations/service.js';
import type { StandinIO } from './io.js';

function repoName(cwd: string): string {
  const mix = path.join(cwd, 'mix.exs');
  const app = existsSync(mix) ? /defmodule\s+([\w.]+)\.MixProject/.exec(readFileSync(mix, 'utf8'))?.[1] : undefined;
  return `${app ?? 'App'}.Repo`;
}

function stamp(): string {
  return new Date().toISOString().slice(11, 23);
}

function moduleOf(exsPath: string): string {
  return /defmodule\s+([\w.]+)/.exec(readFileSync(exsPath, 'utf8'))?.[1] ?? path.basename(exsPath, '.exs');
}

export async function mixStandin(args: string[], io: StandinIO): Promise<number> {
  const task = args[0];
  if (task !== 'ecto.migrate' && task !== 'ecto.migrations') {
    io.err(`drillbook's mix stand-in supports: mix ecto.migrate | mix ecto.migrations (got: mix ${args.join(' ')})\n`);
    return 1;
  }
  const url = io.env.DATABASE_URL;
  if (!url) {
    io.err('** (RuntimeError) environment variable DATABASE_URL is missing.\n');
    return 1;
  }
  const mi = args.indexOf('--migrations-path');
  const dir = path.resolve(io.cwd, mi >= 0 ? args[mi + 1]! : 'priv/repo/migrations');
  const at = locate('ecto', dir, url);
  const repo = repoName(io.cwd);
  return withClient(url, async (c) => {
    const d = await diagnose(c, at);
    if (task === 'ecto.migrations') {
      io.out(`\nRepo: ${repo}\n\n  Status    Migration ID    Migration Name\n--------------------------------------------------\n`);
      const rows: Array<[string, string, string]> = [];
      for (const e of d.entries) {
        if (e.state === 'phantom') rows.push(['up', e.name, '** FILE NOT FOUND **']);
        else {
          const m = at.local.find((l) => l.name === e.name)!;
          rows.push([e.state === 'applied' ? 'up' : 'down', m.version!, m.name.slice(m.version!.length + 1)]);
        }
      }
      rows.sort((a, b) => (BigInt(a[1]) < BigInt(b[1]) ? -1 : 1));
      for (const [s, v, n] of rows) io.out(`  ${s.padEnd(10)}${v.padEnd(16)}${n}\n`);
      io.out('\n');
      return 0;
    }
    const from = `${q(at.schema)}.${q(at.table)}`;
    await c.query(`CREATE TABLE IF NOT EXISTS ${from} ("version" bigint, "inserted_at" timestamp(0), PRIMARY KEY ("version"))`);
    const pending = at.local.filter((m) => d.entries.find((e) => e.name === m.name)?.state === 'pending');
    if (pending.length === 0) {
      io.out(`${stamp()} [info] Migrations already up\n`);
      return 0;
    }
    for (const m of pending) {
      if (m.sql === undefined) {
        io.err(`** drillbook stand-in: ${path.relative(io.cwd, m.path)} has no ${path.basename(m.path, '.exs')}.sql beside it: the stand-in runs the SQL each migration stands for\n`);
        return 1;
      }
      const started = Date.now();
      io.out(`${stamp()} [info] == Running ${m.version} ${moduleOf(m.path)}.change/0 forward\n`);
      await c.query('BEGIN');
      try {
        await c.query(m.sql);
        await c.query(`INSERT INTO ${from} (version, inserted_at) VALUES ($1, (now() AT TIME ZONE 'utc')::timestamp(0))`, [m.version]);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK');
        const err = e as { code?: string; message: string };
        const names: Record<string, string> = { '42P07': 'duplicate_table', '42701': 'duplicate_column', '42P01': 'undefined_table', '42703': 'undefined_column' };
        io.err(`** (Postgrex.Error) ERROR ${err.code ?? ''} (${names[err.code ?? ''] ?? 'error'}) ${err.message}\n`);
        return 1;
      }
      io.out(`${stamp()} [info] == Migrated ${m.version} in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    }
    return 0;
  });
}
