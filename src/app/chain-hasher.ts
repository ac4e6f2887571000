/**
 * The content half of the hash chain check on a worker thread (app/hash-worker.ts), so that a long
 * transcript is hashed while it is parsed: the reader hands each chunk it has decoded to the worker
 * (the memory moves, nothing is copied) and, at the end, waits for the worker's answer. Where no
 * worker can run, or it stops answering, the caller checks every hash itself instead.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/** The first line (1-based) whose content does not match its hash, 0 if none; how many lines were checked. */
export interface HashAnswer {
  firstBad: number;
  lines: number;
}

/** No progress for this long and the worker is given up on (a healthy one hashes a chunk in milliseconds). */
const STALL_MS = 5_000;
/** Chunks handed over and not yet hashed, at most: past that the worker is given up on (memory stays bounded). */
const MAX_AHEAD = 64;

function workerFile(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // Beside the bundle; from the sources, the built one.
  for (const p of [path.join(here, 'hash-worker.cjs'), path.join(here, '..', '..', 'dist', 'hash-worker.cjs')]) if (existsSync(p)) return p;
  return undefined;
}

export class ParallelHasher {
  private fed = 0;
  private done = false;

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    /** [0]: 1 once the answer is posted; [1]: lines hashed; [2]: chunks hashed. */
    private readonly flags: Int32Array,
  ) {}

  /** A hasher, or undefined where no worker can be started (then hash on this thread). */
  static start(): ParallelHasher | undefined {
    const file = workerFile();
    if (!file) return undefined;
    try {
      const state = new SharedArrayBuffer(12);
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(file, { workerData: { port: port2, state }, transferList: [port2], stdout: true, stderr: true });
      // Never keeps the process alive; an error shows as no answer.
      worker.unref();
      worker.on('error', () => undefined);
      return new ParallelHasher(worker, port1, new Int32Array(state));
    } catch {
      return undefined;
    }
  }

  /**
   * Hands over the first `length` bytes of a buffer the caller will not use again; false (nothing
   * handed over) when the worker is too far behind: then give it up.
   */
  feed(buf: Buffer, length: number): boolean {
    if (this.fed - Atomics.load(this.flags, 2) >= MAX_AHEAD) return false;
    this.fed++;
    // The reader's buffers are Buffer.allocUnsafeSlow's: plain ArrayBuffers of their own, never shared.
    const memory = buf.buffer as ArrayBuffer;
    this.port.postMessage(new Uint8Array(memory, buf.byteOffset, length), [memory]);
    return true;
  }

  /** Stops the worker without waiting for an answer. */
  abandon(): void {
    if (this.done) return;
    this.done = true;
    this.port.close();
    void this.worker.terminate();
  }

  /** Waits for the worker's answer; undefined if it failed or stalled (then hash on this thread). */
  finish(): HashAnswer | undefined {
    if (this.done) return undefined;
    this.port.postMessage('end');
    let progress = -1;
    let since = Date.now();
    try {
      for (;;) {
        Atomics.wait(this.flags, 0, 0, 200);
        const m = receiveMessageOnPort(this.port);
        if (m) {
          // An error, or a line too long to hash there: no answer.
          const answer = m.message as Partial<HashAnswer>;
          return typeof answer.firstBad === 'number' && typeof answer.lines === 'number' ? { firstBad: answer.firstBad, lines: answer.lines } : undefined;
        }
        const now = Atomics.load(this.flags, 2);
        if (now !== progress) {
          progress = now;
          since = Date.now();
        } else if (Date.now() - since > STALL_MS) return undefined;
      }
    } finally {
      this.abandon();
    }
  }
}
