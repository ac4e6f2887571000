/** `drillbook drill`: rehearse a runbook (or all of them) against a throwaway PostgreSQL. */
import path from 'node:path';
import { markWarm } from '../boot/warm.js';
import { DrillbookError, UsageError } from '../core/errors.js';
import { formatTable } from '../core/format.js';
import { expandRunbookPaths, listRunbooks, loadRunbookOrThrow, resolveRunbook } from '../adapters/runbook-files.js';
import { runDrill } from '../app/drill.js';
import { FAULTS, isFault, type FaultName } from '../app/faults.js';
import { parseAssignments } from '../app/inputs.js';
import { TOOLS_MODES, type ToolsMode } from '../drill/tools.js';
import { fitOf } from '../drill/project-seed.js';
import { operatorName, pickInterface } from '../app/session.js';
import { showRunFrame } from '../ui/run-frame.js';

export interface DrillCommandOptions {
  auto?: boolean;
  plain?: boolean;
  variant?: string;
  fault?: string[];
  keep?: boolean;
  tools?: string;
  standIns?: boolean;
  pgVersion?: string;
  all?: boolean;
  rollback?: boolean;
  rollbackAfter?: string;
  dir?: string;
  var?: string[];
  db?: string[];
  operator?: string;
  transcriptDir?: string;
  project?: string;
  fromDump?: string;
}

function faultsOf(list: string[] | undefined): FaultName[] {
  return (list ?? []).map((f) => {
    if (!isFault(f)) throw new UsageError(`unknown fault "${f}"`, `faults: ${Object.entries(FAULTS).map(([k, v]) => `${k} (${v})`).join('; ')}`);
    return f;
  });
}

async function pick(): Promise<string> {
  const { entries } = listRunbooks();
  if (entries.length === 0) throw new UsageError('no runbooks to rehearse');
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new UsageError('name the runbook to rehearse: drillbook drill <id>', `runbooks: ${entries.map((e) => e.id).join(', ')}`);
  }
  const { pickRunbook } = await import('../ui/plain-operator.js');
  const chosen = await pickRunbook(entries);
  markWarm();
  if (!chosen) throw new DrillbookError('nothing chosen', { exitCode: 130 });
  return chosen;
}

export async function drillCommand(ref: string | undefined, opts: DrillCommandOptions): Promise<number> {
  if (opts.db?.length) {
    throw new UsageError('a drill runs only against the throwaway PostgreSQL it starts itself; it never connects to --db', 'drop --db; to work on a real database, use drillbook run');
  }
  const faults = faultsOf(opts.fault);
  if (opts.standIns && opts.tools && opts.tools !== 'auto' && opts.tools !== 'stand-in') {
    throw new UsageError(`--stand-ins contradicts --tools ${opts.tools}`, '--stand-ins is the same as --tools stand-in: give one of them');
  }
  const tools: ToolsMode = opts.standIns ? 'stand-in' : ((opts.tools ?? 'auto') as ToolsMode);
  if (!TOOLS_MODES.includes(tools)) throw new UsageError(`--tools ${opts.tools}: expected real, stand-in or auto`);
  let pgVersion: number | undefined;
  if (opts.pgVersion !== undefined) {
    if (!/^\d{1,2}$/.test(opts.pgVersion)) throw new UsageError(`--pg-version ${opts.pgVersion}: expected a PostgreSQL major version such as 15`);
    pgVersion = Number(opts.pgVersion);
  }
  const vars = parseAssignments(opts.var, '--var');
  const common = {
    vars,
    faults,
    keep: opts.keep === true,
    tools,
    ...(pgVersion !== undefined ? { pgVersion } : {}),
    ...(opts.project !== undefined ? { project: opts.project } : {}),
    ...(opts.fromDump !== undefined ? { fromDump: opts.fromDump } : {}),
    operatorName: operatorName(opts.operator),
    transcriptDir: opts.transcriptDir ?? 'transcripts',
  };
  if (opts.rollback && !opts.all) throw new UsageError('--rollback goes with --all', 'for one runbook: --rollback-after <step> or --rollback-after last-destructive');
  if (opts.all) {
    if (!opts.auto) throw new UsageError('drill --all rehearses every runbook unattended: add --auto');
    if (opts.keep) throw new UsageError('--keep goes with a single drill, not --all');
    if (opts.rollbackAfter) throw new UsageError('--rollback-after names a step of one runbook', 'with --all, use --rollback (after each runbook\'s last destructive step)');
    return drillAll(opts.dir, { ...common, operatorName: operatorName(opts.operator), ...(opts.rollback ? { rollbackAfter: 'last-destructive' } : {}) });
  }
  const file = resolveRunbook(ref ?? (await pick()));
  const loaded = loadRunbookOrThrow(file);
  const ui = pickInterface(opts);
  if (ui === 'ink') {
    const targets = Object.keys(loaded.runbook.databases ?? {}).map((name) => ({ name, environment: 'rehearsal' as const, where: 'starting a throwaway PostgreSQL, then staging the incident…' }));
    showRunFrame(loaded.runbook, 'rehearsal', targets, opts.operator?.trim() ?? '');
  }
  // Compile the full-screen interface while the drill database starts (the same module promise is reused).
  if (ui === 'ink') import('../ui/ink-app.js').catch(() => undefined);
  const r = await runDrill({ loaded, ui, ...(opts.variant ? { variant: opts.variant } : {}), ...(opts.rollbackAfter ? { rollbackAfter: opts.rollbackAfter } : {}), ...common, operatorName: operatorName(opts.operator) });
  return r.exitCode;
}

