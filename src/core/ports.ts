/** The interfaces the core needs from the outside world. Adapters implement them; tests pass fakes or the real thing. */
import type { CheckRows, Recorded, ServerIdentity, TargetInfo } from './events.js';
import type { DecisionOption } from './machine.js';
import type { PlanStep } from './plan.js';

export interface CommandRequest {
  command: string;
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal;
  onOutput(stream: 'stdout' | 'stderr', text: string): void;
  /**
   * Called once the command's process group exists and before the command itself starts: the
   * caller records it durably here. If this throws, the command never runs.
   */
  onSpawn?(group: { pgid: number; start?: string }): void;
}

export interface CommandResult {
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  timedOut: boolean;
  cancelled: boolean;
  /** The command could not be started at all (no shell, bad cwd). */
  error?: string;
}

export interface ShellPort {
  run(req: CommandRequest): Promise<CommandResult>;
}

export type QueryOutcome =
  | {
      ok: true;
      result: CheckRows;
      rowCount: number;
      /** Each statement's command and row count, when a step ran several. */
      statements?: Array<{ command: string; rowCount: number }>;
      /** Something the operator should know about how the outcome was established. */
      note?: string;
    }
  /** unknown: a COMMIT was sent and its answer lost; the change may or may not be in effect. */
  | { ok: false; error: string; unknown?: boolean; code?: string };

/** changed: the server answering is not the one the target was pinned to. */
export type IdentifyOutcome = { ok: true; identity: ServerIdentity } | { ok: false; error: string; changed?: boolean };

export interface DatabasePort {
  /** Read-only: a READ ONLY transaction with statement_timeout; always rolled back. */
  check(database: string, sql: string, params: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<QueryOutcome>;
  /** A write in one transaction, committed when it succeeds; or, with transaction: false, one statement in autocommit. */
  execute(database: string, sql: string, params: readonly string[], timeoutMs: number, signal: AbortSignal, options?: { transaction?: boolean }): Promise<QueryOutcome>;
  /** Server facts pinned in the transcript; an unreachable target is reported, not thrown. */
  inspect(database: string): Promise<Partial<TargetInfo>>;
  /** Who the server behind this target says it is (connecting if needed; a changed server is refused). */
  identify(database: string): Promise<IdentifyOutcome>;
  close(): Promise<void>;
}

export interface MigrationsRequest {
  step: PlanStep;
  database: string;
  /** The migrations a write names, with `${input}` filled in. */
  names: string[] | undefined;
  cwd: string;
  dryRun: boolean;
  signal: AbortSignal;
}

export interface MigrationsOutcome {
  pass: boolean;
  summary: string;
  table: Array<{ name: string; state: string; evidence: string }>;
  written?: string[];
  error?: string;
}

export interface MigrationsPort {
  run(req: MigrationsRequest): Promise<MigrationsOutcome>;
}

export interface Clock {
  now(): Date;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** The whole output of one command, to a side file per stream (--full-output). write and close throw on failure. */
export interface OutputFile {
  write(stream: 'stdout' | 'stderr', text: string): void;
  /** The files written, by stream. */
  close(): Partial<Record<'stdout' | 'stderr', string>>;
}

export interface OutputFiles {
  open(step: string, seq: number): OutputFile;
}

/** Where recorded events go. append must be durable when it returns, or throw. */
export interface Journal {
  append(event: Recorded): void;
  readonly path: string | undefined;
  close(): void;
}

export type OperatorRequest =
  /** rehearsal: a drill, where rolling back is rehearsing the rollback from here (the state is then compared). */
  | { kind: 'go'; step: PlanStep; preview: string; rollback: string | undefined; dryRun: boolean; note?: string; canRollBack?: boolean; rehearsal?: boolean }
  /** word: the database name the server reports; server: who the server says it is, in words. */
  | { kind: 'confirm'; step: PlanStep; word: string; server?: string; /** The target's declared environment (production, staging, …), said in words beside the name. */ environment?: string; preview: string; rollback: string | undefined; backup: string | undefined }
  | { kind: 'checklist'; step: PlanStep; items: string[] }
  | { kind: 'ask'; step: PlanStep; input: { name: string; description: string | undefined; secret: boolean; pattern: string | undefined }; error?: string }
  /** transient: whether running it again can change the result (false: a deterministic SQL error; undefined: cannot tell). */
  | { kind: 'decide'; step: PlanStep; options: DecisionOption[]; unknown: boolean; failure: string; transient?: boolean };

export type OperatorAnswer =
  | { kind: 'go' }
  | { kind: 'done' }
  /** by: 'confirm-target' when an unattended run (--auto) answered with --confirm-target, not a person. */
  | { kind: 'typed'; text: string; by?: 'confirm-target' }
  | { kind: 'value'; value: string }
  | { kind: 'skip'; reason: string }
  | { kind: 'retry' }
  | { kind: 'override'; reason: string }
  | { kind: 'mark-done'; reason: string }
  | { kind: 'rollback' }
  /** reason: why, when it was not the operator's choice (the input ended); recorded as the run's end, whole. */
  | { kind: 'quit'; reason?: string }
  /** End the run as failed (non-interactive runs that cannot go on). */
  | { kind: 'stop'; reason: string };

/** What the operator can do at any time, whatever the run is waiting for. */
export interface Session {
  tick(step: string, item: number, checked: boolean): void;
  note(text: string): void;
  milestone(name: 'mitigated' | 'resolved', at?: Date): void;
  /** Stop the command or check in progress (Ctrl-C). */
  cancel(): void;
}

export interface Operator {
  request(req: OperatorRequest, session: Session): Promise<OperatorAnswer>;
  /** The run was interrupted (a signal): drop the question being asked, so nothing holds the input open. */
  cancel?(): void;
}
