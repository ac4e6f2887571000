/**
 * The run engine as a pure state machine: transition(state, event) and nextEffect(state).
 * It does no I/O; the runner performs effects through ports and feeds the resulting events back.
 */
import type { CheckRows, RunEvent, RunOutcome, TargetInfo } from './events.js';
import type { Plan, PlanStep } from './plan.js';

export type StepStage =
  | 'pending'
  | 'running'
  | 'awaiting-confirmation'
  | 'passed'
  | 'failed'
  | 'skipped'
  | 'rolled-back'
  | 'unknown';

export interface StepState {
  id: string;
  stage: StepStage;
  attempts: number;
  ticks: boolean[];
  /** Why it was skipped, failed, or marked done. */
  reason?: string;
  dryRun?: string;
  lastCheck?: { result?: CheckRows; pass: boolean; failures: string[]; error?: string; code?: string; attempt: number };
  lastExit?: { exitCode: number | null; signal: string | null; timedOut: boolean; cancelled: boolean; durationMs: number };
  lastSql?: { rowCount?: number; error?: string; code?: string };
  lastMigrations?: { summary: string; pass: boolean; table: Array<{ name: string; state: string; evidence: string }>; error?: string };
  /** Tail of the command's output, for the screen. */
  output: string;
  /** Output beyond the head was shown live: the recorded tail is already on screen. */
  liveShown?: boolean;
  /** The confirmation typed last did not match. */
  confirmMismatch?: string;
  overridden?: string;
  /** A command whose end was never recorded (found on resume). */
  startedCommand?: boolean;
}

export type RunStatus = 'idle' | 'running' | 'rolling-back' | 'finished';

export interface RollbackState {
  reason: string;
  queue: string[];
  pos: number;
  finished: boolean;
}

export interface RunState {
  plan: Plan;
  status: RunStatus;
  outcome?: RunOutcome;
  finishReason?: string;
  cursor: number;
  steps: Record<string, StepState>;
  /** Main-flow steps in the order they ended passed (what rollback undoes, in reverse). */
  done: string[];
  rollback?: RollbackState;
  targets: TargetInfo[];
  inputs: Record<string, string>;
  notes: Array<{ ts: string; text: string; step?: string }>;
  milestones: Array<{ name: string; at: string }>;
  startedAt?: string;
  lastTs?: string;
  operator?: string;
}

const OUTPUT_TAIL = 8_000;

export function initialState(plan: Plan): RunState {
  const steps: Record<string, StepState> = {};
  for (const id of Object.keys(plan.steps)) {
    steps[id] = { id, stage: 'pending', attempts: 0, ticks: (plan.steps[id]!.step.checklist ?? []).map(() => false), output: '' };
  }
  return { plan, status: 'idle', cursor: 0, steps, done: [], targets: [], inputs: {}, notes: [], milestones: [] };
}

/** The step the run is at: in the rollback queue while rolling back, else the main flow. */
export function currentStepId(state: RunState): string | undefined {
  if (state.status === 'rolling-back' && state.rollback) return state.rollback.queue[state.rollback.pos];
  if (state.status === 'running') return state.plan.main[state.cursor];
  return undefined;
}

function updateStep(state: RunState, id: string, patch: Partial<StepState> | ((s: StepState) => Partial<StepState>)): RunState {
  const prev = state.steps[id];
  if (!prev) return state;
  const p = typeof patch === 'function' ? patch(prev) : patch;
  return { ...state, steps: { ...state.steps, [id]: { ...prev, ...p } } };
}

/** Move past the current step (it passed, was skipped, or failed with on_failure: continue). */
function advance(state: RunState): RunState {
  if (state.status === 'rolling-back' && state.rollback) {
    return { ...state, rollback: { ...state.rollback, pos: state.rollback.pos + 1 } };
  }
  return { ...state, cursor: state.cursor + 1 };
}

function isCurrent(state: RunState, id: string): boolean {
  return currentStepId(state) === id;
}

