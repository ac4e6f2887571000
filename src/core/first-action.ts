/** The operator's first action in a run: what a human did, not what drillbook ran by itself. */
import type { Recorded } from './events.js';

const OPERATOR_EVENTS = new Set(['checklist.ticked', 'confirmation', 'note', 'step.skipped', 'input.set', 'step.retry', 'step.override', 'step.marked-done', 'milestone']);

/** Whether the event is the operator's doing, given each step's effect from the run's plan. */
export function isOperatorAction(e: Recorded, effects: ReadonlyMap<string, string>): boolean {
  if (OPERATOR_EVENTS.has(e.type)) return true;
  // A step that changes something starts only when the operator says go.
  return (e.type === 'command.started' || e.type === 'sql.result') && effects.get(e.step) !== 'read-only';
}

export function firstOperatorAction(events: readonly Recorded[]): Recorded | undefined {
  const started = events.find((e) => e.type === 'run.started');
  const effects = new Map<string, string>();
  if (started?.type === 'run.started') for (const p of started.plan?.phases ?? []) for (const s of p.steps) effects.set(s.id, s.effect);
  return events.find((e) => isOperatorAction(e, effects));
}
