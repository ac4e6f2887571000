/**
 * The run loop: ask the machine for the next effect, perform it through the ports, record what
 * happened as events, fold them into the state. Every event is redacted, then journaled (durably),
 * then applied, so the transcript holds what the screen showed, with one bounded exception: of a
 * command's output it keeps the head and the tail, with the size and SHA-256 of the whole.
 */
import type { Mode, Recorded, RunEvent, RunOutcome, TargetInfo } from './events.js';
import { describeExpect } from './expect.js';
import { fillCommand, fillText } from './interpolate.js';
import { initialState, nextEffect, retryMayHelp, rollbackOffered, rollbackPlan, rollbackSummary, transition, type DecisionOption, type Effect, type RunState } from './machine.js';
import type { PlanStep } from './plan.js';
import type { Clock, DatabasePort, Journal, MigrationsPort, Operator, OperatorAnswer, OutputFiles, Session, ShellPort } from './ports.js';
import type { Plan } from './plan.js';
import type { Redactor } from './redact.js';
import { StreamRedactor } from './redact.js';
import type { Runbook } from './runbook.js';
import { durationMs } from './runbook.js';
import { executeStep } from './execute.js';
import { fillSqlIdentifiers, identifierProblem } from './sql-split.js';

export interface RunContext {
  runbook: Runbook;
  runbookPath: string;
  runbookHash: string;
  drillbookVersion: string;
  mode: Mode;
  operatorName: string;
  host: string;
  cwd: string;
  /** Real input values (secrets included): they reach commands as environment variables and SQL as bind parameters. */
  values: Record<string, string>;
  /** Environment variables commands get for the databases (e.g. DATABASE_URL), and a drill's extras. */
  databaseEnv: Record<string, string>;
  /**
   * Per database: the libpq variables (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, ...) a
   * command targeting it gets, resolved once with drillbook's own connection.
   */
  connectionEnv?: Record<string, Record<string, string>>;
  /** The databases' URL variables with read-only sessions, for commands labelled read-only. */
  readOnlyDatabaseEnv?: Record<string, string>;
  /** Variables removed from every command's environment (they would redirect libpq tools). */
  scrubEnv?: readonly string[];
  /** --dry-run only: run the commands labelled read-only, in a session forced read-only. */
  runReadOnlyCommands?: boolean;
  /** Who answers: a person at the full-screen or line interface, or nobody (--auto). */
  interface?: 'ink' | 'plain' | 'auto';
  /** Environment the commands start from (the process's own, by default). */
  baseEnv: Record<string, string | undefined>;
  targets: TargetInfo[];
  secretInputs: ReadonlySet<string>;
  /** Recorded right after run.started (a drill's tools). */
  startEvents?: readonly RunEvent[];
}

export interface RunPorts {
  shell: ShellPort;
  db: DatabasePort;
  migrations?: MigrationsPort;
  clock: Clock;
  journal: Journal;
  operator: Operator;
  redactor: Redactor;
  /** Side files for commands' whole output, when the operator asked for them. */
  outputFiles?: OutputFiles;
}

/** PGOPTIONS that make every transaction of a libpq session read-only (kept: what was there). */
export function readOnlyOptions(existing: string | undefined): string {
  const flag = '-c default_transaction_read_only=on';
  return existing?.trim() ? `${existing.trim()} ${flag}` : flag;
}

export type Listener = (state: RunState, event: Recorded | undefined) => void;

export class Run implements Session {
  private stateValue: RunState;
  private seq = 0;
  private readonly listeners = new Set<Listener>();
  private abort: AbortController | undefined;
  private readonly history: Recorded[] = [];
  /** The journal failed: the run stops, and this is why. */
  private fatal: unknown;
  private wakeOnFatal: ((e: unknown) => void) | undefined;

