/**
 * What a step did stays readable: the step that just ended shows its result under the next one (a
 * check's rows, a few and their count; a command's last lines, wrapped, not cut), and v reviews
 * the result of any earlier step. On a small terminal the banner still never scrolls off.
 */
import { describe, expect, it } from 'vitest';
import type { TargetInfo } from '../../src/core/events.js';
import { App, InkBridge } from '../../src/ui/app.js';
import { ThemeContext } from '../../src/ui/theme.js';
import { makeRun, rows, ScriptedDb, ScriptedShell } from '../helpers/engine.js';
import { renderSized } from '../helpers/ink-sized.js';

const LOGS = 'Database error code: 57014 canceling statement due to statement timeout';
const LONG = `ERROR: ${'x'.repeat(20)} the last line of the command is long and must be read whole, not cut at the edge of the screen (${'y'.repeat(30)})`;

const RUNBOOK = `
id: results
title: Results
version: 1
databases:
  prod: {url: {env: DATABASE_URL}, environment: production, default: true}
phases:
  - id: diagnose
    title: See what Prisma sees
    kind: prepare
    steps:
      - {id: failed-rows, title: The failed migration is recorded as failed, check: SELECT failed, expect: {rows: {gte: 1}}}
      - {id: many, title: Many rows, check: SELECT many, expect: {rows: {gte: 1}}}
      - {id: read-the-log, title: Read why it failed, checklist: [I read the logs column above and know which statement failed, No other deploy is running]}
      - {id: print, title: Print the log, run: ./print.sh, effect: read-only}
      - {id: last, title: Last, checklist: [done]}
`;

const target: TargetInfo = { name: 'prod', environment: 'production', url: 'postgresql://app@db:5432/shop', host: 'db', port: '5432', database: 'shop', user: 'app' };

function failedRow() {
  return { ok: true as const, result: { columns: ['migration_name', 'started_at', 'logs'], rows: [['20240103000000_add_post_index', '2026-11-29 20:57:18.924045+00', LOGS]], rowCount: 1 }, rowCount: 1 };
}

const OUTPUT = `${Array.from({ length: 60 }, (_, i) => `line ${i + 1}`).join('\n')}\n${LONG}\n`;

function mount(size: { columns: number; rows: number }) {
  const bridge = new InkBridge();
  const db = new ScriptedDb({ 'SELECT failed': [failedRow()], 'SELECT many': [rows(...Array.from({ length: 8 }, (_, i) => [`r${i + 1}`]))] });
  const shell = new ScriptedShell({ './print.sh': { output: OUTPUT } });
  const r = makeRun(RUNBOOK, { db, shell, operator: { request: (req) => bridge.request(req) }, targets: [target] });
  r.run.subscribe(() => bridge.bump());
  const ui = renderSized(
    <ThemeContext.Provider value={{ color: false }}>
      <App run={r.run} bridge={bridge} interrupt={() => undefined} now={() => Date.parse('2026-11-22T10:00:05Z')} />
    </ThemeContext.Provider>,
    size,
  );
  void r.run.execute();
  const frames: string[] = [];
  const until = async (test: (f: string) => boolean, what: string): Promise<string> => {
    for (let i = 0; i < 300; i++) {
      const f = ui.lastFrame() ?? '';
      frames.push(f);
      if (test(f)) return f;
      await new Promise((res) => setTimeout(res, 10));
    }
    throw new Error(`timed out waiting for ${what}; last frame:\n${ui.lastFrame()}`);
  };
  const press = async (keys: string) => {
    const before = ui.lastFrame();
    ui.stdin.write(keys);
    await until((f) => f !== before, `a new frame after ${JSON.stringify(keys)}`);
  };
  return { ui, until, press, frames };
}

/** A frame's words, whatever the wrapping: borders, output gutters and line breaks become single spaces. */
const words = (f: string) => f.replace(/[│║╭╮╰╯─]/g, ' ').replace(/\s+/g, ' ');

