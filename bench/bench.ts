/**
 * `npm run bench`: what an operator feels, each figure the median of several runs (with min and
 * max), each compared in the same run with its baseline so the ratio holds on a noisy machine.
 * Writes bench/results.json and bench/results.md.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, fdatasyncSync, closeSync, chmodSync } from 'node:fs';
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
import { Run } from '../src/core/runner.js';
import { prismaChecksum } from '../src/core/migrations/prisma.js';
import { drizzleHash } from '../src/core/migrations/drizzle.js';
import { App, InkBridge } from '../src/ui/app.js';
import { ThemeContext } from '../src/ui/theme.js';

$.verbose = false;
const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'drillbook.js');
const TMP = path.join(ROOT, 'bench', 'tmp');
rmSync(TMP, { recursive: true, force: true });
mkdirSync(TMP, { recursive: true });
chmodSync(TMP, 0o755);

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
  target: string;
  pass: boolean;
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

/** Time until a marker appears on a real terminal (a pty made by script(1)); then stop the program. */
async function timeToMarker(command: string, marker: RegExp, env: NodeJS.ProcessEnv, cwd: string, timeoutMs = 60_000): Promise<number> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const c = spawn('script', ['-qfec', command, '/dev/null'], { cwd, env: { ...env, TERM: 'xterm-256color', COLUMNS: '120', LINES: '40' }, stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    let out = '';
    c.stdin!.on('error', () => undefined);
    const timer = setTimeout(() => {
      process.kill(-c.pid!, 'SIGKILL');
      reject(new Error(`no ${marker} within ${timeoutMs} ms: ${out.slice(-500)}`));
    }, timeoutMs);
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (marker.test(out.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, ''))) {
        const took = performance.now() - t;
        clearTimeout(timer);
        c.once('exit', () => resolve(took));
        c.stdin!.write('\x03'); // Ctrl-C, then q y: leave cleanly
        setTimeout(() => c.stdin!.write('qy'), 150);
        setTimeout(() => { try { process.kill(-c.pid!, 'SIGTERM'); } catch { /* gone */ } }, 3000);
      }
    });
  });
}

function add(row: Row): void {
  rows.push(row);
  const b = row.baseline ? `  (baseline ${row.baseline.what}: ${row.baseline.stat.median.toFixed(2)})` : '';
  process.stdout.write(`${row.pass ? 'ok  ' : 'MISS'} ${row.what}: median ${row.stat.median.toFixed(2)} ${row.unit} [${row.stat.min.toFixed(2)}–${row.stat.max.toFixed(2)}]${b}  target ${row.target}\n`);
}

const started = performance.now();
const db = await startDrillDatabase();
const admin = new pg.Client({ connectionString: db.url('postgres') });
await admin.connect();
await admin.query('CREATE DATABASE bench');
await admin.end();
const URL = db.url('bench');
const envWithDb = { ...process.env, DATABASE_URL: URL, NO_COLOR: '1' };