  constructor(
    readonly plan: Plan,
    readonly ctx: RunContext,
    readonly ports: RunPorts,
    /** Events of an earlier part of this run, replayed to rebuild its state (resume). */
    replay: readonly Recorded[] = [],
  ) {
    let state = initialState(plan);
    for (const e of replay) {
      state = transition(state, e);
      this.seq = Math.max(this.seq, e.seq);
      this.history.push(e);
    }
    this.stateValue = state;
  }

  get state(): RunState {
    return this.stateValue;
  }

  get events(): readonly Recorded[] {
    return this.history;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Redact, journal durably, then apply. A journal failure propagates and stops the run, wherever
   * the event came from (the run loop, a command's output, a key the operator pressed): nothing may
   * go on unrecorded.
   */
  record(event: RunEvent): Recorded {
    if (this.fatal) throw this.fatal;
    const clean = this.ports.redactor.deep(event);
    const recorded = {
      ...clean,
      seq: ++this.seq,
      ts: this.ports.clock.now().toISOString(),
      actor: this.ctx.operatorName,
      mode: this.ctx.mode,
    } as Recorded;
    try {
      this.ports.journal.append(recorded);
    } catch (e) {
      this.fatal = e;
      this.seq--;
      this.abort?.abort();
      this.wakeOnFatal?.(e);
      throw e;
    }
    this.history.push(recorded);
    this.stateValue = transition(this.stateValue, recorded);
    for (const l of this.listeners) l(this.stateValue, recorded);
    return recorded;
  }

  /**
   * Show output on screen without recording it: what a command prints beyond the head its
   * transcript keeps (the tail and a digest of the whole are recorded when it ends). The text is
   * already redacted.
   */
  show(event: Extract<RunEvent, { type: 'command.output' }>): void {
    const live = { ...event, live: true, seq: this.seq, ts: this.ports.clock.now().toISOString(), actor: this.ctx.operatorName, mode: this.ctx.mode } as Recorded;
    this.stateValue = transition(this.stateValue, live);
    for (const l of this.listeners) l(this.stateValue, live);
  }

  /** From the operator's keys: a journal failure is reported by the run loop, which stops on it. */
  private recordAside(event: RunEvent): void {
    try {
      this.record(event);
    } catch (e) {
      if (e !== this.fatal) throw e;
    }
  }

  /** The journal failure that stopped the run, if one did. */
  get failure(): unknown {
    return this.fatal;
  }

  /**
   * The closing event, written when drillbook stops normally: verify tells a sealed transcript from
   * one whose tail was cut. Nothing is sealed after a journal failure (the file ends where it could).
   */
  seal(): void {
    if (this.fatal) return;
    const outcome = this.stateValue.status === 'finished' ? (this.stateValue.outcome ?? 'aborted') : 'unfinished';
    this.record({ type: 'transcript.sealed', outcome, events: this.seq + 1 });
  }

  // Session: what the operator may do at any time.
  tick(step: string, item: number, checked: boolean): void {
    const template = this.plan.steps[step]?.step.checklist?.[item];
    if (template === undefined) return;
    const text = this.text(template);
    if (this.stateValue.steps[step]?.ticks[item] === checked) return;
    this.recordAside({ type: 'checklist.ticked', step, item, text, checked });
  }

  note(text: string): void {
    const t = text.trim();
    if (!t) return;
    const step = this.currentStep()?.id;
    this.recordAside({ type: 'note', text: t, ...(step ? { step } : {}) });
  }

  milestone(name: 'mitigated' | 'resolved', at?: Date): void {
    this.recordAside({ type: 'milestone', name, at: (at ?? this.ports.clock.now()).toISOString() });
  }

  cancel(): void {
    this.abort?.abort();
  }

  currentStep(): PlanStep | undefined {
    const e = nextEffect(this.stateValue);
    return 'step' in e ? e.step : undefined;
  }

  /** Display values of the inputs: secrets redacted. */
  displayValues(): Record<string, string> {
    return this.ports.redactor.deep({ ...this.ctx.values });
  }

  /** A step's title with input values filled in (secrets redacted). */
  title(id: string): string {
    const ps = this.plan.steps[id];
    return ps ? fillText(ps.title, this.displayValues()) : id;
  }

  /** Display text of the runbook (notes, checklist items) with input values filled in (secrets redacted). */
  text(template: string): string {
    return fillText(template, this.displayValues());
  }

  /** Inputs of kind identifier: the names that may stand in SQL, quoted. */
  private identifierInputs(): ReadonlySet<string> {
    return new Set(Object.entries(this.ctx.runbook.inputs ?? {}).filter(([, s]) => s.kind === 'identifier').map(([n]) => n));
  }

  /** A step's SQL as it runs: identifier inputs filled in, quoted (values stay bind parameters). */
  sqlOf(sql: string, values: Readonly<Record<string, string>> = this.ctx.values): string {
    const ids = this.identifierInputs();
    return ids.size ? fillSqlIdentifiers(sql, values, ids) : sql;
  }

  /** The exact command or SQL a step will run, values filled in for reading (secrets redacted). */
  preview(step: PlanStep): string {
    const s = step.step;
    const values = this.displayValues();
    if (s.run !== undefined) return fillCommand(s.run, values);
    const raw = s.sql ?? s.check;
    if (raw !== undefined) {
      const sql = this.sqlOf(raw, values);
      const params = (s.params ?? []).map((p, i) => `$${i + 1} = ${JSON.stringify(values[p] ?? '')}`);
      const target = step.database ? `-- on ${step.database}${s.transaction === false ? ' (outside a transaction)' : ''}\n` : '';
      return `${target}${sql.trim()}${params.length ? `\n-- ${params.join(', ')}` : ''}${s.check !== undefined ? `\n-- expect: ${describeExpect(s.expect)}` : ''}`;
    }
    if (s.migrations) {
      const m = s.migrations;
      return m.action
        ? `${m.action} (${m.tool}, ${m.dir}): ${(m.names?.map((n) => fillText(n, values)) ?? ['all on disk']).join(', ')}${m.action === 'baseline' && m.names?.length ? ' and every migration before it' : ''}`
        : `check ${m.tool} migrations in ${m.dir}`;
    }
    if (s.ask !== undefined) return `ask for ${s.ask}`;
    return s.checklist?.join('\n') ?? '';
  }

  private rollbackRequested: string | undefined;

  /**
   * Roll back before the next step starts, exactly as the operator's "roll back" does (a drill
   * rehearsing the rollback from a given step asks for it when that step has passed).
   */
  requestRollback(reason: string): void {
    this.rollbackRequested = reason;
  }

  /** Run until the run finishes; returns its outcome. Throws the journal's failure if it stopped on one. */
  async execute(): Promise<RunOutcome> {
    // A journal failure wakes the loop even while it waits on the operator.
    const failed = new Promise<never>((_, reject) => {
      this.wakeOnFatal = reject;
    });
    failed.catch(() => undefined);
    try {
      for (;;) {
        if (this.fatal) throw this.fatal;
        const effect = nextEffect(this.stateValue);
        if (effect.type === 'done') return effect.outcome;
        if (this.rollbackRequested !== undefined && this.stateValue.status === 'running' && (effect.type === 'start' || effect.type === 'complete')) {
          const reason = this.rollbackRequested;
          this.rollbackRequested = undefined;
          if (this.plan.rollbackSteps.length > 0) {
            this.startRollback(reason);
            continue;
          }
        }
        await Promise.race([this.perform(effect), failed]);
      }
    } finally {
      this.wakeOnFatal = undefined;
    }
  }

  private async perform(effect: Exclude<Effect, { type: 'done' }>): Promise<void> {
    switch (effect.type) {
      case 'begin': {
        const ctx = this.ctx;
        const display = this.displayValues();
        this.record({
          type: 'run.started',
          runbook: { id: ctx.runbook.id, title: ctx.runbook.title, version: ctx.runbook.version, path: ctx.runbookPath, hash: ctx.runbookHash },
          drillbook: ctx.drillbookVersion,
          operator: ctx.operatorName,
          host: ctx.host,
          mode: ctx.mode,
          ...(ctx.interface ? { interface: ctx.interface } : {}),
          targets: ctx.targets,
          inputs: display,
          plan: {
            phases: this.plan.phases.map((p) => ({
              id: p.id,
              title: p.title,
              kind: p.kind,
              rollback: p.kind === 'rollback',
              steps: p.steps.map((id) => ({ id, title: this.plan.steps[id]!.title, action: this.plan.steps[id]!.action, effect: this.plan.steps[id]!.effect })),
            })),
          },
        });
        for (const e of ctx.startEvents ?? []) this.record(e);
        return;
      }
      case 'start':
        return this.startStep(effect.step);
      case 'confirm':
        return this.confirm(effect.step);
      case 'execute':
        return this.executeCurrent(effect.step);
      case 'decide':
        return this.decide(effect.step, effect.options, effect.unknown);
      case 'rollback-on-failure':
        this.startRollback(`step ${effect.step.id} failed (on_failure: rollback)`);
        return;
      case 'finish-rollback': {
        const s = rollbackSummary(this.stateValue);
        this.record({ type: 'rollback.finished', ...s });
        this.record({ type: 'run.finished', outcome: 'rolled-back', reason: s.summary });
        return;
      }
      case 'complete':
        this.record({ type: 'run.finished', outcome: 'completed' });
        return;
    }
  }

  private rollbackTitle(step: PlanStep): string | undefined {
    if (!step.rollback) return step.irreversible ? 'none: marked irreversible' : undefined;
    const rb = this.plan.steps[step.rollback];
    return rb ? `${rb.id}: ${rb.title}` : step.rollback;
  }

  /** Answers that mean the same wherever the operator gives them. Returns true when handled. */
  private handleCommon(step: PlanStep, answer: OperatorAnswer): boolean {
    switch (answer.kind) {
      case 'quit':
        this.record({ type: 'run.finished', outcome: 'aborted', reason: answer.reason ?? `the operator quit at step ${step.id}` });
        return true;
      case 'stop':
        this.record({ type: 'run.finished', outcome: 'failed', reason: answer.reason });
        return true;
      case 'skip':
        this.record({ type: 'step.skipped', step: step.id, reason: answer.reason || 'no reason given' });
        return true;
      case 'rollback':
        if (this.stateValue.status === 'rolling-back' || this.plan.rollbackSteps.length === 0) return false;
        this.startRollback(`the operator started rollback at step ${step.id}`);
        return true;
      default:
        return false;
    }
  }

  private startRollback(reason: string): void {
    this.record({ type: 'rollback.started', reason, steps: rollbackPlan(this.stateValue) });
  }

  private async startStep(step: PlanStep): Promise<void> {
    const st = this.stateValue.steps[step.id]!;
    if (step.needsGo) {
      const answer = await this.ports.operator.request(
        {
          kind: 'go',
          step,
          preview: this.preview(step),
          rollback: this.rollbackTitle(step),
          dryRun: this.ctx.mode === 'dry-run',
          canRollBack: rollbackOffered(this.stateValue),
          ...(this.ctx.mode === 'rehearsal' ? { rehearsal: true } : {}),
          ...(st.confirmMismatch !== undefined ? { note: `The confirmation did not match (typed "${st.confirmMismatch}"); nothing ran.` } : {}),
        },
        this,
      );
      if (this.handleCommon(step, answer)) return;
      if (answer.kind !== 'go') return; // anything else: ask again
    }
    this.record({ type: 'step.started', step: step.id, phase: step.phase.id, attempt: st.attempts + 1 });
  }

  private latestBackup(): string | undefined {
    for (const id of [...this.stateValue.done].reverse()) {
      const ps = this.plan.steps[id];
      if (ps?.phase.kind === 'backup') {
        const ended = [...this.history].reverse().find((e) => e.type === 'step.finished' && e.step === id);
        return `${ps.id}: ${ps.title}, passed${ended ? ` at ${ended.ts}` : ''}`;
      }
    }
    return undefined;
  }

  /**
   * The word to type is the database name the server reports now, not a label or our parse of a
   * URL: the target is identified (and checked against the one pinned at the start) before asking.
   */
  private async confirmWord(step: PlanStep): Promise<{ word: string; server?: string } | undefined> {
    if (!step.database) return { word: step.confirmWord };
    const id = await this.ports.db.identify(step.database);
    if (!id.ok) {
      this.record({ type: 'step.finished', step: step.id, outcome: 'failed', reason: `the target could not be identified, so it cannot be confirmed: ${id.error}` });
      return undefined;
    }
    const target = this.stateValue.targets.find((t) => t.name === step.database);
    if (target && !target.identified) this.record({ type: 'target.identified', name: step.database, identity: id.identity });
    const i = id.identity;
    const server = `${i.user}@${i.address}:${i.port}/${i.database}${i.socket ? ' (unix socket)' : ''}${i.systemIdentifier ? `, cluster ${i.systemIdentifier}` : ''}${i.inRecovery ? ', a REPLICA' : ''}`;
    return { word: i.database, server };
  }

  private async confirm(step: PlanStep): Promise<void> {
    const who = await this.confirmWord(step);
    if (who === undefined) return;
    const word = who.word;
    const environment = this.stateValue.targets.find((t) => t.name === step.database)?.environment;
    const answer = await this.ports.operator.request(
      { kind: 'confirm', step, word, ...(who.server ? { server: who.server } : {}), ...(environment ? { environment } : {}), preview: this.preview(step), rollback: this.rollbackTitle(step), backup: this.latestBackup() },
      this,
    );
    if (answer.kind === 'typed') {
      const typed = answer.text.trim();
      this.record({ type: 'confirmation', step: step.id, target: word, typed, matched: typed === word, ...(answer.by ? { via: answer.by } : {}) });
      return;
    }
    if (this.handleCommon(step, answer)) return;
    // Cancelled: record it as a confirmation that did not match, so the step goes back to pending.
    this.record({ type: 'confirmation', step: step.id, target: word, typed: '', matched: false });
  }

  /** Whether --dry-run shows this step instead of running it. */
  private dryRunShows(step: PlanStep): boolean {
    if (this.ctx.mode !== 'dry-run') return false;
    if (step.effect !== 'read-only') return true;
    // A label cannot prove a program harmless: commands are shown, unless the operator opted in.
    return step.action === 'run' && this.ctx.runReadOnlyCommands !== true;
  }

  private async executeCurrent(step: PlanStep): Promise<void> {
    const s = step.step;
    if (s.checklist) {
      const answer = await this.ports.operator.request({ kind: 'checklist', step, items: s.checklist.map((item) => this.text(item)) }, this);
      if (answer.kind === 'done') {
        const unticked = this.stateValue.steps[step.id]!.ticks.filter((t) => !t).length;
        this.record(unticked === 0
          ? { type: 'step.finished', step: step.id, outcome: 'passed' }
          : { type: 'step.finished', step: step.id, outcome: 'failed', reason: `${unticked} item(s) not ticked` });
        return;
      }
      if (!this.handleCommon(step, answer)) return;
      return;
    }
    if (s.ask !== undefined) return this.ask(step, s.ask);
    if (this.dryRunShows(step)) {
      this.record({ type: 'step.dry-run', step: step.id, would: this.preview(step) });
      return;
    }
    this.abort = new AbortController();
    try {
      await executeStep(this, step, this.abort.signal);
    } finally {
      this.abort = undefined;
    }
  }

  private async ask(step: PlanStep, name: string): Promise<void> {
    const spec = this.ctx.runbook.inputs?.[name];
    let error: string | undefined;
    for (;;) {
      const answer = await this.ports.operator.request(
        {
          kind: 'ask',
          step,
          input: { name, description: spec?.description, secret: spec?.secret === true, pattern: spec?.pattern },
          ...(error ? { error } : {}),
        },
        this,
      );
      if (answer.kind !== 'value') {
        this.handleCommon(step, answer);
        return;
      }
      const value = answer.value;
      if (spec?.pattern && !new RegExp(`^(?:${spec.pattern})$`).test(value)) {
        error = `"${spec.secret ? '[REDACTED]' : value}" does not match the pattern ${spec.pattern}`;
        continue;
      }
      const notName = spec?.kind === 'identifier' ? identifierProblem(value) : undefined;
      if (notName) {
        error = `"${spec?.secret ? '[REDACTED]' : value}" is not a table, index or column name: ${notName}`;
        continue;
      }
      if (spec?.secret) this.ports.redactor.add(value);
      this.ctx.values[name] = value;
      this.record({ type: 'input.set', step: step.id, name, value });
      this.record({ type: 'step.finished', step: step.id, outcome: 'passed' });
      return;
    }
  }

  private async decide(step: PlanStep, options: DecisionOption[], unknown: boolean): Promise<void> {
    const st = this.stateValue.steps[step.id]!;
    const failure = unknown
      ? (st.reason ?? 'The run stopped while this step was in progress: it may or may not have taken effect.')
      : (st.reason ?? 'the step failed');
    const transient = retryMayHelp(st);
    const answer = await this.ports.operator.request({ kind: 'decide', step, options, unknown, failure, ...(transient !== undefined ? { transient } : {}) }, this);
    switch (answer.kind) {
      case 'retry':
        this.record({ type: 'step.retry', step: step.id });
        return;
      case 'override':
        this.record({ type: 'step.override', step: step.id, reason: answer.reason || 'no reason given' });
        return;
      case 'mark-done':
        this.record({ type: 'step.marked-done', step: step.id, reason: answer.reason || 'no reason given' });
        return;
      default:
        this.handleCommon(step, answer);
    }
  }

  /**
   * The environment of a step's command: the base environment without the variables that could
   * redirect libpq, the databases' URLs, the connection of the step's database as libpq variables
   * (the same server drillbook connects to), then the inputs. A command labelled read-only gets a
   * session that PostgreSQL keeps read-only (a second line of defence: the program could undo it).
   */
  commandEnv(step?: PlanStep): Record<string, string> {
    const env: Record<string, string> = {};
    const scrub = new Set(this.ctx.scrubEnv ?? []);
    for (const [k, v] of Object.entries(this.ctx.baseEnv)) if (v !== undefined && !scrub.has(k)) env[k] = v;
    Object.assign(env, this.ctx.databaseEnv);
    if (step?.database) Object.assign(env, this.ctx.connectionEnv?.[step.database] ?? {});
    Object.assign(env, this.ctx.values);
    if (step && step.effect === 'read-only' && step.action === 'run') {
      env.PGOPTIONS = readOnlyOptions(env.PGOPTIONS);
      // A URL's own options would override PGOPTIONS: its read-only twin carries the flag itself.
      Object.assign(env, this.ctx.readOnlyDatabaseEnv ?? {});
    }
    env.DRILLBOOK = '1';
    env.DRILLBOOK_MODE = this.ctx.mode;
    env.DRILLBOOK_RUNBOOK = this.ctx.runbook.id;
    return env;
  }

  streamRedactor(): StreamRedactor {
    return new StreamRedactor(this.ports.redactor);
  }

  timeoutOf(step: PlanStep, fallbackMs: number): number {
    return durationMs(step.step.timeout, fallbackMs);
  }
}
