/**
 * The phase list shows a window of rows around the current step, so that a long runbook costs no
 * more to draw than a short one, and the operator always sees where the run is.
 */
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { initialState, transition } from '../../src/core/machine.js';
import { parseRunbook } from '../../src/core/load.js';
import { buildPlan, type Plan } from '../../src/core/plan.js';
import { App, InkBridge, listWidth } from '../../src/ui/app.js';
import { PhaseList, phaseListRows } from '../../src/ui/phase-list.js';
import { ThemeContext } from '../../src/ui/theme.js';
import { makeRun } from '../helpers/engine.js';

/** A runbook of checklist steps: `phases` phases of `steps` steps each. */
function checklists(phases: number, steps: number): string {
  const out = ['id: big', 'title: Big', 'version: 1', 'phases:'];
  for (let p = 0; p < phases; p++) {
    out.push(`  - id: p${p}`, `    title: Phase ${p}`, '    kind: other', '    steps:');
    for (let s = 0; s < steps; s++) out.push(`      - {id: s${p}-${s}, title: Step ${p}.${s}, checklist: [done]}`);
  }
  return `${out.join('\n')}\n`;
}

function planOf(phases: number, steps: number): Plan {
  const { runbook, problems } = parseRunbook(checklists(phases, steps), 'big.yaml');
  if (!runbook) throw new Error(JSON.stringify(problems));
  return buildPlan(runbook, 'incident', {});
}

function frame(plan: Plan, current: string | undefined, height: number): string[] {
  const ui = render(
    <ThemeContext.Provider value={{ color: false }}>
      <PhaseList state={initialState(plan)} current={current} height={height} />
    </ThemeContext.Provider>,
  );
  const lines = (ui.lastFrame() ?? '').split('\n').map((l) => l.trimEnd());
  ui.unmount();
  return lines;
}

describe('the phase list', () => {
  it('shows every phase and the current phase\'s steps when they fit, with no "more" line', () => {
    const plan = planOf(3, 3);
    const lines = frame(plan, 's1-1', 20);
    expect(lines).toEqual([
      '  1. Phase 0 (0/3)',
      '▶ 2. Phase 1 (0/3)',
      '    · Step 1.0',
      '  ❯ · Step 1.1',
      '    · Step 1.2',
      '  3. Phase 2 (0/3)',
    ]);
  });

  it('on 5,000 steps shows at most its height, the current step among them, and what it hides', () => {
    const plan = planOf(50, 100);
    for (const current of ['s0-0', 's0-99', 's25-50', 's49-0', 's49-99']) {
      const lines = frame(plan, current, 12);
      expect(lines.length, current).toBeLessThanOrEqual(12);
      const [p, s] = current.slice(1).split('-').map(Number);
      expect(lines.some((l) => l.startsWith('  ❯ ') && l.endsWith(`Step ${p}.${s}`)), `${current}\n${lines.join('\n')}`).toBe(true);
      const hidden = lines.flatMap((l) => /… (\d+) more (above|below)/.exec(l)?.[1] ?? []).map(Number);
      const shown = lines.filter((l) => !l.includes('more above') && !l.includes('more below')).length;
      // Every row of the full list (50 phases + 100 steps of the current one) is shown or counted.
      expect(shown + hidden.reduce((a, b) => a + b, 0)).toBe(150);
    }
  });

  it('scrolls as the selection moves, keeping the current step in view and near the middle', () => {
    const plan = planOf(2, 60);
    let firstShown = -1;
    for (let s = 0; s < 60; s++) {
      const rows = phaseListRows(plan, `s0-${s}`, 10);
      expect(rows.length).toBeLessThanOrEqual(10);
      const ids = rows.flatMap((r) => (r.kind === 'step' ? [r.id] : []));
      const at = ids.indexOf(`s0-${s}`);
      expect(at, `step ${s}`).toBeGreaterThanOrEqual(0);
      const first = Number(ids[0]!.split('-')[1]);
      expect(first).toBeGreaterThanOrEqual(firstShown); // never scrolls backwards when moving down
      firstShown = first;
      if (s > 10 && s < 50) expect(Math.abs(at - ids.length / 2)).toBeLessThanOrEqual(2);
    }
    expect(firstShown).toBeGreaterThan(40); // it did scroll
  });

  it('in a tiny terminal still shows the current step, between two "more" lines', () => {
    const plan = planOf(10, 10);
    for (const height of [3, 2, 0, -5]) {
      const lines = frame(plan, 's4-5', height);
      expect(lines).toEqual(['     … 10 more above', '  ❯ · Step 4.5', '     … 9 more below']);
    }
  });

  it('before the run starts (no current step) shows the first phases', () => {
    const plan = planOf(50, 100);
    const lines = frame(plan, undefined, 5);
    expect(lines).toEqual(['  1. Phase 0 (0/100)', '  2. Phase 1 (0/100)', '  3. Phase 2 (0/100)', '  4. Phase 3 (0/100)', '     … 46 more below']);
  });
});