try {
  // 1. Start-up to the first frame, against node -e 0 and an unbundled import of ink.
  const nodeBare = await sample(10, () => timeCommand(process.execPath, ['-e', '0']));
  const inkImport = await sample(5, () => timeCommand(process.execPath, ['--input-type=module', '-e', "await import('ink')"]));
  const startupRunbook = path.join(TMP, 'startup.yaml');
  writeFileSync(startupRunbook, `id: startup\ntitle: Startup probe\nversion: 1\ndatabases:\n  prod: {url: {env: DATABASE_URL}, environment: production}\nphases:\n  - id: p\n    title: Probe\n    kind: verify\n    steps:\n      - {id: ready, title: Ready, checklist: [ready]}\n`);
  const firstFrame = await sample(7, () => timeToMarker(`${process.execPath} ${BIN} run ${startupRunbook} --dry-run --transcript-dir ${TMP}/t`, /Space: tick/, envWithDb, TMP));
  add({ id: 'startup', what: 'run --dry-run to its first complete frame (pty)', unit: 'ms', stat: firstFrame, baseline: { what: 'node -e 0', stat: nodeBare }, target: '≤ 2× node -e 0', pass: firstFrame.median <= 2 * nodeBare.median, note: `unbundled import of ink alone: ${inkImport.median.toFixed(0)} ms` });
  const version = await sample(10, () => timeCommand(process.execPath, [BIN, '--version']));
  add({ id: 'version', what: 'drillbook --version', unit: 'ms', stat: version, baseline: { what: 'node -e 0', stat: nodeBare }, target: '≤ 2× node -e 0', pass: version.median <= 2 * nodeBare.median });

  // 2. validate on a 5,000-step runbook.
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
  const bigFile = path.join(TMP, 'big.yaml');
  writeFileSync(bigFile, `${big.join('\n')}\n`);
  const validate = await sample(5, () => timeCommand(process.execPath, [BIN, 'validate', bigFile]));
  add({ id: 'validate-5000', what: 'validate a 5,000-step runbook', unit: 'ms', stat: validate, baseline: { what: 'node -e 0', stat: nodeBare }, target: '< 500 ms', pass: validate.median < 500 });

  // 3. Check overhead: a check step (engine, journal, READ ONLY transaction) minus the bare query.
  const bare = new pg.Client({ connectionString: URL });
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
  const { runbook: checkRunbook } = parseRunbook(checks.join('\n'), 'checks.yaml');
  const dbs = new PgDatabases({ prod: resolveConnection(URL, {}, 'prod') });
  const journal = FileJournal.create(path.join(TMP, 't'), 'checks', new Date());
  const plan = buildPlan(checkRunbook!, 'incident', { prod: { environment: 'production', databaseName: 'bench' } });
  const run = new Run(
    plan,
    { runbook: checkRunbook!, runbookPath: 'checks.yaml', runbookHash: '', drillbookVersion: 'bench', mode: 'incident', operatorName: 'bench', host: 'bench', cwd: TMP, values: {}, databaseEnv: {}, baseEnv: {}, targets: [], secretInputs: new Set() },
    { shell: new ExecaShell(), db: dbs, clock: systemClock, journal, operator: autoOperator({ confirmTarget: undefined, values: {} }), redactor: new Redactor() },
  );
  const stepTimes: number[] = [];
  let t0 = 0;
  run.subscribe((_s, e) => {
    if (e?.type === 'step.started') t0 = performance.now();
    if (e?.type === 'step.finished') stepTimes.push(performance.now() - t0);
  });
  await run.execute();
  journal.close();
  const stepStat = stat(stepTimes.slice(10));
  const overhead = stat(stepTimes.slice(10).map((x) => x - bareStat.median));
  add({ id: 'check-overhead', what: 'check step time minus the bare query (SELECT 1)', unit: 'ms', stat: overhead, baseline: { what: 'bare pg query', stat: bareStat }, target: '< 1 ms median', pass: overhead.median < 1, note: `whole check step ${stepStat.median.toFixed(2)} ms, incl. READ ONLY transaction, statement_timeout and 2 journal fdatasyncs` });

  // UI responsiveness while a check waits on pg_sleep(2).
  const slow = parseRunbook('id: slow\ntitle: Slow\nversion: 1\ndatabases:\n  prod: {url: {env: DATABASE_URL}, environment: production}\nphases:\n  - id: p\n    title: P\n    kind: verify\n    steps:\n      - {id: sleep, title: Sleep, check: SELECT pg_sleep(2), timeout: 10s}\n', 'slow.yaml').runbook!;
  const keyLatency: number[] = [];
  for (let round = 0; round < 3; round++) {
    const bridge = new InkBridge();
    const j = FileJournal.create(path.join(TMP, 't'), `slow-${round}`, new Date());
    const r = new Run(
      buildPlan(slow, 'incident', { prod: { environment: 'production', databaseName: 'bench' } }),
      { runbook: slow, runbookPath: 'slow.yaml', runbookHash: '', drillbookVersion: 'bench', mode: 'incident', operatorName: 'bench', host: 'bench', cwd: TMP, values: {}, databaseEnv: {}, baseEnv: {}, targets: [], secretInputs: new Set() },
      { shell: new ExecaShell(), db: dbs, clock: systemClock, journal: j, operator: { request: (req) => bridge.request(req) } as Operator, redactor: new Redactor() },
    );
    r.subscribe(() => bridge.bump());
    const ui = render(createElement(ThemeContext.Provider, { value: { color: false } }, createElement(App, { run: r, bridge, interrupt: () => undefined })));
    const done = r.execute();
    await new Promise((res) => setTimeout(res, 300));
    for (let k = 0; k < 5; k++) {
      const t = performance.now();
      ui.stdin.write('n');
      while (!(ui.lastFrame() ?? '').includes('Note for the transcript')) await new Promise((res) => setImmediate(res));
      keyLatency.push(performance.now() - t);
      ui.stdin.write('\x1b');
      while ((ui.lastFrame() ?? '').includes('Note for the transcript')) await new Promise((res) => setImmediate(res));
    }
    await done;
    ui.unmount();
    j.close();
  }
  const keyWhileWaiting = stat(keyLatency);
  add({ id: 'ui-while-check', what: 'keypress to frame while a pg_sleep(2) check runs', unit: 'ms', stat: keyWhileWaiting, target: '< 50 ms', pass: keyWhileWaiting.median < 50 });

  // 4. Keypress to frame on a 5,000-step runbook.
  const { runbook: bigRunbook } = parseRunbook(readFileSync(bigFile, 'utf8').replace("- {id: s-0-0, title: Check s-0-0, check: 'SELECT count(*) FROM t WHERE id = 0', expect: {value: 1}}", '- {id: s-0-0, title: First, checklist: [one, two, three]}'), 'big.yaml');
  {
    const bridge = new InkBridge();
    const j = FileJournal.create(path.join(TMP, 't'), 'big', new Date());
    const r = new Run(
      buildPlan(bigRunbook!, 'incident', { prod: { environment: 'production', databaseName: 'bench' } }),
      { runbook: bigRunbook!, runbookPath: 'big.yaml', runbookHash: '', drillbookVersion: 'bench', mode: 'incident', operatorName: 'bench', host: 'bench', cwd: TMP, values: {}, databaseEnv: {}, baseEnv: {}, targets: [], secretInputs: new Set() },
      { shell: new ExecaShell(), db: dbs, clock: systemClock, journal: j, operator: { request: (req) => bridge.request(req) } as Operator, redactor: new Redactor() },
    );
    r.subscribe(() => bridge.bump());
    const ui = render(createElement(ThemeContext.Provider, { value: { color: false } }, createElement(App, { run: r, bridge, interrupt: () => undefined })));
    void r.execute();
    while (!(ui.lastFrame() ?? '').includes('[ ] one')) await new Promise((res) => setTimeout(res, 5));
    const lat: number[] = [];
    for (let k = 0; k < 30; k++) {
      const before = ui.lastFrame();
      const t = performance.now();
      ui.stdin.write(k % 2 ? 'k' : 'j');
      while (ui.lastFrame() === before) await new Promise((res) => setImmediate(res));
      lat.push(performance.now() - t);
    }
    ui.unmount();
    j.close();
    const s = stat(lat);
    add({ id: 'key-5000', what: 'keypress to frame on a 5,000-step runbook', unit: 'ms', stat: s, target: '< 16 ms median', pass: s.median < 16 });
  }
  await dbs.close();

  // 5. Transcript append with fdatasync, against a bare writeSync + fdatasync loop.
  const ev = (i: number): Recorded => ({ type: 'note', text: `event ${i} ${'x'.repeat(120)}`, seq: i + 1, ts: new Date().toISOString(), actor: 'bench', mode: 'incident' }) as Recorded;
  mkdirSync(path.join(TMP, 'journal'), { recursive: true });
  const appendRatio: number[] = [];
  const appendCost: number[] = [];
  const bareCost: number[] = [];
  for (let round = 0; round < 8; round++) {
    const n = 2000;
    const ourRun = () => {
      const fj = FileJournal.create(path.join(TMP, 'journal'), `append-${round}`, new Date());
      const t = performance.now();
      for (let i = 0; i < n; i++) fj.append(ev(i));
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
  add({ id: 'append', what: 'transcript append (seal + write + fdatasync), per event', unit: 'µs', stat: stat(appendCost), baseline: { what: 'bare writeSync + fdatasync', stat: stat(bareCost) }, target: 'ratio < 1.2', pass: ratio.median < 1.2, note: `ratio median ${ratio.median.toFixed(3)} [${ratio.min.toFixed(3)}–${ratio.max.toFixed(3)}]` });

  const huge = path.join(TMP, 'huge.jsonl');
  {
    const lines: string[] = [];
    let prev = GENESIS;
    const base = Date.parse('2026-11-22T00:00:00Z');
    const first = { type: 'run.started', runbook: { id: 'huge', title: 'Huge', version: '1', path: 'x', hash: 'h' }, drillbook: 'bench', operator: 'bench', host: 'bench', mode: 'incident', targets: [], inputs: {}, seq: 1, ts: new Date(base).toISOString(), actor: 'bench' } as unknown as Recorded;
    let sealed = sealLine(first, prev);
    lines.push(sealed.line);
    prev = sealed.hash;
    for (let i = 2; i <= 100_000; i++) {
      const k = i % 4;
      const step = `s${Math.floor(i / 4)}`;
      const e = (k === 0 ? { type: 'step.started', step, phase: 'p', attempt: 1 } : k === 1 ? { type: 'command.started', step, command: 'echo hi', cwd: '/', env: [] } : k === 2 ? { type: 'command.output', step, stream: 'stdout', text: 'hi\n' } : { type: 'step.finished', step, outcome: 'passed' }) as unknown as Recorded;
      sealed = sealLine({ ...e, seq: i, ts: new Date(base + i * 10).toISOString(), actor: 'bench', mode: 'incident' } as Recorded, prev);
      lines.push(sealed.line);
      prev = sealed.hash;
    }
    writeFileSync(huge, `${lines.join('\n')}\n`);
  }
  const report = await sample(3, () => timeCommand(process.execPath, [BIN, 'report', huge, '-o', path.join(TMP, 'huge.md')]));
  add({ id: 'report-100k', what: 'report on a 100,000-event transcript', unit: 'ms', stat: report, target: '< 2000 ms', pass: report.median < 2000 });

  // 6. Drill ready: to the first frame with a seeded database, cold (no template) and warm.
  const drillCwd = mkdtempSync(path.join(os.tmpdir(), 'drillbook-bench-drill-'));
  const cold = await sample(3, async () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'drillbook-bench-cache-'));
    try {
      return await timeToMarker(`${process.execPath} ${BIN} drill prisma-failed-migration --transcript-dir ${TMP}/t`, /REHEARSAL ·/, { ...process.env, XDG_CACHE_HOME: cache }, drillCwd);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
  const warm = await sample(5, () => timeToMarker(`${process.execPath} ${BIN} drill prisma-failed-migration --transcript-dir ${TMP}/t`, /REHEARSAL ·/, process.env, drillCwd));
  rmSync(drillCwd, { recursive: true, force: true });
  add({ id: 'drill-cold', what: 'drill to its first frame with a seeded database, cold (first initdb)', unit: 'ms', stat: cold, target: 'recorded', pass: true });
  add({ id: 'drill-warm', what: 'drill to its first frame with a seeded database, warm (template copy)', unit: 'ms', stat: warm, target: '< 1000 ms', pass: warm.median < 1000 });

  // 7. diagnose on 2,000 migrations.
  const proj = path.join(TMP, 'diag');
  const migDir = path.join(proj, 'prisma', 'migrations');
  mkdirSync(migDir, { recursive: true });
  const c = new pg.Client({ connectionString: URL });
  await c.connect();
  await c.query("CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ, started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0)");
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
  const diag = await sample(5, () => timeCommand(process.execPath, [BIN, 'diagnose', '--db', URL], process.env, proj));
  add({ id: 'diagnose-2000', what: 'diagnose on 2,000 migrations (10 pending)', unit: 'ms', stat: diag, baseline: { what: 'node -e 0', stat: nodeBare }, target: '< 1000 ms', pass: diag.median < 1000, note: "prisma migrate status itself cannot run here (its engine is downloaded from a host this machine cannot reach), so it is not compared" });

  // ---- 7b. diagnose, 5,000 Drizzle entries (issue #16's measure; the rest of this file is #18's) ----
  // Linear in journal entries + tracking rows: the Drizzle path was quadratic (2.16 s at 5,000).
  {
    const dproj = path.join(TMP, 'diag-drizzle');
    const out = path.join(dproj, 'drizzle');
    mkdirSync(path.join(out, 'meta'), { recursive: true });
    writeFileSync(path.join(dproj, 'drizzle.config.ts'), "export default { dialect: 'postgresql', out: './drizzle' };\n");
    const dadmin = new pg.Client({ connectionString: db.url('postgres') });
    await dadmin.connect();
    await dadmin.query('CREATE DATABASE bench_drizzle');
    await dadmin.end();
    const DURL = db.url('bench_drizzle');
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
    const drz = await sample(5, () => timeCommand(process.execPath, [BIN, 'diagnose', '--db', DURL], process.env, dproj));
    add({ id: 'diagnose-drizzle-5000', what: 'diagnose, 5,000 Drizzle entries (10 pending)', unit: 'ms', stat: drz, baseline: { what: 'node -e 0', stat: nodeBare }, target: '< 1000 ms', pass: drz.median < 1000, note: 'was 2.16 s before #16 (quadratic)' });
  }

  // 8. Memory: peak RSS of a drill of the largest shipped runbook.
  const rss = await sample(3, async () => {
    const out = await $({ cwd: TMP, nothrow: true, env: { ...process.env, CI: 'true' } })`/usr/bin/time -f %M ${process.execPath} ${BIN} drill ecto-untracked-schema --auto --transcript-dir ${TMP}/t`;
    const kb = Number(out.stderr.trim().split('\n').pop());
    return kb / 1024;
  });
  add({ id: 'memory', what: 'peak RSS of a drill of the largest shipped runbook (ecto-untracked-schema)', unit: 'MiB', stat: rss, target: '< 120 MiB', pass: rss.median < 120 });

  await measureHostileOutput();
} finally {
  await db.stop();
}

const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
const when = new Date().toISOString();
writeFileSync(path.join(ROOT, 'bench', 'results.json'), `${JSON.stringify({ when, machine, seconds: (performance.now() - started) / 1000, rows }, null, 2)}\n`);
const f = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const md = [
  `Measured ${when.slice(0, 10)} on ${machine} (\`npm run bench\`, ${((performance.now() - started) / 1000).toFixed(0)} s). Median of the runs, [min–max].`,
  '',
  '| measure | median | [min–max] | baseline (median) | target | met |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.what}${r.note ? ` (${r.note})` : ''} | ${f(r.stat.median)} ${r.unit} | ${f(r.stat.min)}–${f(r.stat.max)} | ${r.baseline ? `${r.baseline.what}: ${f(r.baseline.stat.median)} ${r.unit}` : '—'} | ${r.target} | ${r.pass ? 'yes' : '**no**'} |`),
  '',
].join('\n');
writeFileSync(path.join(ROOT, 'bench', 'results.md'), md);
process.stdout.write(`\n${md}`);
rmSync(TMP, { recursive: true, force: true });

// ---------------------------------------------------------------------------------------------
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
