/**
 * The project side of a drill whose runbook declares its incident as a recipe: which project (the
 * shipped fixture, or --project), checked before anything starts; then, once the drill database
 * runs, the incident staged in it (src/drill/stage.ts) and the runbook's inputs filled from it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { DrillbookError, UsageError } from '../core/errors.js';
import { ROWS_CAP, type CheckRows, type RunEvent } from '../core/events.js';
import type { z } from 'zod';
import type { successMigrationsSchema } from '../core/schema.js';
import { diagnoseFolder, expectationFailures } from '../adapters/migrations/service.js';
import { IncidentError, incidentOf, planIncident, type Fact, type Incident } from '../core/incident.js';
import type { Tool } from '../core/migrations/types.js';
import { createdTables, ectoCreatedTables } from '../core/migrations/sql-objects.js';
import type { LoadedRunbook, Rehearsal } from '../core/runbook.js';
import { adaptRunbook, adaptValue } from './adapt.js';
import { inspectDump, restoreDump, type DumpFile } from './dump.js';
import { detectProject, recognise, type Project } from './project.js';
import { shippedRunbooksDir } from '../adapters/runbook-files.js';
import { Stager, type StagedIncident } from './stage.js';
import type { ToolChoice, ToolName } from './tools.js';

type SuccessMigrations = z.output<typeof successMigrationsSchema>;

export const TOOL_COMMAND: Record<Tool, ToolName> = { prisma: 'prisma', drizzle: 'drizzle-kit', ecto: 'mix' };

export interface ProjectDrill {
  project: Project;
  /** The rehearsal's own workdir (its data runs, its fixture-only checks too), not --project. */
  fromWorkdir: boolean;
  /** That workdir is one of drillbook's shipped fixtures (words only: "fixture" rather than "project"). */
  fixture: boolean;
  incident: Incident;
  dump: DumpFile | undefined;
  /** The runbook, its migrations folder adapted to the project's. */
  loaded: LoadedRunbook;
  /** Success checks that read the fixture's own tables, skipped on another project. */
  skippedChecks: string[];
}

/** Tables the project's migrations create, as the tool's files say. */
function tablesOf(project: Project): Set<string> {
  const out = new Set<string>();
  for (const m of project.local) {
    for (const t of createdTables(m.sql)) out.add(t);
    if (project.tool === 'ecto') for (const t of ectoCreatedTables(readFileSync(m.path, 'utf8'))) out.add(t);
  }
  return out;
}

/**
 * The project a recipe drill stages its incident in, and whether it fits: a clear error (nothing
 * started, nothing written) when it does not.
 */
export function prepareProjectDrill(loaded: LoadedRunbook, incident: Incident, workdir: string | undefined, opts: { project?: string; fromDump?: string }): ProjectDrill {
  const rb = loaded.runbook;
  const runbookDir = path.dirname(loaded.path);
  const fromWorkdir = opts.project === undefined;
  const source = opts.project !== undefined ? path.resolve(opts.project) : workdir ? path.resolve(runbookDir, workdir) : undefined;
  if (!source) throw new UsageError(`runbook ${rb.id}: its incident recipe needs a project: rehearsal.workdir, or --project <dir>`);
  const project = detectProject(source, { tool: incident.tool, ...(incident.migrations ? { migrations: incident.migrations } : {}) });
  const missing = (incident.tables ?? []).filter((t) => !tablesOf(project).has(t));
  if (missing.length) {
    throw new DrillbookError(`${rb.id} is written for an incident around ${missing.join(', ')}, which ${project.dir}'s migrations do not create`, {
      exitCode: 2,
      hint: 'its steps name those tables: rehearse it on its shipped fixture (without --project), or copy it into ./runbooks and adapt it',
    });
  }
  try {
    planIncident(incident, project.local, project.dir);
  } catch (e) {
    if (e instanceof IncidentError) throw new DrillbookError(`${rb.id} cannot be staged on ${project.dir}: ${e.message}`, { exitCode: 2, hint: 'rehearse another runbook on this project (drillbook init lists the ones that fit), or this one on its shipped fixture' });
    throw e;
  }
  const dump = opts.fromDump !== undefined ? inspectDump(opts.fromDump) : undefined;
  const adapted: LoadedRunbook = { ...loaded, runbook: adaptRunbook(rb, project) };
  const skippedChecks = fromWorkdir ? [] : (rb.rehearsal?.success ?? []).filter((c) => c.fixture).map((c) => c.id);
  const shipped = path.resolve(shippedRunbooksDir());
  const fixture = fromWorkdir && (project.dir + path.sep).startsWith(shipped + path.sep);
  return { project, fromWorkdir, fixture, incident: adaptValue(incident, project), dump, loaded: adapted, skippedChecks };
}

