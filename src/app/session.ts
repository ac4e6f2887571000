/**
 * One run, wired to the real world: adapters, transcript, the interface that fits the terminal,
 * signals. Shared by run, resume and drill.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { autoOperator } from '../core/auto-operator.js';
import { isLocalHost, libpqEnv, readOnlyUrl, REDIRECTING_ENV, type ResolvedConnection } from '../core/conn.js';
import { DrillbookError, UsageError } from '../core/errors.js';
import type { Environment, Mode, Recorded, RunEvent, RunOutcome, ServerIdentity, TargetInfo } from '../core/events.js';
import { targetInfo } from '../core/target.js';
import { buildPlan, type PlanTarget } from '../core/plan.js';
import type { DatabasePort, Journal, MigrationsPort, Operator, OperatorAnswer, OperatorRequest, Session, ShellPort } from '../core/ports.js';
import { Redactor } from '../core/redact.js';
import type { LoadedRunbook } from '../core/runbook.js';
import { Run } from '../core/runner.js';
import { systemClock } from '../adapters/clock.js';
import { FileJournal } from '../adapters/journal.js';
import { SideFiles } from '../adapters/output-files.js';
import { PgDatabases } from '../adapters/postgres.js';
import { ExecaShell } from '../adapters/shell.js';
import { MigrationsService } from '../adapters/migrations/service.js';
import { plainPrinter } from '../ui/plain-printer.js';
import { VERSION } from '../version.js';

export type Interface = 'ink' | 'plain' | 'auto';

export interface SessionOptions {
  loaded: LoadedRunbook;
  mode: Mode;
  values: Record<string, string>;
  /** Each declared database's connection, resolved once (inputs.ts resolveDatabases). */
  connections: Record<string, ResolvedConnection>;
  /** Environment shown for each database (drills show every target as rehearsal). */
  environmentOverride?: Environment;
  ui: Interface;
  confirmTarget: string | readonly string[] | undefined;
  onUnknown?: 'rerun' | 'mark-done' | undefined;
  operatorName: string;
  transcriptDir: string;
  cwd: string;
  baseEnv: NodeJS.ProcessEnv;
  /** Extra environment for commands (drills put the stand-ins first on PATH). */
  extraEnv?: Record<string, string>;
  extraSecrets?: string[];
  migrations?: MigrationsPort;
  shell?: ShellPort;
  /** Resume: the transcript's events so far, and the journal to continue. */
  resume?: { events: Recorded[]; journal: FileJournal; note: { from: string; recovered?: string; runbookChanged?: { was: string; now: string } } };
  /** Called once the run is over, before the database connections close (drills score here). */
  afterRun?: (run: Run, outcome: RunOutcome) => Promise<void>;
  /** Called once the run exists, before it starts (a drill's game master arms faults here). */
  onRun?: (run: Run) => void;
  /** Wraps the operator of this interface (a drill's unattended trainee retries once). */
  wrapOperator?: (op: Operator) => Operator;
  /** Extra text for the report (a drill's debrief). */
  reportExtra?: () => { score?: string };
  /** Wraps the database port (a drill's game master makes a statement hang). */
  wrapDb?: (db: DatabasePort) => DatabasePort;
  /** Every database must be local (drills). */
  requireLocal?: boolean;
  /** --dry-run: run the commands labelled read-only, in a session forced read-only. */
  runReadOnlyCommands?: boolean;
  /** Events recorded right after run.started (a drill's tools). */
  startEvents?: RunEvent[];
  /** Write each command's whole output to side files beside the transcript (--full-output). */
  fullOutput?: boolean;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** The identity each target had in a run's transcript (run.started, then any later target.identified). */
