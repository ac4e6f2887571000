/**
 * The transcript's hash chain. Each line is a JSON object whose last key is "hash": the SHA-256 of
 * the line's text without that key, which includes "prev", the previous line's hash. Editing,
 * dropping or reordering a line breaks the chain at that line.
 */
import { createHash, hash as oneShotHash } from 'node:crypto';
import type { Recorded } from './events.js';

export const GENESIS = '0'.repeat(64);

/** SHA-256 hex of a string: the one-shot crypto.hash where Node has it (20.12+), else createHash. */
function sha256Hex(text: string): string {
  return typeof oneShotHash === 'function' ? oneShotHash('sha256', text, 'hex') : createHash('sha256').update(text).digest('hex');
}

const HASH_SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/;

export function sealLine(event: Recorded, prev: string): { line: string; hash: string } {
  const body = JSON.stringify({ ...event, prev });
  const hash = sha256Hex(body);
  return { line: `${body.slice(0, -1)},"hash":"${hash}"}`, hash };
}

export type ChainCheck =
  | { ok: true; lastHash: string; events: Array<Recorded & { prev: string; hash: string }> }
  | { ok: false; line: number; reason: string; lastGoodHash: string; events: Array<Recorded & { prev: string; hash: string }> };

/** Verify a transcript's lines (without their newlines). Stops at the first bad line (1-based). */
export function verifyChain(lines: readonly string[]): ChainCheck {
  let prev = GENESIS;
  const events: Array<Recorded & { prev: string; hash: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fail = (reason: string): ChainCheck => ({ ok: false, line: i + 1, reason, lastGoodHash: prev, events });
    const m = HASH_SUFFIX.exec(line);
    if (!m) return fail('not a sealed event (no trailing "hash"): torn or edited');
    const body = `${line.slice(0, m.index)}}`;
    const hash = sha256Hex(body);
    if (hash !== m[1]) return fail('its content does not match its hash: the line was edited');
    let parsed: Recorded & { prev: string; hash: string };
    try {
      parsed = JSON.parse(line) as Recorded & { prev: string; hash: string };
    } catch {
      return fail('not valid JSON');
    }
    if (parsed.prev !== prev) return fail('its "prev" is not the hash of the line before: a line was removed, added or reordered');
    if (parsed.seq !== events.length + 1) return fail(`sequence number ${parsed.seq} where ${events.length + 1} was expected`);
    events.push(parsed);
    prev = hash;
  }
  return { ok: true, lastHash: prev, events };
}
