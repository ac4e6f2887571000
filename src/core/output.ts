/**
 * What the transcript keeps of a command's output stream, whatever its size: the head as it comes,
 * the tail when the command ends, and for the whole stream its size and SHA-256. Memory stays
 * bounded (the tail is a ring of at most twice its size); the middle is shown live on screen but not
 * recorded, and goes whole to a side file only when the operator asks (--full-output).
 */
import { createHash, type Hash } from 'node:crypto';
import type { OutputDigest } from './events.js';

/** Characters of each stream recorded from its start. */
export const OUTPUT_HEAD = 64 * 1024;
/** Characters of each stream recorded from its end. */
export const OUTPUT_TAIL = 64 * 1024;

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;

/** Where to cut a string at about `n` characters without splitting a surrogate pair. */
export function safeCut(text: string, n: number): number {
  if (n <= 0) return 0;
  if (n >= text.length) return text.length;
  return isHighSurrogate(text.charCodeAt(n - 1)) ? n - 1 : n;
}

export class OutputKeeper {
  private bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  private headLeft: number;
  private headBytes = 0;
  private tail: string[] = [];
  private tailLen = 0;
  /** Characters after the head dropped from the tail ring so far. */
  private dropped = false;

  constructor(head = OUTPUT_HEAD, private readonly tailSize = OUTPUT_TAIL) {
    this.headLeft = head;
  }

  /** Take the next piece of (redacted) output: `record` goes into the transcript now, `live` is only shown. */
  take(text: string): { record: string; live: string } {
    const n = Buffer.byteLength(text, 'utf8');
    this.bytes += n;
    this.hash.update(text, 'utf8');
    let record = '';
    let live = text;
    if (this.headLeft > 0) {
      const cut = safeCut(text, this.headLeft);
      record = text.slice(0, cut);
      live = text.slice(cut);
      this.headLeft = live ? 0 : this.headLeft - record.length;
      this.headBytes += record === text ? n : Buffer.byteLength(record, 'utf8');
    }
    if (live) {
      this.tail.push(live);
      this.tailLen += live.length;
      if (this.tailLen > 2 * this.tailSize) this.trim();
    }
    return { record, live };
  }

  private trim(): void {
    const all = this.tail.join('');
    const from = all.length - this.tailSize;
    const start = from > 0 && isHighSurrogate(all.charCodeAt(from - 1)) ? from - 1 : from;
    this.tail = [all.slice(start)];
    this.tailLen = this.tail[0]!.length;
    this.dropped = true;
  }

  /** The end of the stream: the tail to record (with the bytes left out before it), and the digest of the whole. */
  finish(file?: string): { tail: string; skipped: number; digest: OutputDigest } {
    if (this.tailLen > this.tailSize) this.trim();
    const tail = this.tail.join('');
    const tailBytes = Buffer.byteLength(tail, 'utf8');
    const omitted = this.dropped ? this.bytes - this.headBytes - tailBytes : 0;
    return {
      tail,
      skipped: omitted,
      digest: { bytes: this.bytes, sha256: this.hash.digest('hex'), omitted, ...(file ? { file } : {}) },
    };
  }
}
