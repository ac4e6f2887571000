import { describe, expect, it } from 'vitest';
import { keyToAction } from '../../src/ui/keymap.js';
import { colorEnabled } from '../../src/ui/theme.js';

describe('keymap', () => {
  it('Ctrl-C stops a running command, and asks before quitting anywhere else', () => {
    expect(keyToAction({ kind: 'busy' }, 'c', { ctrl: true })).toEqual({ type: 'interrupt' });
    expect(keyToAction({ kind: 'go' }, 'c', { ctrl: true })).toEqual({ type: 'quit-ask' });
    expect(keyToAction({ kind: 'overlay-quit' }, 'c', { ctrl: true })).toEqual({ type: 'quit-yes' });
  });

  it('letters are text while typing a confirmation, not commands', () => {
    expect(keyToAction({ kind: 'confirm' }, 'q', {})).toEqual({ type: 'type', text: 'q' });
    expect(keyToAction({ kind: 'confirm' }, 's', {})).toEqual({ type: 'type', text: 's' });
    expect(keyToAction({ kind: 'confirm' }, '', { return: true })).toEqual({ type: 'submit' });
    expect(keyToAction({ kind: 'confirm' }, 'shop\r', {})).toEqual({ type: 'type-submit', text: 'shop' });
    expect(keyToAction({ kind: 'confirm' }, '', { escape: true })).toEqual({ type: 'cancel' });
  });

  it('the failure menu takes only the options it offers', () => {
    const screen = { kind: 'decide' as const, options: ['retry' as const, 'skip' as const, 'quit' as const] };
    expect(keyToAction(screen, 'o', {})).toEqual({ type: 'none' });
    expect(keyToAction(screen, 's', {})).toEqual({ type: 'choose', option: 'skip' });
    expect(keyToAction(screen, 'r', {})).toEqual({ type: 'rerun' });
    expect(keyToAction(screen, 'q', {})).toEqual({ type: 'quit-ask' });
  });

  it('arrows and j/k move in checklists; space ticks; nothing runs on a stray key', () => {
    const screen = { kind: 'checklist' as const, items: 3 };
    expect(keyToAction(screen, 'j', {})).toEqual({ type: 'move', by: 1 });
    expect(keyToAction(screen, '', { upArrow: true })).toEqual({ type: 'move', by: -1 });
    expect(keyToAction(screen, ' ', {})).toEqual({ type: 'toggle' });
    expect(keyToAction({ kind: 'go' }, 'x', {})).toEqual({ type: 'none' });
    expect(keyToAction({ kind: 'busy' }, '', { return: true })).toEqual({ type: 'none' });
  });

  it('v opens the review of earlier results wherever the run waits or works, and is text while typing', () => {
    for (const screen of [{ kind: 'go' as const }, { kind: 'busy' as const }, { kind: 'checklist' as const, items: 2 }, { kind: 'decide' as const, options: ['retry' as const, 'quit' as const] }]) {
      expect(keyToAction(screen, 'v', {}), screen.kind).toEqual({ type: 'results' });
    }
    expect(keyToAction({ kind: 'confirm' }, 'v', {})).toEqual({ type: 'type', text: 'v' });
    expect(keyToAction({ kind: 'ask' }, 'v', {})).toEqual({ type: 'type', text: 'v' });
  });

  it('in the review, ←/→ change the step, ↑/↓ and PgUp/PgDn scroll, Esc, v or q close it, and nothing else acts', () => {
    const screen = { kind: 'overlay-results' as const };
    expect(keyToAction(screen, '', { leftArrow: true })).toEqual({ type: 'results-step', by: -1 });
    expect(keyToAction(screen, '', { rightArrow: true })).toEqual({ type: 'results-step', by: 1 });
    expect(keyToAction(screen, 'k', {})).toEqual({ type: 'results-scroll', by: -1, unit: 'row' });
    expect(keyToAction(screen, '', { downArrow: true })).toEqual({ type: 'results-scroll', by: 1, unit: 'row' });
    expect(keyToAction(screen, '', { pageUp: true })).toEqual({ type: 'results-scroll', by: -1, unit: 'page' });
    expect(keyToAction(screen, '', { pageDown: true })).toEqual({ type: 'results-scroll', by: 1, unit: 'page' });
    for (const [input, key] of [['', { escape: true }], ['v', {}], ['q', {}]] as const) expect(keyToAction(screen, input, key)).toEqual({ type: 'cancel' });
    for (const input of ['s', 'r', 'o', 'm', 'n']) expect(keyToAction(screen, input, {}), input).toEqual({ type: 'none' });
    expect(keyToAction(screen, 'c', { ctrl: true })).toEqual({ type: 'quit-ask' });
  });

  it('honours NO_COLOR', () => {
    expect(colorEnabled({ NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({})).toBe(true);
  });
});