async function drillAll(dir: string | undefined, common: Omit<Parameters<typeof runDrill>[0], 'loaded' | 'ui'>): Promise<number> {
  const files = dir ? expandRunbookPaths(dir) : listRunbooks().entries.map((e) => e.path);
  if (files.length === 0) throw new UsageError(`no runbooks in ${dir ?? 'the shipped set'}`);
  const rows: string[][] = [];
  let failed = 0;
  let fitting = 0;
  for (const file of files) {
    const loaded = loadRunbookOrThrow(file);
    // On a project: the runbooks whose incident it can hold, and the variants that change the incident (not only the fixture).
    const fit = common.project !== undefined ? fitOf(loaded, common.project) : undefined;
    if (fit && !fit.fits) {
      rows.push([loaded.runbook.id, '-', `skipped: ${fit.reason}`, '-', '-', path.relative(process.cwd(), file) || file]);
      continue;
    }
    fitting++;
    const variants = [undefined, ...(loaded.runbook.rehearsal?.variants ?? []).filter((v) => common.project === undefined || v.incident !== undefined).map((v) => v.id)];
    for (const variant of variants) {
      process.stdout.write(`\n######## ${loaded.runbook.id}${variant ? ` (variant ${variant})` : ''}\n`);
      const started = Date.now();
      let outcome = 'error';
      let fixed = 'no';
      try {
        const r = await runDrill({ loaded, ui: 'auto', ...(variant ? { variant } : {}), ...common });
        outcome = r.outcome ?? 'error';
        const restored = r.score?.rollback?.restored;
        fixed = common.rollbackAfter ? (r.score?.rollback?.reached === false ? 'not rehearsed' : restored === 'yes-except-declared' ? 'yes, as declared' : (restored ?? 'no')) : r.score?.fixed ? 'yes' : 'no';
        if (r.exitCode !== 0) failed++;
      } catch (e) {
        failed++;
        outcome = `error: ${(e as Error).message}`;
      }
      const rel = path.relative(process.cwd(), file);
      rows.push([loaded.runbook.id, variant ?? '-', outcome, fixed, `${((Date.now() - started) / 1000).toFixed(1)}s`, rel && !rel.startsWith('..') ? rel : file]);
    }
  }
  if (common.project !== undefined && fitting === 0) throw new DrillbookError(`none of the runbooks fits the project ${common.project}`, { exitCode: 2, hint: rows.map((r) => `${r[0]}: ${r[5]}`).join('; ') });
  process.stdout.write(`\n${formatTable({ columns: ['RUNBOOK', 'VARIANT', 'OUTCOME', common.rollbackAfter ? 'RESTORED' : 'FIXED', 'TIME', 'FILE'], rows, rowCount: rows.length }, 1000, 60)}\n`);
  process.stdout.write(failed ? `${failed} drill(s) failed\n` : 'every drill passed\n');
  return failed ? 1 : 0;
}
