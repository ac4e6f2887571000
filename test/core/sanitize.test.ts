import { describe, expect, it } from 'vitest';
import { visible, visibleLine } from '../../src/core/sanitize.js';
import { formatTable } from '../../src/core/format.js';
import { CONTROL, HOSTILE } from '../helpers/hostile.js';


describe('visible(): control characters from data are shown, not obeyed', () => {
  it.each(Object.entries(HOSTILE))('%s', (_name, text) => {
    const out = visible(text);
    expect(out).not.toMatch(CONTROL);
  });

  it('shows each escape as text a reader can see', () => {
    expect(visible(HOSTILE.osc52)).toBe('\\x1b]52;c;cm0gLXJmIH4K\\x07');
    expect(visible(HOSTILE.c1)).toBe('\\x9b31mred');
    expect(visible(HOSTILE.overwrite)).toBe('ok\\x0dmode: REHEARSAL');
    expect(visible(HOSTILE.bidi)).toBe('abc\\u202edcba');
    expect(visible('\x00\x7f')).toBe('\\x00\\x7f');
  });

  it('keeps newline and tab, turns CRLF into a newline, and leaves ordinary text (and Unicode) alone', () => {
    expect(visible('a\tb\nc\r\nd')).toBe('a\tb\nc\nd');
    const plain = 'naïve café — ✓ 日本語 🙂';
    expect(visible(plain)).toBe(plain);
  });

  it('is idempotent', () => {
    for (const t of Object.values(HOSTILE)) expect(visible(visible(t))).toBe(visible(t));
  });

  it('visibleLine() also shows newline and tab, for one-line places', () => {
    expect(visibleLine('a\nb\tc\x1b')).toBe('a\\nb\\tc\\x1b');
  });

  it('table cells from a database never carry control characters or break the table', () => {
    const t = formatTable({ columns: ['name\x1b[31m'], rows: [[HOSTILE.clear], ['two\nlines']], rowCount: 2 });
    expect(t).not.toMatch(CONTROL);
    expect(t.split('\n')).toHaveLength(5);
    expect(t).toContain('two\\nlines');
  });
});

describe('tables', () => {
  it('wrap a long value inside its column instead of cutting it, and stay aligned', () => {
    const long = 'started 2026-11-22 00:35:34, never finished: Database error code: 40001 could not serialize access';
    const t = formatTable({ columns: ['migration', 'evidence'], rows: [['20240103000000_add_post_index', long], ['b', 'short']], rowCount: 2 }, 10, 40);
    const lines = t.split('\n');
    // Every word of the value is there, nothing is cut with an ellipsis.
    expect(lines.join(' ').replace(/\s+/g, ' ')).toContain('could not serialize access');
    expect(t).not.toContain('…');
    // Continuation lines keep the first column empty and the separator in place.
    const sep = lines[0]!.indexOf(' | ');
    for (const l of lines.slice(2, -1)) expect(l.indexOf(' | ')).toBe(sep);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(sep + 3 + 40);
  });
});
