/**
 * The transcript's events. They are the run's state: the machine is a fold over them, and
 * replaying a transcript rebuilds the run. Every event is redacted before it is written or shown.
 */

export type Mode = 'incident' | 'rehearsal' | 'dry-run';
export type RunOutcome = 'completed' | 'failed' | 'rolled-back' | 'aborted';
export type Environment = 'production' | 'staging' | 'development' | 'rehearsal';

/** Who a server says it is, asked after connecting: what the operator confirms. */
export interface ServerIdentity {
  /** current_database() */
  database: string;
  /** current_user */
  user: string;
  /** inet_server_addr(), or the socket folder for a unix-socket connection. */
  address: string;
  /** inet_server_port(), or the server's port setting over a socket. */
  port: string;
  socket: boolean;
  /** The cluster's pg_control system identifier, when this role may read it. */
  systemIdentifier?: string;
  serverVersion: string;
  inRecovery: boolean;
  /** Connected as a superuser: a READ ONLY transaction does not stop its server-side programs. */
  superuser?: boolean;
}

export interface TargetInfo {
  /** The runbook's name for the database. */
  name: string;
  environment: Environment;
  /** The resolved connection URL with its password replaced by [REDACTED]. */
  url: string;
  /** Who the server says it is once connected (else, marked by identified: false, what was asked for). */
  host: string;
  port: string;
  database: string;
  user: string;
  /** host/port/database/user above come from the server itself. */
  identified?: boolean;
  /** What the URL and the environment asked for, and where each part came from. */
  requested?: { host: string; port: string; database: string; user: string; sources?: Record<string, string> };
  serverVersion?: string;
  systemIdentifier?: string;
  inRecovery?: boolean;
  /** Why the target could not be inspected at start, if it could not. */
  unreachable?: string;
  /** Where the runbook, the URL and the server disagree: said before any step. */
  discrepancies?: string[];
}

export interface CheckRows {
  columns: string[];
  /** At most ROWS_CAP rows, values as text (each cut at VALUE_CAP characters). */
  rows: Array<Array<string | null>>;
  /** Every row the statement returned (or affected), whether kept or not. */
  rowCount: number;
  /** How many values were cut at VALUE_CAP characters. */
  valuesCut?: number;
}

/** Rows of a result kept for the screen and the transcript; the count covers all of them. */
export const ROWS_CAP = 50;
/** Characters of one value kept; the rest is replaced by a note of how much was cut. */
export const VALUE_CAP = 4096;

/** One output stream of a command, whole: what the transcript keeps of it is its head and its tail. */
export interface OutputDigest {
  /** Bytes of the stream (UTF-8, after redaction). */
  bytes: number;
  /** SHA-256 (hex) of those bytes: the whole stream, including what the transcript left out. */
  sha256: string;
  /** Bytes between the head and the tail that the transcript does not hold. */
  omitted: number;
  /** The side file holding the whole (redacted) stream, when one was asked for (--full-output). */
  file?: string;
}

export interface PlanOutline {
  phases: Array<{ id: string; title: string; kind: string; rollback: boolean; steps: Array<{ id: string; title: string; action: string; effect: string }> }>;
}

/** Why a drill runs a stand-in instead of the real tool, in a form the interface words for itself. */
export type StandInCause =
  | { kind: 'asked' }
  | { kind: 'missing' }
  /** The real client tool is of an older major than the drill's PostgreSQL (pg_dump refuses it). */
  | { kind: 'older'; version: string; server: number }
  /** Anything else, in the drill's words (without the tool's name). */
  | { kind: 'other'; text: string };

