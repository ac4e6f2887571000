/** `drillbook diagnose`: every migration's state with its evidence, a verdict, the runbook to open, the next command. */
import { UsageError } from '../core/errors.js';
import { formatTable } from '../core/format.js';
import type { Tool } from '../core/migrations/types.js';
import { diagnoseFolder, resolveTarget } from '../adapters/migrations/service.js';
import { parseDatabaseUrl } from '../core/conn.js';
import path from 'node:path';

export interface DiagnoseOptions {
  tool?: Tool;
  migrations?: string;
  db?: string;
  schema?: string;
  json?: boolean;
}

export async function diagnoseCommand(opts: DiagnoseOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const url = opts.db ?? process.env.DATABASE_URL;
  if (!url) throw new UsageError('no database: pass --db URL or set DATABASE_URL');
  const parts = parseDatabaseUrl(url);
  if (!parts) throw new UsageError('--db: not a postgres:// or postgresql:// URL');
  const target = resolveTarget(opts.tool, opts.migrations, process.cwd());
  const { diagnosis, verdict } = await diagnoseFolder(target, url, opts.schema ? { schema: opts.schema } : {});
  if (opts.json) {
    out.write(`${JSON.stringify({ ...diagnosis, migrations: target.dir, url: parts.redacted, verdict }, null, 2)}\n`);
    return verdict.inSync ? 0 : 1;
  }
  const rel = path.relative(process.cwd(), target.dir) || '.';
  out.write(`${target.tool} migrations in ${rel} against ${parts.host}:${parts.port}/${parts.database} (${diagnosis.table}${diagnosis.tableExists ? `, ${diagnosis.rowCount} row(s)` : ': missing'})\n\n`);
  if (diagnosis.entries.length) {
    out.write(`${formatTable({ columns: ['MIGRATION', 'STATE', 'EVIDENCE'], rows: diagnosis.entries.map((e) => [e.name, e.state, e.evidence]), rowCount: diagnosis.entries.length }, 100_000, 400).replace(/\n\(\d+ rows?\)$/, '')}\n`);
  }
  if (diagnosis.appTables.length && diagnosis.database === 'untracked-schema') out.write(`application tables: ${diagnosis.appTables.join(', ')}\n`);
  for (const w of diagnosis.warnings) out.write(`warning: ${w}\n`);
  out.write(`\nverdict: ${verdict.line}\n`);
  if (verdict.runbooks.length) out.write(`runbook: ${verdict.runbooks.map((r) => `drillbook run ${r}`).join('  or  ')}  (rehearse first: drillbook drill ${verdict.runbooks[0]})\n`);
  out.write(`next: ${verdict.next}\n`);
  return verdict.inSync ? 0 : 1;
}
