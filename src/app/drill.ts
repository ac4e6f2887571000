/**
 * A drill: a throwaway PostgreSQL seeded with the incident's broken state, a scratch copy of the
 * project, the tools its commands call (real or stand-in: src/drill/tools.ts), the runbook run in rehearsal mode, then
 * the success checks and a debrief. Nothing is left behind.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DrillbookError, UsageError } from '../core/errors.js';
import { evaluateExpect } from '../core/expect.js';
import type { RunEvent, RunOutcome } from '../core/events.js';
import type { Operator } from '../core/ports.js';
import type { LoadedRunbook, Rehearsal } from '../core/runbook.js';
import { defaultDatabaseName } from '../core/runbook.js';
import { visible } from '../core/sanitize.js';
import { renderDebrief, scoreDrill, type Score } from '../core/score.js';
import { loadBinaries, markDrillOwner, removeOnExit, startDrillDatabase, type DrillDatabase } from '../adapters/drill-db.js';
import { ExecaShell } from '../adapters/shell.js';
import { chooseTools, describeTools, provisionTools, toolEvents, toolsNeeded, TOOL_NAMES, type ToolChoice, type ToolsMode } from '../drill/tools.js';
import { incidentOf } from '../core/incident.js';
import { copyProject } from '../drill/project-copy.js';
import { inputsFromIncident, migrationsCheck, prepareProjectDrill, projectBanner, projectEvent, stageProjectIncident, stagingTools, type ProjectDrill } from '../drill/project-seed.js';
import type { StagedIncident } from '../drill/stage.js';
import { dropStaged, findStaged, keepStaged, restoreMigrations, stageCacheEnabled, stageKey, treeDigest, type StagedSnapshot } from '../drill/stage-cache.js';
import { armRestart, FaultLog, FaultyShell, HangingDb, type FaultName } from './faults.js';
import { checkPattern } from './inputs.js';
import { resolveConnection } from '../core/conn.js';
import { cleanProjectCopy, drillEnvironment } from '../drill/environment.js';
import { takeFingerprint, type Fingerprint } from '../drill/fingerprint.js';
import { compareFingerprints, rollbackVerdict, type Declared, type Difference } from '../drill/fingerprint-diff.js';
import { fillText } from '../core/interpolate.js';
import { effectOf, mainSteps, rollbackPhase } from '../core/runbook.js';
import { runSession, type Interface } from './session.js';

export interface DrillOptions {
  loaded: LoadedRunbook;
  variant?: string;
  ui: Interface;
  vars: Record<string, string>;
  faults: FaultName[];
  keep: boolean;
  /** Rehearse the rollback after this step (a main-flow step id, or "last-destructive"). */
  rollbackAfter?: string;
  /** Real tools, stand-ins, or each real one where usable (default). */
  tools?: ToolsMode;
  /** The drill server's major version (default: the newest installed). */
  pgVersion?: number;
  /** Rehearse on this project's own migrations instead of the runbook's fixture (a recipe runbook). */
  project?: string;
  /** Seed the applied migrations from this dump of production instead of running them. */
  fromDump?: string;
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

/** The unattended trainee of `drill --auto`: like --auto, and retries a failed step once (after a pause) before giving up. */
function retryOnce(inner: Operator): Operator {
  const retried = new Set<string>();
  return {
    async request(req, session) {
      // Only what can change is retried: never a deterministic SQL error (syntax, a missing object, a broken constraint).
      if (req.kind === 'decide' && !req.unknown && req.transient !== false && req.options.includes('retry') && !retried.has(req.step.id)) {
        retried.add(req.step.id);
        await new Promise((r) => setTimeout(r, 1500));
        return { kind: 'retry' };
      }
      return inner.request(req, session);
    },
  };
}

