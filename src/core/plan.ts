/**
 * The plan: the facts about each step the engine decides with (its action, effect, target, gate),
 * derived once from the runbook and the targets' environments.
 */
import type { Environment, Mode } from './events.js';
import { actionOf, databaseOf, effectOf, type Effect, type Phase, type Runbook, type Step } from './runbook.js';
import type { ActionKey } from './schema.js';

export interface PlanStep {
  id: string;
  title: string;
  phase: { id: string; title: string; kind: Phase['kind'] };
  action: ActionKey;
  effect: Effect;
  database: string | undefined;
  /** Typed confirmation of the target is required before it runs. */
  gated: boolean;
  /** The word the operator must type to confirm: the target database's name. */
  confirmWord: string;
  rollback: string | undefined;
  irreversible: boolean;
  onFailure: 'stop' | 'rollback' | 'continue';
  /** The operator says "go" before it starts (a command, or a write); checks and checklists start by themselves. */
  needsGo: boolean;
  inRollback: boolean;
  step: Step;
}

export interface PlanTarget {
  environment: Environment;
  /** The database name from the connection URL (what the operator types to confirm). */
  databaseName: string;
}

export interface Plan {
  runbookId: string;
  mode: Mode;
  main: string[];
  rollbackSteps: string[];
  steps: Record<string, PlanStep>;
  phases: Array<{ id: string; title: string; kind: Phase['kind']; steps: string[] }>;
}

export function buildPlan(runbook: Runbook, mode: Mode, targets: Readonly<Record<string, PlanTarget>>): Plan {
  const steps: Record<string, PlanStep> = {};
  const main: string[] = [];
  const rollbackSteps: string[] = [];
  for (const phase of runbook.phases) {
    const inRollback = phase.kind === 'rollback';
    for (const step of phase.steps) {
      const action = actionOf(step);
      const effect = effectOf(step);
      const database = action === 'checklist' || action === 'ask' ? undefined : databaseOf(runbook, step);
      const target = database ? targets[database] : undefined;
      const writes = effect !== 'read-only';
      const production = target?.environment === 'production';
      steps[step.id] = {
        id: step.id,
        title: step.title,
        phase: { id: phase.id, title: phase.title, kind: phase.kind },
        action,
        effect,
        database,
        gated: mode !== 'dry-run' && writes && (effect === 'destructive' || production),
        confirmWord: target?.databaseName ?? database ?? step.id,
        rollback: step.rollback,
        irreversible: step.irreversible === true,
        onFailure: step.on_failure ?? 'stop',
        // Every command waits for the operator's go, whatever its label (a label cannot prove a
        // program harmless); writes of SQL and tracking rows too. Checks and checklists start by themselves.
        needsGo: action === 'run' || (writes && (action === 'sql' || action === 'migrations')),
        inRollback,
        step,
      };
      (inRollback ? rollbackSteps : main).push(step.id);
    }
  }
  return {
    runbookId: runbook.id,
    mode,
    main,
    rollbackSteps,
    steps,
    phases: runbook.phases.map((p) => ({ id: p.id, title: p.title, kind: p.kind, steps: p.steps.map((s) => s.id) })),
  };
}
