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
