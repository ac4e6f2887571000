/**
 * `drillbook diagnose`: every migration's state with its evidence, the schema's health, a verdict,
 * the runbook to open, and the next command. Read-only. With --json, stdout is always one JSON
 * object: the diagnosis, or `{ "error": ... }` when there is none.
 */
import path from 'node:path';
import { DrillbookError, UsageError } from '../core/errors.js';
import { formatTable } from '../core/format.js';
import { healthCounts, type Finding, type HealthReport } from '../core/migrations/health.js';
import { safeJson, visible } from '../core/migrations/display.js';
import { stateCounts, type Tool } from '../core/migrations/types.js';
import { diagnoseFolder, resolveDiagnoseTarget } from '../adapters/migrations/service.js';
import { resolveConnection } from '../core/conn.js';

export interface DiagnoseOptions {
  tool?: string;
  migrations?: string;
  db?: string;
  schema?: string;
  table?: string;
  config?: string;
  json?: boolean;
}

const TOOLS: readonly Tool[] = ['prisma', 'drizzle', 'ecto'];

export async function diagnoseCommand(opts: DiagnoseOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  if (!opts.json) return diagnose(opts, out);
  try {
    return await diagnose(opts, out);
  } catch (e) {
    if (e instanceof DrillbookError) {
      out.write(`${safeJson({ error: e.message, ...(e.hint ? { hint: e.hint } : {}), exitCode: e.exitCode })}\n`);
      return e.exitCode;
    }
    out.write(`${safeJson({ error: `unexpected error (a bug in drillbook): ${(e as Error)?.message ?? String(e)}`, exitCode: 70 })}\n`);
    throw e;
  }
}

async function diagnose(opts: DiagnoseOptions, out: NodeJS.WritableStream): Promise<number> {
  if (opts.tool !== undefined && !TOOLS.includes(opts.tool as Tool)) throw new UsageError(`--tool: expected ${TOOLS.join(', ')}, got ${JSON.stringify(opts.tool)}`);
  const given = opts.db ?? process.env.DATABASE_URL;
  if (!given) throw new UsageError('no database: pass --db URL or set DATABASE_URL');
  // Resolved once, as libpq reads it; a malformed or ambiguous URL is a usage error (never echoed).
  const parts = resolveConnection(given, process.env, opts.db !== undefined ? '--db' : 'DATABASE_URL', process.env.USER || 'postgres');
  const url = parts.url;
  const resolved = resolveDiagnoseTarget(
    {
      ...(opts.tool !== undefined ? { tool: opts.tool as Tool } : {}),
      ...(opts.migrations !== undefined ? { migrations: opts.migrations } : {}),
      ...(opts.table !== undefined ? { table: opts.table } : {}),
      ...(opts.schema !== undefined ? { schema: opts.schema } : {}),
      ...(opts.config !== undefined ? { config: opts.config } : {}),
    },
    process.cwd(),
  );
  const { target } = resolved;
  const { diagnosis, verdict, health } = await diagnoseFolder(target, url, resolved.tracking, { health: true });
  const exit = verdict.inSync && verdict.healthy ? 0 : 1;
  if (opts.json) {
    const { entries, ...rest } = diagnosis;
    const counts = { ...stateCounts(diagnosis), total: entries.length };
    out.write(`${safeJson({ ...rest, migrations: target.dir, url: parts.redacted, ...(resolved.config ? { config: resolved.config } : {}), counts, entries, health: health && { counts: healthCounts(health), ...health }, verdict })}\n`);
    return exit;
  }
  const rel = path.relative(process.cwd(), target.dir) || '.';
  const from = resolved.config ? `; ${[resolved.config.out !== undefined ? 'folder' : '', resolved.config.table !== undefined || resolved.config.schema !== undefined ? 'table' : ''].filter(Boolean).join(' and ') || 'nothing'} from ${resolved.config.file}` : '';
  out.write(visible(`${target.tool} migrations in ${rel} against ${parts.host}:${parts.port}/${parts.database} (${diagnosis.table}${diagnosis.tableExists ? `, ${diagnosis.rowCount} row(s)` : ': missing'}${from})`));
  out.write('\n\n');
  if (diagnosis.entries.length) {
    const rows = diagnosis.entries.map((e) => [visible(e.name), e.state, visible(e.evidence)]);
    out.write(`${formatTable({ columns: ['MIGRATION', 'STATE', 'EVIDENCE'], rows, rowCount: rows.length }, 100_000, 400).replace(/\n\(\d+ rows?\)$/, '')}\n`);
  }
  if (diagnosis.appTables.length && diagnosis.database === 'untracked-schema') out.write(`application tables: ${visible(diagnosis.appTables.join(', '))}\n`);
  for (const w of diagnosis.warnings) out.write(`warning: ${visible(w)}\n`);
  if (health) writeHealth(health, out);
  out.write(`\nverdict: ${visible(verdict.line)}\n`);
  if (verdict.runbooks.length) out.write(`runbook: ${verdict.runbooks.map((r) => `drillbook run ${r}`).join('  or  ')}  (rehearse first: drillbook drill ${verdict.runbooks[0]})\n`);
  out.write(`next: ${visible(verdict.next)}\n`);
  return exit;
}

function writeHealth(h: HealthReport, out: NodeJS.WritableStream): void {
  const c = healthCounts(h);
  const summary = [c.wait ? `${c.wait} in progress` : '', c.problem ? `${c.problem} problem(s)` : '', c.warning ? `${c.warning} warning(s)` : ''].filter(Boolean).join(', ');
  out.write(`\nschema health: ${summary || 'no INVALID index, NOT VALID constraint, lock queue behind DDL or migration at work'}\n`);
  for (const f of h.findings) writeFinding(f, out);
  for (const t of h.truncated) out.write(`  (${visible(t)})\n`);
  for (const u of h.unavailable) out.write(`  (${visible(u)})\n`);
}

function writeFinding(f: Finding, out: NodeJS.WritableStream): void {
  const label = f.severity === 'wait' ? 'in progress' : f.severity;
  out.write(`  ${label}: ${visible(f.title)}\n`);
  for (const e of f.evidence) out.write(`    ${visible(e)}\n`);
  out.write(`    check first: ${visible(f.checkFirst)}\n`);
  f.fix.forEach((step, i) => out.write(`    ${i === 0 ? 'fix: ' : '     '}${visible(step)}\n`));
}