/** Setup-like SQL items on a connection, in order; a statement expected to fail must fail as expected. */
async function runItems(c: pg.Client, items: NonNullable<Rehearsal['setup']>, baseDir: string): Promise<void> {
  for (const item of items) {
    const where = 'file' in item ? item.file : 'inline SQL';
    let sqlText: string;
    try {
      sqlText = 'file' in item ? readFileSync(path.resolve(baseDir, item.file), 'utf8') : item.sql;
    } catch (e) {
      throw new DrillbookError(`seeding the drill: cannot read ${where} (${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message})`, { exitCode: 2, hint: 'setup and data files are relative to the runbook' });
    }
    let failed: { code?: string; message: string } | undefined;
    try {
      // One simple query: one statement runs in autocommit (CREATE INDEX CONCURRENTLY works), several in one implicit transaction.
      await c.query(sqlText);
    } catch (e) {
      failed = e as { code?: string; message: string };
    }
    // A statement expected to fail stages the broken state by failing (a unique index built
    // CONCURRENTLY over duplicates leaves an INVALID index): only the expected failure is fine.
    const expected = item.expect_error;
    if (expected === undefined && failed) {
      throw new DrillbookError(`seeding the drill failed in ${where}: ${failed.message}`, { exitCode: 1, hint: 'fix the rehearsal setup of the runbook (a statement meant to fail takes expect_error)' });
    }
    if (expected !== undefined && !failed) {
      throw new DrillbookError(`seeding the drill: ${where} was expected to fail${expected === true ? '' : ` with ${expected}`}, and it succeeded`, { exitCode: 1, hint: 'the broken state was not staged: fix the setup or its expect_error' });
    }
    if (expected !== undefined && expected !== true && failed && failed.code !== expected) {
      throw new DrillbookError(`seeding the drill: ${where} failed with ${failed.code ?? 'an error'} (${failed.message}), not the expected ${expected}`, { exitCode: 1, hint: 'fix the rehearsal setup of the runbook' });
    }
  }
}

async function runSetup(url: string, stage: Stage, baseDir: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await runItems(c, stage.setup, baseDir);
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
  /** Variables of the operator's environment kept from the drill (names only). */
  removed: string[];
  /** How many other variables of the operator's environment were left out (not on the allow-list). */
  others: number;
  /** .env lines of the project's copy commented out ("file: NAME"). */
  scrubbed: string[];
  /** The tools the runbook's commands call, real or stand-in. */
  tools: ToolChoice[];
  seconds: number;
  /** The runbook as the drill runs it (its migrations folder adapted to --project's). */
  loaded: LoadedRunbook;
  /** A recipe drill: the project, the incident staged in it, and its transcript event. */
  project?: { drill: ProjectDrill; staged: Pick<StagedIncident, 'facts' | 'lines'>; event: RunEvent };
  /** Stop the database and remove the scratch folder (unless kept). */
  cleanup(keep?: boolean): Promise<void>;
}

/** Variables of the drill's environment that reach the migration tools (their own settings), for the cache's key. */
const TOOL_ENV = /^(NODE_PATH|NODE_OPTIONS|PRISMA_|MIX_|HEX_|ERL_|ELIXIR_|npm_config_)/;

/**
 * The inputs of a staging, for the cache: the runbook file and the incident's data files, the
 * variant, the fixture, the tools and their settings, the server. Undefined (nothing kept) when a
 * data file cannot be read: staging then says what is wrong with it.
 */
function stagingKey(loaded: LoadedRunbook, variant: string | undefined, fixtureDir: string, pd: ProjectDrill, runbookDir: string, tools: readonly ToolChoice[], pgVersion: number | undefined, names: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  try {
    const data = (pd.incident.data ?? []).map((item) => ('file' in item ? `${item.file}\n${readFileSync(path.resolve(runbookDir, item.file), 'utf8')}` : item.sql));
    const toolEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => TOOL_ENV.test(e[0]) && e[1] !== undefined));
    return stageKey({ runbookText: `${loaded.hash}\n${data.join('\n')}`, variant, fixtureDir, tools, serverVersion: loadBinaries(pgVersion).version, databases: names, toolEnv });
  } catch {
    return undefined;
  }
}

/**
 * The incident's broken state: a drill database per declared database, seeded, and a scratch copy
 * of the project. A runbook whose incident is a recipe (rehearsal.incident) is staged on a project's
 * own migrations: its fixture (the rehearsal's workdir), or `project` (--project); `fromDump` seeds
 * the applied migrations from a dump of production instead.
 */
