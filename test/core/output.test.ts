import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Recorded } from '../../src/core/events.js';
import { OUTPUT_HEAD, OUTPUT_TAIL, OutputKeeper, safeCut } from '../../src/core/output.js';
import { renderMarkdown } from '../../src/core/report.js';
import { verifyChain } from '../../src/core/chain.js';
import { makeRun, ScriptedShell } from '../helpers/engine.js';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** Pieces of about n characters, as a stream decoder hands them on: never half a character. */
function chunks(text: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    const cut = safeCut(text.slice(i), n);
    out.push(text.slice(i, i + cut));
    i += cut;
  }
  return out;
}

function bigOutput(lines: number): string {
  let s = '';
  for (let i = 0; i < lines; i++) s += `line ${i} ${'·'.repeat(i % 40)} 🙂\n`;
  return s;
}

describe('what the transcript keeps of a command output', () => {
  it('the head as it comes, the tail at the end, and the size and SHA-256 of the whole', () => {
    const text = bigOutput(20_000);
    const k = new OutputKeeper();
    let recorded = '';
    let live = '';
    for (const piece of chunks(text, 4093)) {
      const r = k.take(piece);
      recorded += r.record;
      live += r.live;
    }
    const end = k.finish();
    expect(recorded).toBe(text.slice(0, recorded.length));
    expect(recorded.length).toBeGreaterThanOrEqual(OUTPUT_HEAD - 1);
    expect(recorded + live).toBe(text);
    expect(end.tail.length).toBeLessThanOrEqual(OUTPUT_TAIL);
    expect(text.endsWith(end.tail)).toBe(true);
    expect(end.digest).toEqual({ bytes: Buffer.byteLength(text), sha256: sha256(text), omitted: end.skipped });
    expect(end.skipped).toBe(Buffer.byteLength(text) - Buffer.byteLength(recorded) - Buffer.byteLength(end.tail));
  });

  it('never splits a character in two (the tail and head are valid text)', () => {
    const k = new OutputKeeper(5, 5);
    k.take('abcd🙂efgh🙂ijkl🙂🙂🙂🙂');
    const end = k.finish();
    expect(end.tail).not.toMatch(/^[\udc00-\udfff]/);
    expect(Buffer.from(end.tail).toString()).toBe(end.tail);
  });

  it('a short output is kept whole: nothing omitted', () => {
    const k = new OutputKeeper();
    expect(k.take('hello\n')).toEqual({ record: 'hello\n', live: '' });
    expect(k.finish()).toMatchObject({ tail: '', skipped: 0, digest: { bytes: 6, omitted: 0 } });
  });
});

describe('a command that prints megabytes', () => {
  const RUNBOOK = `
id: loud
title: Loud
version: 1
phases:
  - id: p
    title: P
    kind: verify
    steps:
      - {id: loud, title: Loud, run: ./loud.sh, effect: read-only}
`;

  it('the transcript holds head, tail and digest; the middle is shown live, never recorded; the report stays small', async () => {
    const text = bigOutput(60_000) + 'the end: postgres://app:hunter22@db/x\n';
    const shell = new ScriptedShell();
    shell.run = async (req) => {
      for (const piece of chunks(text, 65536)) req.onOutput('stdout', piece);
      return { exitCode: 0, signal: null, durationMs: 1, timedOut: false, cancelled: false };
    };
    const r = makeRun(RUNBOOK, { shell });
    let shown = '';
    r.run.subscribe((_s, e) => {
      if (e?.type === 'command.output' && e.live) shown += e.text;
    });
    await r.run.execute();
    const events = r.journal.events;
    expect(events.some((e) => e.type === 'command.output' && e.live)).toBe(false);
    const outputs = events.filter((e): e is Extract<Recorded, { type: 'command.output' }> => e.type === 'command.output');
    const head = outputs.filter((e) => e.skipped === undefined).map((e) => e.text).join('');
    const tail = outputs.find((e) => e.skipped !== undefined)!;
    const redacted = text.replace('hunter22', '[REDACTED]');
    expect(redacted.startsWith(head)).toBe(true);
    expect(redacted.endsWith(tail.text)).toBe(true);
    expect(tail.text).toContain('the end: postgres://app:[REDACTED]@db/x');
    expect(head + shown).toBe(redacted);
    const exited = events.find((e) => e.type === 'command.exited') as Extract<Recorded, { type: 'command.exited' }>;
    expect(exited.output?.stdout).toEqual({ bytes: Buffer.byteLength(redacted), sha256: sha256(redacted), omitted: tail.skipped });
    expect(tail.skipped).toBeGreaterThan(1_000_000);
    expect(r.journal.lines.join('\n').length).toBeLessThan(400 * 1024);

    const chain = verifyChain(r.journal.lines);
    const md = renderMarkdown(chain.events);
    expect(md.length).toBeLessThan(400 * 1024);
    expect(md).toContain(`bytes not kept in the transcript`);
    expect(md).toContain(sha256(redacted));
  });
});