export function pinnedBefore(events: readonly Recorded[]): Map<string, ServerIdentity> {
  const out = new Map<string, ServerIdentity>();
  const take = (name: string, id: ServerIdentity) => out.set(name, id);
  for (const e of events) {
    if (e.type === 'run.started') {
      for (const t of e.targets) {
        if (t.identified) take(t.name, { database: t.database, user: t.user, address: t.host, port: t.port, socket: t.host.startsWith('/'), serverVersion: t.serverVersion ?? '', inRecovery: t.inRecovery ?? false, ...(t.systemIdentifier ? { systemIdentifier: t.systemIdentifier } : {}) });
      }
    }
    if (e.type === 'target.identified') take(e.name, e.identity);
  }
  return out;
}

export function operatorName(flag: string | undefined): string {
  if (flag?.trim()) return flag.trim();
  try {
    const name = execFileSync('git', ['config', 'user.name'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (name) return name;
  } catch {
    // no git, or no name configured
  }
  return process.env.USER || process.env.USERNAME || os.userInfo().username || 'unknown';
}

export function pickInterface(opts: { auto?: boolean; plain?: boolean }, env: NodeJS.ProcessEnv = process.env): Interface {
  if (opts.auto) return 'auto';
  if (opts.plain) return 'plain';
  if (!process.stdin.isTTY || !process.stdout.isTTY) return 'plain';
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return 'plain';
  if (env.TERM === 'dumb') return 'plain';
  return 'ink';
}

/** Every secret known before the run: passwords in the URLs, PGPASSWORD, secret inputs. */
export function collectSecrets(opts: Pick<SessionOptions, 'loaded' | 'values' | 'connections' | 'baseEnv' | 'extraSecrets'>): Redactor {
  const r = new Redactor();
  for (const c of Object.values(opts.connections)) {
    r.addUser(c.user); // HTTP basic credentials pair a user with a secret
    for (const secret of c.secrets) r.add(secret);
  }
  r.addUser(opts.baseEnv.PGUSER);
  r.add(opts.baseEnv.PGPASSWORD);
  for (const [name, spec] of Object.entries(opts.loaded.runbook.inputs ?? {})) if (spec.secret) r.add(opts.values[name]);
  for (const s of opts.extraSecrets ?? []) r.add(s);
  return r;
}

function exitCodeOf(outcome: RunOutcome): number {
  return outcome === 'completed' ? 0 : outcome === 'aborted' ? 130 : 1;
}

/**
 * Wraps an operator so that Ctrl-C, SIGTERM or SIGHUP end the run cleanly: the step in progress
 * is cancelled, and the next thing the run asks is answered "quit".
 */
class Interruptible implements Operator {
  interrupted = false;
  private wake: (() => void) | undefined;
  constructor(public inner: Operator) {}
  interrupt(): void {
    this.interrupted = true;
    this.wake?.();
    this.inner.cancel?.();
  }
  async request(req: OperatorRequest, session: Session): Promise<OperatorAnswer> {
    if (this.interrupted) return { kind: 'quit' };
    const stop = new Promise<OperatorAnswer>((resolve) => {
      this.wake = () => resolve({ kind: 'quit' });
    });
    try {
      return await Promise.race([this.inner.request(req, session), stop]);
    } finally {
      this.wake = undefined;
    }
  }
}

export async function runSession(opts: SessionOptions): Promise<number> {
  const out = opts.stdout ?? process.stdout;
  const err = opts.stderr ?? process.stderr;
  const { runbook } = opts.loaded;
  if (opts.requireLocal) {
    for (const [name, c] of Object.entries(opts.connections)) {
      if (!isLocalHost(c.host)) throw new UsageError(`a drill runs only against its own local database; ${name} points at ${c.host}`, 'drop --db: the drill starts its own throwaway PostgreSQL');
    }
  }
  // Start loading the full-screen interface now, while the targets are inspected.
  const inkModule = opts.ui === 'ink' ? import('../ui/ink-app.js') : undefined;
  inkModule?.catch(() => undefined);
  const redactor = collectSecrets(opts);
  const db = new PgDatabases(opts.connections);

  // Targets: who each server says it is, pinned for the run (a connection to any other server is
  // refused), shown on the banner and recorded. An unreachable target is identified later, at its
  // first gate. Nothing here can fail the run.
  const targets: TargetInfo[] = [];
  const planTargets: Record<string, PlanTarget> = {};
  const entries = Object.entries(runbook.databases ?? {});
  // A resumed run goes on against the server it started on, or not at all.
  const before = opts.resume ? pinnedBefore(opts.resume.events) : new Map<string, ServerIdentity>();
  for (const [name, identity] of before) db.pin(name, identity);
  const identified = await Promise.all(entries.map(([name]) => db.identify(name)));
  for (const [i, [name, spec]] of entries.entries()) {
    const conn = opts.connections[name]!;
    const environment = opts.environmentOverride ?? spec.environment;
    const id = identified[i]!;
    if (!id.ok && id.changed && before.has(name)) {
      const was = before.get(name)!;
      await db.close();
      throw new DrillbookError(`this run was against ${was.user}@${was.address}:${was.port}/${was.database}${was.systemIdentifier ? ` (cluster ${was.systemIdentifier})` : ''}; ${name} now reaches another server: ${id.error.replace(/^.*not the one confirmed at the start /, '')}`, {
        exitCode: 2,
        hint: 'a run is resumed only against the server it started on: point the connection back at it, or start a new run',
      });
    }
    const identity: ServerIdentity | undefined = id.ok ? id.identity : undefined;
    if (identity) db.pin(name, identity);
    const info = targetInfo(name, environment, conn, identity, id.ok ? undefined : id.error);
    targets.push(redactor.deep(info));
    // Gates follow the declared environment, so a drill asks exactly what production will ask.
    planTargets[name] = { environment: spec.environment, databaseName: identity?.database ?? conn.database };
  }
  const warnings = targets.flatMap((t) => t.discrepancies ?? []);
  if (warnings.length && opts.ui !== 'ink') {
    err.write(`drillbook: before any step, about the target${targets.length > 1 ? 's' : ''}:\n${warnings.map((w) => `  - ${w}`).join('\n')}\n`);
  }

  const plan = buildPlan(runbook, opts.mode, planTargets);
  let journal: Journal;
  try {
    journal = opts.resume?.journal ?? FileJournal.create(opts.transcriptDir, runbook.id, new Date());
  } catch (e) {
    // Nothing ran: let go of the connections the targets were inspected with, or the process waits on them.
    await db.close();
    throw e;
  }
  const write = (s: string) => void out.write(s);

  const values = { ...opts.values };
  let inner: Operator;
  // Plain mode explains a step before asking about it: the printer, made below, prints the header.
  let announce: ((stepId: string) => void) | undefined;
  if (opts.ui === 'auto') inner = autoOperator({ confirmTarget: opts.confirmTarget, values, onUnknown: opts.onUnknown });
  else if (opts.ui === 'plain') inner = (await import('../ui/plain-operator.js')).plainOperator({}, write, { announce: (id) => announce?.(id), ...(opts.mode === 'rehearsal' ? { drill: runbook.id } : {}) });
  else inner = { request: async () => ({ kind: 'quit' }) }; // replaced by the Ink app below
  const operator = new Interruptible(opts.wrapOperator ? opts.wrapOperator(inner) : inner);

  // Commands get the same connections drillbook uses: each database's URL variable, and the
  // libpq variables of the database a step targets (the password in PGPASSWORD, never on argv).
  const databaseEnv: Record<string, string> = {};
  const readOnlyDatabaseEnv: Record<string, string> = {};
  const connectionEnv: Record<string, Record<string, string>> = {};
  for (const [name, spec] of Object.entries(runbook.databases ?? {})) {
    const conn = opts.connections[name]!;
    if ('env' in spec.url) {
      databaseEnv[spec.url.env] = conn.url;
      readOnlyDatabaseEnv[spec.url.env] = readOnlyUrl(conn);
    }
    connectionEnv[name] = libpqEnv(conn);
  }

  const run = new Run(
    plan,
    {
      runbook,
      runbookPath: opts.loaded.path,
      runbookHash: opts.loaded.hash,
      drillbookVersion: VERSION,
      mode: opts.mode,
      operatorName: opts.operatorName,
      host: os.hostname(),
      cwd: opts.cwd,
      values,
      databaseEnv: { ...databaseEnv, ...(opts.extraEnv ?? {}) },
      connectionEnv,
      readOnlyDatabaseEnv,
      interface: opts.ui,
      scrubEnv: REDIRECTING_ENV,
      ...(opts.runReadOnlyCommands ? { runReadOnlyCommands: true } : {}),
      baseEnv: opts.baseEnv,
      targets,
      secretInputs: new Set(Object.entries(runbook.inputs ?? {}).filter(([, s]) => s.secret).map(([n]) => n)),
      ...(opts.startEvents ? { startEvents: opts.startEvents } : {}),
    },
    { shell: opts.shell ?? new ExecaShell(), db: opts.wrapDb ? opts.wrapDb(db) : db, migrations: opts.migrations ?? new MigrationsService(Object.fromEntries(Object.entries(opts.connections).map(([n, c]) => [n, c.url])), (name, client) => db.verifyConnection(name, client)), clock: systemClock, journal, operator, redactor, ...(opts.fullOutput && journal.path ? { outputFiles: new SideFiles(journal.path) } : {}) },
    opts.resume?.events ?? [],
  );

  const onSignal = (signal: NodeJS.Signals) => {
    if (signal === 'SIGINT' && !operator.interrupted) {
      err.write(
        opts.mode === 'rehearsal'
          ? `\ndrillbook: interrupted: stopping the step in progress; the drill ends here (rehearse again with drillbook drill ${runbook.id}).\n`
          : '\ndrillbook: interrupted: stopping the step in progress; the run can be resumed (drillbook resume).\n',
      );
    }
    operator.interrupt();
    run.cancel();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);

  opts.onRun?.(run);
  let outcome: RunOutcome;
  try {
    if (opts.resume) {
      // Who the servers say they are now (the same as at the start, or resume was refused above).
      run.record({ type: 'run.resumed', operator: opts.operatorName, ...opts.resume.note, targets });
    }
    if (opts.ui === 'ink') {
      const { runInk } = await inkModule!;
      outcome = await runInk(run, (ink) => {
        operator.inner = opts.wrapOperator ? opts.wrapOperator(ink) : ink;
      }, () => operator.interrupt());
    } else {
      const printer = plainPrinter(plan, write, journal.path ? path.relative(process.cwd(), journal.path) || journal.path : undefined, (id) => run.title(id), (t) => run.text(t));
      announce = (id) => printer.announce(id, run.state.status === 'rolling-back');
      run.subscribe(printer);
      outcome = await run.execute();
    }
    await opts.afterRun?.(run, outcome);
    run.seal();
  } finally {
    for (const s of signals) process.off(s, onSignal);
    await db.close();
    journal.close();
  }

  const { writeReportFor } = await import('./report-file.js');
  const report = journal.path ? writeReportFor(journal.path, err, opts.reportExtra?.() ?? {}) : undefined;
  const rel = (p: string) => path.relative(process.cwd(), p) || p;
  out.write(`\nRun ${outcome}. Transcript: ${journal.path ? rel(journal.path) : '(none)'}${report ? `  Report: ${rel(report)}` : ''}\n`);
  // The anchor that proves the transcript later: it belongs in the incident ticket.
  if (journal instanceof FileJournal && opts.mode !== 'rehearsal') out.write(`Last hash: ${journal.lastHash} (paste it into the incident ticket; drillbook verify --hash checks the transcript against it)\n`);
  if (outcome === 'aborted' && journal.path) {
    // A drill's database is gone with it: a rehearsal starts again rather than resumes.
    out.write(opts.mode === 'rehearsal' ? `Rehearse it again with: drillbook drill ${runbook.id}\n` : `Continue it with: drillbook resume ${rel(journal.path)}\n`);
  }
  return exitCodeOf(outcome);
}
