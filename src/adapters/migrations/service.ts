/** Migration state as a service: diagnose a folder against a database, and the `migrations` runbook step. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { DrillbookError, UsageError } from '../../core/errors.js';
import { countStates, inSync, type Diagnosis, type Tool } from '../../core/migrations/types.js';
import { verdictOf, type Verdict } from '../../core/migrations/verdict.js';
import type { MigrationsOutcome, MigrationsPort, MigrationsRequest } from '../../core/ports.js';
import { explainPgError, type PgError } from '../postgres.js';
import { pgConfigOfUrl } from '../pg-config.js';
import { parseDatabaseUrl } from '../../core/conn.js';
import { DEFAULT_DIRS, detectTool, findDrizzleConfig } from './local.js';
import { parseTableName } from '../../core/migrations/drizzle-config.js';
import { diagnose, locate, MigrationError, q, writeTracking, type Located, type TrackingOptions } from './tracking.js';
import { readHealth } from './health.js';
import { assessHealth, type HealthReport } from '../../core/migrations/health.js';

export interface Target {
  tool: Tool;
  dir: string;
}

/** The tool and folder: as given, or found from the folder's layout (or the tools' default folders). */
export function resolveTarget(tool: Tool | undefined, dir: string | undefined, cwd: string, defaults: Partial<Record<Tool, string>> = {}): Target {
  if (dir !== undefined) {
    const abs = path.resolve(cwd, dir);
    if (!existsSync(abs)) throw new UsageError(`no migrations folder at ${dir}`);
    const detected = detectTool(abs);
    const t = tool ?? detected;
    if (!t) throw new UsageError(`cannot tell which tool ${dir} belongs to`, 'pass --tool prisma, drizzle or ecto');
    return { tool: t, dir: abs };
  }
  const candidates = (tool ? [tool] : (['prisma', 'drizzle', 'ecto'] as Tool[])).map((t) => ({ tool: t, dir: path.resolve(cwd, defaults[t] ?? DEFAULT_DIRS[t]) }));
  const found = candidates.filter((c) => existsSync(c.dir) && (tool !== undefined || detectTool(c.dir) === c.tool));
  if (found.length === 1) return found[0]!;
  if (found.length > 1) throw new UsageError(`found migrations of several tools (${found.map((f) => f.tool).join(', ')})`, 'pass --tool');
  throw new UsageError(`no migrations folder found (looked for ${candidates.map((c) => path.relative(cwd, c.dir) || '.').join(', ')})`, 'pass --migrations DIR');
}

export interface TargetRequest {
  tool?: Tool;
  migrations?: string;
  /** `--table name` or `--table schema.name`. */
  table?: string;
  schema?: string;
  /** drizzle.config.* to read (default: drizzle-kit's own search). */
  config?: string;
}

export interface ResolvedTarget {
  target: Target;
  tracking: TrackingOptions;
  /** Drizzle: the config file the folder or table came from, and what it said. */
  config?: { file: string; out?: string; table?: string; schema?: string };
}

/**
 * The folder and tracking table to diagnose, from the flags and, for Drizzle, the project's
 * drizzle.config.* (read without running it). Flags win; a key the config sets in a way that
 * cannot be read statically is refused unless a flag supplies it.
 */
