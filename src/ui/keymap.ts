/**
 * Keys → actions, as a pure function of what the screen is showing. The Ink app only dispatches
 * what this returns, so the whole keymap is testable without a terminal.
 */
import type { DecisionOption } from '../core/machine.js';

export interface KeyInfo {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
  backspace?: boolean;
  delete?: boolean;
  tab?: boolean;
}

/** What the screen is waiting for. Overlays take the keys first. */
export type Screen =
  | { kind: 'overlay-text' }
  | { kind: 'overlay-quit' }
  | { kind: 'overlay-help' }
  | { kind: 'overlay-milestone' }
  /** The review of the steps so far (v). */
  | { kind: 'overlay-results' }
  | { kind: 'go' }
  | { kind: 'confirm' }
  | { kind: 'ask' }
  | { kind: 'checklist'; items: number }
  | { kind: 'decide'; options: DecisionOption[] }
  | { kind: 'busy' } // a command or check is running
  | { kind: 'finished' };

export type Action =
  | { type: 'none' }
  | { type: 'go' }
  | { type: 'submit' }
  | { type: 'cancel' }
  | { type: 'type'; text: string }
  /** Text and Enter arriving in one chunk (pasted, or typed fast over ssh). */
  | { type: 'type-submit'; text: string }
  | { type: 'erase' }
  | { type: 'move'; by: number }
  | { type: 'toggle' }
  | { type: 'choose'; option: DecisionOption }
  | { type: 'choose-selected' }
  | { type: 'skip' }
  | { type: 'note' }
  | { type: 'milestone' }
  | { type: 'milestone-pick'; name: 'mitigated' | 'resolved' }
  | { type: 'rollback' }
  | { type: 'rerun' }
  | { type: 'help' }
  /** Open the review of the steps so far (v). */
  | { type: 'results' }
  /** In the review: the earlier (-1) or later (+1) step. */
  | { type: 'results-step'; by: -1 | 1 }
  /** In the review: scroll by rows, or by a page (±1 pages). */
  | { type: 'results-scroll'; by: number; unit: 'row' | 'page' }
  | { type: 'quit-ask' }
  | { type: 'quit-yes' }
  | { type: 'interrupt' };

const DECISION_KEYS: Record<string, DecisionOption> = { r: 'retry', s: 'skip', o: 'override', m: 'mark-done', b: 'rollback', q: 'quit' };

export function keyToAction(screen: Screen, input: string, key: KeyInfo): Action {
  if (key.ctrl && input === 'c') {
    // Ctrl-C stops what runs; elsewhere it asks before quitting.
    if (screen.kind === 'busy') return { type: 'interrupt' };
    if (screen.kind === 'overlay-quit') return { type: 'quit-yes' };
    return { type: 'quit-ask' };
  }
  switch (screen.kind) {
    case 'overlay-text':
    case 'confirm':
    case 'ask':
      if (key.return) return { type: 'submit' };
      if (key.escape) return { type: 'cancel' };
      if (key.backspace || key.delete) return { type: 'erase' };
      if (key.ctrl || key.upArrow || key.downArrow || key.tab) return { type: 'none' };
      if (/[\r\n]/.test(input)) return { type: 'type-submit', text: input.split(/[\r\n]/)[0] ?? '' };
      return input ? { type: 'type', text: input } : { type: 'none' };
    case 'overlay-quit':
      if (input === 'y' || input === 'Y') return { type: 'quit-yes' };
      return { type: 'cancel' };
    case 'overlay-help':
      return { type: 'cancel' };
    case 'overlay-results':
      if (key.leftArrow || input === 'h') return { type: 'results-step', by: -1 };
      if (key.rightArrow || input === 'l') return { type: 'results-step', by: 1 };
      if (key.upArrow || input === 'k') return { type: 'results-scroll', by: -1, unit: 'row' };
      if (key.downArrow || input === 'j') return { type: 'results-scroll', by: 1, unit: 'row' };
      if (key.pageUp || input === 'b') return { type: 'results-scroll', by: -1, unit: 'page' };
      if (key.pageDown || input === ' ') return { type: 'results-scroll', by: 1, unit: 'page' };
      if (key.escape || key.return || input === 'v' || input === 'q') return { type: 'cancel' };
      return { type: 'none' };
    case 'overlay-milestone':
      if (input === 'm') return { type: 'milestone-pick', name: 'mitigated' };
      if (input === 'r') return { type: 'milestone-pick', name: 'resolved' };
      return { type: 'cancel' };
    case 'finished':
      return { type: 'none' };
    default:
      break;
  }
  // Keys that work wherever the run is.
  if (input === '?') return { type: 'help' };
  if (input === 'n') return { type: 'note' };
  if (input === 'M') return { type: 'milestone' };
  if (input === 'v') return { type: 'results' };
  if (input === 'q') return { type: 'quit-ask' };
  switch (screen.kind) {
    case 'busy':
      return { type: 'none' };
    case 'go':
      if (key.return) return { type: 'go' };
      if (input === 's') return { type: 'skip' };
      if (input === 'b') return { type: 'rollback' };
      return { type: 'none' };
    case 'checklist':
      if (key.upArrow || input === 'k') return { type: 'move', by: -1 };
      if (key.downArrow || input === 'j') return { type: 'move', by: 1 };
      if (input === ' ' || input === 'x') return { type: 'toggle' };
      if (key.return) return { type: 'submit' };
      if (input === 's') return { type: 'skip' };
      if (input === 'b') return { type: 'rollback' };
      return { type: 'none' };
    case 'decide': {
      if (key.upArrow || input === 'k') return { type: 'move', by: -1 };
      if (key.downArrow || input === 'j') return { type: 'move', by: 1 };
      if (key.return) return { type: 'choose-selected' };
      if (input === 'r') return { type: 'rerun' };
      const option = DECISION_KEYS[input];
      if (option && screen.options.includes(option)) return { type: 'choose', option };
      return { type: 'none' };
    }
  }
}
