/**
 * Performing a step's action through the ports and recording what happened: commands, checks
 * (with retry), SQL writes, migration-state steps.
 */
import { evaluateExpect } from './expect.js';
import { fillText } from './interpolate.js';
import type { PlanStep } from './plan.js';
import type { Run } from './runner.js';
import { durationMs } from './runbook.js';

const DEFAULT_CHECK_TIMEOUT = 30_000;
const DEFAULT_SQL_TIMEOUT = 5 * 60_000;
const DEFAULT_COMMAND_TIMEOUT = 30 * 60_000;

export async function executeStep(run: Run, step: PlanStep, signal: AbortSignal): Promise<void> {
  const s = step.step;
  if (s.run !== undefined) return runCommand(run, step, s.run, signal);
  if (s.check !== undefined) return runCheck(run, step, run.sqlOf(s.check), signal);
  if (s.sql !== undefined) return runSql(run, step, run.sqlOf(s.sql), signal);
  if (s.migrations) return runMigrations(run, step, signal);
}

function paramValues(run: Run, step: PlanStep): { values: string[]; display: string[] } {
  const names = step.step.params ?? [];
  const display = run.displayValues();
  return { values: names.map((n) => run.ctx.values[n] ?? ''), display: names.map((n) => display[n] ?? '') };
}

/** How much of each stream an output expectation sees: its first and its last MiB. */
const CAPTURE_BYTES = 1 << 20;

/** The output of a command, bounded: the head and a rolling tail of each stream. */
class Capture {
  private head = '';
  private tail = '';
  push(text: string): void {
    if (this.head.length < CAPTURE_BYTES) {
      const room = CAPTURE_BYTES - this.head.length;
      this.head += text.slice(0, room);
      text = text.slice(room);
    }
    if (text) this.tail = (this.tail + text).slice(-CAPTURE_BYTES);
  }
  text(): string {
    // Colour and cursor codes are not part of what a pattern means (drizzle-kit redraws its spinner).
    const all = this.tail ? `${this.head}\n${this.tail}` : this.head;
    return all.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  }
}

/** What expect_output and expect_error ask of a command's output; [] when it holds. */
export function outputFailures(step: { expect_output?: string | { stdout?: string; stderr?: string }; expect_error?: string | string[] }, out: { stdout: string; stderr: string }): string[] {
  const failures: string[] = [];
  const eo = step.expect_output;
  if (eo !== undefined) {
    const wanted: Array<[string, string, string]> = typeof eo === 'string' ? [['its output', eo, `${out.stdout}\n${out.stderr}`]] : [
      ...(eo.stdout !== undefined ? [['stdout', eo.stdout, out.stdout] as [string, string, string]] : []),
      ...(eo.stderr !== undefined ? [['stderr', eo.stderr, out.stderr] as [string, string, string]] : []),
    ];
    for (const [where, pattern, text] of wanted) if (!new RegExp(pattern, 'm').test(text)) failures.push(`${where} did not match /${pattern}/`);
  }
  if (step.expect_error !== undefined) {
    const codes = Array.isArray(step.expect_error) ? step.expect_error : [step.expect_error];
    const all = `${out.stdout}\n${out.stderr}`;
    if (!codes.some((c) => new RegExp(`(^|[^A-Za-z0-9])${c}($|[^A-Za-z0-9])`).test(all))) {
      const other = /(?:^|[^A-Za-z0-9])(P\d{4})(?:$|[^A-Za-z0-9])/.exec(all)?.[1];
      failures.push(`it failed ${other ? `with ${other}` : 'without naming an error code'}, not with ${codes.join(' or ')}`);
    }
  }
  return failures;
}

