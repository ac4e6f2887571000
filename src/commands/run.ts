/** `drillbook run` and `drillbook resume`. */
import { existsSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DrillbookError, UsageError } from '../core/errors.js';
import type { Mode, Recorded } from '../core/events.js';
import { loadRunbookOrThrow, resolveRunbook } from '../adapters/runbook-files.js';
import { FileJournal } from '../adapters/journal.js';
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
}

async function fillMissing(missing: string[], loaded: ReturnType<typeof loadRunbookOrThrow>, ui: string, values: Record<string, string>): Promise<void> {
  if (!missing.length) return;
  if (ui === 'auto' || !process.stdin.isTTY) {
    throw new UsageError(`no value for input${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, `pass ${missing.map((m) => `--var ${m}=VALUE`).join(' ')}`);
  }
  const { askMissingInputs } = await import('../adapters/prompts.js');
  const asked = await askMissingInputs(missing, loaded.runbook.inputs ?? {});
  if (!asked) throw new DrillbookError('cancelled before the run started; nothing was recorded', { exitCode: 130 });
  Object.assign(values, asked);
}

export async function runCommand(ref: string | undefined, opts: RunOptions): Promise<number> {
  if (opts.resume) return resumeCommand(opts.resume, opts);
  if (!ref) throw new UsageError('name the runbook to run: drillbook run <id|path>', 'drillbook list shows the runbooks');
  if (opts.confirmTarget !== undefined && !opts.auto) {
    throw new UsageError('--confirm-target goes with --auto', 'in an interactive run you type the target name at each step that needs it');
  }
  const loaded = loadRunbookOrThrow(resolveRunbook(ref));
  const ui = pickInterface(opts);
  const vars = parseAssignments(opts.var, '--var');
  const { values, missing } = resolveInputs(loaded.runbook, vars, process.env);
  const databaseUrls = resolveDatabases(loaded.runbook, parseAssignments(opts.db, '--db'), process.env, { ...values, ...vars });
  await fillMissing(missing, loaded, ui, values);
  const mode: Mode = opts.dryRun ? 'dry-run' : 'incident';
  // The static frame first; the operator's name (git config, a process) after it: the interface shows it.
  if (ui === 'ink') showRunFrame(loaded.runbook, mode, urlTargets(loaded.runbook, databaseUrls), opts.operator?.trim() ?? '');
  const operator = operatorName(opts.operator);
  return runSession({
    loaded,
    mode,
    values,
    databaseUrls,
    ui,
    confirmTarget: opts.confirmTarget,
    operatorName: operator,
    transcriptDir: opts.transcriptDir ?? 'transcripts',
    cwd: process.cwd(),
    baseEnv: process.env,
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
    const good = t.lines.reduce((n, l) => n + Buffer.byteLength(l, 'utf8') + 1, 0);
    truncateSync(file, good);
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
  const databaseUrls = resolveDatabases(loaded.runbook, parseAssignments(opts.db, '--db'), process.env, { ...values, ...vars });
  await fillMissing(missing, loaded, ui, values);
  const journal = FileJournal.reopen(file, t.chain.lastHash);
  return runSession({
    loaded,
    mode: started.mode,
    values,
    databaseUrls,
    ui,
    confirmTarget: opts.confirmTarget,
    onUnknown: opts.onUnknown,
    operatorName: operatorName(opts.operator),
    transcriptDir: path.dirname(file),
    cwd: process.cwd(),
    baseEnv: process.env,
    resume: { events, journal, note: { from: file, ...(recovered ? { recovered } : {}), ...(runbookChanged ? { runbookChanged } : {}) } },
  });
}