/** The tools staging needs on top of the runbook's: the migration tool, psql for a plain dump. */
export function stagingTools(pd: ProjectDrill): ToolName[] {
  return [TOOL_COMMAND[pd.incident.tool], ...(pd.dump?.format === 'plain' ? (['psql'] as const) : [])];
}

export interface StageRun {
  workdir: string;
  scratch: string;
  binDir: string;
  url: string;
  env: NodeJS.ProcessEnv;
  tools: readonly ToolChoice[];
  runbookDir: string;
  /** Runs setup-like SQL items (the incident's data) on a connection. */
  runItems: (c: pg.Client, items: NonNullable<Rehearsal['setup']>, baseDir: string) => Promise<void>;
}

export async function stageProjectIncident(pd: ProjectDrill, r: StageRun): Promise<StagedIncident> {
  const tool = r.tools.find((t) => t.tool === TOOL_COMMAND[pd.incident.tool])!;
  const psql = r.tools.find((t) => t.tool === 'psql');
  const data = pd.fromWorkdir && pd.incident.data?.length ? pd.incident.data : undefined;
  const stager = new Stager({
    project: pd.project,
    workdir: r.workdir,
    stash: path.join(r.scratch, 'stash'),
    url: r.url,
    env: r.env,
    binDir: r.binDir,
    tool,
    ...(data ? { runData: (c: pg.Client) => r.runItems(c, data, r.runbookDir) } : {}),
    ...(pd.dump ? { fromDump: (c: pg.Client) => restoreDump(pd.dump!, c, { url: r.url, env: r.env, binDir: r.binDir, ...(psql ? { psql } : {}) }) } : {}),
  });
  return stager.stage(pd.incident);
}

/** The runbook's inputs the staged incident fills; a fact the incident did not produce is an error. */
export function inputsFromIncident(pd: ProjectDrill, staged: Pick<StagedIncident, 'facts'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [input, fact] of Object.entries(pd.incident.inputs ?? {}) as Array<[string, Fact]>) {
    const v = staged.facts[fact];
    if (v === undefined) throw new DrillbookError(`the incident staged on ${pd.project.dir} has no ${fact} to fill the input ${input} with`, { exitCode: 2, hint: 'give it with --var' });
    out[input] = v;
  }
  return out;
}

const NAMES_KEPT = 1000;

/** The transcript's record of the project and the incident staged in it. */
/** `fromCache`: when the incident was staged, if the drill started from the copy drillbook kept of it. */
export function projectEvent(pd: ProjectDrill, staged: Pick<StagedIncident, 'facts' | 'lines'>, copy: string, fromCache?: string): RunEvent {
  const names = pd.project.local.map((m) => (pd.project.tool === 'ecto' ? (m.version ?? m.name) : m.name));
  return {
    type: 'rehearsal.project',
    project: pd.project.dir,
    fixture: pd.fixture,
    tool: pd.project.tool,
    migrationsDir: pd.project.migrations,
    migrations: names.slice(0, NAMES_KEPT),
    ...(names.length > NAMES_KEPT ? { omitted: names.length - NAMES_KEPT } : {}),
    from: pd.dump ? 'dump' : 'migrations',
    ...(pd.dump ? { dump: pd.dump.file } : {}),
    staged: staged.lines,
    ...(fromCache ? { stagedAt: fromCache, fromCache: true as const } : {}),
    facts: staged.facts as Record<string, string>,
    copy,
    ...(pd.skippedChecks.length ? { skippedChecks: pd.skippedChecks } : {}),
  };
}

