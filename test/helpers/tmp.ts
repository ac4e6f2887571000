/** Scratch folders for a test file: made in the system's temp folder, all deleted after the file's tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];
// Imported at the top of a test file, this registers on that file (each file runs in its own process).
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A new empty folder named `drillbook-<what>-XXXXXX`, removed once the file's tests are done. */
export function tempDir(what: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), `drillbook-${what}-`));
  made.push(d);
  return d;
}
