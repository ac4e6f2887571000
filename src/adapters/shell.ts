/**
 * Commands as real processes (execa): streamed output, a timeout and Ctrl-C that kill the whole
 * process group, a failed command reported as a result, never thrown.
 */
import { existsSync } from 'node:fs';
import type { CommandRequest, CommandResult, ShellPort } from '../core/ports.js';

const KILL_GRACE_MS = 3_000;

function shellPath(): string | true {
  return existsSync('/bin/bash') ? '/bin/bash' : true;
}

export class ExecaShell implements ShellPort {
  async run(req: CommandRequest): Promise<CommandResult> {
    // Loaded on the first command, not at start-up.
    const { execa } = await import('execa');
    const started = Date.now();
    let timedOut = false;
    let cancelled = false;
    const child = execa(req.command, {
      shell: shellPath(),
      cwd: req.cwd,
      env: req.env,
      extendEnv: false,
      stdin: 'ignore',
      // Its own process group, so a timeout or Ctrl-C stops everything the command started.
      detached: true,
      reject: false,
      buffer: false,
      encoding: 'utf8',
      cleanup: true,
    });

    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    let graceTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      killGroup('SIGTERM');
      graceTimer ??= setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, req.timeoutMs);
    const onAbort = () => {
      cancelled = true;
      stop();
    };
    if (req.signal.aborted) onAbort();
    req.signal.addEventListener('abort', onAbort, { once: true });

    child.stdout?.on('data', (chunk: string | Buffer) => req.onOutput('stdout', chunk.toString()));
    child.stderr?.on('data', (chunk: string | Buffer) => req.onOutput('stderr', chunk.toString()));

    const result = await child;
    clearTimeout(timer);
    if (graceTimer) clearTimeout(graceTimer);
    req.signal.removeEventListener('abort', onAbort);
    // Anything the command left running in its group goes with it.
    killGroup('SIGKILL');

    const durationMs = Date.now() - started;
    const exitCode = typeof result.exitCode === 'number' ? result.exitCode : null;
    const signal = result.signal ?? null;
    if (exitCode === null && signal === null) {
      const cause = (result as { cause?: unknown }).cause;
      const message = cause instanceof Error ? cause.message : result.shortMessage ?? 'the command could not be started';
      return { exitCode: null, signal: null, durationMs, timedOut, cancelled, error: message };
    }
    return { exitCode, signal, durationMs, timedOut, cancelled };
  }
}
