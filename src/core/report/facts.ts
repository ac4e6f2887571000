/**
 * What a report says of a run as a whole: outcome, people, targets, times, deviations, notes,
 * milestones. Gathered one event at a time, so a transcript of any length is read once and its
 * events need not be kept.
 */
import type { Recorded, RunEvent, TargetInfo } from '../events.js';
import { isOperatorAction } from '../first-action.js';

export type Sealed = Recorded & { hash?: string };

export interface ReportFacts {
  runbook: { id: string; title: string; version: string; hash: string; path: string } | undefined;
  outcome: string;
  outcomeReason: string | undefined;
  mode: string;
  operators: string[];
  targets: TargetInfo[];
  startedAt: string | undefined;
  endedAt: string | undefined;
  durationMs: number | undefined;
  timeToFirstActionMs: number | undefined;
  timeToMitigationMs: number | undefined;
  timeToRecoveryMs: number | undefined;
  deviations: Array<{ ts: string; step: string | undefined; what: string }>;
  notes: Array<{ ts: string; actor: string; step: string | undefined; text: string }>;
  milestones: Array<{ name: string; at: string; logged: string }>;
  lastHash: string | undefined;
  events: number;
  /** A drill's tools: real or stand-in, and the version each reported. */
  tools: Array<{ tool: string; kind: string; version: string; detail?: string }>;
}

export function stepOf(e: RunEvent): string | undefined {
  return 'step' in e && typeof e.step === 'string' ? e.step : undefined;
}

export function utc(ts: string | undefined): string {
  if (!ts) return '—';
  // The usual shape (toISOString), without regular expressions: reports of 100,000 events call this for each.
  if (ts.length === 24 && ts[10] === 'T' && ts[19] === '.' && ts[23] === 'Z') return `${ts.slice(0, 10)} ${ts.slice(11, 19)}`;
  return ts.replace('T', ' ').replace(/\.\d+Z$/, '').replace(/Z$/, '');
}

export function duration(ms: number | undefined): string {
  if (ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}h ${m}m ${sec}s` : m ? `${m}m ${sec}s` : `${sec}s`;
}

export class FactsGatherer {
  private count = 0;
  private started: Extract<Sealed, { type: 'run.started' }> | undefined;
  private finished: Extract<Sealed, { type: 'run.finished' }> | undefined;
  private finishedIdx = -1;
  private lastResumeIdx = -1;
  private mitigated: Extract<Sealed, { type: 'milestone' }> | undefined;
  private resolved: Extract<Sealed, { type: 'milestone' }> | undefined;
  private firstAction: Sealed | undefined;
  private last: Sealed | undefined;
  /** Each step's effect, from the plan: a step that changes something starts only when the operator says go. */
  private readonly effects = new Map<string, string>();
  private readonly operators = new Set<string>();
  private readonly deviations: ReportFacts['deviations'] = [];
  private readonly notes: ReportFacts['notes'] = [];
  private readonly milestones: ReportFacts['milestones'] = [];
  private readonly tools: ReportFacts['tools'] = [];

  /** The run's start, once seen: the runbook, its plan, the inputs given. */
  get runStarted(): Extract<Sealed, { type: 'run.started' }> | undefined {
    return this.started;
  }

  add(e: Sealed): void {
    const i = this.count++;
    this.last = e;
    this.operators.add(e.actor);
    if (!this.firstAction && isOperatorAction(e, this.effects)) this.firstAction = e;
    const step = stepOf(e);
    switch (e.type) {
      case 'run.started':
        if (!this.started) {
          this.started = e;
          for (const p of e.plan?.phases ?? []) for (const s of p.steps) this.effects.set(s.id, s.effect);
        }
        break;
      case 'run.finished':
        this.finished = e;
        this.finishedIdx = i;
        break;
      case 'milestone':
        if (e.name === 'mitigated') this.mitigated ??= e;
        if (e.name === 'resolved') this.resolved ??= e;
        this.milestones.push({ name: e.name, at: e.at, logged: e.ts });
        break;
      case 'note':
        this.notes.push({ ts: e.ts, actor: e.actor, step: e.step, text: e.text });
        break;
      case 'rehearsal.tool':
        this.tools.push({ tool: e.tool, kind: e.kind, version: e.version, ...(e.detail ? { detail: e.detail } : {}) });
        break;
      case 'step.skipped':
        this.deviations.push({ ts: e.ts, step, what: `skipped: ${e.reason}` });
        break;
      case 'step.override':
        this.deviations.push({ ts: e.ts, step, what: `failed check overridden: ${e.reason}` });
        break;
      case 'step.marked-done':
        this.deviations.push({ ts: e.ts, step, what: `marked done by hand: ${e.reason}` });
        break;
      case 'confirmation':
        if (!e.matched) this.deviations.push({ ts: e.ts, step, what: `confirmation did not match (typed "${e.typed}", target "${e.target}")` });
        break;
      case 'step.retry':
        this.deviations.push({ ts: e.ts, step, what: 'retried after a failure' });
        break;
      case 'step.finished':
        if (e.outcome === 'failed') this.deviations.push({ ts: e.ts, step, what: `failed: ${e.reason ?? ''}` });
        break;
      case 'rollback.started':
        this.deviations.push({ ts: e.ts, step: undefined, what: `rollback started: ${e.reason}` });
        break;
      case 'run.resumed':
        this.lastResumeIdx = i;
        this.deviations.push({ ts: e.ts, step: undefined, what: `run resumed by ${e.operator}${e.recovered ? `: ${e.recovered}` : ''}${e.runbookChanged ? '; the runbook file had changed' : ''}` });
        break;
      default:
        break;
    }
  }

  facts(): ReportFacts {
    const { started, finished, last } = this;
    const stillOpen = !finished || this.lastResumeIdx > this.finishedIdx;
    const start = started ? Date.parse(started.ts) : undefined;
    const since = (ts: string | undefined) => (ts && start !== undefined ? Date.parse(ts) - start : undefined);
    const end = stillOpen ? last?.ts : finished?.ts;
    return {
      runbook: started ? { ...started.runbook } : undefined,
      outcome: stillOpen ? 'in progress (no end recorded)' : finished!.outcome,
      outcomeReason: stillOpen ? undefined : finished?.reason,
      mode: started?.mode ?? '—',
      operators: [...this.operators],
      targets: started?.targets ?? [],
      startedAt: started?.ts,
      endedAt: end,
      durationMs: since(end),
      timeToFirstActionMs: since(this.firstAction?.ts),
      timeToMitigationMs: since(this.mitigated?.at),
      timeToRecoveryMs: since(this.resolved?.at ?? (finished?.outcome === 'completed' ? finished.ts : undefined)),
      deviations: this.deviations,
      notes: this.notes,
      milestones: this.milestones,
      lastHash: last?.hash,
      events: this.count,
      tools: this.tools,
    };
  }
}

export function reportFacts(events: readonly Sealed[]): ReportFacts {
  const g = new FactsGatherer();
  for (const e of events) g.add(e);
  return g.facts();
}
