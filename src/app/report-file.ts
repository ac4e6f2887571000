/**
 * Writing reports: built as the transcript is read (its events are not kept), their rendered parts
 * held in buffers that move to a temporary file past a size, and written durably (temp file, fsync,
 * rename, fsync the folder).
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, readSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { ReportBuilder, type ReportExtra, type ReportFormat, type Sink, type TextBuffer } from '../core/report.js';
import type { SealedEvent } from '../core/chain.js';
import { integrityNote, readTranscript, type TranscriptRead } from './transcript-file.js';

const CHUNK = 64 * 1024;

/** Collects small pieces and hands them on in chunks of about 64 KiB. */
export function chunked(write: (chunk: string) => void): { sink: Sink; end(): void } {
  // Concatenation (V8 keeps a rope, flattened once when written): no array of pieces to join.
  let text = '';
  const flush = () => {
    if (!text) return;
    const t = text;
    text = '';
    write(t);
  };
  return {
    sink(s) {
      text += s;
      if (text.length >= CHUNK) flush();
    },
    end: flush,
  };
}

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Characters of rendered report a buffer holds in memory before it moves them to a temporary file. */
export const SPILL_AFTER = 8 * 1024 * 1024;

/**
 * A buffer for a part of a report: in memory up to `limit` characters, then in a temporary file that
 * is unlinked as soon as it is open (nothing is left behind, whatever ends the process), mode 0600.
 * Where no temporary file can be made, it stays in memory.
 */
export function spillingBuffer(limit = SPILL_AFTER): TextBuffer {
  let chunks: string[] = [];
  let held = 0;
  let fd: number | undefined;
  const spill = (): void => {
    try {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'drillbook-report-'));
      const file = path.join(dir, 'part');
      try {
        fd = openSync(file, 'w+', 0o600);
        unlinkSync(file);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      for (const c of chunks) writeAll(fd, c);
    } catch {
      // No temporary file to be had (or no room in it): kept in memory, then, with no second try.
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      limit = Infinity;
      return;
    }
    chunks = [];
  };
  const keep = (c: string): void => {
    if (fd !== undefined) return writeAll(fd, c);
    chunks.push(c);
    held += c.length;
    if (held > limit) spill();
  };
  // Small pieces are joined into one flat string about every 64 KiB: kept for long, a string built by
  // concatenation (a rope) would keep every piece, and be copied by each garbage collection it survives.
  let pieces: string[] = [];
  let size = 0;
  const join = (): void => {
    if (!pieces.length) return;
    keep(pieces.join(''));
    pieces = [];
    size = 0;
  };
  return {
    append(t) {
      pieces.push(t);
      size += t.length;
      if (size >= 65_536) join();
    },
    drain(sink) {
      join();
      if (fd === undefined) {
        for (const c of chunks) sink(c);
        chunks = [];
        held = 0;
        return;
      }
      const buf = Buffer.allocUnsafe(1024 * 1024);
      const decoder = new StringDecoder('utf8');
      try {
        for (let pos = 0; ; ) {
          const n = readSync(fd, buf, 0, buf.length, pos);
          if (n === 0) break;
          pos += n;
          sink(decoder.write(buf.subarray(0, n)));
        }
        const rest = decoder.end();
        if (rest) sink(rest);
      } finally {
        closeSync(fd);
        fd = undefined;
      }
    },
  };
}

/**
 * A transcript read and its report built in one pass. `produce` writes the report; the read says
 * whether the chain held and whether a line was torn.
 */
export function buildReport(transcript: string, format: ReportFormat, extra: Pick<ReportExtra, 'score'> = {}): { read: TranscriptRead; produce: (sink: Sink) => void } {
  let builder = new ReportBuilder(format, spillingBuffer);
  const restart = () => {
    // Events after an edited line were already built in (or the hashing thread gave no answer): build again.
    builder.discard();
    builder = new ReportBuilder(format, spillingBuffer);
    return (e: SealedEvent) => builder.add(e);
  };
  const read = readTranscript(transcript, (e) => builder.add(e), { parallelHash: { restart } });
  const integrity = integrityNote(read);
  return { read, produce: (sink) => builder.finish(sink, { ...extra, ...(integrity ? { integrity } : {}) }) };
}

/** Write a file whose content is produced piece by piece (never held whole), durably and atomically. */
export function writeStreamDurably(file: string, produce: (sink: Sink) => void): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    const out = chunked((text) => writeAll(fd, text));
    produce(out.sink);
    out.end();
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, file);
  try {
    const dir = openSync(path.dirname(file), 'r');
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    // directory fsync unsupported here
  }
}

export function writeFileDurably(file: string, content: string): void {
  writeStreamDurably(file, (sink) => sink(content));
}

/** Write `<transcript>.md`; returns its path, or undefined (with a warning) if it could not be written. */
export function writeReportFor(transcript: string, err: NodeJS.WritableStream, extra: Pick<ReportExtra, 'score'> = {}): string | undefined {
  try {
    const { produce } = buildReport(transcript, 'md', extra);
    const file = transcript.replace(/\.jsonl$/, '') + '.md';
    writeStreamDurably(file, produce);
    return file;
  } catch (e) {
    err.write(`drillbook: warning: the report could not be written (${(e as Error).message}); the transcript is intact: drillbook report ${transcript}\n`);
    return undefined;
  }
}
