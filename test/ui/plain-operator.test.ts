/** Plain mode's operator says what quitting does: a run can be resumed, a drill cannot (it is rehearsed again). */
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { OperatorRequest, Session } from '../../src/core/ports.js';
import { makeRun } from '../helpers/engine.js';

const { plan } = makeRun('id: p\ntitle: P\nversion: 1\nphases:\n  - id: a\n    title: A\n    kind: verify\n    steps:\n      - {id: c, title: C, check: SELECT 1, expect: {value: 2}}\n');
const session: Session = { tick: () => undefined, note: () => undefined, milestone: () => undefined, cancel: () => undefined };

/** The failure menu as plain mode prints it, then the operator closes the input (which quits). */
async function menu(drill: string | undefined): Promise<{ shown: string; answer: string }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (d: Buffer) => (shown += d.toString('utf8')));
  // The module watches the first input it is given for its end (one operator per process): a fresh copy per menu.
  vi.resetModules();
  const { plainOperator } = await import('../../src/ui/plain-operator.js');
  const op = plainOperator({ input, output }, (s) => void (shown += s), drill === undefined ? {} : { drill });
  const req: OperatorRequest = { kind: 'decide', step: plan.steps.c!, options: ['retry', 'skip', 'override', 'quit'], unknown: false, failure: 'expected the value 2, got "1"' };
  const answer = op.request(req, session);
  await new Promise((r) => setTimeout(r, 100));
  input.end();
  // Inquirer styles and wraps lines at the output's width: compare the words.
  return { shown: shown.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\s+/g, ' '), answer: (await answer).kind };
}

describe('plain mode: quitting', () => {
  it('in a run, says the run can be resumed', async () => {
    const { shown, answer } = await menu(undefined);
    expect(shown).toContain('Quit (the run can be resumed)');
    expect(answer).toBe('quit');
  });

  it('in a drill, says the drill ends and how to rehearse it again, never that it can be resumed', async () => {
    const { shown } = await menu('prisma-failed-migration');
    expect(shown).toContain('Quit (the drill ends here; rehearse again with drillbook drill prisma-failed-migration)');
    expect(shown).not.toContain('resumed');
  });
});