export function resolveDiagnoseTarget(req: TargetRequest, cwd: string): ResolvedTarget {
  const flagTable = req.table === undefined ? undefined : parseTableName(req.table);
  if (req.table !== undefined && !flagTable) throw new UsageError(`--table: expected name or schema.name (either may be "double-quoted"), got ${JSON.stringify(req.table)}`);
  if (flagTable?.schema !== undefined && req.schema !== undefined && flagTable.schema !== req.schema) throw new UsageError(`--table names schema ${flagTable.schema} and --schema says ${req.schema}`, 'give the schema once');
  if (req.config !== undefined && req.tool !== undefined && req.tool !== 'drizzle') throw new UsageError('--config is the drizzle config; it does not go with --tool ' + req.tool);

  const cfg = req.tool === undefined || req.tool === 'drizzle' ? findDrizzleConfig(cwd, req.config) : undefined;
  const name = cfg ? path.relative(cwd, cfg.file) || cfg.file : '';
  const refuse = (line: number, what: string, hint: string) => new UsageError(`${name}:${line}: ${what}`, `${hint} (drillbook reads the config without running it: only plain string values)`);
  const keys = cfg?.result.ok ? cfg.result.keys : undefined;
  const need = (key: 'out' | 'table' | 'schema', hint: string): string | undefined => {
    if (!cfg) return undefined;
    if (!cfg.result.ok) throw refuse(cfg.result.line, `cannot read the config statically: ${cfg.result.reason}`, hint);
    const r = keys![key];
    if (r === undefined) return undefined;
    if ('unreadable' in r) throw refuse(r.line, r.unreadable, hint);
    return r.value;
  };

  const drizzleTargeted = req.tool === 'drizzle' || req.config !== undefined || (req.tool === undefined && cfg !== undefined && req.migrations === undefined);
  const out = req.migrations === undefined && drizzleTargeted ? need('out', 'pass --migrations DIR') : undefined;
  const target = resolveTarget(drizzleTargeted && req.migrations === undefined ? 'drizzle' : req.tool, req.migrations, cwd, out !== undefined ? { drizzle: out } : {});

  if (target.tool !== 'drizzle' || !cfg) {
    const schema = flagTable?.schema ?? req.schema;
    return { target, tracking: { ...(schema !== undefined ? { schema } : {}), ...(flagTable ? { table: flagTable.name } : {}) } };
  }
  const dialect = keys?.dialect;
  if (dialect && 'value' in dialect && dialect.value !== 'postgresql') throw new UsageError(`${name}:${dialect.line}: dialect is ${dialect.value}; drillbook diagnoses PostgreSQL`);
  const table = flagTable?.name ?? need('table', 'pass --table schema.name');
  const schema = flagTable?.schema ?? req.schema ?? need('schema', 'pass --table schema.name');
  const fromConfig = { file: name, ...(out !== undefined ? { out } : {}), ...(flagTable === undefined && table !== undefined ? { table } : {}), ...(flagTable?.schema === undefined && req.schema === undefined && schema !== undefined ? { schema } : {}) };
  return { target, tracking: { ...(schema !== undefined ? { schema } : {}), ...(table !== undefined ? { table } : {}) }, config: fromConfig };
}