async function runCommand(run: Run, step: PlanStep, command: string, signal: AbortSignal): Promise<void> {
  const env = run.commandEnv(step);
  const cwd = step.step.cwd ? resolveCwd(run.ctx.cwd, step.step.cwd) : run.ctx.cwd;
  const given = { ...run.ctx.databaseEnv, ...(step.database ? run.ctx.connectionEnv?.[step.database] : {}), ...run.ctx.values };
  const readOnlySession = step.effect === 'read-only';
  run.record({ type: 'command.started', step: step.id, command: run.preview(step), cwd, env: Object.keys(given).sort(), ...(readOnlySession ? { readOnlySession } : {}) });
  const streams = { stdout: run.streamRedactor(), stderr: run.streamRedactor() };
  const s = step.step;
  const captures = s.expect_output !== undefined || s.expect_error !== undefined ? { stdout: new Capture(), stderr: new Capture() } : undefined;
  const emit = (stream: 'stdout' | 'stderr', text: string) => {
    captures?.[stream].push(text);
    run.record({ type: 'command.output', step: step.id, stream, text });
  };
  const result = await run.ports.shell.run({
    command,
    cwd,
    env,
    timeoutMs: run.timeoutOf(step, DEFAULT_COMMAND_TIMEOUT),
    signal,
    onOutput(stream, text) {
      const clean = streams[stream].push(text);
      if (clean) emit(stream, clean);
    },
  });
  for (const stream of ['stdout', 'stderr'] as const) {
    const rest = streams[stream].flush();
    if (rest) emit(stream, rest);
  }
  if (result.error) run.record({ type: 'command.output', step: step.id, stream: 'stderr', text: `${result.error}\n` });
  run.record({ type: 'command.exited', step: step.id, exitCode: result.exitCode, signal: result.signal, durationMs: result.durationMs, timedOut: result.timedOut, cancelled: result.cancelled });
  // Expected exit: expect_exit, else any failure when an error is expected, else 0.
  const expected = s.expect_exit === undefined ? (s.expect_error !== undefined ? undefined : [0]) : Array.isArray(s.expect_exit) ? s.expect_exit : [s.expect_exit];
  const exitOk = result.exitCode !== null && (expected ? expected.includes(result.exitCode) : result.exitCode !== 0);
  if (exitOk && !result.timedOut && !result.cancelled) {
    const failures = captures ? outputFailures(s, { stdout: captures.stdout.text(), stderr: captures.stderr.text() }) : [];
    run.record(failures.length === 0
      ? { type: 'step.finished', step: step.id, outcome: 'passed' }
      : { type: 'step.finished', step: step.id, outcome: 'failed', reason: `the command exited with code ${result.exitCode} as expected, but ${failures.join('; ')}` });
    return;
  }
  const wanted = expected ? expected.join(' or ') : `non-zero, naming ${[s.expect_error].flat().join(' or ')}`;
  const reason = result.error
    ? `the command could not start: ${result.error}`
    : result.timedOut
      ? `the command timed out after ${Math.round(run.timeoutOf(step, DEFAULT_COMMAND_TIMEOUT) / 1000)}s and was killed`
      : result.cancelled
        ? 'the command was cancelled by the operator'
        : result.signal
          ? `the command was killed by ${result.signal}`
          : `the command exited with code ${result.exitCode}${expected && expected.length === 1 && expected[0] === 0 ? '' : ` (expected ${wanted})`}`;
  run.record({ type: 'step.finished', step: step.id, outcome: 'failed', reason });
}

function resolveCwd(base: string, cwd: string): string {
  return cwd.startsWith('/') ? cwd : `${base.replace(/\/$/, '')}/${cwd}`;
}

async function runCheck(run: Run, step: PlanStep, sql: string, signal: AbortSignal): Promise<void> {
  const database = step.database!;
  const { values, display } = paramValues(run, step);
  const timeoutMs = run.timeoutOf(step, DEFAULT_CHECK_TIMEOUT);
  const retry = step.step.retry;
  const deadline = retry ? run.ports.clock.now().getTime() + durationMs(retry.timeout, 60_000) : 0;
  const interval = retry ? durationMs(retry.interval, 2_000) : 0;
  for (let attempt = 1; ; attempt++) {
    const started = run.ports.clock.now().getTime();
    const outcome = await run.ports.db.check(database, sql, values, timeoutMs, signal);
    const took = run.ports.clock.now().getTime() - started;
    const failures = outcome.ok ? evaluateExpect(step.step.expect, outcome.result) : [outcome.error];
    const pass = outcome.ok && failures.length === 0;
    run.record({
      type: 'check.result',
      step: step.id,
      database,
      sql: sql.trim(),
      params: display,
      ...(outcome.ok ? { result: outcome.result } : { error: outcome.error }),
      pass,
      failures,
      durationMs: took,
      attempt,
    });
    if (pass) {
      run.record({ type: 'step.finished', step: step.id, outcome: 'passed' });
      return;
    }
    const more = retry && !signal.aborted && run.ports.clock.now().getTime() + interval < deadline;
    if (!more) {
      const why = signal.aborted ? 'the check was cancelled by the operator' : failures.join('; ');
      run.record({ type: 'step.finished', step: step.id, outcome: 'failed', reason: attempt > 1 ? `${why} (after ${attempt} attempts)` : why });
      return;
    }
    await run.ports.clock.sleep(interval, signal);
  }
}

