/**
 * The report as a document: blocks whose strings are data (never markup), handed one at a time to a
 * writer that escapes them for its format. Sections of the document are rendered as their events
 * arrive, into text buffers, and put in order at the end.
 */

/** Receives the report a piece at a time. */
export type Sink = (chunk: string) => void;

export type Inline = string | { strong: Inline[] } | { code: string };

export type Block =
  | { kind: 'h1' | 'h2'; text: Inline[] }
  | { kind: 'p'; text: Inline[] }
  | { kind: 'callout'; text: Inline[] }
  | { kind: 'table'; head: string[] }
  /** A cell is inline parts, or one plain string (most of a long timeline: no parts to build). */
  | { kind: 'row'; cells: Array<Inline[] | string> }
  | { kind: 'end-table' }
  | { kind: 'li'; text: Inline[] }
  | { kind: 'end-list' }
  | { kind: 'note'; head: Inline[]; text: string }
  | { kind: 'details'; summary: Inline[] }
  | { kind: 'pre'; text: string; lang: string }
  | { kind: 'end-details' }
  | { kind: 'hr' };

/** Writes blocks in one format. A writer for a section starts as if a block had just ended. */
export interface BlockWriter {
  write(b: Block): void;
  /** Closes what the blocks left open. */
  end(): void;
  /**
   * A table cell's text escaped for this format, `strong` or not: the long timeline renders its
   * rows from such cells (kept for a step's name, which repeats) instead of building blocks.
   */
  cell(text: string, strong?: boolean): string;
  /** A table row of cells already escaped by `cell`. */
  rawRow(cells: readonly string[]): void;
}

/**
 * Rendered text kept until the report is put in order. The in-memory one here holds it all; the
 * command's buffer (app/report-file.ts) moves it to a temporary file past a size, so a report of any
 * transcript takes bounded memory.
 */
export interface TextBuffer {
  append(text: string): void;
  /** Hands everything appended, in order, to the sink; the buffer is empty afterwards. */
  drain(sink: Sink): void;
}

export function memoryBuffer(): TextBuffer {
  let chunks: string[] = [];
  let text = '';
  return {
    append(t) {
      // Concatenation (V8 keeps a rope), cut into pieces of about 64 KiB.
      text += t;
      if (text.length >= 65_536) {
        chunks.push(text);
        text = '';
      }
    },
    drain(sink) {
      for (const c of chunks) sink(c);
      if (text) sink(text);
      chunks = [];
      text = '';
    },
  };
}