export function transition(state: RunState, event: RunEvent & { ts?: string; actor?: string }): RunState {
  const s: RunState = event.ts ? { ...state, lastTs: event.ts } : state;
  switch (event.type) {
    case 'run.started':
      return {
        ...s,
        status: 'running',
        cursor: 0,
        targets: event.targets,
        inputs: { ...event.inputs },
        operator: event.operator,
        ...(event.ts ? { startedAt: event.ts } : {}),
      };
    case 'run.resumed': {
      // A step caught mid-action when the run stopped: its outcome is unknown, the operator decides.
      let next: RunState = { ...s, operator: event.operator, ...(event.targets ? { targets: event.targets } : {}) };
      if (s.status === 'finished' && (s.outcome === 'aborted' || s.outcome === 'failed')) {
        // An aborted or failed run goes on where it stopped.
        const { outcome: _o, finishReason: _r, ...open } = next;
        next = { ...open, status: s.rollback && !s.rollback.finished ? 'rolling-back' : 'running' };
      }
      for (const st of Object.values(s.steps)) {
        if (st.stage === 'running' || st.stage === 'awaiting-confirmation') {
          const action = s.plan.steps[st.id]!.action;
          const acted = st.startedCommand === true || action === 'sql' || (action === 'migrations' && s.plan.steps[st.id]!.effect !== 'read-only');
          next = updateStep(next, st.id, acted && st.stage === 'running' ? { stage: 'unknown' } : { stage: 'pending' });
        }
      }
      return next;
    }
    case 'input.set':
      return { ...s, inputs: { ...s.inputs, [event.name]: event.value } };
    case 'step.started': {
      const ps = s.plan.steps[event.step];
      if (!ps) return s;
      return updateStep(s, event.step, {
        stage: ps.gated ? 'awaiting-confirmation' : 'running',
        attempts: event.attempt,
        output: '',
        startedCommand: false,
        confirmMismatch: undefined,
      });
    }
    case 'confirmation':
      return updateStep(s, event.step, event.matched ? { stage: 'running', confirmMismatch: undefined } : { stage: 'pending', confirmMismatch: event.typed });
    case 'checklist.ticked':
      return updateStep(s, event.step, (st) => {
        const ticks = [...st.ticks];
        if (event.item >= 0 && event.item < ticks.length) ticks[event.item] = event.checked;
        return { ticks };
      });
    case 'command.started':
      return updateStep(s, event.step, { startedCommand: true, output: '', liveShown: false });
    case 'command.output': {
      const tail = event.skipped !== undefined;
      if (tail && s.steps[event.step]?.liveShown) return s; // shown live already
      const text = tail && event.skipped ? `\n… [${event.skipped} bytes not kept in the transcript] …\n${event.text}` : event.text;
      return updateStep(s, event.step, (st) => ({ output: (st.output + text).slice(-OUTPUT_TAIL), ...(event.live ? { liveShown: true } : {}) }));
    }
    case 'command.exited':
      return updateStep(s, event.step, {
        startedCommand: false,
        lastExit: { exitCode: event.exitCode, signal: event.signal, timedOut: event.timedOut, cancelled: event.cancelled, durationMs: event.durationMs },
      });
    case 'check.result':
      return updateStep(s, event.step, {
        lastCheck: { ...(event.result ? { result: event.result } : {}), pass: event.pass, failures: event.failures, ...(event.error ? { error: event.error } : {}), ...(event.code ? { code: event.code } : {}), attempt: event.attempt },
      });
    case 'sql.result':
      return updateStep(s, event.step, { lastSql: { ...(event.rowCount !== undefined ? { rowCount: event.rowCount } : {}), ...(event.error ? { error: event.error } : {}), ...(event.code ? { code: event.code } : {}) } });
    case 'migrations.result':
      return updateStep(s, event.step, { lastMigrations: { summary: event.summary, pass: event.pass, table: event.table, ...(event.error ? { error: event.error } : {}) } });
    case 'step.dry-run': {
      const next = updateStep(s, event.step, { stage: 'skipped', dryRun: event.would, reason: 'dry run: not executed' });
      return isCurrent(s, event.step) ? advance(next) : next;
    }
    case 'step.finished': {
      if (event.outcome === 'unknown') {
        // A write whose end could not be established: the operator decides, as after a crash.
        return updateStep(s, event.step, { stage: 'unknown', ...(event.reason ? { reason: event.reason } : {}) });
      }
      if (event.outcome === 'passed') {
        const ps = s.plan.steps[event.step];
        let next = updateStep(s, event.step, { stage: 'passed', reason: undefined });
        if (ps && !ps.inRollback) next = { ...next, done: [...next.done.filter((d) => d !== event.step), event.step] };
        if (ps?.inRollback) next = markUndone(next, event.step);
        return isCurrent(s, event.step) ? advance(next) : next;
      }
      const next = updateStep(s, event.step, { stage: 'failed', ...(event.reason ? { reason: event.reason } : {}) });
      const ps = s.plan.steps[event.step];
      // on_failure: continue moves on by itself; stop and rollback wait for the next decision.
      if (ps?.onFailure === 'continue' && isCurrent(s, event.step) && s.status === 'running') return advance(next);
      return next;
    }
    case 'step.marked-done': {
      const ps = s.plan.steps[event.step];
      let next = updateStep(s, event.step, { stage: 'passed', reason: event.reason });
      if (ps && !ps.inRollback) next = { ...next, done: [...next.done.filter((d) => d !== event.step), event.step] };
      return isCurrent(s, event.step) ? advance(next) : next;
    }
    case 'step.override': {
      const ps = s.plan.steps[event.step];
      let next = updateStep(s, event.step, { stage: 'passed', overridden: event.reason, reason: event.reason });
      if (ps && !ps.inRollback) next = { ...next, done: [...next.done, event.step] };
      return isCurrent(s, event.step) ? advance(next) : next;
    }
    case 'step.skipped': {
      const next = updateStep(s, event.step, { stage: 'skipped', reason: event.reason });
      return isCurrent(s, event.step) ? advance(next) : next;
    }
    case 'step.retry':
      return updateStep(s, event.step, { stage: 'pending', reason: undefined });
    case 'note':
      return { ...s, notes: [...s.notes, { ts: event.ts ?? '', text: event.text, ...(event.step ? { step: event.step } : {}) }] };
    case 'milestone':
      return { ...s, milestones: [...s.milestones, { name: event.name, at: event.at }] };
    case 'rollback.started':
      return { ...s, status: 'rolling-back', rollback: { reason: event.reason, queue: event.steps, pos: 0, finished: false } };
    case 'rollback.finished':
      return s.rollback ? { ...s, rollback: { ...s.rollback, finished: true } } : s;
    case 'run.finished':
      return { ...s, status: 'finished', outcome: event.outcome, ...(event.reason ? { finishReason: event.reason } : {}) };
    case 'target.identified':
      return {
        ...s,
        targets: s.targets.map((t) =>
          t.name === event.name
            ? { ...t, identified: true, host: event.identity.address, port: event.identity.port, database: event.identity.database, user: event.identity.user, serverVersion: event.identity.serverVersion, inRecovery: event.identity.inRecovery, ...(event.identity.systemIdentifier ? { systemIdentifier: event.identity.systemIdentifier } : {}), unreachable: undefined }
            : t,
        ),
      };
    case 'fault':
    case 'rehearsal.tool':
    case 'rehearsal.project':
    case 'rehearsal.check':
    case 'rehearsal.rollback':
    case 'transcript.sealed':
      return s;
  }
}