describe('the run screen on a long runbook', () => {
  it('fits the terminal: the phase list follows the run through its steps, and the frame never grows past the terminal', async () => {
    const bridge = new InkBridge();
    const r = makeRun(checklists(20, 30), { operator: { request: (req) => bridge.request(req) } });
    r.run.subscribe(() => bridge.bump());
    const ui = render(
      <ThemeContext.Provider value={{ color: false }}>
        <App run={r.run} bridge={bridge} interrupt={() => undefined} rows={16} now={() => Date.parse('2026-11-22T10:00:05Z')} />
      </ThemeContext.Provider>,
    );
    void r.run.execute();
    const wait = async (test: (f: string) => boolean, what: string) => {
      for (let i = 0; i < 300; i++) {
        const f = ui.lastFrame() ?? '';
        if (test(f)) return f;
        await new Promise((res) => setTimeout(res, 5));
      }
      throw new Error(`timed out waiting for ${what}:\n${ui.lastFrame()}`);
    };
    for (let s = 0; s < 40; s++) {
      const id = `Step ${Math.floor(s / 30)}.${s % 30}`;
      const f = await wait((x) => x.includes(`❯ ▶ ${id}`) && x.includes('[ ] done'), id);
      expect(f.split('\n').length, f).toBeLessThanOrEqual(16);
      ui.stdin.write(' ');
      await wait((x) => x.includes('[x] done'), `${id} ticked`);
      ui.stdin.write('\r');
    }
    ui.unmount();
  });
});

describe('the phase list on a wide terminal', () => {
  it('takes a third of the width (38 to 64 columns), so long titles are cut less', () => {
    expect(listWidth(80)).toBe(38);
    expect(listWidth(150)).toBe(50);
    expect(listWidth(400)).toBe(64);
    const { runbook } = parseRunbook(
      'id: w\ntitle: W\nversion: 1\nphases:\n  - id: p\n    title: Mark the failed migration rolled back before deploying\n    kind: other\n    steps:\n      - {id: s, title: Record 20240103000000_add_post_index as rolled back, checklist: [x]}\n',
      'w.yaml',
    );
    const state = initialState(buildPlan(runbook!, 'incident', {}));
    const narrow = render(<PhaseList state={state} current="s" width={38} />).lastFrame()!;
    const wide = render(<PhaseList state={state} current="s" width={64} />).lastFrame()!;
    expect(narrow).not.toContain('Record 20240103000000_add_post_index as rolled back');
    expect(wide).toContain('Record 20240103000000_add_post_index as rolled back');
  });
});

describe('the phase list at a glance', () => {
  const yaml = `
id: marks
title: Marks
version: 1
phases:
  - id: diagnose
    title: Diagnose
    kind: prepare
    steps:
      - {id: rows, title: Rows are there, check: SELECT 1, expect: {value: 4}}
  - id: backup
    title: Back up
    kind: backup
    steps:
      - {id: dump, title: Dump the database, run: pg_dump, effect: reversible}
  - id: fix
    title: Fix
    kind: deploy
    steps:
      - {id: ok, title: Plain check, check: SELECT 2, expect: {value: 1}}
`;
  const { runbook } = parseRunbook(yaml, 'marks.yaml');
  const plan = buildPlan(runbook!, 'incident', {});
  const at = (i: number) => `2026-11-22T10:00:0${i}Z`;
  let state = transition(initialState(plan), { type: 'run.started', targets: [], inputs: {}, operator: 't', ts: at(0) } as never);
  for (const e of [
    { type: 'step.started', step: 'rows', attempt: 1 },
    { type: 'check.result', step: 'rows', database: 'db', sql: 'SELECT 1', params: [], pass: false, failures: ['expected 4, got 3'], durationMs: 1, attempt: 1 },
    { type: 'step.finished', step: 'rows', outcome: 'failed', reason: 'expected 4, got 3' },
    { type: 'step.override', step: 'rows', reason: 'counted by hand' },
    { type: 'step.skipped', step: 'dump', reason: 'no time' },
    { type: 'step.started', step: 'ok', attempt: 1 },
  ]) state = transition(state, e as never);

  it('marks an overridden check and its phase ≠, a phase whose only step was skipped ↷, never the plain ✓, and says so in words', () => {
    const ui = render(
      <ThemeContext.Provider value={{ color: false }}>
        <PhaseList state={state} current="ok" height={20} width={60} />
      </ThemeContext.Provider>,
    );
    const lines = (ui.lastFrame() ?? '').split('\n').map((l) => l.trimEnd());
    ui.unmount();
    expect(lines).toEqual(['≠ 1. Diagnose (1/1, 1 overridden)', '↷ 2. Back up (1/1, 1 skipped)', '▶ 3. Fix (0/1)', '  ❯ ▶ Plain check']);
  });

  it('shows the overridden step itself with its own mark', () => {
    const ui = render(
      <ThemeContext.Provider value={{ color: false }}>
        <PhaseList state={state} current="rows" height={20} width={60} />
      </ThemeContext.Provider>,
    );
    const frame = ui.lastFrame() ?? '';
    ui.unmount();
    expect(frame).toContain('  ❯ ≠ Rows are there');
    expect(frame).not.toContain('✓');
  });
});
