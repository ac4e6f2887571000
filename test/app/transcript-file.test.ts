/** Reading a transcript in chunks: the same events and verdicts as the file's text split into lines. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { integrityNote, PARALLEL_FROM, readTranscript, type TranscriptRead } from '../../src/app/transcript-file.js';
import { GENESIS, sealLine } from '../../src/core/chain.js';
import type { Recorded } from '../../src/core/events.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drillbook-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Sealed lines of a run whose command output is `texts`, one event each. */
function sealed(texts: string[]): string[] {
  let prev = GENESIS;
  const out: string[] = [];
  const events = [{ type: 'run.started' }, ...texts.map((text) => ({ type: 'command.output', step: 's', stream: 'stdout', text }))];
  events.forEach((e, i) => {
    const s = sealLine({ ...e, seq: i + 1, ts: '2026-11-29T00:00:00.000Z', actor: 't' } as unknown as Recorded, prev);
    out.push(s.line);
    prev = s.hash;
  });
  return out;
}

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('readTranscript', () => {
  it('lines longer than the read chunk, with multi-byte characters across its edges, verify whole', () => {
    // 3 MiB of output in one event: its line spans several 1 MiB chunks; "é" and "€" straddle their edges somewhere.
    const big = 'é€a'.repeat(400_000);
    const lines = sealed(['small', big, 'after']);
    const t = readTranscript(file('long.jsonl', `${lines.join('\n')}\n`));
    expect(t.chain.ok).toBe(true);
    expect(t.chain.events).toHaveLength(4);
    expect((t.chain.events[2] as { text?: string }).text).toBe(big);
    expect(t.torn).toBeUndefined();
    expect(t.lineCount).toBe(4);
    expect(integrityNote(t)).toBeUndefined();
  });

  it('a torn last line is set apart, with the byte offset where it begins', () => {
    const lines = sealed(['one', 'two']);
    const whole = `${lines.slice(0, 2).join('\n')}\n`;
    const t = readTranscript(file('torn.jsonl', `${whole}${lines[2]!.slice(0, 40)}`));
    expect(t.chain.ok).toBe(true);
    expect(t.chain.events).toHaveLength(2);
    expect(t.torn).toBe(lines[2]!.slice(0, 40));
    expect(t.wholeBytes).toBe(Buffer.byteLength(whole));
    expect(integrityNote(t)).toContain('its last line is torn');
  });

  it('an edited line breaks the chain at that line; a blank line in the middle too; one blank line at the very end does not', () => {
    const lines = sealed(['one', 'two', 'three']);
    const edited = [...lines];
    edited[2] = edited[2]!.replace('"two"', '"TWO"');
    const t = readTranscript(file('edited.jsonl', `${edited.join('\n')}\n`));
    expect(t.chain).toMatchObject({ ok: false, line: 3 });
    expect(t.chain.events).toHaveLength(2);
    expect(integrityNote(t)).toContain('hash chain breaks at line 3');

    const blank = readTranscript(file('blank.jsonl', `${lines.slice(0, 2).join('\n')}\n\n${lines.slice(2).join('\n')}\n`));
    expect(blank.chain).toMatchObject({ ok: false, line: 3 });

    const trailing = readTranscript(file('trailing.jsonl', `${lines.join('\n')}\n\n`));
    expect(trailing.chain.ok).toBe(true);
    expect(trailing.lineCount).toBe(4);
  });

  it('an empty file has no lines and no events', () => {
    const t = readTranscript(file('empty.jsonl', ''));
    expect(t).toMatchObject({ lineCount: 0, wholeBytes: 0, torn: undefined });
    expect(t.chain.events).toHaveLength(0);
  });
});

/** A transcript past the size from which a report hashes on a worker thread: sealed lines of ~1 KiB. */
function bigTranscript(): string[] {
  const n = Math.ceil(PARALLEL_FROM / 1000) + 200;
  return sealed(Array.from({ length: n }, (_, i) => `line ${i} ${'é'.repeat(i % 7)}${'x'.repeat(900)}`));
}

/** What a reader tells: the verdict, the events handed on in order (their seq), the torn line. */
function verdict(t: TranscriptRead, seqs: number[]): unknown {
  const c = t.chain;
  return { ok: c.ok, line: c.ok ? undefined : c.line, reason: c.ok ? undefined : c.reason, count: c.count, seqs, torn: t.torn, lineCount: t.lineCount, wholeBytes: t.wholeBytes };
}

