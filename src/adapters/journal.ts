/**
 * The transcript file: append-only JSONL, created exclusively with mode 0600, one write() per
 * event, fdatasync after every event that changes the run's state, the directory fsynced when the
 * file is created. One writer per run (a lock file beside it). A failed write or sync throws, and
 * the run stops before its next step.
 */
import {
  closeSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { GENESIS, sealLine } from '../core/chain.js';
import { DrillbookError } from '../core/errors.js';
import { isChatty, type Recorded } from '../core/events.js';
import type { Journal } from '../core/ports.js';

export class JournalWriteError extends DrillbookError {
  constructor(file: string, cause: unknown) {
    super(`cannot write the transcript ${file}: ${(cause as Error).message}. The run stopped before its next step so nothing goes unrecorded.`, {
      exitCode: 1,
      hint: 'free disk space or fix the folder, then continue with: drillbook resume',
      cause,
    });
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the file's own fsync still holds.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the run's lock: refuses while another live process holds it; takes over a stale one. */
function takeLock(lockPath: string): void {
  const mine = `${process.pid} ${hostname()}\n`;
  try {
    writeFileSync(lockPath, mine, { flag: 'wx', mode: 0o600 });
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const [pidText, host] = readFileSync(lockPath, 'utf8').trim().split(' ');
  const pid = Number(pidText);
  if (host === hostname() && Number.isInteger(pid) && pidAlive(pid) && pid !== process.pid) {
    throw new DrillbookError(`another drillbook process (pid ${pid}) is writing this run's transcript`, {
      exitCode: 2,
      hint: `only one operator drives a run; if that process is gone, remove ${lockPath}`,
    });
  }
  writeFileSync(lockPath, mine, { mode: 0o600 });
}

export class FileJournal implements Journal {
  private prev: string;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    prev: string,
    private readonly lockPath: string,
  ) {
    this.prev = prev;
  }

  /** A new transcript `<dir>/<UTC timestamp>-<runbook id>.jsonl`. */
  /** If the process dies before close(), its lock goes with it. */
  private static locks = new Set<string>();
  private static hooked = false;
  private static releaseOnExit(lock: string): void {
    FileJournal.locks.add(lock);
    if (FileJournal.hooked) return;
    FileJournal.hooked = true;
    process.on('exit', () => {
      for (const l of FileJournal.locks) {
        try {
          unlinkSync(l);
        } catch {
          // gone
        }
      }
    });
  }

  static create(dir: string, runbookId: string, now: Date): FileJournal {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    for (let n = 0; ; n++) {
      const file = path.join(dir, `${stamp}-${runbookId}${n ? `-${n}` : ''}.jsonl`);
      let fd: number;
      try {
        fd = openSync(file, 'wx', 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw new JournalWriteError(file, e);
      }
      fsyncSync(fd);
      fsyncDir(dir);
      const lock = `${file}.lock`;
      takeLock(lock);
      FileJournal.releaseOnExit(lock);
      return new FileJournal(file, fd, GENESIS, lock);
    }
  }

  /** Continue an existing transcript whose last good line has hash `prev`. */
  static reopen(file: string, prev: string): FileJournal {
    const lock = `${file}.lock`;
    takeLock(lock);
    FileJournal.releaseOnExit(lock);
    const fd = openSync(file, 'a', 0o600);
    return new FileJournal(file, fd, prev, lock);
  }

  append(event: Recorded): void {
    if (this.closed) throw new JournalWriteError(this.path, new Error('the transcript is closed'));
    const { line, hash } = sealLine(event, this.prev);
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
      if (!isChatty(event)) fdatasyncSync(this.fd);
    } catch (e) {
      throw new JournalWriteError(this.path, e);
    }
    this.prev = hash;
  }

  get lastHash(): string {
    return this.prev;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      fdatasyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      try {
        unlinkSync(this.lockPath);
      } catch {
        // already gone
      }
      FileJournal.locks.delete(this.lockPath);
    }
  }
}
