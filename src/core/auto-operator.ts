/**
 * The operator of an unattended run (--auto): goes ahead, ticks checklists, never prompts. A gated
 * step runs only when --confirm-target names its target; a failure ends the run as failed unless
 * the runbook says to roll back.
 */
import type { Operator, OperatorAnswer, OperatorRequest, Session } from './ports.js';

export interface AutoOptions {
  /** The target name(s) gated steps may run against (--confirm-target; a drill's own databases). */
  confirmTarget: string | readonly string[] | undefined;
  /** Values known up front (--var, env, defaults), used to answer ask steps. */
  values: Readonly<Record<string, string>>;
  /** What the operator decided, on the command line, for steps whose outcome is unknown after a crash. */
  onUnknown?: 'rerun' | 'mark-done' | undefined;
}

export function autoOperator(opts: AutoOptions): Operator {
  const allowed: readonly string[] = opts.confirmTarget === undefined ? [] : typeof opts.confirmTarget === 'string' ? [opts.confirmTarget] : opts.confirmTarget;
  return {
    async request(req: OperatorRequest, session: Session): Promise<OperatorAnswer> {
      switch (req.kind) {
        case 'go':
          return { kind: 'go' };
        case 'confirm':
          if (allowed.includes(req.word)) return { kind: 'typed', text: req.word, by: 'confirm-target' };
          return {
            kind: 'stop',
            reason: opts.confirmTarget === undefined
              ? `step ${req.step.id} changes "${req.word}" and needs a typed confirmation: with --auto, pass --confirm-target ${req.word}`
              : `step ${req.step.id} targets "${req.word}", not "${allowed.join('", "')}" (--confirm-target): it did not run`,
          };
        case 'checklist':
          req.items.forEach((_, i) => session.tick(req.step.id, i, true));
          return { kind: 'done' };
        case 'ask': {
          const v = opts.values[req.input.name];
          if (v !== undefined && !req.error) return { kind: 'value', value: v };
          return { kind: 'stop', reason: req.error ?? `step ${req.step.id} asks for "${req.input.name}": with --auto, pass --var ${req.input.name}=VALUE` };
        }
        case 'decide':
          if (req.unknown && opts.onUnknown === 'rerun') return { kind: 'retry' };
          if (req.unknown && opts.onUnknown === 'mark-done') return { kind: 'mark-done', reason: 'the operator passed --on-unknown mark-done' };
          return {
            kind: 'stop',
            reason: req.unknown
              ? `step ${req.step.id} was in progress when the run stopped: its outcome is unknown. Check the target, then resume with --on-unknown rerun or --on-unknown mark-done`
              : `step ${req.step.id} failed: ${req.failure}`,
          };
      }
    },
  };
}
