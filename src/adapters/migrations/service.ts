/** Migration state as a service: diagnose a folder against a database, and the `migrations` runbook step. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { DrillbookError, UsageError } from '../../core/errors.js';
import { countStates, inSync, type Diagnosis, type Tool } from '../../core/migrations/types.js';
import { verdictOf, type Verdict } from '../../core/migrations/verdict.js';
import type { MigrationsOutcome, MigrationsPort, MigrationsRequest } from '../../core/ports.js';
import { explainPgError, type PgError } from '../postgres.js';
import { parseDatabaseUrl } from '../../core/conn.js';
import { DEFAULT_DIRS, detectTool } from './local.js';
import { diagnose, locate, MigrationError, writeTracking, type Located, type TrackingOptions } from './tracking.js';

export interface Target {
  tool: Tool;
  dir: string;
}

/** The tool and folder: as given, or found from the folder's layout (or the tools' default folders). */
export function resolveTarget(tool: Tool | undefined, dir: string | undefined, cwd: string): Target {
  if (dir !== undefined) {
    const abs = path.resolve(cwd, dir);
    if (!existsSync(abs)) throw new UsageError(`no migrations folder at ${dir}`);
    const detected = detectTool(abs);
    const t = tool ?? detected;
    if (!t) throw new UsageError(`cannot tell which tool ${dir} belongs to`, 'pass --tool prisma, drizzle or ecto');
    return { tool: t, dir: abs };
  }
  const candidates = (tool ? [tool] : (['prisma', 'drizzle', 'ecto'] as Tool[])).map((t) => ({ tool: t, dir: path.resolve(cwd, DEFAULT_DIRS[t]) }));
  const found = candidates.filter((c) => existsSync(c.dir) && (tool !== undefined || detectTool(c.dir) === c.tool));
  if (found.length === 1) return found[0]!;
  if (found.length > 1) throw new UsageError(`found migrations of several tools (${found.map((f) => f.tool).join(', ')})`, 'pass --tool');
  throw new UsageError(`no migrations folder found (looked for ${candidates.map((c) => path.relative(cwd, c.dir)).join(', ')})`, 'pass --migrations DIR');
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: 'drillbook' });
  c.on('error', () => undefined);
  try {
    await c.connect();
  } catch (e) {
    const parts = parseDatabaseUrl(url);
    throw new DrillbookError(explainPgError(parts ? `${parts.host}:${parts.port}/${parts.database}` : 'the database', e as PgError, 0, false), { exitCode: 2 });
  }
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

export interface DiagnoseResult {
  located: Located;
  diagnosis: Diagnosis;
  verdict: Verdict;
}

export async function diagnoseFolder(target: Target, url: string, opts: TrackingOptions = {}): Promise<DiagnoseResult> {
  const located = locate(target.tool, target.dir, url, opts);
  const diagnosis = await withClient(url, (c) => diagnose(c, located));
  return { located, diagnosis, verdict: verdictOf(diagnosis, target.dir) };
}

/** The `migrations` runbook step: a live check against `expect`, or a gated write. */
export class MigrationsService implements MigrationsPort {
  constructor(private readonly urls: Readonly<Record<string, string>>) {}

  async run(req: MigrationsRequest): Promise<MigrationsOutcome> {
    const m = req.step.step.migrations!;
    const url = this.urls[req.database];
    if (!url) return { pass: false, summary: `no URL for database ${req.database}`, table: [], error: `no URL for database ${req.database}` };
    try {
      const target: Target = { tool: m.tool, dir: path.resolve(req.cwd, m.dir) };
      if (!existsSync(target.dir)) return { pass: false, summary: `no migrations folder at ${m.dir}`, table: [], error: `no migrations folder at ${m.dir} (from ${req.cwd})` };
      const opts: TrackingOptions = m.schema ? { schema: m.schema } : {};
      if (m.action) {
        const located = locate(target.tool, target.dir, url, opts);
        const written = await withClient(url, (c) => writeTracking(c, located, m.action!, req.names));
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
