/**
 * A drill: a throwaway PostgreSQL seeded with the incident's broken state, a scratch copy of the
 * project, the stand-ins where the real tools are absent, the runbook run in rehearsal mode, then
 * the success checks and a debrief. Nothing is left behind.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, chmodSync, constants as fsConstants, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DrillbookError, UsageError } from '../core/errors.js';
import { evaluateExpect } from '../core/expect.js';
import type { RunOutcome } from '../core/events.js';
import type { Operator } from '../core/ports.js';
import type { LoadedRunbook, Rehearsal } from '../core/runbook.js';
import { defaultDatabaseName } from '../core/runbook.js';
import { visible } from '../core/sanitize.js';
import { renderDebrief, scoreDrill, type Score } from '../core/score.js';
import { markDrillOwner, removeOnExit, startDrillDatabase, type DrillDatabase } from '../adapters/drill-db.js';
import { ExecaShell } from '../adapters/shell.js';
import { installStandins, PG_TOOLS, STANDIN_TOOLS } from '../standin/install.js';
import { armRestart, FaultLog, FaultyShell, HangingDb, type FaultName } from './faults.js';
import { checkPattern } from './inputs.js';
import { runSession, type Interface } from './session.js';

export interface DrillOptions {
  loaded: LoadedRunbook;
  variant?: string;
  ui: Interface;
  vars: Record<string, string>;
  faults: FaultName[];
  keep: boolean;
  standIns: boolean;
  operatorName: string;
  transcriptDir: string;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

export interface DrillResult {
  exitCode: number;
  outcome: RunOutcome | undefined;
  score: Score | undefined;
}

interface Stage {
  setup: NonNullable<Rehearsal['setup']>;
  workdir: string | undefined;
  inputs: Record<string, string>;
}

function stageOf(loaded: LoadedRunbook, variantId: string | undefined): Stage {
  const r = loaded.runbook.rehearsal ?? {};
  const base: Stage = { setup: r.setup ?? [], workdir: r.workdir, inputs: Object.fromEntries(Object.entries(r.inputs ?? {}).map(([k, v]) => [k, String(v)])) };
  if (variantId === undefined) return base;
  const v = r.variants?.find((x) => x.id === variantId);
  if (!v) {
    const ids = (r.variants ?? []).map((x) => x.id);
    throw new UsageError(`runbook ${loaded.runbook.id} has no rehearsal variant "${variantId}"`, ids.length ? `its variants: ${ids.join(', ')}` : 'it has no variants');
  }
  return {
    setup: v.setup ?? base.setup,
    workdir: v.workdir ?? base.workdir,
    inputs: { ...base.inputs, ...Object.fromEntries(Object.entries(v.inputs ?? {}).map(([k, val]) => [k, String(val)])) },
  };
}

/** Whether an executable of that name is on PATH (looked up without spawning a shell). */
function onPath(tool: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, tool), fsConstants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** The major version of an installed PostgreSQL client tool (0 when absent). */
function clientMajor(tool: string, env: NodeJS.ProcessEnv): number {
  if (!onPath(tool, env)) return 0;
  try {
    const v = execFileSync(tool, ['--version'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    return Number(/(\d+)(?:\.\d+)?/.exec(v)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The unattended trainee of `drill --auto`: like --auto, and retries a failed step once (after a pause) before giving up. */
function retryOnce(inner: Operator): Operator {
  const retried = new Set<string>();
  return {
    async request(req, session) {
      if (req.kind === 'decide' && !req.unknown && req.options.includes('retry') && !retried.has(req.step.id)) {
        retried.add(req.step.id);
        await new Promise((r) => setTimeout(r, 1500));
        return { kind: 'retry' };
      }
      return inner.request(req, session);
    },
  };
}

async function runSetup(url: string, stage: Stage, baseDir: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    for (const item of stage.setup) {
      const sqlText = 'file' in item ? readFileSync(path.resolve(baseDir, item.file), 'utf8') : item.sql;
      try {
        await c.query(sqlText);
      } catch (e) {
        throw new DrillbookError(`seeding the drill failed in ${'file' in item ? item.file : 'inline SQL'}: ${(e as Error).message}`, { exitCode: 1, hint: 'fix the rehearsal setup of the runbook' });
      }
    }
  } finally {
    await c.end();
  }
}

export interface Seeded {
  db: DrillDatabase | undefined;
  urls: Record<string, string>;
  scratch: string;
  workdir: string;
  values: Record<string, string>;
  env: NodeJS.ProcessEnv;
  seconds: number;
  /** Stop the database and remove the scratch folder (unless kept). */
  cleanup(keep?: boolean): Promise<void>;
}

/** The incident's broken state: a drill database per declared database, seeded, and a scratch copy of the project. */
export async function seedRehearsal(loaded: LoadedRunbook, variant: string | undefined, opts: { vars?: Record<string, string>; standIns?: boolean; keep?: boolean } = {}): Promise<Seeded> {
  const rb = loaded.runbook;
  const stage = stageOf(loaded, variant);
  const runbookDir = path.dirname(loaded.path);
  // Inputs: the rehearsal's, then --var; each still checked against its pattern.
  const values: Record<string, string> = { ...stage.inputs, ...(opts.vars ?? {}) };
  for (const [name, spec] of Object.entries(rb.inputs ?? {})) {
    if (values[name] === undefined && spec.default !== undefined) values[name] = String(spec.default);
    if (values[name] !== undefined) checkPattern(rb, name, values[name]!);
  }
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'drillbook-scratch-'));
  chmodSync(scratch, 0o755);
  markDrillOwner(scratch);
  const keepScratch = removeOnExit(scratch);
  const workdir = path.join(scratch, 'project');
  let db: DrillDatabase | undefined;
  const cleanup = async (keep = false) => {
    if (keep && db) {
      db.release();
      keepScratch();
      markDrillOwner(scratch, true);
      return;
    }
    await db?.stop();
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    if (stage.workdir) cpSync(path.resolve(runbookDir, stage.workdir), workdir, { recursive: true });
    else mkdirSync(workdir);
    const started = Date.now();
    const names = Object.keys(rb.databases ?? {});
    const urls: Record<string, string> = {};
    if (names.length) {
      db = await startDrillDatabase({ keep: opts.keep === true });
      for (const name of names) {
        await db.createDatabase(name);
        urls[name] = db.url(name);
      }
      await runSetup(urls[defaultDatabaseName(rb) ?? names[0]!]!, stage, runbookDir);
    }
    const seconds = (Date.now() - started) / 1000;

    // The stand-ins, first on PATH (and in node_modules/.bin for npx) where the real tool is absent.
    const binDir = path.join(scratch, 'bin');
    const env = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith('PG')) delete env[key];
    const missing: string[] = STANDIN_TOOLS.filter((t) => opts.standIns || (!onPath(t, env) && !existsSync(path.join(workdir, 'node_modules', '.bin', t))));
    // PostgreSQL's client tools refuse a newer server: stand in when they are absent or older than the drill server.
    // pg_dump, pg_restore and psql come from one installation: one version check for all three.
    const clientTooOld = !db || clientMajor('pg_dump', env) < db.serverMajor;
    const pgTools = PG_TOOLS.filter((t) => opts.standIns || clientTooOld || !onPath(t, env));
    if (missing.length || pgTools.length) {
      installStandins(binDir, [...missing, ...pgTools]);
      if (missing.some((t) => t !== 'mix')) installStandins(path.join(workdir, 'node_modules', '.bin'), missing.filter((t) => t !== 'mix'));
      env.PATH = `${binDir}${path.delimiter}${env.PATH ?? ''}`;
    }
    for (const [name, spec] of Object.entries(rb.databases ?? {})) if ('env' in spec.url) env[spec.url.env] = urls[name];
    return { db, urls, scratch, workdir, values, env, seconds, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

export async function runDrill(opts: DrillOptions): Promise<DrillResult> {
  const out = opts.out ?? process.stdout;
  const { loaded } = opts;
  const rb = loaded.runbook;
  const seeded = await seedRehearsal(loaded, opts.variant, { vars: opts.vars, standIns: opts.standIns, keep: opts.keep });
  const { db, urls, workdir, values, env } = seeded;
  const names = Object.keys(rb.databases ?? {});
  let result: DrillResult = { exitCode: 1, outcome: undefined, score: undefined };
  try {
    out.write(`drill: ${rb.id}${opts.variant ? ` (variant ${opts.variant})` : ''}: database ready and seeded in ${seeded.seconds.toFixed(1)}s${db ? ` on 127.0.0.1:${db.port}` : ''}; working directory ${workdir}\n`);

    const log = new FaultLog();
    const shell = opts.faults.includes('command-fails-once') ? new FaultyShell(new ExecaShell(), log) : undefined;
    const defaultUrl = urls[defaultDatabaseName(rb) ?? names[0] ?? ''];
    let score: Score | undefined;
    let outcome: RunOutcome | undefined;

    const exitCode = await runSession({
      loaded,
      mode: 'rehearsal',
      values,
      databaseUrls: urls,
      environmentOverride: 'rehearsal',
      ui: opts.ui,
      confirmTarget: opts.ui === 'auto' ? names : undefined,
      operatorName: opts.operatorName,
      transcriptDir: opts.transcriptDir,
      cwd: workdir,
      baseEnv: env,
      requireLocal: true,
      ...(shell ? { shell } : {}),
      ...(opts.faults.includes('statement-hang') && defaultUrl ? { wrapDb: (inner) => new HangingDb(inner, defaultUrl, log) } : {}),
      ...(opts.ui === 'auto' ? { wrapOperator: retryOnce } : {}),
      onRun: (run) => {
        log.run = run;
        if (opts.faults.includes('db-restart') && db) armRestart(run, db, log);
      },
      afterRun: async (run, o) => {
        outcome = o;
        // Did the drill fix the incident? The runbook's success checks, recorded in the transcript.
        const ac = new AbortController();
        for (const c of rb.rehearsal?.success ?? []) {
          const database = c.database ?? defaultDatabaseName(rb) ?? names[0]!;
          const r = await run.ports.db.check(database, c.check, (c.params ?? []).map((p) => values[p] ?? ''), 30_000, ac.signal);
          const failures = r.ok ? evaluateExpect(c.expect, r.result) : [r.error];
          run.record({ type: 'rehearsal.check', id: c.id, title: c.title, pass: failures.length === 0, failures, ...(r.ok ? { result: r.result } : { error: r.error }) });
        }
        score = scoreDrill(run.events);
        out.write(visible(`\n== Debrief (${rb.id}${opts.variant ? `, variant ${opts.variant}` : ''})\n${renderDebrief(score)}\n`));
      },
      reportExtra: () => (score ? { score: renderDebrief(score) } : {}),
      stdout: out,
      ...(opts.err ? { stderr: opts.err } : {}),
    });
    result = { exitCode: exitCode === 0 && score && !score.fixed ? 1 : exitCode, outcome, score };
    return result;
  } finally {
    if (db && opts.keep) {
      out.write(`\nThe drill database is still running (kept): psql -h ${db.dir} -p ${db.port} -U postgres ${Object.keys(rb.databases ?? {})[0] ?? 'postgres'}\n`);
      out.write(`Stop it with: kill ${db.pid ?? '<pid>'} && rm -rf ${db.dir} ${seeded.scratch}\n`);
    }
    await seeded.cleanup(opts.keep);
  }
}
