/**
 * --full-output: the whole (redacted) output of each command, one file per stream beside the
 * transcript, `<transcript>.<seq>-<step>.<stream>.log`, created exclusively with mode 0600 and
 * fdatasynced when the command ends. Its SHA-256 is the one command.exited records.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { OutputFile, OutputFiles } from '../core/ports.js';

export class SideFiles implements OutputFiles {
  constructor(private readonly transcript: string) {}

  open(step: string, seq: number): OutputFile {
    const base = this.transcript.replace(/\.jsonl$/, '');
    const open: Partial<Record<'stdout' | 'stderr', { fd: number; file: string }>> = {};
    return {
      write(stream, text) {
        let f = open[stream];
        if (!f) {
          const file = `${base}.${seq}-${step}.${stream}.log`;
          f = { fd: openSync(file, 'wx', 0o600), file };
          open[stream] = f;
        }
        const bytes = Buffer.from(text, 'utf8');
        let off = 0;
        while (off < bytes.length) off += writeSync(f.fd, bytes, off, bytes.length - off);
      },
      close() {
        const files: Partial<Record<'stdout' | 'stderr', string>> = {};
        for (const stream of ['stdout', 'stderr'] as const) {
          const f = open[stream];
          if (!f) continue;
          try {
            fdatasyncSync(f.fd);
          } finally {
            closeSync(f.fd);
          }
          files[stream] = path.basename(f.file);
        }
        return files;
      },
    };
  }
}