/** When a rollback step passes, the main steps it undoes are rolled back. */
function markUndone(state: RunState, rollbackStepId: string): RunState {
  let next = state;
  for (const id of state.done) {
    if (state.plan.steps[id]?.rollback === rollbackStepId) next = updateStep(next, id, { stage: 'rolled-back' });
  }
  return next;
}

/**
 * What rollback runs, in order: the rollback steps of what was done (passed, marked done, or a
 * command that failed or ended unknown, which may have changed something), newest first, each once;
 * then the rollback phase's steps that no step names (final checks, notices), in file order.
 */
/**
 * Whether the operator may ask for a rollback now (b): once a step of the main flow is done, while
 * the run is running, never during a rollback, and only if the runbook declares rollback steps.
 */
export function rollbackOffered(state: RunState): boolean {
  return state.status === 'running' && state.plan.rollbackSteps.length > 0 && state.done.length > 0;
}

export function rollbackPlan(state: RunState): string[] {
  const { plan } = state;
  const touched = [...state.done];
  for (const id of plan.main) {
    const st = state.steps[id]!;
    const ps = plan.steps[id]!;
    // A command that failed may have changed something; any write whose outcome is unknown may have too.
    const mayHaveActed = (st.stage === 'failed' && ps.action === 'run') || (st.stage === 'unknown' && ps.action !== 'check');
    if (mayHaveActed && ps.effect !== 'read-only' && !touched.includes(id)) touched.push(id);
  }
  const queue: string[] = [];
  for (const id of [...touched].reverse()) {
    const rb = plan.steps[id]?.rollback;
    if (rb && !queue.includes(rb)) queue.push(rb);
  }
  const referenced = new Set(Object.values(plan.steps).map((p) => p.rollback).filter(Boolean));
  for (const id of plan.rollbackSteps) if (!referenced.has(id) && !queue.includes(id)) queue.push(id);
  return queue;
}

export type DecisionOption = 'retry' | 'skip' | 'override' | 'rollback' | 'mark-done' | 'quit';

export type Effect =
  | { type: 'begin' }
  | { type: 'start'; step: PlanStep }
  | { type: 'confirm'; step: PlanStep }
  | { type: 'execute'; step: PlanStep }
  | { type: 'decide'; step: PlanStep; options: DecisionOption[]; unknown: boolean }
  | { type: 'rollback-on-failure'; step: PlanStep }
  | { type: 'finish-rollback' }
  | { type: 'complete' }
  | { type: 'done'; outcome: RunOutcome };

