/** The runbook model: types inferred from the schema, plus the few derived facts the engine needs. */
import type { z } from 'zod';
import { ACTION_KEYS, type ActionKey } from './schema.js';
import type {
  databaseSchema,
  expectSchema,
  inputSchema,
  phaseSchema,
  rehearsalSchema,
  runbookSchema,
  stepSchema,
  migrationsStepSchema,
} from './schema.js';

export type Runbook = z.output<typeof runbookSchema>;
export type Phase = z.output<typeof phaseSchema>;
export type Step = z.output<typeof stepSchema>;
export type InputSpec = z.output<typeof inputSchema>;
export type DatabaseSpec = z.output<typeof databaseSchema>;
export type Expect = z.output<typeof expectSchema>;
export type Rehearsal = z.output<typeof rehearsalSchema>;
export type MigrationsSpec = z.output<typeof migrationsStepSchema>;
export type Effect = 'read-only' | 'reversible' | 'destructive';

/** A runbook as loaded from a file: the model plus where it came from. */
export interface LoadedRunbook {
  runbook: Runbook;
  path: string;
  /** SHA-256 of the file's bytes, pinned in the transcript. */
  hash: string;
}

export function actionOf(step: Step): ActionKey {
  for (const key of ACTION_KEYS) if (step[key] !== undefined) return key;
  // The loader rejects steps without exactly one action, so this is a bug if reached.
  throw new Error(`step ${step.id} has no action`);
}

/** A step's effect on its target: declared, else derived from its action. */
export function effectOf(step: Step): Effect {
  // Writing the tracking table is destructive whatever a label says (the linter refuses such a label).
  if (step.migrations?.action) return 'destructive';
  if (step.effect) return step.effect;
  switch (actionOf(step)) {
    case 'check':
    case 'checklist':
    case 'ask':
      return 'read-only';
    case 'migrations':
      return step.migrations?.action ? 'destructive' : 'read-only';
    case 'run':
    case 'sql':
      return 'destructive';
  }
}

/** Whether the step changes anything at all (anything but read-only). */
export function writes(step: Step): boolean {
  return effectOf(step) !== 'read-only';
}

export function defaultDatabaseName(runbook: Runbook): string | undefined {
  const dbs = Object.entries(runbook.databases ?? {});
  const flagged = dbs.find(([, spec]) => spec.default);
  if (flagged) return flagged[0];
  return dbs.length === 1 ? dbs[0]?.[0] : undefined;
}

/** The database a step targets: its own `database`, its migrations database, else the default. */
export function databaseOf(runbook: Runbook, step: Step): string | undefined {
  return step.database ?? step.migrations?.database ?? defaultDatabaseName(runbook);
}

export interface PlannedStep {
  step: Step;
  phase: Phase;
  /** Position in the flattened main flow (rollback steps have -1). */
  index: number;
}

/** The main flow: every step of every non-rollback phase, in order. */
export function mainSteps(runbook: Runbook): PlannedStep[] {
  const out: PlannedStep[] = [];
  for (const phase of runbook.phases) {
    if (phase.kind === 'rollback') continue;
    for (const step of phase.steps) out.push({ step, phase, index: out.length });
  }
  return out;
}

export function rollbackPhase(runbook: Runbook): Phase | undefined {
  return runbook.phases.find((p) => p.kind === 'rollback');
}

export function findStep(runbook: Runbook, id: string): PlannedStep | undefined {
  let index = 0;
  for (const phase of runbook.phases) {
    for (const step of phase.steps) {
      const rollback = phase.kind === 'rollback';
      if (step.id === id) return { step, phase, index: rollback ? -1 : index };
      if (!rollback) index++;
    }
  }
  return undefined;
}

/** Parse a duration ("30s", "500ms", 5) into milliseconds. */
export function durationMs(value: string | number | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  if (typeof value === 'number') return Math.round(value * 1000);
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(value.trim());
  if (!m) return fallbackMs;
  const n = Number(m[1]);
  const unit = m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * unit);
}