describe('readTranscript with its hashes checked on a worker thread (a report of a long transcript)', () => {
  const lines = bigTranscript();
  const reseal = (l: string) => {
    const body = `${l.slice(0, l.length - 75)}}`;
    return `${body.slice(0, -1)},"hash":"${createHash('sha256').update(body).digest('hex')}"}`;
  };
  const at = Math.floor(lines.length / 2);
  const cases: Array<[string, string | Buffer]> = [
    ['whole', `${lines.join('\n')}\n`],
    ['a line edited', `${lines.map((l, i) => (i === at ? l.replace('"line ', '"LINE ') : l)).join('\n')}\n`],
    ['a line that is not JSON, sealed anew', `${lines.map((l, i) => (i === at ? reseal(l.replace('"text":"', '"text":')) : l)).join('\n')}\n`],
    ['a line that is not JSON, its hash not matching either', `${lines.map((l, i) => (i === at ? l.replace('"text":"', '"text":') : l)).join('\n')}\n`],
    ['a line removed', `${lines.filter((_, i) => i !== at).join('\n')}\n`],
    ['a blank line', `${[...lines.slice(0, at), '', ...lines.slice(at)].join('\n')}\n`],
    ['a torn last line', `${lines.slice(0, -1).join('\n')}\n${lines.at(-1)!.slice(0, 300)}`],
    ['a line edited after another that is not JSON', `${lines.map((l, i) => (i === at ? reseal(l.replace('"text":"', '"text":')) : i === at + 5 ? l.replace('"line ', '"LINE ') : l)).join('\n')}\n`],
    ['bytes that are not UTF-8', (() => {
      const b = Buffer.from(`${lines.join('\n')}\n`);
      b[b.indexOf('"line ', Math.floor(b.length / 2)) + 2] = 0xff;
      return b;
    })()],
    ['bytes that are not UTF-8, sealed anew over those bytes', (() => {
      const b = Buffer.from(`${lines.join('\n')}\n`);
      const start = b.lastIndexOf(10, Math.floor(b.length / 2)) + 1;
      const end = b.indexOf(10, start);
      b[b.indexOf('"line ', start) + 2] = 0xff;
      // The hash of the raw bytes: text decoded from them reads differently (U+FFFD), so it must not match.
      const cut = end - 75;
      const sealedText = Buffer.concat([b.subarray(start, cut), Buffer.from('}')]);
      b.write(createHash('sha256').update(sealedText).digest('hex'), cut + 9, 'latin1');
      return b;
    })()],
    // A "hash" that is no SHA-256 in hex: 64 characters of two bytes each (the line's end is not where its bytes say).
    ['a line whose hash is 64 non-ASCII characters', `${lines.map((l, i) => (i === at ? `${l.slice(0, l.length - 66)}${'é'.repeat(64)}"}` : l)).join('\n')}\n`],
    ['a line whose hash is 62 hex digits and one two-byte character', `${lines.map((l, i) => (i === at ? `${l.slice(0, l.length - 66)}${l.slice(l.length - 66, l.length - 4)}é"}` : l)).join('\n')}\n`],
    ['a line whose hash is in capitals', `${lines.map((l, i) => (i === at ? `${l.slice(0, l.length - 66)}${l.slice(l.length - 66, l.length - 2).toUpperCase()}"}` : l)).join('\n')}\n`],
    ['a line sealed anew with a sequence number out of place', `${lines.map((l, i) => (i === at ? reseal(l.replace(/"seq":\d+/, '"seq":1')) : l)).join('\n')}\n`],
    ['a line of 20 MB (longer than the worker hashes)', `${lines.map((l, i) => (i === at ? reseal(l.replace('"line ', `"${'y'.repeat(20_000_000)} `)) : l)).join('\n')}\n`],
  ];

  it.each(cases)('%s: the same verdict and events as when every hash is checked on this thread', (_what, content) => {
    const f = file('parallel.jsonl', '');
    writeFileSync(f, content);
    const here: number[] = [];
    const alone = readTranscript(f, (e) => void here.push(e.seq));
    const there: number[] = [];
    // As the report does: if the file is read again, what was handed on is dropped.
    const restart = () => {
      there.length = 0;
      return (e: { seq: number }) => void there.push(e.seq);
    };
    const worker = readTranscript(f, (e) => void there.push(e.seq), { parallelHash: { restart } });
    expect(verdict(worker, there)).toEqual(verdict(alone, here));
    expect(alone.chain.events).toHaveLength(0);
  });

  it('takes the worker\'s answer when it has one (no second reading of a sound transcript)', () => {
    let readings = 1;
    const restart = () => {
      readings++;
      return () => undefined;
    };
    const f = file('sound.jsonl', `${lines.join('\n')}\n`);
    expect(readTranscript(f, () => undefined, { parallelHash: { restart } }).chain.ok).toBe(true);
    expect(readings).toBe(1);
    // An edit the reader cannot see itself (the line is still JSON with the right "prev"): the worker finds it, the file is read again.
    const edited = file('edited-big.jsonl', `${lines.map((l, i) => (i === 7 ? l.replace('"line ', '"LINE ') : l)).join('\n')}\n`);
    expect(readTranscript(edited, () => undefined, { parallelHash: { restart } }).chain).toMatchObject({ ok: false, line: 8 });
    expect(readings).toBe(2);
  });
});

