/**
 * A worker thread that checks a transcript's hash chain beside the thread that reads it: for each
 * line handed to it (the same bytes the reader decodes), the SHA-256 of the line's text without its
 * trailing hash must equal that hash. The reader checks everything else (the line's shape, its JSON,
 * "prev", the sequence), so the two together check exactly what ChainVerifier checks alone.
 *
 * A line not valid UTF-8, or not shaped like a sealed line in its bytes, counts as a mismatch here:
 * the reader, which works on decoded text, either refuses that line itself, or reads the file again
 * checking every hash on its own thread.
 */
import { isUtf8 } from 'node:buffer';
import { workerData, type MessagePort } from 'node:worker_threads';
import { HASH_PREFIX, sha256Hex, SUFFIX_LENGTH } from '../core/chain.js';

const { port, state } = workerData as { port: MessagePort; state: SharedArrayBuffer };
/** [0]: 1 once the answer is posted; [1]: lines checked so far; [2]: chunks done (the reader watches it move). */
const flags = new Int32Array(state);
/**
 * A line longer than this is not hashed here (it would be held whole a second time, beside the
 * reader's copy): the answer says so, and the reader checks the file on its own thread instead.
 */
const LONGEST = 16 * 1024 * 1024;

/** The line format is chain.ts's: the same prefix, in bytes. */
const PREFIX = Buffer.from(HASH_PREFIX);

let line = 0;
let firstBad = 0;
/** The start of a line still being read, in pieces (joined once, when its newline comes: linear in its length). */
let carry: Buffer[] = [];
let carried = 0;
let tooLong = false;

const answer = (message: object): void => {
  port.postMessage(message);
  port.close();
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
};

const check = (buf: Buffer, start: number, end: number): void => {
  line++;
  if (firstBad) return;
  // An empty line: the reader refuses it (or, last in the file, it is no line at all).
  if (end === start) return;
  const at = end - SUFFIX_LENGTH;
  // Not a sealed line's bytes: the reader refuses it too, unless its characters look sealed where
  // its bytes do not (a "hash" of characters outside ASCII, which no SHA-256 in hex equals).
  if (at < start + 1 || buf[end - 1] !== 0x7d || buf[end - 2] !== 0x22 || buf.compare(PREFIX, 0, PREFIX.length, at, at + PREFIX.length) !== 0) {
    firstBad = line;
    return;
  }
  if (!isUtf8(buf.subarray(start, end))) {
    firstBad = line;
    return;
  }
  // The sealed text is the line up to its hash, closed by "}": put it in place of the comma, hash, put the comma back.
  const comma = buf[at]!;
  buf[at] = 0x7d;
  const digest = sha256Hex(buf.subarray(start, at + 1));
  buf[at] = comma;
  if (digest !== buf.toString('latin1', at + PREFIX.length, at + PREFIX.length + 64)) firstBad = line;
};

port.on('message', (m: Uint8Array | 'end') => {
  try {
    if (m === 'end') return answer(tooLong ? { tooLong: true } : { firstBad, lines: line });
    if (!tooLong) {
      const chunk = Buffer.from(m.buffer, m.byteOffset, m.byteLength);
      let from = 0;
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, from)) {
        if (carry.length) {
          const whole = Buffer.concat([...carry, chunk.subarray(from, nl)]);
          carry = [];
          carried = 0;
          check(whole, 0, whole.length);
        } else check(chunk, from, nl);
        from = nl + 1;
      }
      // The chunk is this thread's own (transferred): a view of it is kept, not a copy.
      if (from < chunk.length) {
        carry.push(chunk.subarray(from));
        carried += chunk.length - from;
        if (carried > LONGEST) {
          tooLong = true;
          carry = [];
        }
      }
      Atomics.store(flags, 1, line);
    }
    Atomics.add(flags, 2, 1);
  } catch (e) {
    answer({ error: String(e) });
  }
});
