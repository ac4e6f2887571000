/**
 * One writer per run: `<transcript>.lock`, created exclusively (O_EXCL) and held for the run's
 * life. It names its holder (pid, host, the process's start time, a random nonce), so a lock left by
 * a process that is gone (killed, crashed, or a pid since reused) can be taken over, and only one
 * process can win that takeover: each contender must first create, exclusively, a token named after
 * the stale lock's nonce (`<lock>.takeover-<nonce>-<n>`), and checks after creating it that the lock
 * is still the stale one before replacing it (rename is atomic). A token whose creator died is
 * passed over by creating the next one, never removed while someone may rely on it.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { DrillbookError } from '../core/errors.js';

export interface Holder {
  pid: number;
  host: string;
  /** The process's start time (Linux /proc/<pid>/stat), to tell a reused pid from the holder. */
  start?: string;
  /** The holder's PID namespace (Linux): a pid means something only in its own namespace. */
  ns?: string;
  nonce: string;
}

/** This process's PID namespace (`pid:[4026531836]` on Linux), or undefined where there is none to read. */
export function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

const MAX_TOKENS = 16;

/** Start time of a process in clock ticks since boot, where /proc has it. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether a process runs (a zombie does not). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (dead, not yet reaped by its parent) answers signal 0 but holds nothing.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true;
  }
}

/** Whether the holder may still be running. Another host's process cannot be checked: it counts as alive. */
export function holderAlive(h: Holder): boolean {
  if (h.host !== hostname()) return true;
  // Another PID namespace (a container sharing this folder): its pids cannot be checked from here.
  if (h.ns !== undefined && h.ns !== pidNamespace()) return true;
  if (!Number.isInteger(h.pid) || h.pid <= 0) return false;
  if (!pidAlive(h.pid)) return false;
  const start = processStart(h.pid);
  return !(h.start && start && start !== h.start);
}

function parse(text: string): Holder | undefined {
  try {
    const h = JSON.parse(text) as Holder;
    return typeof h.pid === 'number' && typeof h.nonce === 'string' && typeof h.host === 'string' ? h : undefined;
  } catch {
    // The lock format of drillbook before 0.2: "<pid> <host>".
    const [pid, host] = text.trim().split(' ');
    return pid && host ? { pid: Number(pid), host, nonce: `legacy-${text.trim()}` } : undefined;
  }
}

function readHolder(file: string): Holder | undefined | 'gone' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw e;
  }
  return parse(text);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function busy(h: Holder, lockPath: string): DrillbookError {
  return new DrillbookError(`another drillbook process (pid ${h.pid}${h.host !== hostname() ? ` on ${h.host}` : ''}) is writing this run's transcript`, {
    exitCode: 2,
    hint: `only one operator drives a run; if that process is gone, remove ${lockPath}`,
  });
}

const held = new Set<RunLock>();
let hooked = false;

export class RunLock {
  private released = false;

  private constructor(readonly path: string, readonly holder: Holder) {}

  /** Take the lock of a transcript, or throw a DrillbookError naming the process that holds it. */
  static acquire(transcript: string): RunLock {
    const lockPath = `${transcript}.lock`;
    const ns = pidNamespace();
    const mine: Holder = { pid: process.pid, host: hostname(), ...(processStart(process.pid) ? { start: processStart(process.pid)! } : {}), ...(ns ? { ns } : {}), nonce: randomBytes(8).toString('hex') };
    const content = `${JSON.stringify(mine)}\n`;
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        writeFileSync(lockPath, content, { flag: 'wx', mode: 0o600 });
        return RunLock.hold(lockPath, mine);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const h = readHolder(lockPath);
      if (h === 'gone') continue; // released just now: try again
      if (h === undefined) {
        // Created but not written yet by its holder: give it a moment.
        sleep(20);
        continue;
      }
      if (holderAlive(h)) throw busy(h, lockPath);
      if (RunLock.takeOver(lockPath, h, mine, content)) return RunLock.hold(lockPath, mine);
    }
    throw new DrillbookError(`could not take the lock ${lockPath}: it keeps changing`, { exitCode: 2, hint: 'another drillbook process is starting on this run; try again' });
  }

  /** Replace a stale lock, if this process wins the right to; returns false to look again. */
  private static takeOver(lockPath: string, stale: Holder, mine: Holder, content: string): boolean {
    const tokenOf = (n: number) => `${lockPath}.takeover-${stale.nonce.replace(/[^\w-]/g, '_')}-${n}`;
    for (let n = 0; n < MAX_TOKENS; n++) {
      const token = tokenOf(n);
      try {
        writeFileSync(token, content, { flag: 'wx', mode: 0o600 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const other = readHolder(token);
        if (other === 'gone') return false; // the winner finished and cleaned up: look at the lock again
        if (other === undefined || holderAlive(other)) {
          // Someone else is taking over this lock right now: it is theirs.
          sleep(50);
          const now = readHolder(lockPath);
          if (now !== 'gone' && now !== undefined && now.nonce !== stale.nonce && holderAlive(now)) throw busy(now, lockPath);
          return false;
        }
        continue; // its creator died before finishing: the next token
      }
      // This process holds token n. Is the lock still the stale one?
      const now = readHolder(lockPath);
      if (now === 'gone' || now === undefined || now.nonce !== stale.nonce) {
        RunLock.removeTokens(tokenOf, n);
        return false;
      }
      const tmp = `${lockPath}.${mine.nonce}.tmp`;
      writeFileSync(tmp, content, { mode: 0o600 });
      renameSync(tmp, lockPath);
      RunLock.removeTokens(tokenOf, n);
      return true;
    }
    throw new DrillbookError(`too many abandoned attempts to take over ${lockPath}`, { exitCode: 2, hint: `remove ${lockPath} and ${lockPath}.takeover-* if no drillbook process is running this run` });
  }

  private static removeTokens(tokenOf: (n: number) => string, upTo: number): void {
    for (let i = 0; i <= upTo; i++) {
      try {
        unlinkSync(tokenOf(i));
      } catch {
        // already gone
      }
    }
  }

  private static hold(lockPath: string, mine: Holder): RunLock {
    const lock = new RunLock(lockPath, mine);
    held.add(lock);
    if (!hooked) {
      hooked = true;
      // If the process exits before release(), its locks go with it.
      process.on('exit', () => {
        for (const l of held) l.release();
      });
    }
    return lock;
  }

  /** Whether this process still holds the lock (nobody took it over). */
  get valid(): boolean {
    const h = readHolder(this.path);
    return !this.released && h !== 'gone' && h !== undefined && h.nonce === this.holder.nonce;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    try {
      // Only our own lock: never one another process took over.
      const h = readHolder(this.path);
      if (h !== 'gone' && h?.nonce === this.holder.nonce) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

/** Leftover takeover tokens and temp files of a transcript's lock (for tests and tidy-up). */
export function lockDebris(transcript: string): string[] {
  const dir = path.dirname(transcript);
  const base = `${path.basename(transcript)}.lock.`;
  try {
    return readdirSync(dir).filter((f) => f.startsWith(base));
  } catch {
    return [];
  }
}
