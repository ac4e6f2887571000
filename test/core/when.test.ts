import { describe, expect, it } from 'vitest';
import { parseWhen } from '../../src/core/when.js';

const now = new Date('2026-11-22T10:30:00Z');

describe('when a milestone happened', () => {
  it('is now by default', () => {
    expect(parseWhen('', now)).toEqual(now);
    expect(parseWhen('now', now)).toEqual(now);
  });
  it('takes HH:MM in UTC today, or yesterday when that would be in the future', () => {
    expect(parseWhen('10:05', now)?.toISOString()).toBe('2026-11-22T10:05:00.000Z');
    expect(parseWhen('23:50', now)?.toISOString()).toBe('2026-11-21T23:50:00.000Z');
    expect(parseWhen('25:00', now)).toBeUndefined();
  });
  it('takes "15m ago", "2h ago" and past ISO times; refuses the future and nonsense', () => {
    expect(parseWhen('15m ago', now)?.toISOString()).toBe('2026-11-22T10:15:00.000Z');
    expect(parseWhen('2h ago', now)?.toISOString()).toBe('2026-11-22T08:30:00.000Z');
    expect(parseWhen('2026-11-22T09:00:00Z', now)?.toISOString()).toBe('2026-11-22T09:00:00.000Z');
    expect(parseWhen('2026-11-23T09:00:00Z', now)).toBeUndefined();
    expect(parseWhen('soon', now)).toBeUndefined();
  });
});
