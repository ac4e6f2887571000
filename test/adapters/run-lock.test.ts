/**
 * The run lock under real contention: processes started together on one stale lock, synchronised
 * on a barrier so their attempts overlap. Exactly one may hold it.
 */
import { execa } from 'execa';
import { build } from 'esbuild';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holderAlive, pidNamespace, RunLock } from '../../src/adapters/run-lock.js';
import { drillBase, reapDeadDrills } from '../../src/adapters/drill-db.js';
import { ROOT } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drillbook-lock-'));
const worker = path.join(dir, 'worker.mjs');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const entry = path.join(dir, 'worker.ts');
  writeFileSync(entry, `
import { existsSync } from 'node:fs';
import { RunLock } from ${JSON.stringify(path.join(ROOT, 'src', 'adapters', 'run-lock.ts'))};
const [transcript, go, holdMs] = process.argv.slice(2);
while (!existsSync(go)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
try {
  const lock = RunLock.acquire(transcript);
  process.stdout.write('won\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(holdMs));
  lock.release();
} catch (e) {
  process.stdout.write('lost: ' + e.message + '\\n');
}
`);
  await build({ entryPoints: [entry], outfile: worker, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' });
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const p = await execa('sh', ['-c', 'echo $$']);
  return Number(p.stdout);
}

describe('the run lock', () => {
  it('a stale lock (its process gone) is taken over; a live one is refused', async () => {
    const t = path.join(dir, 'a.jsonl');
    writeFileSync(`${t}.lock`, JSON.stringify({ pid: await deadPid(), host: hostname(), nonce: 'old' }));
    const lock = RunLock.acquire(t);
    expect(lock.valid).toBe(true);
    expect(() => RunLock.acquire(t)).toThrow(`another drillbook process (pid ${process.pid}) is writing this run's transcript`);
    lock.release();
    expect(existsSync(`${t}.lock`)).toBe(false);
  });

  it('a pid reused by another process does not keep a stale lock alive', () => {
    const t = path.join(dir, 'b.jsonl');
    // Our own pid, but a start time that is not ours: the holder is gone, the pid was reused.
    writeFileSync(`${t}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), start: '1', nonce: 'reused' }));
    expect(holderAlive({ pid: process.pid, host: hostname(), start: '1', nonce: 'x' })).toBe(process.platform !== 'linux');
    if (process.platform === 'linux') RunLock.acquire(t).release();
  });

  it.skipIf(pidNamespace() === undefined)('a holder in another PID namespace (a container sharing the folder) is never judged dead from here', async () => {
    const dead = 2 ** 22 + 12_345; // above pid_max's default: no process here has it
    expect(holderAlive({ pid: dead, host: hostname(), ns: pidNamespace()!, nonce: 'here' })).toBe(false);
    expect(holderAlive({ pid: dead, host: hostname(), ns: 'pid:[1]', nonce: 'elsewhere' })).toBe(true);
    // The drill reaper asks the same question: a drill folder marked from another namespace stays.
    const theirs = mkdtempSync(path.join(drillBase(), 'drillbook-drill-'));
    const ours = mkdtempSync(path.join(drillBase(), 'drillbook-drill-'));
    writeFileSync(path.join(theirs, 'drillbook-owner.json'), JSON.stringify({ pid: dead, host: hostname(), ns: 'pid:[1]', kept: false }));
    writeFileSync(path.join(ours, 'drillbook-owner.json'), JSON.stringify({ pid: dead, host: hostname(), ns: pidNamespace(), kept: false }));
    try {
      const reaped = await reapDeadDrills();
      expect(reaped).toContain(ours);
      expect(reaped).not.toContain(theirs);
    } finally {
      rmSync(theirs, { recursive: true, force: true });
      rmSync(ours, { recursive: true, force: true });
    }
  });

  it('a holder that died but was never reaped (a zombie) holds nothing', async () => {
    // The shell's background sleep exits at once; its parent (exec'ed into another sleep) never reaps it.
    const p = execa('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 3'], { reject: false });
    const pid = await new Promise<number>((resolve) => p.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    await new Promise((r) => setTimeout(r, 400));
    expect(() => process.kill(pid, 0), 'signal 0 still reaches a zombie').not.toThrow();
    expect(holderAlive({ pid, host: hostname(), nonce: 'z' })).toBe(false);
    p.kill('SIGKILL');
    await p;
  });

  it.each([1, 2, 3])('eight processes on one stale lock at the same instant: exactly one wins (round %i)', async () => {
    const t = path.join(dir, `race-${Math.random().toString(36).slice(2)}.jsonl`);
    const go = `${t}.go`;
    writeFileSync(`${t}.lock`, JSON.stringify({ pid: await deadPid(), host: hostname(), nonce: 'stale' }));
    const procs = Array.from({ length: 8 }, () => execa(process.execPath, [worker, t, go, '3000'], { reject: false }));
    await new Promise((r) => setTimeout(r, 700)); // every worker is spinning on the barrier
    writeFileSync(go, '');
    const outs = (await Promise.all(procs)).map((p) => p.stdout.trim());
    expect(outs.filter((o) => o === 'won'), outs.join('\n')).toHaveLength(1);
    for (const o of outs.filter((x) => x !== 'won')) expect(o).toMatch(/^lost: another drillbook process \(pid \d+\) is writing this run's transcript$/);
    expect(readdirSync(dir).filter((f) => f.startsWith(`${path.basename(t)}.lock`))).toEqual([]);
  }, 30_000);
});
