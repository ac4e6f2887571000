/**
 * `npm run bench`: what an operator feels. Each figure is the median of several runs (with min and
 * max), and where it has a baseline the two are measured side by side, run for run, so the ratio
 * holds on a noisy machine. Writes bench/results.json and bench/results.md (the README's table).
 *
 * Each measure is one function below that adds its rows; to add one, write a function and list it
 * in MEASURES. `npm run bench -- startup validate` runs only those (and writes no results).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { $ } from 'zx';
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { startDrillDatabase } from '../src/adapters/drill-db.js';
import { PgDatabases } from '../src/adapters/postgres.js';
import { resolveConnection } from '../src/core/conn.js';
import { FileJournal } from '../src/adapters/journal.js';
import { systemClock } from '../src/adapters/clock.js';
import { ExecaShell } from '../src/adapters/shell.js';
import { autoOperator } from '../src/core/auto-operator.js';
import { GENESIS, sealLine } from '../src/core/chain.js';
import type { Recorded } from '../src/core/events.js';
import { parseRunbook } from '../src/core/load.js';
import { buildPlan } from '../src/core/plan.js';
import type { Operator } from '../src/core/ports.js';
import { Redactor, StreamRedactor } from '../src/core/redact.js';
import type { Runbook } from '../src/core/runbook.js';
import { Run } from '../src/core/runner.js';
import { prismaChecksum } from '../src/core/migrations/prisma.js';
import { drizzleHash } from '../src/core/migrations/drizzle.js';
import { App, InkBridge } from '../src/ui/app.js';
import { ThemeContext } from '../src/ui/theme.js';

$.verbose = false;
const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'drillbook.js');
const TMP = path.join(ROOT, 'bench', 'tmp');
const NODE = process.execPath;

// ---------------------------------------------------------------------------------------------
// Statistics, rows, and ways to time a process.

interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}
interface Row {
  id: string;
  what: string;
  unit: 'ms' | 'µs' | 'MiB' | 'MB/s';
  stat: Stat;
  baseline?: { what: string; stat: Stat };
  /** This figure divided by its baseline, run by run. */
  ratio?: Stat;
  target: string;
  pass: boolean;
  /** What the figure costs, or what it leaves out. */
  note?: string;
}
const rows: Row[] = [];

function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]!, n: s.length };
}

async function sample(n: number, f: () => Promise<number>): Promise<Stat> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await f());
  return stat(xs);
}

/** Run `rounds` rounds of each timed function in turn; returns each one's times, round by round. */
async function sideBySide<K extends string>(rounds: number, fs: Record<K, () => Promise<number>>): Promise<Record<K, number[]>> {
  const out = Object.fromEntries(Object.keys(fs).map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < rounds; r++) for (const k of Object.keys(fs) as K[]) out[k].push(await fs[k]());
  return out;
}

const ratios = (xs: number[], base: number[]) => stat(xs.map((x, i) => x / base[i]!));

function add(row: Row): void {
  rows.push(row);
  const b = row.baseline ? `  baseline ${row.baseline.what}: ${f(row.baseline.stat.median)}` : '';
  const r = row.ratio ? `  ratio ${row.ratio.median.toFixed(2)} [${row.ratio.min.toFixed(2)}–${row.ratio.max.toFixed(2)}]` : '';
  process.stdout.write(`${row.pass ? 'ok  ' : 'MISS'} ${row.what}: ${f(row.stat.median)} ${row.unit} [${f(row.stat.min)}–${f(row.stat.max)}]${b}${r}  target ${row.target}\n`);
}

function f(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** Wall time of a command, from spawn to exit. */
async function timeCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = ROOT): Promise<number> {
  const t = performance.now();
  await new Promise<void>((resolve, reject) => {
    const c = spawn(cmd, args, { cwd, env, stdio: 'ignore' });
    c.on('exit', () => resolve());
    c.on('error', reject);
  });
  return performance.now() - t;
}

/**
 * On a real terminal (a 120×40 pty made by script(1)): the time from spawn until each marker first
 * appears in the output, or, without markers, until the command exits. Then the program is asked
 * to leave (Ctrl-C, then q y) and waited for, so it ends as an operator's session does.
 */