export function nextEffect(state: RunState): Effect {
  if (state.status === 'idle') return { type: 'begin' };
  if (state.status === 'finished') return { type: 'done', outcome: state.outcome ?? 'aborted' };
  const id = currentStepId(state);
  if (id === undefined) return state.status === 'rolling-back' ? { type: 'finish-rollback' } : { type: 'complete' };
  const step = state.plan.steps[id]!;
  const st = state.steps[id]!;
  const rollingBack = state.status === 'rolling-back';
  switch (st.stage) {
    case 'pending':
      return { type: 'start', step };
    case 'awaiting-confirmation':
      return { type: 'confirm', step };
    case 'running':
      return { type: 'execute', step };
    case 'failed': {
      if (!rollingBack && step.onFailure === 'rollback' && state.plan.rollbackSteps.length > 0) return { type: 'rollback-on-failure', step };
      const options: DecisionOption[] = ['retry', 'skip'];
      if (step.action === 'check' || (step.action === 'migrations' && step.effect === 'read-only')) options.push('override');
      if (!rollingBack && state.plan.rollbackSteps.length > 0) options.push('rollback');
      options.push('quit');
      return { type: 'decide', step, options, unknown: false };
    }
    case 'unknown': {
      const options: DecisionOption[] = ['retry', 'mark-done'];
      if (!rollingBack && state.plan.rollbackSteps.length > 0) options.push('rollback');
      options.push('quit');
      return { type: 'decide', step, options, unknown: true };
    }
    default:
      // passed/skipped/rolled-back steps are never current: transition advances past them.
      return state.status === 'rolling-back' ? { type: 'finish-rollback' } : { type: 'complete' };
  }
}

/** What rollback left behind, in words the operator can act on. */
export function rollbackSummary(state: RunState): { undone: string[]; notUndone: string[]; failed: string[]; summary: string } {
  const undone = state.done.filter((id) => state.steps[id]?.stage === 'rolled-back');
  const notUndone = state.done.filter((id) => state.steps[id]?.stage !== 'rolled-back' && state.plan.steps[id]?.effect !== 'read-only');
  const failed = (state.rollback?.queue ?? []).filter((id) => {
    const stage = state.steps[id]?.stage;
    return stage === 'failed' || stage === 'skipped' || stage === 'unknown';
  });
  let summary: string;
  if (notUndone.length === 0 && failed.length === 0) {
    // Said from what ran, never assumed: whether the database is as it was takes a comparison
    // (a drill fingerprints it before and after; in an incident, check it).
    const checks = (state.rollback?.queue ?? []).filter((id) => state.plan.steps[id]?.action === 'check' && state.steps[id]?.stage === 'passed');
    const compared = state.plan.mode === 'rehearsal'
      ? 'The drill compares the whole database with its state before the first step next.'
      : 'That the whole database is back to its state before the run has not been compared: check it.';
    summary = undone.length
      ? `Every step that changed the target was undone by its rollback step (${undone.join(', ')})${checks.length ? `, and the rollback's checks pass (${checks.join(', ')})` : ''}. ${compared}`
      : 'Nothing had changed the target; nothing needed undoing.';
  } else {
    const parts: string[] = [];
    if (undone.length) parts.push(`undone: ${undone.join(', ')}`);
    if (notUndone.length) parts.push(`still in effect: ${notUndone.join(', ')}`);
    if (failed.length) parts.push(`rollback steps that did not pass: ${failed.join(', ')}`);
    summary = `The target is only partly restored (${parts.join('; ')}). Check it by hand before anything else.`;
  }
  return { undone, notUndone, failed, summary };
}

/** SQLSTATE classes and codes whose cause can pass: a lost connection, a lock, a conflict, a full server. */
const TRANSIENT = /^(08|53|57P0|40001|40P01|55P03|57014|DRILLBOOK_SILENT|ECONN|EPIPE|ETIMEDOUT)/;

/**
 * Whether running a failed step again can change its result: false for a deterministic SQL error
 * (syntax, a missing object, a broken constraint: the same statement fails the same way), true for
 * a lost connection, a lock or a serialization conflict, undefined when it cannot be told (a
 * command's exit code says nothing of why; an expectation not met may change with time).
 */
export function retryMayHelp(st: StepState): boolean | undefined {
  const code = st.lastSql?.code ?? st.lastCheck?.code;
  const error = st.lastSql?.error ?? st.lastCheck?.error;
  if (code) return TRANSIENT.test(code);
  if (error) return /lost the connection|cannot connect|no answer from|connection refused/i.test(error) ? true : undefined;
  return undefined;
}