describe('the previous step\'s result', () => {
  it('shows a passed check\'s rows under the next step, and a few of many with their count', async () => {
    const { ui, until } = mount({ columns: 120, rows: 40 });
    // The many-rows check passes right after the first: its result is what the checklist shows under it.
    const f = await until((x) => x.includes('[ ] I read the logs column above'), 'the checklist');
    expect(f).toContain('(8 rows, 5 shown)');
    expect(f).toContain('✓ many · Many rows: PASS');
    for (const r of ['r1', 'r5']) expect(f).toMatch(new RegExp(`^.*\\b${r}\\s*$`, 'm'));
    expect(f).not.toMatch(/\br6\b/);
    ui.unmount();
  });

  it('shows a check\'s whole row, the logs column too, under the step that asks about it', async () => {
    const { ui, until, press } = mount({ columns: 120, rows: 40 });
    await until((x) => x.includes('[ ] I read the logs column above'), 'the checklist');
    // v, then ← to the first check: its row in full (a record at a time, too wide for a table here).
    await press('v');
    await press('\x1b[D');
    const f = await until((x) => x.includes('failed-rows · The failed migration is recorded as failed: PASS'), 'the first check in the review');
    expect(words(f)).toContain(`logs | ${LOGS}`);
    expect(words(f)).toContain('migration_name | 20240103000000_add_post_index');
    expect(f).toContain('Steps so far: 1 of 3');
    await press('\x1b');
    await until((x) => x.includes('[ ] I read the logs column above') && !x.includes('Steps so far'), 'the checklist again');
    ui.unmount();
  });

  it('shows a command\'s last lines wrapped, never cut, under the next step; v reviews the whole output from its end', async () => {
    const { ui, until, press } = mount({ columns: 100, rows: 40 });
    await until((x) => x.includes('[ ] I read the logs column above'), 'the checklist');
    // Once the checklist is done, the command waits for go (every run step does), then runs.
    for (const k of [' ', 'j', ' ', '\r']) await press(k);
    await until((x) => x.includes('Enter: run it'), 'the go-ahead');
    await press('\r');
    const f = await until((x) => x.includes('[ ] done') && x.includes('✓ print'), 'the next step');
    expect(words(f)).toContain(LONG);
    expect(f).toContain('✓ print · Print the log: exit 0 after');
    expect(f).not.toMatch(/\S…\s*$/m);
    // The review opens at the end of the output and scrolls back to its start.
    await press('v');
    let review = await until((x) => x.includes('Steps so far: 4 of 5'), 'the review');
    expect(words(review)).toContain(LONG);
    expect(review).toMatch(/rows \d+–\d+ of \d+/);
    expect(review).not.toMatch(/│ line 1\s/);
    await press('\x1b[5~'); // PgUp
    for (let i = 0; i < 4; i++) ui.stdin.write('\x1b[5~');
    review = await until((x) => /rows 1–/.test(x), 'the start of the output');
    expect(review).toMatch(/│ line 1\s/);
    expect(review).toMatch(/rows 1–\d+ of \d+/);
    // → the step the run is at, its notes whole; then no further.
    await press('\x1b[C');
    await until((x) => x.includes('Steps so far: 5 of 5') && x.includes('▶ last · Last: waiting for the ticks'), 'the current step');
    await press('\x1b[C');
    await until((x) => x.includes('this is the step the run is at'), 'the end of the list');
    ui.unmount();
  });

  it('on 80×24 keeps the banner on screen on every frame, says the outcome and where the rest is', async () => {
    const { ui, until, press, frames } = mount({ columns: 80, rows: 24 });
    const f = await until((x) => x.includes('[ ] I read the logs column above'), 'the checklist');
    expect(words(f)).toContain('many · Many rows: PASS');
    for (const k of [' ', 'j', ' ', '\r']) await press(k);
    await until((x) => x.includes('Enter: run it'), 'the go-ahead');
    await press('\r');
    const next = await until((x) => x.includes('[ ] done') && x.includes('✓ print'), 'the next step');
    // 62 rows of output do not fit: its last lines, and where the rest is.
    expect(words(next)).toContain('v shows all of it');
    expect(words(next)).toContain(LONG.slice(-40));
    await press('v');
    await until((x) => x.includes('Steps so far'), 'the review');
    await press('\x1b');
    await press('?');
    await until((x) => x.includes('review the steps so far'), 'the help');
    for (const frame of frames) {
      const lines = frame.split('\n');
      expect(lines.length, frame).toBeLessThanOrEqual(24);
      expect(lines[0], frame).toMatch(/^┌─+┐$/);
      expect(lines.every((l) => l.length <= 80), frame).toBe(true);
    }
    ui.unmount();
  });
});
