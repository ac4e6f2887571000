/** The report written next to the transcript when a run ends: temp file, fsync, rename, fsync the folder. */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { renderMarkdown } from '../core/report.js';
import { readTranscript } from './transcript-file.js';

export function writeFileDurably(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const dir = openSync(path.dirname(file), 'r');
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    // directory fsync unsupported here
  }
}

/** Write `<transcript>.md`; returns its path, or undefined (with a warning) if it could not be written. */
export function writeReportFor(transcript: string, err: NodeJS.WritableStream, extra: { score?: string } = {}): string | undefined {
  try {
    const t = readTranscript(transcript);
    const file = transcript.replace(/\.jsonl$/, '') + '.md';
    writeFileDurably(file, renderMarkdown(t.chain.events, extra));
    return file;
  } catch (e) {
    err.write(`drillbook: warning: the report could not be written (${(e as Error).message}); the transcript is intact: drillbook report ${transcript}\n`);
    return undefined;
  }
}
