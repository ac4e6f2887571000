/**
 * Performing a step's action through the ports and recording what happened: commands, checks
 * (with retry), SQL writes, migration-state steps.
 */
import type { OutputDigest, Recorded } from './events.js';
import { evaluateExpect } from './expect.js';
import { OutputKeeper } from './output.js';
import type { OutputFile } from './ports.js';
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

/**
 * A command's output, stream by stream: redacted as it comes (linear time, secrets caught across
 * chunks), its head recorded, the rest shown live and kept as a tail, counted and hashed whole; the
 * whole to a side file when asked.
 */
class CommandOutput {
  private readonly redactors;
  private readonly keepers = { stdout: new OutputKeeper(), stderr: new OutputKeeper() };
  private file: OutputFile | undefined;
  /** A failure to record output (a full disk): the command is stopped and the failure rethrown. */
  failure: unknown;

  constructor(
    private readonly run: Run,
    private readonly step: string,
    private readonly seq: () => number,
    private readonly stop: () => void,
    /** Sees every redacted chunk (what an output expectation is matched against). */
    private readonly tap?: (stream: 'stdout' | 'stderr', clean: string) => void,
  ) {
    this.redactors = { stdout: run.streamRedactor(), stderr: run.streamRedactor() };
  }

  push(stream: 'stdout' | 'stderr', text: string, end = false): void {
    if (this.failure) return;
    try {
      const clean = end ? this.redactors[stream].flush() : this.redactors[stream].push(text);
      if (!clean) return;
      this.tap?.(stream, clean);
      if (this.run.ports.outputFiles) (this.file ??= this.run.ports.outputFiles.open(this.step, this.seq())).write(stream, clean);
      const { record, live } = this.keepers[stream].take(clean);
      if (record) this.run.record({ type: 'command.output', step: this.step, stream, text: record });
      if (live) this.run.show({ type: 'command.output', step: this.step, stream, text: live });
    } catch (e) {
      this.failure = e;
      this.stop();
    }
  }

  /** The end: the rest of each stream, the tails, and the digests for command.exited. */
  finish(): { stdout: OutputDigest; stderr: OutputDigest } {
    for (const stream of ['stdout', 'stderr'] as const) this.push(stream, '', true);
    if (this.failure) throw this.failure;
    const files = this.file?.close() ?? {};
    const digests = {} as { stdout: OutputDigest; stderr: OutputDigest };
    for (const stream of ['stdout', 'stderr'] as const) {
      const { tail, skipped, digest } = this.keepers[stream].finish(files[stream]);
      if (tail) this.run.record({ type: 'command.output', step: this.step, stream, text: tail, skipped });
      digests[stream] = digest;
    }
    return digests;
  }
}

async function runCommand(run: Run, step: PlanStep, command: string, signal: AbortSignal): Promise<void> {
  const env = run.commandEnv(step);
  const cwd = step.step.cwd ? resolveCwd(run.ctx.cwd, step.step.cwd) : run.ctx.cwd;
  // Recorded once the command's process group exists and before the command may start (the shell
  // holds it at a gate until then), so a resumed run knows which group to look for.
  const given = { ...run.ctx.databaseEnv, ...(step.database ? run.ctx.connectionEnv?.[step.database] : {}), ...run.ctx.values };
  const readOnlySession = step.effect === 'read-only';
  let started: Recorded | undefined;
  const begin = (group?: { pgid: number; start?: string }) => {
    started ??= run.record({
      type: 'command.started',
      step: step.id,
      command: run.preview(step),
      cwd,
      env: Object.keys(given).sort(),
      ...(group ? { pgid: group.pgid, ...(group.start ? { pgidStart: group.start } : {}) } : {}),
      ...(readOnlySession ? { readOnlySession } : {}),
    });
  };
  // A failure to record stops the command (as Ctrl-C would) and ends the run after it.
  // (By hand rather than AbortSignal.any, which Node 20 has only from 20.3.)
  const stopper = new AbortController();
  if (signal.aborted) stopper.abort();
  else signal.addEventListener('abort', () => stopper.abort(), { once: true });
  const stopped = stopper.signal;
  const s = step.step;
  // What expect_output and expect_error look at: the head and tail of each (redacted) stream.
  const captures = s.expect_output !== undefined || s.expect_error !== undefined ? { stdout: new Capture(), stderr: new Capture() } : undefined;
  const output = new CommandOutput(run, step.id, () => started!.seq, () => stopper.abort(), (stream, clean) => captures?.[stream].push(clean));
  const result = await run.ports.shell.run({
    command,
    cwd,
    env,
    timeoutMs: run.timeoutOf(step, DEFAULT_COMMAND_TIMEOUT),
    signal: stopped,
    onSpawn: begin,
    onOutput: (stream, text) => {
      begin();
      output.push(stream, text);
    },
  });
  begin(); // a command that could not start at all is still in the timeline
  const digests = output.finish();
  if (result.error) run.record({ type: 'command.output', step: step.id, stream: 'stderr', text: `${result.error}\n` });
  run.record({ type: 'command.exited', step: step.id, exitCode: result.exitCode, signal: result.signal, durationMs: result.durationMs, timedOut: result.timedOut, cancelled: result.cancelled, output: digests });
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
  // A command that changes things and was stopped half-way may have done part of its work: its
  // outcome is unknown (the operator decides: re-run, mark done, roll back), not "failed".
  const interrupted = !result.error && (result.timedOut || result.cancelled || result.signal !== null);
  if (interrupted && step.effect !== 'read-only') {
    run.record({ type: 'step.finished', step: step.id, outcome: 'unknown', reason: `${reason}: it may have done part of its work; check the target before deciding` });
    return;
  }
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
      ...(outcome.ok ? { result: outcome.result } : { error: outcome.error, ...(outcome.code ? { code: outcome.code } : {}) }),
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
    run.record({ type: 'sql.result', step: step.id, database, sql: sql.trim(), params: display, error: outcome.error, ...(outcome.code ? { code: outcome.code } : {}), durationMs: took, ...(outcome.unknown ? { unknown: true } : {}) });
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