export async function seedRehearsal(
  loadedAsFiled: LoadedRunbook,
  variant: string | undefined,
  opts: { vars?: Record<string, string>; tools?: ToolsMode; pgVersion?: number; keep?: boolean; project?: string; fromDump?: string } = {},
): Promise<Seeded> {
  const stage = stageOf(loadedAsFiled, variant);
  const incident = incidentOf(loadedAsFiled.runbook, variant);
  if (!incident && (opts.project !== undefined || opts.fromDump !== undefined)) {
    throw new UsageError(`runbook ${loadedAsFiled.runbook.id} builds its incident from setup SQL, not from a project's migrations: ${opts.project !== undefined ? '--project' : '--from-dump'} needs a runbook with rehearsal.incident`, 'the shipped runbooks have one (drillbook list)');
  }
  // A recipe drill: the project is found and checked before anything starts.
  const pd = incident ? prepareProjectDrill(loadedAsFiled, incident, stage.workdir, { ...(opts.project !== undefined ? { project: opts.project } : {}), ...(opts.fromDump !== undefined ? { fromDump: opts.fromDump } : {}) }) : undefined;
  const loaded = pd?.loaded ?? loadedAsFiled;
  const rb = loaded.runbook;
  const runbookDir = path.dirname(loaded.path);
  // The tools first: `--tools real` refuses before anything starts. Client tools are judged against the server's major.
  const names = Object.keys(rb.databases ?? {});
  const serverMajor = names.length ? Number(loadBinaries(opts.pgVersion).version.split('.')[0]) : 0;
  const sourceDir = pd ? pd.project.dir : stage.workdir ? path.resolve(runbookDir, stage.workdir) : runbookDir;
  const needed = pd ? TOOL_NAMES.filter((t) => toolsNeeded(rb).includes(t) || stagingTools(pd).includes(t)) : toolsNeeded(rb);
  const tools = chooseTools(needed, opts.tools ?? 'auto', { nodeSearch: [sourceDir, process.cwd()], projectDir: sourceDir, serverMajor, envPath: process.env.PATH });
  // Inputs: the rehearsal's, then (below) the staged incident's facts, then --var; each checked against its pattern.
  const values: Record<string, string> = { ...stage.inputs, ...(opts.vars ?? {}) };
  const checkInputs = () => {
    for (const [name, spec] of Object.entries(rb.inputs ?? {})) {
      if (values[name] === undefined && spec.default !== undefined) values[name] = String(spec.default);
      if (values[name] !== undefined) checkPattern(rb, name, values[name]!);
    }
  };
  if (!pd) checkInputs();
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
    if (pd) copyProject(pd.project.dir, workdir, { linkModules: !pd.fixture });
    else if (stage.workdir) cpSync(path.resolve(runbookDir, stage.workdir), workdir, { recursive: true });
    else mkdirSync(workdir);
    // Nothing in the copy may lead a tool to a real database (.env lines, literal URLs in configs).
    const { scrubbed } = cleanProjectCopy(workdir);

    // Drills see only the drill: nothing inherited may lead a command to a real database.
    const { env, removed, others } = drillEnvironment(process.env);
    // The chosen tools (real or stand-in), where the runbook's commands look for them.
    const binDir = path.join(scratch, 'bin');
    Object.assign(env, provisionTools(tools, binDir, workdir, env.PATH));

    const started = Date.now();
    const urls: Record<string, string> = {};
    let staged: Pick<StagedIncident, 'facts' | 'lines'> | undefined;
    let fromCache: string | undefined;
    if (names.length) {
      // A shipped fixture's incident, staged before with exactly these inputs: start from that (src/drill/stage-cache.ts).
      const cacheKey = pd && pd.fixture && pd.fromWorkdir && !pd.dump && stageCacheEnabled() ? stagingKey(loadedAsFiled, variant, sourceDir, pd, runbookDir, tools, opts.pgVersion, names, env) : undefined;
      let cached: StagedSnapshot | undefined = cacheKey ? findStaged(cacheKey) : undefined;
      const migrationsDir = pd ? path.join(workdir, pd.project.migrations) : '';
      const startOptions = { keep: opts.keep === true, ...(opts.pgVersion !== undefined ? { major: opts.pgVersion } : {}) };
      if (cached) {
        try {
          db = await startDrillDatabase({ ...startOptions, from: cached.cluster });
          restoreMigrations(cached, migrationsDir);
        } catch {
          // A copy that will not start, or that went away: forget it, and stage anew.
          await db?.stop();
          db = undefined;
          dropStaged(cached);
          cached = undefined;
          if (pd) {
            rmSync(migrationsDir, { recursive: true, force: true });
            cpSync(path.join(sourceDir, pd.project.migrations), migrationsDir, { recursive: true });
          }
        }
      }
      db ??= await startDrillDatabase(startOptions);
      for (const name of names) {
        if (!cached) await db.createDatabase(name);
        urls[name] = db.url(name);
      }
      for (const [name, spec] of Object.entries(rb.databases ?? {})) if ('env' in spec.url) env[spec.url.env] = urls[name];
      const defaultUrl = urls[defaultDatabaseName(rb) ?? names[0]!]!;
      // The project's config may read its URL from another variable (POSTGRES_URL): the drill's database too.
      if (pd?.project.urlEnv && env[pd.project.urlEnv] === undefined) env[pd.project.urlEnv] = defaultUrl;
      if (cached) {
        fromCache = cached.at;
        staged = { facts: cached.staged.facts, lines: [`started from the copy drillbook kept when a drill staged this incident at ${cached.at} (the same runbook, fixture, tools and PostgreSQL, today; DRILLBOOK_STAGE_CACHE=0 stages it anew); that staging:`, ...cached.staged.lines] };
      } else if (pd) {
        // Staging may change only the copy's migrations folder for its result to be kept (and the
        // tools' own caches: the real Prisma CLI compiles prisma.config.ts into node_modules/.cache).
        const unkept = [pd.project.migrations, 'node_modules/.cache'];
        const before = cacheKey ? treeDigest(workdir, { skip: unkept }) : '';
        staged = await stageProjectIncident(pd, { workdir, scratch, binDir, url: defaultUrl, env, tools, runbookDir, runItems });
        if (cacheKey && treeDigest(workdir, { skip: unkept }) === before) {
          const result = { facts: staged.facts, lines: staged.lines };
          await keepStaged(cacheKey, (dest) => db!.snapshot(dest), migrationsDir, result);
          // The server started again, perhaps on another port.
          for (const name of names) urls[name] = db.url(name);
          if (pd.project.urlEnv) env[pd.project.urlEnv] = urls[defaultDatabaseName(rb) ?? names[0]!]!;
        }
      } else await runSetup(defaultUrl, stage, runbookDir);
    } else if (pd) {
      throw new UsageError(`runbook ${rb.id} declares no database to stage its incident in`);
    }
    if (pd && staged) {
      Object.assign(values, { ...stage.inputs, ...inputsFromIncident(pd, staged), ...(opts.vars ?? {}) });
      checkInputs();
    }
    const seconds = (Date.now() - started) / 1000;
    for (const [name, spec] of Object.entries(rb.databases ?? {})) if ('env' in spec.url) env[spec.url.env] = urls[name];
    return {
      db, urls, scratch, workdir, values, env, removed, others, scrubbed, tools, seconds, cleanup, loaded,
      ...(pd && staged ? { project: { drill: pd, staged, event: projectEvent(pd, staged, workdir, fromCache) } } : {}),
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** The main-flow step a rehearsed rollback starts after: an id, or the runbook's last destructive step. */
export function rollbackPoint(loaded: LoadedRunbook, after: string): string {
  const main = mainSteps(loaded.runbook);
  if (!rollbackPhase(loaded.runbook)) throw new UsageError(`runbook ${loaded.runbook.id} has no rollback phase to rehearse`);
  if (after === 'last-destructive') {
    const last = [...main].reverse().find((p) => effectOf(p.step) === 'destructive');
    if (!last) throw new UsageError(`runbook ${loaded.runbook.id} has no destructive step to roll back from`);
    return last.step.id;
  }
  if (!main.some((p) => p.step.id === after)) {
    throw new UsageError(`--rollback-after ${after}: not a step of the runbook's main flow`, `its steps: ${main.map((p) => p.step.id).join(', ')}, or last-destructive`);
  }
  return after;
}

/**
 * Did the forward path reach the step a rollback is rehearsed from, before any rollback started?
 * Only then did that step's rollback run: a rollback set off earlier (a step that failed with
 * on_failure: rollback) rehearses another rollback, not this one.
 */
export function reachedBeforeRollback(events: readonly RunEvent[], step: string): boolean {
  for (const e of events) {
    if (e.type === 'rollback.started') return false;
    if ('step' in e && e.step === step && ((e.type === 'step.finished' && e.outcome === 'passed') || e.type === 'step.marked-done' || e.type === 'step.override')) return true;
  }
  return false;
}

async function fingerprints(urls: Record<string, string>): Promise<Record<string, Fingerprint>> {
  const out: Record<string, Fingerprint> = {};
  for (const [name, url] of Object.entries(urls)) {
    const c = new pg.Client({ connectionString: url, application_name: 'drillbook-fingerprint' });
    c.on('error', () => undefined);
    await c.connect();
    try {
      out[name] = await takeFingerprint(c);
    } finally {
      await c.end().catch(() => undefined);
    }
  }
  return out;
}

export async function runDrill(opts: DrillOptions): Promise<DrillResult> {
  const out = opts.out ?? process.stdout;
  // Checked before anything starts: a wrong step id must not leave a drill database behind.
  const rollbackAfter = opts.rollbackAfter === undefined ? undefined : rollbackPoint(opts.loaded, opts.rollbackAfter);
  const seeded = await seedRehearsal(opts.loaded, opts.variant, { vars: opts.vars, keep: opts.keep, ...(opts.tools ? { tools: opts.tools } : {}), ...(opts.pgVersion !== undefined ? { pgVersion: opts.pgVersion } : {}), ...(opts.project !== undefined ? { project: opts.project } : {}), ...(opts.fromDump !== undefined ? { fromDump: opts.fromDump } : {}) });
  // The runbook as staged: its migrations folder is the project's.
  const { db, urls, workdir, values, env, loaded } = seeded;
  const rb = loaded.runbook;
  // The drill's own connections, read with the drill's environment (which holds no PG* variable).
  const connections = Object.fromEntries(Object.entries(urls).map(([name, url]) => [name, resolveConnection(url, env, `drill database ${name}`)]));
  const names = Object.keys(rb.databases ?? {});
  let result: DrillResult = { exitCode: 1, outcome: undefined, score: undefined };
  try {
    out.write(`drill: ${rb.id}${opts.variant ? ` (variant ${opts.variant})` : ''}: database ready and seeded in ${seeded.seconds.toFixed(1)}s${db ? ` on 127.0.0.1:${db.port}` : ''}; working directory ${workdir}\n`);
    out.write(`drill: tools: ${describeTools(seeded.tools)}\n`);
    if (seeded.removed.length) out.write(`drill: kept out of the drill's commands (they could reach a real database): ${seeded.removed.join(', ')}\n`);
    if (seeded.others) out.write(`drill: ${seeded.others === 1 ? '1 other variable' : `${seeded.others} other variables`} of your environment left out too: only PATH, HOME, locale, terminal and the tools' own settings reach a drill\n`);
    if (seeded.scrubbed.length) out.write(`drill: commented out in the project's copy (they could reach a real database): ${seeded.scrubbed.join(', ')}\n`);
    if (seeded.project) out.write(visible(projectBanner(seeded.project.drill, seeded.project.staged)));

    const log = new FaultLog();
    const shell = opts.faults.includes('command-fails-once') ? new FaultyShell(new ExecaShell(), log) : undefined;
    const defaultUrl = urls[defaultDatabaseName(rb) ?? names[0] ?? ''];
    let score: Score | undefined;
    let outcome: RunOutcome | undefined;
    // The state before the first step: what a rehearsed rollback must bring back.
    const before = await fingerprints(urls);
    let rolledBack = false;

    const exitCode = await runSession({
      loaded,
      mode: 'rehearsal',
      values,
      connections,
      environmentOverride: 'rehearsal',
      ui: opts.ui,
      confirmTarget: opts.ui === 'auto' ? names : undefined,
      operatorName: opts.operatorName,
      transcriptDir: opts.transcriptDir,
      cwd: workdir,
      baseEnv: env,
      requireLocal: true,
      startEvents: [...toolEvents(seeded.tools), ...(seeded.project ? [seeded.project.event] : [])],
      ...(shell ? { shell } : {}),
      ...(opts.faults.includes('statement-hang') && defaultUrl ? { wrapDb: (inner) => new HangingDb(inner, defaultUrl, log) } : {}),
      ...(opts.ui === 'auto' ? { wrapOperator: retryOnce } : {}),
      onRun: (run) => {
        log.run = run;
        if (opts.faults.includes('db-restart') && db) armRestart(run, db, log);
        if (rollbackAfter) {
          run.subscribe((_s, e) => {
            if (e && (e.type === 'step.finished' || e.type === 'step.marked-done' || e.type === 'step.override') && e.step === rollbackAfter && (e.type !== 'step.finished' || e.outcome === 'passed')) {
              run.requestRollback(`rehearsing the rollback after ${rollbackAfter} (--rollback-after)`);
            }
          });
        }
      },
      afterRun: async (run, o) => {
        outcome = o;
        rolledBack = run.events.some((e) => e.type === 'rollback.started');
        const reached = rollbackAfter === undefined || reachedBeforeRollback(run.events, rollbackAfter);
        if (!reached) out.write(`\ndrill: the forward path did not reach ${rollbackAfter}: its rollback was not rehearsed\n`);
        if (rolledBack) {
          // Proof, not trust: compare the database with its fingerprint from before the first step.
          const after = await fingerprints(urls);
          const differences: Difference[] = [];
          const notes: string[] = [];
          const several = Object.keys(before).length > 1;
          for (const name of Object.keys(before)) {
            const found = compareFingerprints(before[name]!, after[name]!);
            differences.push(...(several ? found.differences.map((d) => ({ ...d, text: `${name}: ${d.text}` })) : found.differences));
            notes.push(...(several ? found.notes.map((n) => `${name}: ${n}`) : found.notes));
          }
          const fill = (t: string | undefined) => (t === undefined ? undefined : fillText(t, values));
          const declared: Declared[] = (rollbackPhase(rb)?.leaves ?? []).map((l) => ({ table: fill(l.table), migration: fill(l.migration), object: fill(l.object), reason: fillText(l.reason, values) }));
          const v = rollbackVerdict(differences, declared, notes);
          run.record({
            type: 'rehearsal.rollback',
            ...(rollbackAfter ? { after: rollbackAfter } : {}),
            ...(reached ? {} : { reached: false }),
            databases: Object.keys(before).map((name) => ({ name, before: before[name]!.digest, after: after[name]!.digest })),
            restored: v.restored,
            differences: v.undeclared.map((d) => d.text),
            declared: v.declared.map((d) => ({ text: d.text, reason: d.reason })),
            unused: v.unused.map((u) => `${u.table ?? u.migration ?? u.object} (${u.reason})`),
            ...(v.notes.length ? { notes: v.notes } : {}),
          });
          score = scoreDrill(run.events);
          out.write(`\n== Debrief (${rb.id}${opts.variant ? `, variant ${opts.variant}` : ''}, ${reached ? 'rollback rehearsed' : `rollback from ${rollbackAfter} not rehearsed`})\n${renderDebrief(score)}\n`);
          return;
        }
        if (rollbackAfter && reached) out.write(`\nThe run ended (${o}) before the rollback from ${rollbackAfter} could be rehearsed.\n`);
        // Did the drill fix the incident? The runbook's success checks, recorded in the transcript.
        const ac = new AbortController();
        const skipped = new Set(seeded.project?.drill.skippedChecks ?? []);
        if (skipped.size) out.write(`   success checks of the shipped fixture's own tables, not run on this project: ${[...skipped].join(', ')}\n`);
        for (const c of rb.rehearsal?.success ?? []) {
          if (skipped.has(c.id)) continue;
          const database = c.database ?? defaultDatabaseName(rb) ?? names[0]!;
          if (c.migrations) {
            run.record({ type: 'rehearsal.check', id: c.id, title: c.title, ...(await migrationsCheck(c.migrations, urls[database]!, workdir)) });
            continue;
          }
          const r = await run.ports.db.check(database, run.sqlOf(c.check!), (c.params ?? []).map((p) => values[p] ?? ''), 30_000, ac.signal);
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
    if (rolledBack || rollbackAfter) {
      // A rehearsed rollback passes when it ran from the step asked for, to its end, and the state came back (or differs only as declared).
      const restored = score?.rollback?.restored;
      const reached = score?.rollback?.reached !== false;
      result = { exitCode: outcome === 'rolled-back' && reached && restored !== undefined && restored !== 'no' ? 0 : 1, outcome, score };
    } else {
      result = { exitCode: exitCode === 0 && score && !score.fixed ? 1 : exitCode, outcome, score };
    }
    return result;
  } finally {
    if (db && opts.keep) {
      // The password goes in a 0600 passfile, never on a command line or the screen.
      const passfile = path.join(seeded.scratch, 'pgpass');
      writeFileSync(passfile, `127.0.0.1:${db.port}:*:${db.user}:${db.password.replace(/[\\:]/g, '\\$&')}\n`, { mode: 0o600 });
      out.write(`\nThe drill database is still running (kept): PGPASSFILE=${passfile} psql -h 127.0.0.1 -p ${db.port} -U ${db.user} ${Object.keys(rb.databases ?? {})[0] ?? 'postgres'}\n`);
      out.write(`Stop it with: kill ${db.pid ?? '<pid>'} && rm -rf ${db.dir} ${seeded.scratch}\n`);
    }
    await seeded.cleanup(opts.keep);
  }
}
