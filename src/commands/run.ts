/** `drillbook run` and `drillbook resume`. */
import { existsSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DrillbookError, UsageError } from '../core/errors.js';
import type { Mode, Recorded } from '../core/events.js';
import { loadRunbookOrThrow, resolveRunbook } from '../adapters/runbook-files.js';
import { FileJournal } from '../adapters/journal.js';
import { groupAlive, waitForGroup } from '../adapters/process-group.js';
import { RunLock } from '../adapters/run-lock.js';
import { parseAssignments, resolveDatabases, resolveInputs } from '../app/inputs.js';
import { operatorName, pickInterface, runSession } from '../app/session.js';
import { readTranscript } from '../app/transcript-file.js';
import { showRunFrame, urlTargets } from '../ui/run-frame.js';

export interface RunOptions {
  db?: string[];
  var?: string[];
  dryRun?: boolean;
  plain?: boolean;
  auto?: boolean;
  confirmTarget?: string;
  operator?: string;
  transcriptDir?: string;
  resume?: string;
  allowChanged?: boolean;
  onUnknown?: 'rerun' | 'mark-done';
  runReadOnlyCommands?: boolean;
  fullOutput?: boolean;
}

async function fillMissing(missing: string[], loaded: ReturnType<typeof loadRunbookOrThrow>, ui: string, values: Record<string, string>): Promise<void> {
  if (!missing.length) return;
  if (ui === 'auto' || !process.stdin.isTTY) {
    throw new UsageError(`no value for input${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, `pass ${missing.map((m) => `--var ${m}=VALUE`).join(' ')}`);
  }
  const { askMissingInputs } = await import('../ui/plain-operator.js');
  const asked = await askMissingInputs(missing, loaded.runbook.inputs ?? {});
  if (!asked) throw new DrillbookError('cancelled before the run started; nothing was recorded', { exitCode: 130 });
  Object.assign(values, asked);
}

export async function runCommand(ref: string | undefined, opts: RunOptions): Promise<number> {
  if (opts.resume) return resumeCommand(opts.resume, opts);
  if (!ref) throw new UsageError('name the runbook to run: drillbook run <id|path>', 'drillbook list shows the runbooks');
  if (opts.runReadOnlyCommands && !opts.dryRun) {
    throw new UsageError('--run-read-only-commands goes with --dry-run', 'in a live run, commands labelled read-only always run in a session forced read-only');
  }
  if (opts.confirmTarget !== undefined && !opts.auto) {
    throw new UsageError('--confirm-target goes with --auto', 'in an interactive run you type the target name at each step that needs it');
  }
  const loaded = loadRunbookOrThrow(resolveRunbook(ref));
  const ui = pickInterface(opts);
  const vars = parseAssignments(opts.var, '--var');
  const { values, missing } = resolveInputs(loaded.runbook, vars, process.env);
  const connections = resolveDatabases(loaded.runbook, parseAssignments(opts.db, '--db'), process.env, { ...values, ...vars });
  await fillMissing(missing, loaded, ui, values);
  const mode: Mode = opts.dryRun ? 'dry-run' : 'incident';
  // The static frame first; the operator's name (git config, a process) after it: the interface shows it.
  if (ui === 'ink') showRunFrame(loaded.runbook, mode, urlTargets(loaded.runbook, Object.fromEntries(Object.entries(connections).map(([n, c]) => [n, c.redacted]))), opts.operator?.trim() ?? '');
  const operator = operatorName(opts.operator);
  return runSession({
    loaded,
    mode,
    values,
    connections,
    ...(opts.runReadOnlyCommands ? { runReadOnlyCommands: true } : {}),
    ui,
    confirmTarget: opts.confirmTarget,
    operatorName: operator,
    transcriptDir: opts.transcriptDir ?? 'transcripts',
    cwd: process.cwd(),
    baseEnv: process.env,
    fullOutput: opts.fullOutput === true,
  });
}

/** The newest transcript in the folder whose run did not end (or was aborted). */
export function newestUnfinished(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => path.join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const f of files) {
    const t = readTranscript(f);
    const finished = [...t.chain.events].reverse().find((e) => e.type === 'run.finished' || e.type === 'run.resumed');
    if (!finished || finished.type === 'run.resumed' || (finished.type === 'run.finished' && finished.outcome === 'aborted')) return f;
  }
  return undefined;
}

export async function resumeCommand(transcript: string | undefined, opts: RunOptions): Promise<number> {
  if (opts.onUnknown !== undefined && !opts.auto) throw new UsageError('--on-unknown goes with --auto', 'interactively, you decide at the step itself');
  const dir = opts.transcriptDir ?? 'transcripts';
  const file = transcript ?? newestUnfinished(dir);
  if (!file) throw new UsageError(`no unfinished run in ${dir}/`, 'name the transcript: drillbook resume <transcript.jsonl>');
  if (!existsSync(file)) throw new DrillbookError(`cannot read transcript ${file}: no such file`, { exitCode: 2 });
  // The lock first, then the transcript: what is read is what this process alone continues.
  const lock = RunLock.acquire(file);
  try {
    return await resumeLocked(file, lock, opts);
  } finally {
    lock.release();
  }
}

/** Process groups the transcript says were started and never seen to end. */
export function unfinishedGroups(events: readonly Recorded[]): Array<{ step: string; pgid: number; start?: string }> {
  const open = new Map<string, { pgid: number; start?: string }>();
  for (const e of events) {
    if (e.type === 'command.started') {
      if (e.pgid) open.set(e.step, { pgid: e.pgid, ...(e.pgidStart ? { start: e.pgidStart } : {}) });
      else open.delete(e.step);
    } else if (e.type === 'command.exited') open.delete(e.step);
  }
  return [...open].map(([step, g]) => ({ step, ...g }));
}

/** Wait for (or, on Ctrl-C, stop) the commands an interrupted run left running; returns what to record. */
async function settleLeftoverCommands(events: readonly Recorded[], err: NodeJS.WritableStream): Promise<string[]> {
  const notes: string[] = [];
  for (const g of unfinishedGroups(events)) {
    if (!groupAlive(g.pgid, g.start)) continue;
    const stop = new AbortController();
    const onInt = () => stop.abort();
    process.on('SIGINT', onInt);
    err.write(`drillbook: the command of step ${g.step} (process group ${g.pgid}) is still running from the interrupted run; waiting for it to end, so that it never runs twice. Ctrl-C stops it instead.\n`);
    const since = Date.now();
    try {
      const how = await waitForGroup(g.pgid, g.start, stop.signal);
      const secs = Math.round((Date.now() - since) / 1000);
      notes.push(how === 'ended'
        ? `the command of step ${g.step} (process group ${g.pgid}) was still running from the interrupted run; it ended after a ${secs}s wait (its outcome is unknown)`
        : `the command of step ${g.step} (process group ${g.pgid}) was still running from the interrupted run; the operator stopped it (Ctrl-C) after ${secs}s`);
      err.write(`drillbook: ${how === 'ended' ? 'it ended' : 'it was stopped'}; its outcome is unknown, so you decide what happens to step ${g.step}.\n`);
    } finally {
      process.off('SIGINT', onInt);
    }
  }
  return notes;
}

async function resumeLocked(file: string, lock: RunLock, opts: RunOptions): Promise<number> {
  const t = readTranscript(file);
  let recovered: string | undefined;
  if (!t.chain.ok) {
    throw new DrillbookError(`the transcript ${file} is damaged at line ${t.chain.line}: ${t.chain.reason}`, {
      exitCode: 2,
      hint: 'a damaged record cannot be continued; start a new run, and keep this file for the postmortem (drillbook verify)',
    });
  }
  if (t.torn !== undefined) {
    // A write cut short by a crash: keep the fragment beside the transcript and continue from the last whole event.
    const aside = `${file}.torn-${new Date().toISOString().replace(/[-:.]/g, '')}`;
    writeFileSync(aside, t.torn, { mode: 0o600 });
    truncateSync(file, t.wholeBytes);
    recovered = `a torn last line (${Buffer.byteLength(t.torn, 'utf8')} bytes, cut short by a crash) was moved to ${path.basename(aside)}`;
  }
  const events = t.chain.events as Recorded[];
  const started = events.find((e) => e.type === 'run.started');
  if (!started || started.type !== 'run.started') throw new DrillbookError(`${file} has no run.started event: not a drillbook transcript`, { exitCode: 2 });
  const last = [...events].reverse().find((e) => e.type === 'run.finished' || e.type === 'run.resumed');
  if (last?.type === 'run.finished' && (last.outcome === 'completed' || last.outcome === 'rolled-back')) {
    throw new UsageError(`this run already ended (${last.outcome}); there is nothing to resume`, `drillbook report ${file}`);
  }
  if (started.mode === 'rehearsal') {
    throw new UsageError('a rehearsal cannot be resumed: its drill database is gone', 'start a new drill: drillbook drill');
  }
  if (!existsSync(started.runbook.path)) throw new DrillbookError(`the runbook of this run is gone: ${started.runbook.path}`, { exitCode: 2 });
  const loaded = loadRunbookOrThrow(started.runbook.path);
  let runbookChanged: { was: string; now: string } | undefined;
  if (loaded.hash !== started.runbook.hash) {
    if (!opts.allowChanged) {
      throw new DrillbookError(`the runbook ${started.runbook.path} changed since this run started`, {
        exitCode: 2,
        hint: 'resume with --allow-changed to continue with the new version (the change is recorded)',
      });
    }
    runbookChanged = { was: started.runbook.hash, now: loaded.hash };
  }
  // Values: those recorded (secrets were never recorded and must be given again), then --var.
  const recordedValues: Record<string, string> = {};
  for (const [k, v] of Object.entries(started.inputs)) if (v !== '[REDACTED]' && !v.includes('[REDACTED]')) recordedValues[k] = v;
  for (const e of events) if (e.type === 'input.set' && !e.value.includes('[REDACTED]')) recordedValues[e.name] = e.value;
  const vars = parseAssignments(opts.var, '--var');
  const ui = pickInterface(opts);
  const { values, missing } = resolveInputs(loaded.runbook, vars, process.env, recordedValues);
  // A secret was never written down: whether it came from the command line or an ask step, the run
  // cannot go on without it, so it is asked for again (never continued with an empty value).
  const secretNames = new Set<string>();
  for (const [k, v] of Object.entries(started.inputs)) if (v.includes('[REDACTED]')) secretNames.add(k);
  for (const e of events) if (e.type === 'input.set' && e.value.includes('[REDACTED]')) secretNames.add(e.name);
  for (const [name, spec] of Object.entries(loaded.runbook.inputs ?? {})) if (spec.secret && (name in started.inputs || events.some((e) => e.type === 'input.set' && e.name === name))) secretNames.add(name);
  for (const name of secretNames) if (values[name] === undefined && !missing.includes(name)) missing.push(name);
  const connections = resolveDatabases(loaded.runbook, parseAssignments(opts.db, '--db'), process.env, { ...values, ...vars });
  await fillMissing(missing, loaded, ui, values);
  // A command of the interrupted run may still be running (drillbook was killed, its command was
  // not): never start a second copy. Wait for it, or stop it on Ctrl-C, before anything else.
  const leftovers = await settleLeftoverCommands(events, process.stderr);
  if (leftovers.length) recovered = [recovered, ...leftovers].filter(Boolean).join('; ');
  const journal = FileJournal.reopen(file, t.chain.lastHash, lock);
  return runSession({
    loaded,
    mode: started.mode,
    values,
    connections,
    ui,
    confirmTarget: opts.confirmTarget,
    onUnknown: opts.onUnknown,
    operatorName: operatorName(opts.operator),
    transcriptDir: path.dirname(file),
    cwd: process.cwd(),
    baseEnv: process.env,
    fullOutput: opts.fullOutput === true,
    resume: { events, journal, note: { from: file, ...(recovered ? { recovered } : {}), ...(runbookChanged ? { runbookChanged } : {}) } },
  });
}
