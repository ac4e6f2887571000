/** The report written next to the transcript when a run ends: temp file, fsync, rename, fsync the folder. */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { writeMarkdown, type ReportExtra, type Sink } from '../core/report.js';
import { integrityNote, readTranscript } from './transcript-file.js';

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
    const t = readTranscript(transcript);
    const file = transcript.replace(/\.jsonl$/, '') + '.md';
    const integrity = integrityNote(t);
    writeStreamDurably(file, (sink) => writeMarkdown(t.chain.events, sink, { ...extra, ...(integrity ? { integrity } : {}) }));
    return file;
  } catch (e) {
    err.write(`drillbook: warning: the report could not be written (${(e as Error).message}); the transcript is intact: drillbook report ${transcript}\n`);
    return undefined;
  }
}