/** The drill's opening lines about the project: what it is, that it is never written, what was staged. */
export function projectBanner(pd: ProjectDrill, staged: Pick<StagedIncident, 'facts' | 'lines'>): string {
  const names = pd.project.local.map((m) => (pd.project.tool === 'ecto' ? (m.version ?? m.name) : m.name));
  const span = names.length > 4 ? `${names[0]}, ${names[1]} … ${names[names.length - 2]}, ${names[names.length - 1]}` : names.join(', ');
  const lines = [
    `${pd.fixture ? 'fixture' : 'project'} ${pd.project.dir} (${pd.project.tool}, ${pd.project.evidence}): ${names.length} migration${names.length === 1 ? '' : 's'} in ${pd.project.migrations}: ${span}`,
    `the ${pd.fixture ? 'fixture' : 'project'} is never written: the drill works in a scratch copy${pd.dump ? `, seeded from the dump ${pd.dump.file}` : ''}`,
    ...staged.lines.map((l, i) => `${i === 0 ? 'incident staged: ' : '  '}${l}`),
  ];
  const filled = Object.entries(inputsFromIncident(pd, staged));
  if (filled.length) lines.push(`inputs from the staged incident: ${filled.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  if (pd.skippedChecks.length) lines.push(`success checks of the shipped fixture's own tables, skipped on this project: ${pd.skippedChecks.join(', ')}`);
  return lines.map((l) => `drill: ${l}\n`).join('');
}

/** A success check on the migration state, as a `migrations` step with `expect` reads it. */
export async function migrationsCheck(spec: SuccessMigrations, url: string, workdir: string): Promise<{ pass: boolean; failures: string[]; result?: CheckRows; error?: string }> {
  try {
    const { diagnosis, verdict } = await diagnoseFolder({ tool: spec.tool, dir: path.resolve(workdir, spec.dir) }, url, spec.schema ? { schema: spec.schema } : {});
    const failures = expectationFailures(spec.expect, diagnosis).map((f) => `expected ${f}; ${verdict.line}`);
    const rows = diagnosis.entries.slice(0, ROWS_CAP).map((e) => [e.name, e.state, e.evidence]);
    return { pass: failures.length === 0, failures, result: { columns: ['migration', 'state', 'evidence'], rows, rowCount: diagnosis.entries.length } };
  } catch (e) {
    const message = (e as Error).message;
    return { pass: false, failures: [message], error: message };
  }
}

/** Whether a runbook's incident can be staged on a project: its tool, the tables its steps name, enough migrations. */
export function fitOf(loaded: LoadedRunbook, projectDir: string, variant?: string): { fits: true } | { fits: false; reason: string } {
  const incident = incidentOf(loaded.runbook, variant);
  if (!incident) return { fits: false, reason: 'its rehearsal is setup SQL, not an incident recipe' };
  const found = recognise(path.resolve(projectDir)).map((f) => f.tool);
  if (!found.includes(incident.tool)) return { fits: false, reason: `${incident.tool === 'ecto' ? 'an' : 'a'} ${incident.tool} incident (the project uses ${found.join(', ') || 'no tool drillbook knows'})` };
  try {
    prepareProjectDrill(loaded, incident, undefined, { project: projectDir });
    return { fits: true };
  } catch (e) {
    if (e instanceof DrillbookError) return { fits: false, reason: e.message };
    throw e;
  }
}
