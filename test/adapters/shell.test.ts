import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ExecaShell } from '../../src/adapters/shell.js';

const shell = new ExecaShell();

function run(command: string, opts: { timeoutMs?: number; env?: Record<string, string>; signal?: AbortSignal; cwd?: string } = {}) {
  const out: Array<[string, string]> = [];
  const done = shell.run({
    command,
    cwd: opts.cwd ?? '/tmp',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
    timeoutMs: opts.timeoutMs ?? 10_000,
    signal: opts.signal ?? new AbortController().signal,
    onOutput: (stream, text) => out.push([stream, text]),
  });
  return { done, out };
}

function alive(pattern: string): boolean {
  try {
    execFileSync('pgrep', ['-f', pattern]);
    return true;
  } catch {
    return false;
  }
}

describe('commands as real processes', () => {
  it('streams stdout and stderr and reports the exit code', async () => {
    const { done, out } = run('echo hello; echo oops >&2; exit 3');
    const r = await done;
    expect(r).toMatchObject({ exitCode: 3, signal: null, timedOut: false, cancelled: false });
    expect(out).toEqual(expect.arrayContaining([['stdout', 'hello\n'], ['stderr', 'oops\n']]));
  });

  it('inputs reach the command as environment variables, not spliced text', async () => {
    const { done, out } = run('printf "%s" "$failed_migration"', { env: { failed_migration: '$(touch /tmp/pwned); `id`' } });
    expect((await done).exitCode).toBe(0);
    expect(out.map(([, t]) => t).join('')).toBe('$(touch /tmp/pwned); `id`');
  });

  it('kills the whole process group when the timeout expires', async () => {
    const marker = `drillbook-timeout-${process.pid}-${Date.now()}`;
    const { done } = run(`sleep 300 && echo ${marker} & sleep 301; echo ${marker}`, { timeoutMs: 300 });
    const r = await done;
    expect(r.timedOut).toBe(true);
    expect(r.exitCode === null || r.signal !== null).toBe(true);
    await new Promise((res) => setTimeout(res, 200));
    expect(alive(marker)).toBe(false);
  });

  it('stops the command when the operator cancels', async () => {
    const ac = new AbortController();
    const { done } = run('sleep 30', { signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    const r = await done;
    expect(r).toMatchObject({ cancelled: true, timedOut: false });
    expect(r.durationMs).toBeLessThan(5_000);
  });

  it('a command that cannot start is a result with an error, not a throw', async () => {
    const { done } = run('true', { cwd: '/no/such/dir' });
    const r = await done;
    expect(r.exitCode).toBeNull();
    expect(r.error).toMatch(/no\/such\/dir|ENOENT/);
  });
});
