/**
 * Reading a transcript file: its events, whether its chain holds, and a torn last line if a crash
 * left one. The file is read in chunks and checked line by line: only the events are kept, so the
 * memory it takes is that of the events, not of the file's text besides.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ChainVerifier, type ChainCheck, type SealedEvent } from '../core/chain.js';
import { DrillbookError } from '../core/errors.js';
import { ParallelHasher } from './chain-hasher.js';

export interface TranscriptRead {
  path: string;
  /** How many whole lines (ended by a newline) the file holds. */
  lineCount: number;
  /** Bytes of those whole lines, newlines included: where a torn last line begins. */
  wholeBytes: number;
  chain: ChainCheck;
  /** The last line, when it is incomplete (no newline at the end of the file): a write cut short. */
  torn: string | undefined;
}

const CHUNK = 1024 * 1024;
/** Transcripts from this size on are hashed on a worker thread when the caller asks (parallelHash). */
export const PARALLEL_FROM = 8 * 1024 * 1024;

export interface ReadOptions {
  /**
   * Check the hashes of a long transcript on a worker thread while this one parses it. Should the
   * worker find an edited line only after later events were handed on, or give no answer, the file
   * is read again with every hash checked here, its events handed to what `restart` returns (the
   * caller drops what it built from the first reading).
   */
  parallelHash?: { restart: () => (e: SealedEvent) => void };
}

/**
 * Read and verify a transcript. Its events are kept in `chain.events`, or, given `onEvent`, handed on
 * one by one as they verify and not kept: a caller that needs each event once (a report) reads a
 * transcript of any length without holding its events.
 */
export function readTranscript(file: string, onEvent?: (e: SealedEvent) => void, opts: ReadOptions = {}): TranscriptRead {
  const first = readOnce(file, onEvent, onEvent !== undefined && opts.parallelHash !== undefined);
  if (first.complete) return first.read;
  return readOnce(file, opts.parallelHash!.restart(), false).read;
}

/** One reading; `complete` is false when the worker's answer says the events handed on cannot stand. */
function readOnce(file: string, onEvent: ((e: SealedEvent) => void) | undefined, parallel: boolean): { read: TranscriptRead; complete: boolean } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DrillbookError(`cannot read transcript ${file}: ${code === 'ENOENT' ? 'no such file' : code}`, { exitCode: 2 });
  }
  // A worker starts in tens of milliseconds: worth it only where hashing takes longer than that.
  let hasher = parallel && fstatSync(fd).size >= PARALLEL_FROM ? ParallelHasher.start() : undefined;
  const chain = new ChainVerifier(onEvent, hasher !== undefined);
  const decoder = new StringDecoder('utf8');
  // A chunk handed to the hasher is its own from then on: each read gets a new one.
  let buf = Buffer.allocUnsafeSlow(CHUNK);
  // The text after the last newline seen so far (the start of a line still being read).
  let pending = '';
  let lineCount = 0;
  let bytesRead = 0;
  // Where the last newline byte is in the file: every byte up to it belongs to a whole line. (A
  // newline byte never occurs inside a multi-byte UTF-8 character, so this is exact.)
  let lastNewline = -1;
  // An empty line is held back: one just before the end of the file is not a line (a file ending in two newlines).
  let emptyHeld = 0;
  const line = (text: string) => {
    lineCount++;
    if (text === '') {
      emptyHeld++;
      return;
    }
    for (; emptyHeld > 0; emptyHeld--) chain.push('');
    chain.push(text);
  };
  // Newlines read: the lines the worker has been handed.
  let newlines = 0;
  let complete = true;
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, CHUNK, null);
      } catch (e) {
        throw new DrillbookError(`cannot read transcript ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { exitCode: 2 });
      }
      if (n === 0) break;
      const at = buf.lastIndexOf(10, n - 1);
      if (at >= 0) lastNewline = bytesRead + at;
      bytesRead += n;
      // Only the new text is searched: a very long line is joined once, when its newline comes.
      const text = decoder.write(buf.subarray(0, n));
      if (hasher) {
        if (hasher.feed(buf, n)) buf = Buffer.allocUnsafeSlow(CHUNK);
        else {
          // Far behind (or stuck): give it up, and read again with the hashes checked here.
          hasher.abandon();
          hasher = undefined;
          complete = false;
        }
      }
      let from = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
        newlines++;
        line(pending === '' ? text.slice(from, nl) : pending + text.slice(from, nl));
        pending = '';
        from = nl + 1;
      }
      if (from < text.length) pending += text.slice(from);
    }
    pending += decoder.end();
  } catch (e) {
    hasher?.abandon();
    throw e;
  } finally {
    closeSync(fd);
  }
  let wholeBytes = lastNewline + 1;
  // The empty lines held back: all but the last are lines of the chain (and break it).
  if (emptyHeld > 0) {
    for (; emptyHeld > 1; emptyHeld--) chain.push('');
    lineCount--;
    wholeBytes--;
  }
  const read: TranscriptRead = { path: file, lineCount, wholeBytes, chain: chain.result(), torn: pending || undefined };
  if (!hasher) return { read, complete };
  const answer = hasher.finish();
  // No answer, or one about other lines than those read here.
  if (!answer || answer.lines !== newlines) return { read, complete: false };
  const brokeAt = read.chain.ok ? Infinity : read.chain.line;
  // An edited line before the one the chain breaks at here: its event, and later ones, were handed on.
  // (At that same line, this thread has already checked its hash before giving its reason.)
  return { read, complete: answer.firstBad === 0 || answer.firstBad >= brokeAt };
}

/** What is wrong with the file, in the words the report opens with; undefined when nothing is. */
export function integrityNote(t: TranscriptRead): string | undefined {
  const problems: string[] = [];
  if (!t.chain.ok) problems.push(`its hash chain breaks at line ${t.chain.line} (${t.chain.reason}): this report covers only the ${t.chain.count} events before it, and what follows cannot be trusted`);
  if (t.torn) problems.push('its last line is torn (a write cut short) and is left out');
  return problems.length ? `the transcript was altered or damaged: ${problems.join('; ')}. Check it with drillbook verify.` : undefined;
}