async function onPty(command: string, markers: RegExp[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs = 60_000): Promise<number[]> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const c = spawn('script', ['-qfec', `stty cols 120 rows 40; exec ${command}`, '/dev/null'], { cwd, env: { ...env, TERM: 'xterm-256color' }, stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    let out = '';
    let leaving = false;
    const at: number[] = [];
    c.stdin!.on('error', () => undefined);
    const timer = setTimeout(() => {
      process.kill(-c.pid!, 'SIGKILL');
      reject(new Error(`no ${markers.join(', ')} within ${timeoutMs} ms: ${out.slice(-500)}`));
    }, timeoutMs);
    c.on('exit', () => {
      clearTimeout(timer);
      if (markers.length === 0) resolve([performance.now() - t]);
      else if (at.length === markers.length) resolve(at);
      else reject(new Error(`exited before ${markers[at.length]}: ${out.slice(-500)}`));
    });
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const text = out.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '');
      while (at.length < markers.length && markers[at.length]!.test(text)) at.push(performance.now() - t);
      if (markers.length && at.length === markers.length && !leaving) {
        leaving = true;
        c.stdin!.write('\x03'); // Ctrl-C, then q y: leave cleanly
        setTimeout(() => c.stdin!.write('qy'), 150);
        setTimeout(() => {
          try {
            process.kill(-c.pid!, 'SIGTERM');
          } catch {
            // gone
          }
        }, 3000);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The measures.

interface Ctx {
  /** A database on the bench's throwaway PostgreSQL. */
  url: string;
  env: NodeJS.ProcessEnv;
  /** A 5,000-step runbook (50 phases of 100 steps). */
  bigFile: string;
}

function bigRunbookText(): string {
  const big = ['id: big', 'title: Big', 'version: 1', 'databases:', '  prod: {url: {env: DATABASE_URL}, environment: production, default: true}', 'phases:'];
  for (let p = 0; p < 50; p++) {
    big.push(`  - id: phase-${p}`, `    title: Phase ${p}`, '    kind: other', '    steps:');
    for (let s = 0; s < 100; s++) {
      const id = `s-${p}-${s}`;
      if (s % 3 === 0) big.push(`      - {id: ${id}, title: Check ${id}, check: 'SELECT count(*) FROM t WHERE id = ${s}', expect: {value: 1}}`);
      else if (s % 3 === 1) big.push(`      - {id: ${id}, title: Tick ${id}, checklist: [one, two]}`);
      else big.push(`      - {id: ${id}, title: Run ${id}, run: 'echo ${id}', irreversible: true}`);
    }
  }
  return `${big.join('\n')}\n`;
}

function newRun(rb: Runbook, url: string, operator: Operator, journalName: string): { run: Run; journal: FileJournal; dbs: PgDatabases } {
  const dbs = new PgDatabases({ prod: resolveConnection(url, {}, 'prod') });
  const journal = FileJournal.create(path.join(TMP, 't'), journalName, new Date());
  const run = new Run(
    buildPlan(rb, 'incident', { prod: { environment: 'production', databaseName: 'bench' } }),
    { runbook: rb, runbookPath: `${rb.id}.yaml`, runbookHash: '', drillbookVersion: 'bench', mode: 'incident', operatorName: 'bench', host: 'bench', cwd: TMP, values: {}, databaseEnv: {}, baseEnv: {}, targets: [], secretInputs: new Set() },
    { shell: new ExecaShell(), db: dbs, clock: systemClock, journal, operator, redactor: new Redactor() },
  );
  return { run, journal, dbs };
}

/** First frames on a real terminal, against node -e 0 on the same terminal (the pty's own cost taken out of both). */
async function measureStartup(ctx: Ctx): Promise<void> {
  const probe = path.join(TMP, 'startup.yaml');
  writeFileSync(probe, 'id: startup\ntitle: Startup probe\nversion: 1\ndatabases:\n  prod: {url: {env: DATABASE_URL}, environment: production}\nphases:\n  - id: p\n    title: Probe\n    kind: verify\n    steps:\n      - {id: ready, title: Ready, checklist: [ready to go]}\n');
  const runCmd = `${NODE} ${BIN} run ${probe} --dry-run --transcript-dir ${TMP}/t`;
  const drillCmd = `${NODE} ${BIN} drill --transcript-dir ${TMP}/t`;
  // Warm up: the first run of each writes its code cache (what every later run uses).
  await onPty(runCmd, [/Space: tick/], ctx.env, TMP);
  await onPty(drillCmd, [/navigate/], ctx.env, TMP);
  let runFirst: number[] = [];
  let runInteractive: number[] = [];
  let pickFirst: number[] = [];
  let pickInteractive: number[] = [];
  let runCold: number[] = [];
  const t = await sideBySide(11, {
    pty: async () => (await onPty('true', [], ctx.env, TMP))[0]!,
    node: async () => (await onPty(`${NODE} -e 0`, [], ctx.env, TMP))[0]!,
    run: async () => {
      const [a, b] = await onPty(runCmd, [/\[ \] ready to go/, /Space: tick/], ctx.env, TMP);
      runFirst.push(a!);
      runInteractive.push(b!);
      return a!;
    },
    drill: async () => {
      const [a, b] = await onPty(drillCmd, [/Which incident do you want to rehearse\?\s+❯/, /navigate/], ctx.env, TMP);
      pickFirst.push(a!);
      pickInteractive.push(b!);
      return a!;
    },
    cold: async () => {
      const [a] = await onPty(runCmd, [/\[ \] ready to go/], { ...ctx.env, DRILLBOOK_CODE_CACHE: '0' }, TMP);
      runCold.push(a!);
      return a!;
    },
  });
  // The pty, shell and stty cost the same to every command: subtract them, so the ratio compares the programs.
  const own = (xs: number[]) => xs.map((x, i) => x - t.pty[i]!);
  const node = own(t.node);
  const nodeStat = stat(node);
  const pty = stat(t.pty).median;
  runFirst = own(runFirst);
  runInteractive = own(runInteractive);
  pickFirst = own(pickFirst);
  pickInteractive = own(pickInteractive);
  runCold = own(runCold);
  const r1 = ratios(pickFirst, node);
  add({ id: 'startup-drill-picker', what: 'drill: first frame, the runbook picker (pty)', unit: 'ms', stat: stat(pickFirst), baseline: { what: 'node -e 0', stat: nodeStat }, ratio: r1, target: '≤ 2× node -e 0', pass: r1.median <= 2, note: `a static frame of the picker, drawn before inquirer loads; inquirer's own (with the description and keys) at ${f(stat(pickInteractive).median)} ms; pty+shell+stty cost ${f(pty)} ms, taken out of both` });
  const r2 = ratios(runFirst, node);
  add({ id: 'startup-run', what: 'run --dry-run: first frame, the first step (pty)', unit: 'ms', stat: stat(runFirst), baseline: { what: 'node -e 0', stat: nodeStat }, ratio: r2, target: '≤ 2× node -e 0', pass: r2.median <= 2, note: `a static frame drawn once the runbook is loaded; the interactive frame (Ink, targets inspected, keys) at ${f(stat(runInteractive).median)} ms (${ratios(runInteractive, node).median.toFixed(2)}×); without the code cache (a first run) ${f(stat(runCold).median)} ms (${ratios(runCold, node).median.toFixed(2)}×)` });
  const version = await sideBySide(10, { node: () => timeCommand(NODE, ['-e', '0']), version: () => timeCommand(NODE, [BIN, '--version']) });
  const rv = ratios(version.version, version.node);
  add({ id: 'version', what: 'drillbook --version', unit: 'ms', stat: stat(version.version), baseline: { what: 'node -e 0', stat: stat(version.node) }, ratio: rv, target: '≤ 2× node -e 0', pass: rv.median <= 2 });
}

async function measureValidate(ctx: Ctx): Promise<void> {
  await timeCommand(NODE, [BIN, 'validate', ctx.bigFile]); // warm up (code cache)
  const t = await sideBySide(7, { node: () => timeCommand(NODE, ['-e', '0']), validate: () => timeCommand(NODE, [BIN, 'validate', ctx.bigFile]) });
  const r = ratios(t.validate, t.node);
  const s = stat(t.validate);
  add({ id: 'validate-5000', what: 'validate a 5,000-step runbook', unit: 'ms', stat: s, baseline: { what: 'node -e 0', stat: stat(t.node) }, ratio: r, target: '≤ 400 ms and ≤ 6× node -e 0', pass: s.median <= 400 && r.median <= 6, note: 'fast YAML parse, schema, lint; yaml\'s own parse (with positions) runs only when a problem needs a place' });
}

/** A check step (engine, journal, READ ONLY transaction) minus the bare query. */
async function measureCheckOverhead(ctx: Ctx): Promise<void> {
  const bare = new pg.Client({ connectionString: ctx.url });
  await bare.connect();
  for (let i = 0; i < 20; i++) await bare.query('SELECT 1');
  const bareStat = await sample(200, async () => {
    const t = performance.now();
    await bare.query('SELECT 1');
    return performance.now() - t;
  });
  await bare.end();
  const checks = ['id: checks', 'title: Checks', 'version: 1', 'databases:', '  prod: {url: {env: DATABASE_URL}, environment: production}', 'phases:', '  - id: p', '    title: P', '    kind: verify', '    steps:'];
  for (let i = 0; i < 200; i++) checks.push(`      - {id: c${i}, title: C${i}, check: SELECT 1, expect: {value: 1}}`);
  const { runbook } = parseRunbook(checks.join('\n'), 'checks.yaml');
  const { run, journal, dbs } = newRun(runbook!, ctx.url, autoOperator({ confirmTarget: undefined, values: {} }), 'checks');
  const stepTimes: number[] = [];
  let t0 = 0;
  run.subscribe((_s, e) => {
    if (e?.type === 'step.started') t0 = performance.now();
    if (e?.type === 'step.finished') stepTimes.push(performance.now() - t0);
  });
  await run.execute();
  journal.close();
  await dbs.close();
  const stepStat = stat(stepTimes.slice(10));
  const overhead = stat(stepTimes.slice(10).map((x) => x - bareStat.median));
  add({ id: 'check-overhead', what: 'check step time minus the bare query (SELECT 1)', unit: 'ms', stat: overhead, baseline: { what: 'bare pg query', stat: bareStat }, target: '< 1 ms median', pass: overhead.median < 1, note: `whole check step ${stepStat.median.toFixed(2)} ms, incl. READ ONLY transaction, statement_timeout and 2 journal fdatasyncs` });
}

/** Keys to frames in the full-screen interface (ink-testing-library, a 40-row screen). */
async function measureKeypress(ctx: Ctx): Promise<void> {
  // While a check waits on pg_sleep(2).
  const slow = parseRunbook('id: slow\ntitle: Slow\nversion: 1\ndatabases:\n  prod: {url: {env: DATABASE_URL}, environment: production}\nphases:\n  - id: p\n    title: P\n    kind: verify\n    steps:\n      - {id: sleep, title: Sleep, check: SELECT pg_sleep(2), timeout: 10s}\n', 'slow.yaml').runbook!;
  const waiting: number[] = [];
  for (let round = 0; round < 3; round++) {
    const bridge = new InkBridge();
    const { run, journal, dbs } = newRun(slow, ctx.url, { request: (req) => bridge.request(req) } as Operator, `slow-${round}`);
    run.subscribe(() => bridge.bump());
    const ui = render(createElement(ThemeContext.Provider, { value: { color: false } }, createElement(App, { run, bridge, interrupt: () => undefined, rows: 40 })));
    const done = run.execute();
    await new Promise((res) => setTimeout(res, 300));
    for (let k = 0; k < 5; k++) {
      const t = performance.now();
      ui.stdin.write('n');
      while (!(ui.lastFrame() ?? '').includes('Note for the transcript')) await new Promise((res) => setImmediate(res));
      waiting.push(performance.now() - t);
      ui.stdin.write('\x1b');
      while ((ui.lastFrame() ?? '').includes('Note for the transcript')) await new Promise((res) => setImmediate(res));
    }
    await done;
    ui.unmount();
    journal.close();
    await dbs.close();
  }
  const w = stat(waiting);
  add({ id: 'ui-while-check', what: 'keypress to frame while a pg_sleep(2) check runs', unit: 'ms', stat: w, target: '< 50 ms', pass: w.median < 50 });

  // On 5,000 steps against 10 steps: the same keys (cursor down and up in a checklist), alternately on each.
  const first = "- {id: s-0-0, title: Check s-0-0, check: 'SELECT count(*) FROM t WHERE id = 0', expect: {value: 1}}";
  const bigText = readFileSync(ctx.bigFile, 'utf8').replace(first, '- {id: s-0-0, title: First, checklist: [one, two, three]}');
  const smallText = `${bigText.split('\n').slice(0, 20).join('\n')}\n`; // the header, then phase 0's first 10 steps
  const mount = async (text: string, name: string) => {
    const rb = parseRunbook(text, `${name}.yaml`).runbook!;
    const bridge = new InkBridge();
    const r = newRun(rb, ctx.url, { request: (req) => bridge.request(req) } as Operator, name);
    r.run.subscribe(() => bridge.bump());
    const ui = render(createElement(ThemeContext.Provider, { value: { color: false } }, createElement(App, { run: r.run, bridge, interrupt: () => undefined, rows: 40 })));
    void r.run.execute();
    while (!(ui.lastFrame() ?? '').includes('[ ] one')) await new Promise((res) => setTimeout(res, 5));
    return { ui, steps: Object.keys(r.run.plan.steps).length, close: async () => { ui.unmount(); r.journal.close(); await r.dbs.close(); } };
  };
  const big = await mount(bigText, 'big');
  const small = await mount(smallText, 'small');
  const press = async (ui: ReturnType<typeof render>, key: string) => {
    const before = ui.lastFrame();
    const t = performance.now();
    ui.stdin.write(key);
    while (ui.lastFrame() === before) await new Promise((res) => setImmediate(res));
    return performance.now() - t;
  };
  for (let k = 0; k < 10; k++) {
    await press(big.ui, k % 2 ? 'k' : 'j'); // warm up both
    await press(small.ui, k % 2 ? 'k' : 'j');
  }
  const lat = await sideBySide(40, { small: () => press(small.ui, 'j').then(async (a) => a + (await press(small.ui, 'k'))), big: () => press(big.ui, 'j').then(async (a) => a + (await press(big.ui, 'k'))) });
  const half = (xs: number[]) => xs.map((x) => x / 2);
  const r = ratios(lat.big, lat.small);
  add({ id: 'key-5000', what: `keypress to frame on a ${big.steps.toLocaleString('en')}-step runbook`, unit: 'ms', stat: stat(half(lat.big)), baseline: { what: `${small.steps} steps`, stat: stat(half(lat.small)) }, ratio: r, target: '≤ 1.5× a 10-step runbook', pass: r.median <= 1.5, note: 'the phase list draws a window of at most 15 rows around the current step, whatever the runbook\'s size' });
  await big.close();
  await small.close();
}

/** Transcript append with fdatasync, against a bare writeSync + fdatasync loop. */
async function measureJournal(): Promise<void> {
  const ev = (i: number): Recorded => ({ type: 'note', text: `event ${i} ${'x'.repeat(120)}`, seq: i + 1, ts: new Date().toISOString(), actor: 'bench', mode: 'incident' }) as Recorded;
  mkdirSync(path.join(TMP, 'journal'), { recursive: true });
  const appendRatio: number[] = [];
  const appendCost: number[] = [];
  const bareCost: number[] = [];
  for (let round = 0; round < 16; round++) {
    const n = 2000;
    const ourRun = () => {
      const fj = FileJournal.create(path.join(TMP, 'journal'), `append-${round}`, new Date());
      // Made before the clock starts, as the baseline's line is: the events exist before they are recorded.
      const events = Array.from({ length: n }, (_, i) => ev(i));
      const t = performance.now();
      for (let i = 0; i < n; i++) fj.append(events[i]!);
      const us = ((performance.now() - t) * 1000) / n;
      fj.close();
      return us;
    };
    const bareRun = () => {
      const line = Buffer.from(`${sealLine(ev(0), GENESIS).line}\n`);
      const fd = openSync(path.join(TMP, 'journal', `bare-${round}.jsonl`), 'wx', 0o600);
      const t = performance.now();
      for (let i = 0; i < n; i++) {
        writeSync(fd, line);
        fdatasyncSync(fd);
      }
      const us = ((performance.now() - t) * 1000) / n;
      closeSync(fd);
      return us;
    };
    // Alternate which goes first, so the disk's warm-up favours neither.
    const [ours, theirs] = round % 2 ? [ourRun(), bareRun()] : (() => { const b = bareRun(); return [ourRun(), b]; })();
    appendCost.push(ours);
    bareCost.push(theirs);
    appendRatio.push(ours / theirs);
  }
  const ratio = stat(appendRatio);
  add({ id: 'append', what: 'transcript append (seal + write + fdatasync), per event', unit: 'µs', stat: stat(appendCost), baseline: { what: 'bare writeSync + fdatasync', stat: stat(bareCost) }, ratio, target: 'ratio ≤ 1.2', pass: ratio.median <= 1.2 });
}

/**
 * A sealed transcript of 100,000 events after its run.started: `cycle` gives the i-th event (each
 * step's events in turn), its step named from i / cycle length.
 */
function writeHugeTranscript(file: string, cycle: Array<(step: string) => Record<string, unknown>>): void {
  const lines: string[] = [];
  let prev = GENESIS;
  const base = Date.parse('2026-11-22T00:00:00Z');
  const first = { type: 'run.started', runbook: { id: 'huge', title: 'Huge', version: '1', path: 'x', hash: 'h' }, drillbook: 'bench', operator: 'bench', host: 'bench', mode: 'incident', targets: [], inputs: {}, seq: 1, ts: new Date(base).toISOString(), actor: 'bench' } as unknown as Recorded;
  let sealed = sealLine(first, prev);
  lines.push(sealed.line);
  prev = sealed.hash;
  for (let i = 2; i <= 100_000; i++) {
    const e = cycle[i % cycle.length]!(`s${Math.floor(i / cycle.length)}`);
    sealed = sealLine({ ...e, seq: i, ts: new Date(base + i * 10).toISOString(), actor: 'bench', mode: 'incident' } as unknown as Recorded, prev);
    lines.push(sealed.line);
    prev = sealed.hash;
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

async function measureReport(): Promise<void> {
  const huge = path.join(TMP, 'huge.jsonl');
  // Four kinds of event in turn (the figure the goal was set on; its commands record no exit, so they have no output section).
  writeHugeTranscript(huge, [
    (step) => ({ type: 'step.started', step, phase: 'p', attempt: 1 }),
    (step) => ({ type: 'command.started', step, command: 'echo hi', cwd: '/', env: [] }),
    (step) => ({ type: 'command.output', step, stream: 'stdout', text: 'hi\n' }),
    (step) => ({ type: 'step.finished', step, outcome: 'passed' }),
  ]);
  const args = [BIN, 'report', huge, '-o', path.join(TMP, 'huge.md')];
  await timeCommand(NODE, args); // warm up (code cache)
  const t = await sideBySide(5, { node: () => timeCommand(NODE, ['-e', '0']), report: () => timeCommand(NODE, args) });
  const s = stat(t.report);
  add({ id: 'report-100k', what: 'report on a 100,000-event transcript', unit: 'ms', stat: s, baseline: { what: 'node -e 0', stat: stat(t.node) }, ratio: ratios(t.report, t.node), target: '≤ 500 ms', pass: s.median <= 500, note: 'reads the whole transcript and checks every hash of the chain (on a second thread), building the Markdown as it reads: no event is kept' });
  const rss = await sample(3, async () => {
    const out = await $({ cwd: TMP, nothrow: true })`/usr/bin/time -f %M ${NODE} ${args}`;
    return Number(out.stderr.trim().split('\n').pop()) / 1024;
  });
  add({ id: 'report-100k-rss', what: 'peak RSS of that report', unit: 'MiB', stat: rss, target: '< 150 MiB', pass: rss.median < 150 });
  // As a run records them: each command exits, so each has its section of output in the report (20,000 of them).
  const complete = path.join(TMP, 'complete.jsonl');
  writeHugeTranscript(complete, [
    (step) => ({ type: 'step.started', step, phase: 'p', attempt: 1 }),
    (step) => ({ type: 'command.started', step, command: 'echo hi', cwd: '/', env: [] }),
    (step) => ({ type: 'command.output', step, stream: 'stdout', text: 'hi\n' }),
    (step) => ({ type: 'command.exited', step, exitCode: 0, signal: null, durationMs: 12, timedOut: false, cancelled: false }),
    (step) => ({ type: 'step.finished', step, outcome: 'passed' }),
  ]);
  const completeArgs = [BIN, 'report', complete, '-o', path.join(TMP, 'complete.md')];
  await timeCommand(NODE, completeArgs);
  const c = await sample(5, () => timeCommand(NODE, completeArgs));
  add({ id: 'report-100k-complete', what: 'report on a 100,000-event transcript of 20,000 complete commands (each with its output section)', unit: 'ms', stat: c, target: 'recorded', pass: true });
}

/** To the interactive first frame with a seeded database: cold (first initdb), warm (the kept staging), and staging anew. */
async function measureDrill(): Promise<void> {
  const drillCwd = mkdtempSync(path.join(os.tmpdir(), 'drillbook-bench-drill-'));
  // The server's version is in the banner once the database is up and inspected (the static frame before it says "starting").
  const ready = /· PostgreSQL \d+/;
  const cmd = `${NODE} ${BIN} drill prisma-failed-migration --transcript-dir ${TMP}/t`;
  const cold = await sample(3, async () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'drillbook-bench-cache-'));
    try {
      return (await onPty(cmd, [ready], { ...process.env, XDG_CACHE_HOME: cache }, drillCwd))[0]!;
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
  await onPty(cmd, [ready], process.env, drillCwd); // warm up
  const firstFrame: number[] = [];
  const warm = await sample(5, async () => {
    const [a, b] = await onPty(cmd, [/REHEARSAL · /, ready], process.env, drillCwd);
    firstFrame.push(a!);
    return b!;
  });
  // The same drill staging its incident anew each time (DRILLBOOK_STAGE_CACHE=0), with the tools auto picks here.
  const anew = await sample(3, async () => (await onPty(cmd, [ready], { ...process.env, DRILLBOOK_STAGE_CACHE: '0' }, drillCwd))[0]!);
  rmSync(drillCwd, { recursive: true, force: true });
  add({ id: 'drill-cold', what: 'drill to its interactive frame with a seeded database, cold (first initdb, no code cache, the incident staged and kept)', unit: 'ms', stat: cold, target: 'recorded', pass: true });
  add({
    id: 'drill-warm',
    what: 'drill to its interactive frame with a seeded database, warm (the incident as an earlier drill staged it)',
    unit: 'ms',
    stat: warm,
    target: '< 1000 ms',
    pass: warm.median < 1000,
    note: `the runbook's static frame shows at ${f(stat(firstFrame).median)} ms, while the database starts`,
  });
  add({
    id: 'drill-staged-anew',
    what: 'the same drill staging its incident anew (DRILLBOOK_STAGE_CACHE=0)',
    unit: 'ms',
    stat: anew,
    target: 'recorded',
    pass: true,
    note: 'with the tools --tools auto picks here: the real prisma 7.10.1 stages the incident with two `prisma migrate deploy` runs of about 2 s each (the Prisma CLI\'s own start-up)',
  });
}

async function measureDiagnose(ctx: Ctx): Promise<void> {
  const proj = path.join(TMP, 'diag');
  const migDir = path.join(proj, 'prisma', 'migrations');
  mkdirSync(migDir, { recursive: true });
  const c = new pg.Client({ connectionString: ctx.url });
  await c.connect();
  await c.query('CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ, started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0)');
  const values: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const name = `2024${String(100000000 + i).slice(1)}00_m${i}`;
    const sqlText = `CREATE TABLE t${i} (id int);\n`;
    mkdirSync(path.join(migDir, name));
    writeFileSync(path.join(migDir, name, 'migration.sql'), sqlText);
    if (i < 1990) values.push(`(gen_random_uuid()::text, '${prismaChecksum(sqlText)}', now(), '${name}', now(), 1)`);
  }
  await c.query(`INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES ${values.join(',')}`);
  await c.end();
  await timeCommand(NODE, [BIN, 'diagnose', '--db', ctx.url], process.env, proj); // warm up (code cache)
  const t = await sideBySide(5, { node: () => timeCommand(NODE, ['-e', '0']), diag: () => timeCommand(NODE, [BIN, 'diagnose', '--db', ctx.url], process.env, proj) });
  const s = stat(t.diag);
  add({ id: 'diagnose-2000', what: 'diagnose on 2,000 migrations (10 pending)', unit: 'ms', stat: s, baseline: { what: 'node -e 0', stat: stat(t.node) }, ratio: ratios(t.diag, t.node), target: '< 1000 ms', pass: s.median < 1000, note: 'prisma migrate status itself cannot run here (its engine is downloaded from a host this machine cannot reach), so it is not compared' });
}

/** diagnose on a Drizzle project of 5,000 journal entries (issue #16): linear, where it was quadratic (2.16 s). */
async function measureDiagnoseDrizzle(ctx: Ctx): Promise<void> {
  const dproj = path.join(TMP, 'diag-drizzle');
  const out = path.join(dproj, 'drizzle');
  mkdirSync(path.join(out, 'meta'), { recursive: true });
  writeFileSync(path.join(dproj, 'drizzle.config.ts'), "export default { dialect: 'postgresql', out: './drizzle' };\n");
  const admin = new pg.Client({ connectionString: ctx.url });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS bench_drizzle');
  await admin.query('CREATE DATABASE bench_drizzle');
  await admin.end();
  const u = new URL(ctx.url);
  u.pathname = '/bench_drizzle';
  const DURL = u.toString();
  const entries: Array<{ idx: number; version: string; when: number; tag: string; breakpoints: boolean }> = [];
  const applied: Array<[string, number]> = [];
  for (let i = 0; i < 5000; i++) {
    const tag = `${String(i).padStart(4, '0')}_m${i}`;
    const when = 1700000000000 + i * 1000;
    const sqlText = `CREATE TABLE "d${i}" ("id" integer);\n`;
    writeFileSync(path.join(out, `${tag}.sql`), sqlText);
    entries.push({ idx: i, version: '7', when, tag, breakpoints: true });
    if (i < 4990) applied.push([drizzleHash(sqlText), when]);
  }
  writeFileSync(path.join(out, 'meta', '_journal.json'), JSON.stringify({ version: '7', dialect: 'postgresql', entries }));
  const dc = new pg.Client({ connectionString: DURL });
  await dc.connect();
  await dc.query('CREATE SCHEMA drizzle; CREATE TABLE drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)');
  await dc.query('INSERT INTO drizzle.__drizzle_migrations (hash, created_at) SELECT * FROM unnest($1::text[], $2::bigint[])', [applied.map((a) => a[0]), applied.map((a) => a[1])]);
  await dc.end();
  await timeCommand(NODE, [BIN, 'diagnose', '--db', DURL], process.env, dproj); // warm up (code cache)
  const t = await sideBySide(5, { node: () => timeCommand(NODE, ['-e', '0']), diag: () => timeCommand(NODE, [BIN, 'diagnose', '--db', DURL], process.env, dproj) });
  const s = stat(t.diag);
  add({ id: 'diagnose-drizzle-5000', what: 'diagnose, 5,000 Drizzle entries (10 pending)', unit: 'ms', stat: s, baseline: { what: 'node -e 0', stat: stat(t.node) }, ratio: ratios(t.diag, t.node), target: '< 1000 ms', pass: s.median < 1000, note: 'was 2.16 s before #16 (quadratic)' });
}

// Hostile output (issue #15): how fast output is redacted, and the memory 100 MB of it costs.
async function measureHostileOutput(): Promise<void> {
  // Redaction throughput: log-like text full of URLs, "password" words and a few secrets, in 64 KiB chunks.
  const secrets = ['hunter22-s3cr3t', 'tok_4f9a8b7c6d5e', 'another secret value'];
  const redactor = new Redactor(secrets, ['app', 'deploy']);
  const line = (i: number) => `2026-11-22T10:00:${String(i % 60).padStart(2, '0')}Z INFO applied 20240101_${i}_init in ${i % 97}ms; connected to postgres://app@db:5432/shop; password check ok${i % 1000 === 0 ? ` token=${secrets[i % 3]}` : ''}\n`;
  let text = '';
  for (let i = 0; text.length < 4 * 1024 * 1024; i++) text += line(i);
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 65536) chunks.push(text.slice(i, i + 65536));
  const rounds = 16; // 64 MiB a sample
  const throughput = await sample(5, async () => {
    const s = new StreamRedactor(redactor);
    const t = performance.now();
    for (let r = 0; r < rounds; r++) for (const c of chunks) s.push(c);
    s.flush();
    return (rounds * text.length) / 1e6 / ((performance.now() - t) / 1000);
  });
  add({ id: 'redact-throughput', what: 'redaction throughput (3 secrets in all their forms, URL and password patterns, 64 KiB chunks)', unit: 'MB/s', stat: throughput, target: '≥ 20 MB/s', pass: throughput.median >= 20 });

  // Peak RSS of a run whose command prints 100 MB (the transcript keeps its head and tail).
  const dir = path.join(TMP, 'loud');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'loud.yaml'), `id: loud\ntitle: 100 MB of output\nversion: 1\nphases:\n  - id: p\n    title: P\n    kind: verify\n    steps:\n      - {id: loud, title: Print 100 MB, run: "yes 'row 0123456789 postgres://app@db:5432/shop password check ok' | head -c 100000000", effect: read-only}\n`);
  const loud = await sample(3, async () => {
    const out = await $({ cwd: dir, nothrow: true, env: { ...process.env, CI: 'true' } })`/usr/bin/time -f %M ${process.execPath} ${BIN} run loud.yaml --auto --transcript-dir ${TMP}/t > /dev/null`.quiet();
    return Number(out.stderr.trim().split('\n').pop()) / 1024;
  });
  add({ id: 'memory-100mb-output', what: 'peak RSS of a run whose command prints 100 MB', unit: 'MiB', stat: loud, target: '< 200 MiB', pass: loud.median < 200 });
}

/** Peak RSS of a drill of the largest shipped runbook. */
async function measureMemory(): Promise<void> {
  const rss = await sample(3, async () => {
    const out = await $({ cwd: TMP, nothrow: true, env: { ...process.env, CI: 'true' } })`/usr/bin/time -f %M ${NODE} ${BIN} drill ecto-untracked-schema --auto --transcript-dir ${TMP}/t`;
    const kb = Number(out.stderr.trim().split('\n').pop());
    return kb / 1024;
  });
  add({ id: 'memory', what: 'peak RSS of a drill of the largest shipped runbook (ecto-untracked-schema)', unit: 'MiB', stat: rss, target: '< 120 MiB', pass: rss.median < 120 });
}

const MEASURES: Record<string, (ctx: Ctx) => Promise<void>> = {
  startup: measureStartup,
  validate: measureValidate,
  check: measureCheckOverhead,
  keypress: measureKeypress,
  journal: measureJournal,
  report: measureReport,
  drill: measureDrill,
  diagnose: measureDiagnose,
  'diagnose-drizzle': measureDiagnoseDrizzle,
  'hostile-output': () => measureHostileOutput(),
  memory: measureMemory,
};

// ---------------------------------------------------------------------------------------------

const only = process.argv.slice(2);
for (const name of only) if (!(name in MEASURES)) throw new Error(`no measure "${name}"; measures: ${Object.keys(MEASURES).join(', ')}`);
const started = performance.now();
const load = os.loadavg()[0]!;
rmSync(TMP, { recursive: true, force: true });
mkdirSync(TMP, { recursive: true });
chmodSync(TMP, 0o755);
const db = await startDrillDatabase();
try {
  const admin = new pg.Client({ connectionString: db.url('postgres') });
  await admin.connect();
  await admin.query('CREATE DATABASE bench');
  await admin.end();
  const bigFile = path.join(TMP, 'big.yaml');
  writeFileSync(bigFile, bigRunbookText());
  const ctx: Ctx = { url: db.url('bench'), env: { ...process.env, DATABASE_URL: db.url('bench'), NO_COLOR: '1' }, bigFile };
  for (const [name, measure] of Object.entries(MEASURES)) {
    if (only.length && !only.includes(name)) continue;
    // What earlier measures (and the database's creation) left for the disk to write is written first:
    // the figures that time fdatasync then time this code's syncs, not the kernel's writeback of theirs.
    spawnSync('sync');
    await measure(ctx);
  }
} finally {
  await db.stop();
}
rmSync(TMP, { recursive: true, force: true });

const seconds = (performance.now() - started) / 1000;
const cpus = os.cpus();
const machine = `${cpus[0]?.model ?? 'cpu'} × ${cpus.length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
const conditions = `load average ${load.toFixed(1)} at the start, ${os.loadavg()[0]!.toFixed(1)} at the end`;
const when = new Date().toISOString();
const md = [
  `Measured ${when.slice(0, 10)} on ${machine}; ${conditions} (\`npm run bench\`, ${seconds.toFixed(0)} s). Median of the runs, [min–max]; a ratio is taken run by run against its baseline, measured alternately with it.`,
  '',
  '| measure | median | [min–max] | baseline (median) | ratio [min–max] | target | met |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.what}${r.note ? ` (${r.note})` : ''} | ${f(r.stat.median)} ${r.unit} | ${f(r.stat.min)}–${f(r.stat.max)} | ${r.baseline ? `${r.baseline.what}: ${f(r.baseline.stat.median)} ${r.unit}` : '—'} | ${r.ratio ? `${r.ratio.median.toFixed(2)} [${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)}]` : '—'} | ${r.target} | ${r.pass ? 'yes' : '**no**'} |`),
  '',
].join('\n');
process.stdout.write(`\n${md}`);
if (only.length) {
  process.stdout.write('\n(a partial run: bench/results.* left as they were)\n');
} else {
  writeFileSync(path.join(ROOT, 'bench', 'results.json'), `${JSON.stringify({ when, machine, conditions, seconds, rows }, null, 2)}\n`);
  writeFileSync(path.join(ROOT, 'bench', 'results.md'), md);
}
