import { GENESIS, sealLine } from '../../src/core/chain.js';
import type { Recorded } from '../../src/core/events.js';
import type { Journal } from '../../src/core/ports.js';

/** Holds sealed events in memory, for engine tests. */
export class MemoryJournal implements Journal {
  readonly path = undefined;
  readonly events: Recorded[] = [];
  readonly lines: string[] = [];
  private prev = GENESIS;
  append(event: Recorded): void {
    const { line, hash } = sealLine(event, this.prev);
    this.lines.push(line);
    this.events.push(event);
    this.prev = hash;
  }
  close(): void {}
}