/**
 * A connection for one piece of work. `verify`, when given, runs first on the fresh connection:
 * a run checks there that the server is still the one the operator confirmed.
 */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>, verify?: (c: pg.Client) => Promise<void>): Promise<T> {
  const c = new pg.Client({ ...pgConfigOfUrl(url), connectionTimeoutMillis: 10_000, application_name: 'drillbook' });
  c.on('error', () => undefined);
  try {
    await c.connect();
  } catch (e) {
    const parts = parseDatabaseUrl(url);
    throw new DrillbookError(explainPgError(parts ? `${parts.host}:${parts.port}/${parts.database}` : 'the database', e as PgError, 0, false), { exitCode: 2 });
  }
  try {
    if (verify) await verify(c);
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

export interface DiagnoseResult {
  located: Located;
  diagnosis: Diagnosis;
  verdict: Verdict;
  /** Present when asked for (`health: true`). */
  health?: HealthReport;
}

export interface DiagnoseOptions {
  /** Also read schema health (invalid indexes, NOT VALID constraints, lock queues, a migration at work). */
  health?: boolean;
}

/** How long diagnose waits for a lock or a statement before it says why it cannot go on. */
export const DIAGNOSE_LOCK_TIMEOUT_MS = 2000;
export const DIAGNOSE_STATEMENT_TIMEOUT_MS = 15000;

export async function diagnoseFolder(target: Target, url: string, opts: TrackingOptions = {}, what: DiagnoseOptions = {}): Promise<DiagnoseResult> {
  const located = locate(target.tool, target.dir, url, opts);
  const trackingTable = `${q(located.schema)}.${q(located.table)}`;
  const { diagnosis, health } = await withClient(url, async (c) => {
    // Read-only as PostgreSQL enforces it, and never stuck behind someone else's lock.
    await c.query(`SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY; SET lock_timeout = ${DIAGNOSE_LOCK_TIMEOUT_MS}; SET statement_timeout = ${DIAGNOSE_STATEMENT_TIMEOUT_MS}`);
    try {
      const h = what.health ? await readHealth(c, target.tool, trackingTable) : undefined;
      const d = await diagnose(c, located);
      const states = new Map(d.entries.map((e) => [e.name, e.state]));
      return { diagnosis: d, health: h && assessHealth(h, { tool: target.tool, table: d.table, local: located.local, states, exs: located.exs }) };
    } catch (e) {
      throw await explainDiagnoseError(c, e as PgError, located);
    }
  });
  const rel = path.relative(process.cwd(), target.dir);
  const dir = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : target.dir;
  return { located, diagnosis, verdict: verdictOf(diagnosis, dir, health), ...(health ? { health } : {}) };
}

/** A lock or statement timeout while reading: say who holds what, instead of a bare error code. */
async function explainDiagnoseError(c: pg.Client, e: PgError, at: Located): Promise<unknown> {
  if (e.code !== '55P03' && e.code !== '57014') return e;
  const table = `${at.schema}.${at.table}`;
  if (e.code === '57014') return new DrillbookError(`reading the catalog or ${table} took longer than ${DIAGNOSE_STATEMENT_TIMEOUT_MS / 1000}s and was cancelled`, { exitCode: 2, hint: 'the server is very busy; try again, or look at pg_stat_activity' });
  let holders = '';
  try {
    const r = await c.query(
      `SELECT l.pid, l.mode, a.state, left(a.query, 200) AS query FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.granted AND l.locktype = 'relation' AND l.relation = to_regclass($1) AND l.mode = 'AccessExclusiveLock'`,
      [`${q(at.schema)}.${q(at.table)}`],
    );
    holders = (r.rows as Array<{ pid: number; mode: string; state: string | null; query: string | null }>)
      .map((h) => `pid ${h.pid} holds ${h.mode} (${h.state ?? '?'}: ${(h.query ?? '').replace(/\s+/g, ' ').slice(0, 120)})`)
      .join('; ');
  } catch {
    // The explanation is a courtesy; the error stands without it.
  }
  return new DrillbookError(`could not read ${table} within ${DIAGNOSE_LOCK_TIMEOUT_MS / 1000}s: another session holds a lock on it${holders ? `: ${holders}` : ''}`, {
    exitCode: 2,
    hint: 'a migration is probably running (or stuck holding its lock): wait for it, or look at that session, then run diagnose again',
  });
}

/** The `migrations` runbook step: a live check against `expect`, or a gated write. */
export class MigrationsService implements MigrationsPort {
  /**
   * `verify(database, client)`, when given, runs on every connection before anything is read or
   * written: a run refuses there a server other than the one confirmed at the start.
   */
  constructor(
    private readonly urls: Readonly<Record<string, string>>,
    private readonly verify?: (database: string, client: pg.Client) => Promise<void>,
  ) {}

  async run(req: MigrationsRequest): Promise<MigrationsOutcome> {
    const m = req.step.step.migrations!;
    const url = this.urls[req.database];
    if (!url) return { pass: false, summary: `no URL for database ${req.database}`, table: [], error: `no URL for database ${req.database}` };
    try {
      const target: Target = { tool: m.tool, dir: path.resolve(req.cwd, m.dir) };
      if (!existsSync(target.dir)) return { pass: false, summary: `no migrations folder at ${m.dir}`, table: [], error: `no migrations folder at ${m.dir} (from ${req.cwd})` };
      const opts: TrackingOptions = m.schema ? { schema: m.schema } : {};
      if (m.action) {
        // A dry run never writes, whatever reached here.
        if (req.dryRun) return { pass: true, summary: `dry run: ${m.action} not executed`, table: [] };
        const located = locate(target.tool, target.dir, url, opts);
        const check = this.verify ? (c: pg.Client) => this.verify!(req.database, c) : undefined;
        const written = await withClient(url, (c) => writeTracking(c, located, m.action!, req.names), check);
        const after = await diagnoseFolder(target, url, opts);
        return { pass: true, summary: `${m.action}: wrote ${written.length} row(s); now ${after.verdict.line}`, table: tableOf(after.diagnosis), written };
      }
      const { diagnosis, verdict } = await diagnoseFolder(target, url, opts);
      const failures = expectationFailures(m.expect ?? 'in-sync', diagnosis);
      return { pass: failures.length === 0, summary: failures.length ? `${verdict.line}; expected ${failures.join(', ')}` : verdict.line, table: tableOf(diagnosis) };
    } catch (e) {
      const message = e instanceof MigrationError ? `${e.code}: ${e.message}` : e instanceof DrillbookError ? e.message : explainPgError(req.database, e as PgError, 0, req.signal.aborted);
      return { pass: false, summary: message, table: [], error: message };
    }
  }
}

function tableOf(d: Diagnosis): Array<{ name: string; state: string; evidence: string }> {
  return d.entries.map((e) => ({ name: e.name, state: e.state, evidence: e.evidence }));
}

export function expectationFailures(expect: 'in-sync' | Partial<Record<'pending' | 'failed' | 'phantom' | 'modified' | 'applied', number>>, d: Diagnosis): string[] {
  if (expect === 'in-sync') return inSync(d) ? [] : ['in sync'];
  const c = countStates(d);
  const out: string[] = [];
  for (const [k, v] of Object.entries(expect)) {
    if (v === undefined) continue;
    const got = c[k as keyof typeof c];
    if (got !== v) out.push(`${k} = ${v} (got ${got})`);
  }
  return out;
}
