/** The run screen's fitting: what gives way when the step does not fit, and a layout that stays put once measured. */
import { describe, expect, it } from 'vitest';
import { fitScreen, type Measured } from '../../src/ui/screen-fit.js';

const base: Measured = { banner: 6, step: 10, panel: 2, notes: 4, notesShown: -1, outputShown: 0 };

describe('fitting the run screen', () => {
  it('gives the previous step\'s result what the step leaves, the notes whole, when it fits', () => {
    // 40 rows: 39 drawn, 6 banner, 2 panel, 1 message: 30 for the body; the step takes 10.
    expect(fitScreen(base, 40, 1, 0, 12)).toEqual({ previousRows: 19, notesRows: undefined, outputLines: 12 });
  });

  it('on a small terminal folds the notes first, to their first rows and a line saying there is more', () => {
    // 24 rows: 23 - 6 - 2 = 15 for the body; the step needs 18 with 8 rows of notes: 4 of them and the "go on" line save 3.
    const fit = fitScreen({ ...base, step: 18, notes: 8 }, 24, 0, 0, 12);
    expect(fit.notesRows).toBe(4);
    expect(fit.previousRows).toBeLessThanOrEqual(0);
    expect(fit.outputLines).toBe(12);
  });

  it('then shows fewer of a running command\'s last lines, never fewer than two', () => {
    const fit = fitScreen({ ...base, step: 30, notes: 3, outputShown: 12 }, 24, 0, 12, 12);
    expect(fit.notesRows).toBe(1);
    expect(fit.outputLines).toBeLessThan(12);
    expect(fit.outputLines).toBeGreaterThanOrEqual(2);
    expect(fitScreen({ ...base, step: 80, notes: 3, outputShown: 12 }, 24, 0, 12, 12).outputLines).toBe(2);
  });

  it('stays put once drawn as it decided (measuring the folded step decides the same again)', () => {
    const first = fitScreen({ ...base, step: 18, notes: 8 }, 24, 0, 0, 12);
    // The frame drawn with the notes folded: the step is shorter by what was folded.
    const drawnStep = 18 - 8 + (first.notesRows! + 1);
    const again = fitScreen({ ...base, step: drawnStep, notes: 8, notesShown: first.notesRows! + 1 }, 24, 0, 0, 12);
    expect(again).toEqual(first);
  });
});
