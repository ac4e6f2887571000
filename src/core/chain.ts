/**
 * The transcript's hash chain. Each line is a JSON object whose last key is "hash": the SHA-256 of
 * the line's text without that key, which includes "prev", the previous line's hash. Editing,
 * dropping or reordering a line breaks the chain at that line.
 */
import { createHash, hash as oneShotHash } from 'node:crypto';
import type { Recorded } from './events.js';

export const GENESIS = '0'.repeat(64);

/** SHA-256 hex of a string: the one-shot crypto.hash where Node has it (20.12+), else createHash. */
export function sha256Hex(text: string | Uint8Array): string {
  return typeof oneShotHash === 'function' ? oneShotHash('sha256', text, 'hex') : createHash('sha256').update(text).digest('hex');
}

export function sealLine(event: Recorded, prev: string): { line: string; hash: string } {
  // "prev" goes last: added to the event's own JSON text rather than to a copy of the event.
  const own = JSON.stringify(event);
  const body = 'prev' in event || own.length < 3 ? JSON.stringify({ ...event, prev }) : `${own.slice(0, -1)},"prev":"${prev}"}`;
  const hash = sha256Hex(body);
  return { line: `${body.slice(0, -1)},"hash":"${hash}"}`, hash };
}

export type SealedEvent = Recorded & { prev: string; hash: string };

/** `events`: those kept (all that verified, unless they were handed on as read instead); `count`: how many verified. */
export type ChainCheck =
  | { ok: true; lastHash: string; count: number; events: SealedEvent[] }
  | { ok: false; line: number; reason: string; lastGoodHash: string; count: number; events: SealedEvent[] };

/** A sealed line ends with this, its hash (64 hex digits) and `"}`. */
export const HASH_PREFIX = ',"hash":"';
const CONTENT_MISMATCH = 'its content does not match its hash: the line was edited';
/** A sealed line ends with ,"hash":"<64 hex>"} : this many characters. */
export const SUFFIX_LENGTH = HASH_PREFIX.length + 64 + 2;

/** The text a sealed line's hash is of: the line without its trailing hash. */
function sealedText(line: string): string {
  return `${line.slice(0, line.length - SUFFIX_LENGTH)}}`;
}

/** The hash a sealed line ends with, read at a fixed offset (no scan of the line), or undefined. */
function trailingHash(line: string): string | undefined {
  const at = line.length - SUFFIX_LENGTH;
  if (at < 1 || !line.startsWith(HASH_PREFIX, at) || !line.endsWith('"}')) return undefined;
  // Not checked for hex: a hash that is not one cannot equal the one computed, and fails there.
  return line.slice(at + HASH_PREFIX.length, line.length - 2);
}

/**
 * The chain checked one line at a time, so a transcript is verified as it is read (no copy of the
 * whole file is kept). After the first bad line, further lines are ignored. Each event that verifies
 * is kept, or, given `onEvent`, handed on as it is read and not kept (a report of any length).
 */
export class ChainVerifier {
  private prev = GENESIS;
  private line = 0;
  private count = 0;
  private failure: { line: number; reason: string } | undefined;
  readonly events: SealedEvent[] = [];

  /**
   * `onEvent`: each event as it verifies, instead of keeping it. `contentHashedElsewhere`: whether each
   * line's text matches its hash is checked by someone else (a worker thread, see app/chain-hasher.ts);
   * everything else is checked here, each line's own hash taken as written.
   */
  constructor(
    private readonly onEvent?: (e: SealedEvent) => void,
    private readonly contentHashedElsewhere = false,
  ) {}

  /** Check the next line (without its newline). Returns false once the chain has broken. */
  push(text: string): boolean {
    if (this.failure) return false;
    this.line++;
    const sealed = trailingHash(text);
    if (sealed === undefined) return this.fail('not a sealed event (no trailing "hash"): torn or edited');
    if (!this.contentHashedElsewhere && sha256Hex(sealedText(text)) !== sealed) return this.fail(CONTENT_MISMATCH);
    let parsed: SealedEvent;
    try {
      parsed = JSON.parse(text) as SealedEvent;
    } catch {
      return this.failChecked(text, sealed, 'not valid JSON');
    }
    if (parsed.prev !== this.prev) return this.failChecked(text, sealed, 'its "prev" is not the hash of the line before: a line was removed, added or reordered');
    if (parsed.seq !== this.count + 1) return this.failChecked(text, sealed, `sequence number ${parsed.seq} where ${this.count + 1} was expected`);
    this.count++;
    this.prev = sealed;
    if (this.onEvent) this.onEvent(parsed);
    else this.events.push(parsed);
    return true;
  }

  /**
   * The line breaks the chain for `reason`, unless its content does not match its hash: checked
   * first, as when every hash is checked here (this one line is hashed here whoever hashes the rest).
   */
  private failChecked(text: string, sealed: string, reason: string): false {
    return this.fail(this.contentHashedElsewhere && sha256Hex(sealedText(text)) !== sealed ? CONTENT_MISMATCH : reason);
  }

  private fail(reason: string): false {
    this.failure = { line: this.line, reason };
    return false;
  }

  result(): ChainCheck {
    return this.failure
      ? { ok: false, line: this.failure.line, reason: this.failure.reason, lastGoodHash: this.prev, count: this.count, events: this.events }
      : { ok: true, lastHash: this.prev, count: this.count, events: this.events };
  }
}

/** Verify a transcript's lines (without their newlines). Stops at the first bad line (1-based). */
export function verifyChain(lines: readonly string[]): ChainCheck {
  const v = new ChainVerifier();
  for (const line of lines) if (!v.push(line)) break;
  return v.result();
}
