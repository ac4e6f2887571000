/** Reading a transcript in chunks: the same events and verdicts as the file's text split into lines. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { integrityNote, readTranscript } from '../../src/app/transcript-file.js';
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
