/**
 * Errors an operator can act on. A DrillbookError carries the exit code and an optional hint;
 * anything else reaching the top level is a bug and is reported as one.
 */
import { visible } from './sanitize.js';

export class DrillbookError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;
  constructor(message: string, options: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DrillbookError';
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }
}

/** Bad command-line usage: exit code 2. */
export class UsageError extends DrillbookError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: 2, ...(hint === undefined ? {} : { hint }) });
    this.name = 'UsageError';
  }
}

/** A runbook that does not load or lint clean; the problems already carry file:line:col. */
export class RunbookInvalidError extends DrillbookError {
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[]) {
    super(problems.filter((p) => p.severity === 'error').map(formatProblem).join('\n'), { exitCode: 2 });
    this.name = 'RunbookInvalidError';
    this.problems = problems;
  }
}

export type Severity = 'error' | 'warning';

/** One finding about a runbook file, positioned at the YAML node it concerns (1-based). */
export interface Problem {
  file: string;
  line: number;
  col: number;
  severity: Severity;
  message: string;
}

export function formatProblem(p: Problem): string {
  const tag = p.severity === 'warning' ? 'warning: ' : '';
  // A message may quote the file's text: its control characters are shown, not obeyed.
  return visible(`${p.file}:${p.line}:${p.col}: ${tag}${p.message}`);
}