export type RunEvent =
  | {
      type: 'run.started';
      runbook: { id: string; title: string; version: string; path: string; hash: string };
      drillbook: string;
      operator: string;
      host: string;
      mode: Mode;
      /** Who answers the run's questions: a person (ink, plain) or nobody (auto: --auto). */
      interface?: 'ink' | 'plain' | 'auto';
      targets: TargetInfo[];
      inputs: Record<string, string>;
      /** The runbook's shape, so the transcript alone can be scored and reported. */
      plan?: PlanOutline;
    }
  | { type: 'run.resumed'; from: string; runbookChanged?: { was: string; now: string }; recovered?: string; operator: string; targets?: TargetInfo[] }
  | { type: 'input.set'; step?: string; name: string; value: string }
  | { type: 'step.started'; step: string; phase: string; attempt: number }
  | { type: 'checklist.ticked'; step: string; item: number; text: string; checked: boolean }
  /** via: how it was given when no person typed it (an unattended run's --confirm-target). */
  | { type: 'confirmation'; step: string; target: string; typed: string; matched: boolean; via?: 'confirm-target' }
  /**
   * pgid: the process group the command runs in (its leader's pid), recorded before the command is
   * let go, so a resumed run can find it still running; pgidStart: the leader's start time (Linux).
   * readOnlySession: a command labelled read-only, given a session PostgreSQL keeps read-only.
   */
  | { type: 'command.started'; step: string; command: string; cwd: string; env: string[]; pgid?: number; pgidStart?: string; readOnlySession?: boolean }
  /**
   * Output as it comes (the head of each stream), then at the end the tail, which carries `skipped`:
   * the bytes left out of the transcript just before it. `live` marks output only shown on screen
   * while the command runs (beyond the head): such events are never written to a transcript.
   */
  | { type: 'command.output'; step: string; stream: 'stdout' | 'stderr'; text: string; skipped?: number; live?: boolean }
  | { type: 'command.exited'; step: string; exitCode: number | null; signal: string | null; durationMs: number; timedOut: boolean; cancelled: boolean; output?: { stdout: OutputDigest; stderr: OutputDigest } }
  | { type: 'check.result'; step: string; database: string; sql: string; params: string[]; result?: CheckRows; pass: boolean; failures: string[]; error?: string; code?: string; durationMs: number; attempt: number }
  | { type: 'sql.result'; step: string; database: string; sql: string; params: string[]; rowCount?: number; result?: CheckRows; error?: string; code?: string; durationMs: number; statements?: Array<{ command: string; rowCount: number }>; unknown?: boolean; note?: string }
  /** A target drillbook could not identify at the start, identified by its server later. */
  | { type: 'target.identified'; name: string; identity: ServerIdentity }
  | { type: 'migrations.result'; step: string; database: string; tool: string; summary: string; pass: boolean; table: Array<{ name: string; state: string; evidence: string }>; written?: string[]; error?: string }
  | { type: 'step.dry-run'; step: string; would: string }
  | { type: 'step.finished'; step: string; outcome: 'passed' | 'failed' | 'unknown'; reason?: string }
  | { type: 'step.skipped'; step: string; reason: string }
  | { type: 'step.retry'; step: string }
  | { type: 'step.override'; step: string; reason: string }
  | { type: 'step.marked-done'; step: string; reason: string }
  | { type: 'note'; text: string; step?: string }
  | { type: 'milestone'; name: 'mitigated' | 'resolved'; at: string }
  | { type: 'rollback.started'; reason: string; steps: string[] }
  | { type: 'rollback.finished'; undone: string[]; notUndone: string[]; failed: string[]; summary: string }
  | { type: 'run.finished'; outcome: RunOutcome; reason?: string }
  /** A drill's game master injected a fault. */
  | { type: 'fault'; name: string; detail: string }
  /** A rehearsed rollback: the drill database's fingerprint before the first step and after the rollback, compared. */
  | {
      type: 'rehearsal.rollback';
      /** The step after which the rollback was rehearsed, if one was named. */
      after?: string;
      /** false when the forward path never reached that step: the rollback that ran was another one. */
      reached?: false;
      databases: Array<{ name: string; before: string; after: string }>;
      restored: 'yes' | 'yes-except-declared' | 'no';
      differences: string[];
      declared: Array<{ text: string; reason: string }>;
      unused: string[];
      /** What changed and is no difference (a sequence that advanced). */
      notes?: string[];
    }
  /** A tool a drill's commands call: the real one or drillbook's stand-in, and the version it reports. */
  | { type: 'rehearsal.tool'; tool: string; kind: 'real' | 'stand-in'; version: string; detail?: string; cause?: StandInCause }
  /**
   * A drill on a project's own migrations: which project (the shipped fixture or --project), its
   * migrations, how the drill database was seeded and the incident staged, the facts that filled
   * the inputs, and the scratch copy the drill worked in (the project itself is never written).
   */
  | {
      type: 'rehearsal.project';
      project: string;
      fixture: boolean;
      tool: string;
      migrationsDir: string;
      /** The folder's migrations, in the tool's order (at most 1000; `omitted` counts the rest). */
      migrations: string[];
      omitted?: number;
      from: 'migrations' | 'dump';
      dump?: string;
      staged: string[];
      /** The drill started from the copy drillbook kept of an earlier staging of the same inputs (src/drill/stage-cache.ts), staged then. */
      fromCache?: true;
      stagedAt?: string;
      facts: Record<string, string>;
      copy: string;
      /** Success checks of the shipped fixture's own tables, skipped on another project. */
      skippedChecks?: string[];
    }
  /** A drill's success check, run at the end: is the incident really fixed? */
  | { type: 'rehearsal.check'; id: string; title: string; pass: boolean; failures: string[]; result?: CheckRows; error?: string }
  /**
   * The last event drillbook writes when it stops normally (the run ended, or the operator quit).
   * A transcript whose last event is not a seal was cut short: a crash, a kill, or a truncated file.
   */
  | { type: 'transcript.sealed'; outcome: RunOutcome | 'unfinished'; events: number };

export type EventType = RunEvent['type'];

/** An event as recorded: the payload plus when, by whom, in which mode. */
export type Recorded<E extends RunEvent = RunEvent> = E & {
  seq: number;
  ts: string;
  actor: string;
  mode: Mode;
};

/**
 * Events written without their own fdatasync: output chunks, and a check's result (read-only; the
 * step's end, synced right after, makes it durable, and a check caught by a crash runs again).
 * Everything that precedes or follows a change to the target is synced before the run goes on.
 */
export function isChatty(e: RunEvent): boolean {
  return e.type === 'command.output' || e.type === 'check.result';
}
