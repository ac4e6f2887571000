/**
 * Commands as real processes (execa): streamed output, a timeout and Ctrl-C that kill the whole
 * process group, a failed command reported as a result, never thrown.
 *
 * Each command starts in a process group of its own, gated: a small sh waits for one line on a
 * pipe before it execs the command. drillbook records the group (onSpawn) durably, then opens the
 * gate. So the transcript names every group that may have run, and if drillbook dies before it
 * recorded the group, the pipe closes and the command never starts (exit 125).
 */
import { existsSync } from 'node:fs';
import type { CommandRequest, CommandResult, ShellPort } from '../core/ports.js';
import { processStart } from './run-lock.js';

const KILL_GRACE_MS = 3_000;
/** The gate's exit code when drillbook went away before letting the command start. */
export const GATE_CLOSED = 125;

const COMMAND_VAR = 'DRILLBOOK_COMMAND_TEXT';
// Read the go-ahead from fd 3, close it, take the command text out of the environment, run it.
const GATE = `IFS= read -r go <&3 || exit ${GATE_CLOSED}; [ "$go" = go ] || exit ${GATE_CLOSED}; exec 3<&-; c=$${COMMAND_VAR}; unset ${COMMAND_VAR}; exec "$0" -c "$c"`;

function shellPath(): string {
  return existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh';
}

export class ExecaShell implements ShellPort {
  async run(req: CommandRequest): Promise<CommandResult> {
    // Loaded on the first command, not at start-up.
    const { execa } = await import('execa');
    const started = Date.now();
    let timedOut = false;
    let cancelled = false;
    const child = execa('/bin/sh', ['-c', GATE, shellPath()], {
      cwd: req.cwd,
      env: { ...req.env, [COMMAND_VAR]: req.command },
      extendEnv: false,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
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

    child.stdout?.on('data', (chunk: string | Buffer) => req.onOutput('stdout', chunk.toString()));
    child.stderr?.on('data', (chunk: string | Buffer) => req.onOutput('stderr', chunk.toString()));

    // fd 3 is a pipe the child reads: execa types extra fds as readable, but ours is written to.
    const gate = child.stdio[3] as unknown as NodeJS.WritableStream | undefined;
    gate?.on('error', () => undefined);
    if (child.pid !== undefined) {
      try {
        const start = processStart(child.pid);
        req.onSpawn?.({ pgid: child.pid, ...(start ? { start } : {}) });
      } catch (e) {
        // Not recorded, so never run: close the gate shut and make sure the group is gone.
        gate?.end();
        killGroup('SIGKILL');
        await child;
        throw e;
      }
      gate?.end('go\n');
    }

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
