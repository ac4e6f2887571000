/**
 * A report of a long transcript: built as the file is read, so its memory does not grow with the
 * file; its hashes checked on a second thread; the same verdicts as a plain reading.
 */
import { execa } from 'execa';
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENESIS, sealLine } from '../../src/core/chain.js';
import type { Recorded } from '../../src/core/events.js';
import { BIN } from '../helpers/cli.js';
import { withPeak } from '../helpers/memory.js';
import { tempDir } from '../helpers/tmp.js';

/** A completed run of `steps` commands (five events each), written as it is sealed; `edit` changes one line's text. */
function writeTranscript(file: string, steps: number, edit?: number): { events: number; lastHash: string } {
  const fd = openSync(file, 'w');
  let prev = GENESIS;
  let seq = 0;
  let batch: string[] = [];
  const base = Date.parse('2026-11-22T00:00:00Z');
  const put = (e: Record<string, unknown>) => {
    seq++;
    const s = sealLine({ ...e, seq, ts: new Date(base + seq * 10).toISOString(), actor: 'ada', mode: 'incident' } as unknown as Recorded, prev);
    prev = s.hash;
    batch.push(seq === edit ? s.line.replace('output of', 'OUTPUT OF') : s.line);
    if (batch.length >= 10_000) {
      writeSync(fd, `${batch.join('\n')}\n`);
      batch = [];
    }
  };
  put({ type: 'run.started', runbook: { id: 'long', title: 'Long', version: '1', path: 'long.yaml', hash: 'h' }, drillbook: 'test', operator: 'ada', host: 'h', mode: 'incident', targets: [], inputs: {}, plan: { phases: [{ id: 'p', title: 'P', kind: 'verify', rollback: false, steps: [] }] } });
  for (let i = 0; i < steps; i++) {
    const step = `s${i}`;
    put({ type: 'step.started', step, phase: 'p', attempt: 1 });
    put({ type: 'command.started', step, command: `echo ${i}`, cwd: '/', env: [] });
    put({ type: 'command.output', step, stream: 'stdout', text: `output of step ${i}: ${'x'.repeat(120)}\n` });
    put({ type: 'command.exited', step, exitCode: 0, durationMs: 12 });
    put({ type: 'step.finished', step, outcome: 'passed' });
  }
  put({ type: 'run.finished', outcome: 'completed' });
  writeSync(fd, `${batch.join('\n')}\n`);
  closeSync(fd);
  return { events: seq, lastHash: prev };
}

describe('the report of a long transcript', () => {
  it.runIf(process.platform === 'linux')('of 400,000 events (over 100 MB): peak memory under 250 MB, all of it in the report, no temporary file left', async () => {
    const dir = tempDir('report-large');
    const tmp = tempDir('report-large-tmp');
    const file = path.join(dir, 'long.jsonl');
    const { events, lastHash } = writeTranscript(file, 80_000);
    const { result: r, peakMiB } = await withPeak(execa(process.execPath, [BIN, 'report', file, '-o', path.join(dir, 'long.md')], { env: { TMPDIR: tmp, NO_COLOR: '1' }, reject: false }));
    expect(r.exitCode, r.stderr).toBe(0);
    // Reading every event into memory first took about three times the file's size.
    expect(peakMiB).toBeGreaterThan(0);
    expect(peakMiB).toBeLessThan(250);
    expect(readdirSync(tmp)).toEqual([]);
    const md = readFileSync(path.join(dir, 'long.md'), 'utf8');
    expect(md).toContain(`Transcript: ${events} events. Last event hash: \`${lastHash}\``);
    // A timeline row for every event but the output, and each command's output in its own section.
    expect(md.split('\n').filter((l) => l.startsWith('| 2026-')).length).toBe(events - 80_000);
    expect(md.split('<details>').length - 1).toBe(80_000);
    expect(md).toContain('output of step 79999: ');
  });

  it('with a line edited in the middle: the chain breaks there, and the report covers only the events before it', async () => {
    const dir = tempDir('report-edited');
    const file = path.join(dir, 'edited.jsonl');
    // Past the size from which the hashes are checked on a second thread (the reader sees nothing wrong with the line itself).
    const edit = 30_004;
    writeTranscript(file, 12_000, edit);
    const r = await execa(process.execPath, [BIN, 'report', file, '-o', path.join(dir, 'edited.md')], { env: { NO_COLOR: '1' }, reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`the transcript's hash chain breaks at line ${edit} (its content does not match its hash: the line was edited); the report covers the ${edit - 1} events before it`);
    const md = readFileSync(path.join(dir, 'edited.md'), 'utf8');
    expect(md).toContain('DAMAGED TRANSCRIPT');
    expect(md).toContain(`Transcript: ${edit - 1} events.`);
    expect(md).not.toContain('OUTPUT OF');
  });
});
