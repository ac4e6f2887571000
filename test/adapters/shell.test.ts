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

describe('the process group is recorded before the command may start', () => {
  it('onSpawn gets the group while the command waits at its gate; the command runs only after', async () => {
    const dir = (await import('node:fs')).mkdtempSync('/tmp/drillbook-gate-');
    const marker = `${dir}/ran`;
    let seenAtSpawn: boolean | undefined;
    let group: { pgid: number; start?: string } | undefined;
    let out = '';
    const r = await shell.run({
      command: `touch ${marker}; echo "env: [$DRILLBOOK_COMMAND_TEXT]"; ps -o pgid= -p $$`,
      cwd: '/tmp',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      timeoutMs: 10_000,
      signal: new AbortController().signal,
      onOutput: (_s, t) => void (out += t),
      onSpawn: (g) => {
        group = g;
        // Give a command that did not wait every chance to run first.
        execFileSync('sleep', ['0.3']);
        seenAtSpawn = (execFileSync('sh', ['-c', `test -e ${marker} && echo yes || echo no`]).toString().trim() === 'yes');
      },
    });
    expect(r.exitCode).toBe(0);
    expect(seenAtSpawn).toBe(false);
    expect(group?.pgid).toBeGreaterThan(1);
    expect(out).toContain('env: []');
    expect(out.trim().split('\n').at(-1)!.trim()).toBe(String(group!.pgid));
  });

  it('if the group cannot be recorded, the command never runs', async () => {
    const dir = (await import('node:fs')).mkdtempSync('/tmp/drillbook-gate-');
    const marker = `${dir}/ran`;
    await expect(shell.run({
      command: `touch ${marker}`,
      cwd: '/tmp',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      timeoutMs: 10_000,
      signal: new AbortController().signal,
      onOutput: () => undefined,
      onSpawn: () => {
        throw new Error('ENOSPC: no space left on device');
      },
    })).rejects.toThrow('ENOSPC');
    await new Promise((r) => setTimeout(r, 300));
    expect((await import('node:fs')).existsSync(marker)).toBe(false);
  });
});
