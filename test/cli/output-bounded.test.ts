/** 100 MB of command output: memory stays bounded, the transcript and the report stay small, the digest holds. */
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, drillbook } from '../helpers/cli.js';
import { withPeak } from '../helpers/memory.js';
import { tempDir } from '../helpers/tmp.js';

const BYTES = 100_000_000;
const GENERATOR = `yes 'row 0123456789 abcdefghijklmnopqrstuvwxyz postgres://app@db:5432/shop password check ok' | head -c ${BYTES}`;
const RUNBOOK = `
id: loud
title: A command that prints 100 MB
version: 1
phases:
  - id: p
    title: P
    kind: verify
    steps:
      - {id: loud, title: Print 100 MB, run: "${GENERATOR}", effect: read-only}
`;

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

describe('100 MB of command output', () => {
  it.runIf(process.platform === 'linux')('peak memory under 200 MB; the transcript keeps head, tail, size and SHA-256; the report stays small; --full-output has it all', async () => {
    const cwd = tempDir('loud');
    writeFileSync(path.join(cwd, 'loud.yaml'), RUNBOOK);
    const { result: r, peakMiB } = await withPeak(execa(process.execPath, [BIN, 'run', 'loud.yaml', '--auto', '--full-output'], { cwd, env: { CI: 'true', NO_COLOR: '1' }, reject: false, stdin: 'ignore', stdout: 'ignore' }));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(peakMiB).toBeGreaterThan(0);
    expect(peakMiB).toBeLessThan(200);

    const expected = (await execa('sh', ['-c', `${GENERATOR} | sha256sum`])).stdout.split(' ')[0];
    const dir = path.join(cwd, 'transcripts');
    const transcript = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.jsonl'))!);
    expect(statSync(transcript).size).toBeLessThan(1024 * 1024);
    const events = readFileSync(transcript, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; output?: { stdout: { bytes: number; sha256: string; omitted: number; file?: string } } });
    const exited = events.find((e) => e.type === 'command.exited')!;
    expect(exited.output!.stdout).toMatchObject({ bytes: BYTES, sha256: expected });
    expect(exited.output!.stdout.omitted).toBeGreaterThan(BYTES - 300 * 1024);
    // The side file holds the whole stream: its digest is the one recorded.
    expect(await sha256File(path.join(dir, exited.output!.stdout.file!))).toBe(expected);

    const report = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.md'))!);
    expect(statSync(report).size).toBeLessThan(1024 * 1024);
    expect(readFileSync(report, 'utf8')).toContain(expected);
    const html = await drillbook(['report', transcript, '--format', 'html']);
    expect(html.stdout.length).toBeLessThan(1024 * 1024);
  }, 180_000);
});
