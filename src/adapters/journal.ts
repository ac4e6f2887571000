/**
 * The transcript file: append-only JSONL, created exclusively with mode 0600, one write() per
 * event, fdatasync after every event that changes the run's state, the directory fsynced when the
 * file is created. One writer per run (an exclusive lock file beside it, see run-lock.ts). A failed
 * write or sync throws, and the run stops before its next step; a line only partly written (a full
 * disk) is cut off again, so the file always ends with a whole event.
 */
import { closeSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { GENESIS, sealLine } from '../core/chain.js';
import { DrillbookError } from '../core/errors.js';
import { isChatty, type Recorded } from '../core/events.js';
import type { Journal } from '../core/ports.js';
import { RunLock } from './run-lock.js';

export class JournalWriteError extends DrillbookError {
  constructor(file: string, cause: unknown) {
    super(`cannot write the transcript ${file}: ${(cause as Error).message}. The run stopped before its next step so nothing goes unrecorded; the transcript holds every event up to the last one written whole.`, {
      exitCode: 1,
      hint: 'free disk space or fix the folder, then continue with: drillbook resume',
      cause,
    });
  }
}

/** The transcript folder or file cannot be created at all: nothing ran. */
export class TranscriptFolderError extends DrillbookError {
  constructor(dir: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : code === 'ENOTDIR' ? 'a part of the path is not a folder' : code === 'ENOSPC' ? 'no space left on the device' : (cause as Error).message;
    super(`cannot write transcripts in ${dir}: ${why}. Nothing ran: a run is only started where it can be recorded.`, {
      exitCode: 2,
      hint: 'choose a folder you can write to: --transcript-dir <folder>',
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

export class FileJournal implements Journal {
  private prev: string;
  private closed = false;
  /** A write failed: the file ends at the last whole event and takes no more. */
  private failed: JournalWriteError | undefined;
  private size: number;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    prev: string,
    private readonly lock: RunLock,
  ) {
    this.prev = prev;
    this.size = fstatSync(fd).size;
  }

  /** A new transcript `<dir>/<UTC timestamp>-<runbook id>.jsonl`. */
  static create(dir: string, runbookId: string, now: Date): FileJournal {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new TranscriptFolderError(dir, e);
    }
    const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    for (let n = 0; ; n++) {
      const file = path.join(dir, `${stamp}-${runbookId}${n ? `-${n}` : ''}.jsonl`);
      let fd: number;
      try {
        fd = openSync(file, 'wx', 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw new TranscriptFolderError(dir, e);
      }
      let lock: RunLock;
      try {
        fsyncSync(fd);
        fsyncDir(dir);
        lock = RunLock.acquire(file);
      } catch (e) {
        closeSync(fd);
        throw e instanceof DrillbookError ? e : new TranscriptFolderError(dir, e);
      }
      return new FileJournal(file, fd, GENESIS, lock);
    }
  }

  /** Continue an existing transcript whose last good line has hash `prev`, under a lock already taken. */
  static reopen(file: string, prev: string, lock: RunLock): FileJournal {
    let fd: number;
    try {
      fd = openSync(file, 'a', 0o600);
    } catch (e) {
      throw new JournalWriteError(file, e);
    }
    return new FileJournal(file, fd, prev, lock);
  }

  append(event: Recorded): void {
    if (this.failed) throw this.failed;
    if (this.closed) throw new JournalWriteError(this.path, new Error('the transcript is closed'));
    const { line, hash } = sealLine(event, this.prev);
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
      if (!isChatty(event)) fdatasyncSync(this.fd);
    } catch (e) {
      // Cut off what part of the line got written, so the file ends with a whole event.
      try {
        ftruncateSync(this.fd, this.size);
        fdatasyncSync(this.fd);
      } catch {
        // A torn last line is still recovered by resume (moved aside).
      }
      this.failed = new JournalWriteError(this.path, e);
      throw this.failed;
    }
    this.size += bytes.length;
    this.prev = hash;
  }

  get lastHash(): string {
    return this.prev;
  }

  /** Whether a write failed (the run stopped on it). */
  get broken(): boolean {
    return this.failed !== undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.failed) fdatasyncSync(this.fd);
    } catch (e) {
      this.failed = new JournalWriteError(this.path, e);
      throw this.failed;
    } finally {
      try {
        closeSync(this.fd);
      } catch {
        // closed
      }
      this.lock.release();
    }
  }
}
