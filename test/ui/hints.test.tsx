/** The key hints offer what the keys do there: b in checklists once something is done, never during a rollback. */
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { TargetInfo } from '../../src/core/events.js';
import { App, InkBridge } from '../../src/ui/app.js';
import { ThemeContext } from '../../src/ui/theme.js';
import { makeRun, ScriptedShell } from '../helpers/engine.js';
import { until, words } from '../helpers/frames.js';

const RUNBOOK = `
id: hints
title: Hints
version: 1
databases:
  prod: {url: {env: DATABASE_URL}, environment: production, default: true}
phases:
  - id: prep
    title: Prepare
    kind: prepare
    steps:
      - {id: first, title: First list, checklist: [read]}
      - {id: work, title: Do the work, run: ./fix.sh, effect: reversible, rollback: undo}
      - {id: after, title: After the work, checklist: [checked]}
  - id: rollback
    title: Roll back
    kind: rollback
    steps:
      - {id: undo, title: Undo the work, run: ./undo.sh, effect: reversible}
`;

const target: TargetInfo = { name: 'prod', environment: 'production', url: 'postgresql://app@db:5432/shop', host: 'db', port: '5432', database: 'shop', user: 'app' };

function mount(mode: 'incident' | 'rehearsal') {
  const bridge = new InkBridge();
  const r = makeRun(RUNBOOK, { shell: new ScriptedShell(), operator: { request: (req) => bridge.request(req) }, targets: [target], mode });
  r.run.subscribe(() => bridge.bump());
  const ui = render(
    <ThemeContext.Provider value={{ color: false }}>
      <App run={r.run} bridge={bridge} interrupt={() => undefined} rows={40} now={() => Date.parse('2026-11-22T10:00:05Z')} />
    </ThemeContext.Provider>,
  );
  const outcome = r.run.execute();
  return { ui, outcome, shell: r.shell };
}

describe('key hints', () => {
  for (const mode of ['incident', 'rehearsal'] as const) {
    const b = mode === 'rehearsal' ? 'b: rehearse the rollback from here' : 'b: rollback';
    it(`${mode}: b is listed in a checklist once a step is done, works there, and is not offered during the rollback`, async () => {
      const { ui, shell } = mount(mode);
      const first = await until(ui.lastFrame, (f) => f.includes('[ ] read'), 'the first checklist');
      // Nothing done yet: nothing to roll back.
      expect(words(first)).toContain('Space: tick');
      expect(first).not.toContain('b: ');
      ui.stdin.write(' ');
      await until(ui.lastFrame, (f) => f.includes('[x] read'), 'the tick');
      ui.stdin.write('\r');
      await until(ui.lastFrame, (f) => f.includes('Do the work') && f.includes('Enter: run it'), 'the go prompt');
      ui.stdin.write('\r');
      await until(ui.lastFrame, (f) => f.includes('confirm the target'), 'the gate');
      ui.stdin.write('shop\r');
      const after = await until(ui.lastFrame, (f) => f.includes('[ ] checked'), 'the checklist after the work');
      expect(words(after)).toContain(`s: skip · n: note · ${b} · v: results · q: quit · ?: help`);
      ui.stdin.write('b');
      await until(ui.lastFrame, (f) => f.includes('(y/N)'), 'the rollback question');
      ui.stdin.write('y');
      const undo = await until(ui.lastFrame, (f) => f.includes('ROLLING BACK') && f.includes('Undo the work') && f.includes('Enter: run it'), 'the rollback step');
      expect(words(undo)).toContain('Enter: run it · s: skip · n: note · v: results · q: quit · ?: help');
      expect(undo).not.toContain('b: ');
      ui.stdin.write('b');
      await until(ui.lastFrame, (f) => f.includes('no rollback available here'), 'b refused during the rollback');
      expect(shell.ran).toEqual(['./fix.sh']);
      ui.unmount();
    });
  }
});