async function runSql(run: Run, step: PlanStep, sql: string, signal: AbortSignal): Promise<void> {
  const database = step.database!;
  const { values, display } = paramValues(run, step);
  const started = run.ports.clock.now().getTime();
  // A step labelled read-only runs as a check does: one statement in a READ ONLY transaction, so
  // PostgreSQL, not the label, keeps it from writing.
  const readOnly = step.effect === 'read-only';
  const timeoutMs = run.timeoutOf(step, readOnly ? DEFAULT_CHECK_TIMEOUT : DEFAULT_SQL_TIMEOUT);
  const outside = step.step.transaction === false;
  const outcome = readOnly
    ? await run.ports.db.check(database, sql, values, timeoutMs, signal)
    : await run.ports.db.execute(database, sql, values, timeoutMs, signal, outside ? { transaction: false } : {});
  const took = run.ports.clock.now().getTime() - started;
  if (!outcome.ok) {
    run.record({ type: 'sql.result', step: step.id, database, sql: sql.trim(), params: display, error: outcome.error, durationMs: took, ...(outcome.unknown ? { unknown: true } : {}) });
    if (outcome.unknown) {
      run.record({ type: 'step.finished', step: step.id, outcome: 'unknown', reason: outcome.error });
      return;
    }
    run.record({ type: 'step.finished', step: step.id, outcome: 'failed', reason: readOnly || outside ? outcome.error : `${outcome.error} (the transaction was rolled back: nothing changed)` });
    return;
  }
  run.record({
    type: 'sql.result',
    step: step.id,
    database,
    sql: sql.trim(),
    params: display,
    rowCount: outcome.rowCount,
    result: outcome.result,
    durationMs: took,
    ...(outcome.statements ? { statements: outcome.statements } : {}),
    ...(outcome.note ? { note: outcome.note } : {}),
  });
  const failures = step.step.expect ? evaluateExpect(step.step.expect, outcome.result) : [];
  run.record(failures.length === 0
    ? { type: 'step.finished', step: step.id, outcome: 'passed' }
    : { type: 'step.finished', step: step.id, outcome: 'failed', reason: readOnly ? failures.join('; ') : `committed, but ${failures.join('; ')}` });
}

async function runMigrations(run: Run, step: PlanStep, signal: AbortSignal): Promise<void> {
  const m = step.step.migrations!;
  const port = run.ports.migrations;
  if (!port) {
    run.record({ type: 'step.finished', step: step.id, outcome: 'failed', reason: 'this drillbook cannot read migration state here (no migrations adapter)' });
    return;
  }
  const database = step.database!;
  const names = m.names?.map((n) => fillText(n, run.ctx.values));
  const outcome = await port.run({ step, database, names, cwd: run.ctx.cwd, dryRun: run.ctx.mode === 'dry-run', signal });
  run.record({
    type: 'migrations.result',
    step: step.id,
    database,
    tool: m.tool,
    summary: outcome.summary,
    pass: outcome.pass,
    table: outcome.table,
    ...(outcome.written ? { written: outcome.written } : {}),
    ...(outcome.error ? { error: outcome.error } : {}),
  });
  run.record(outcome.pass
    ? { type: 'step.finished', step: step.id, outcome: 'passed' }
    : { type: 'step.finished', step: step.id, outcome: 'failed', reason: outcome.error ?? outcome.summary });
}
