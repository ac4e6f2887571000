/** Report parts kept while a transcript is read: in memory up to a size, then in a temporary file nobody else can see. */
import { readdirSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { spillingBuffer } from '../../src/app/report-file.js';
import { tempDir } from '../helpers/tmp.js';

const savedTmp = process.env.TMPDIR;
afterEach(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
});

/** Files this process holds open that are already deleted, under a folder. */
function deletedOpenFiles(under: string): string[] {
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((target) => target.startsWith(under) && target.endsWith('(deleted)'));
}

/** Pieces of text with characters of 1 to 4 bytes, so that reading back in chunks splits some of them. */
function pieces(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${i}: a é € 𝄞 ${'x'.repeat(i % 97)}\n`);
}

/** Appends text with characters of 1 to 4 bytes, checks `held` before draining, and that all of it comes back in order. */
function roundTrip(limit: number, n: number, held: () => void = () => undefined): void {
  const b = spillingBuffer(limit);
  const text = pieces(n);
  for (const p of text) b.append(p);
  held();
  let out = '';
  b.drain((s) => void (out += s));
  expect(out).toBe(text.join(''));
}

describe('a buffer for a part of a report', () => {
  it.runIf(process.platform === 'linux')('past its limit, moves the text to a temporary file already deleted, and gives it back whole and in order', () => {
    const tmp = tempDir('spill');
    process.env.TMPDIR = tmp;
    // Over 3 MB: reading it back in 1 MiB chunks splits characters of several bytes.
    roundTrip(100_000, 60_000, () => {
      // Held in a file no other process can find; nothing left in the folder.
      expect(deletedOpenFiles(tmp)).toHaveLength(1);
      expect(readdirSync(tmp)).toEqual([]);
    });
    expect(deletedOpenFiles(tmp)).toHaveLength(0);
  });

  it.runIf(process.platform === 'linux')('under its limit, keeps the text in memory', () => {
    const tmp = tempDir('spill-small');
    process.env.TMPDIR = tmp;
    roundTrip(10_000_000, 5_000, () => expect(deletedOpenFiles(tmp)).toHaveLength(0));
  });

  it('where no temporary file can be made, keeps the text in memory and loses none of it', () => {
    process.env.TMPDIR = '/nonexistent/drillbook-spill';
    roundTrip(1_000, 3_000);
  });
});
