import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { TargetInfo } from '../../src/core/events.js';
import { App, InkBridge } from '../../src/ui/app.js';
import { ThemeContext } from '../../src/ui/theme.js';
import { makeRun, rows, ScriptedDb, ScriptedShell } from '../helpers/engine.js';
import { until, words } from '../helpers/frames.js';

const RUNBOOK = `
id: ui
title: UI scenario
version: 1
databases:
  prod: {url: {env: DATABASE_URL}, environment: production, default: true}
phases:
  - id: prep
    title: Prepare
    kind: prepare
    steps:
      - {id: team, title: Tell the team, checklist: [Channel open, Deploys frozen]}
  - id: fix
    title: Fix
    kind: deploy
    steps:
      - {id: work, title: Do the work, notes: 'Restarts **the app**.', run: ./fix.sh, effect: reversible, rollback: undo}
      - {id: count, title: Rows are there, check: SELECT n FROM t, expect: {value: 4}}
  - id: rollback
    title: Roll back
    kind: rollback
    steps:
      - {id: undo, title: Undo, run: ./undo.sh}
`;

const target: TargetInfo = { name: 'prod', environment: 'production', url: 'postgresql://app:[REDACTED]@db.internal:5432/shop', host: 'db.internal', port: '5432', database: 'shop', user: 'app', serverVersion: '16.4' };

function mount(db = new ScriptedDb({ 'SELECT n FROM t': [rows(['4'])] }), shell = new ScriptedShell({ './fix.sh': { output: 'restarting app\nall good\n' } }), mode: 'incident' | 'rehearsal' = 'incident') {
  const bridge = new InkBridge();
  const r = makeRun(RUNBOOK, { db, shell, operator: { request: (req) => bridge.request(req) }, targets: [mode === 'rehearsal' ? { ...target, environment: 'rehearsal' } : target], mode });
  r.run.subscribe(() => bridge.bump());
  const ui = render(
    <ThemeContext.Provider value={{ color: false }}>
      <App run={r.run} bridge={bridge} interrupt={() => undefined} now={() => Date.parse('2026-11-22T10:00:05Z')} />
    </ThemeContext.Provider>,
  );
  const outcome = r.run.execute();
  return { ...r, ui, outcome, bridge };
}

async function press(ui: ReturnType<typeof render>, keys: string, expectChange = true) {
  const before = ui.lastFrame();
  ui.stdin.write(keys);
  if (expectChange) await until(ui.lastFrame, (f) => f !== before, `a new frame after ${JSON.stringify(keys)}`);
}

describe('the run screen', () => {
  it('shows the target in words with host, database and user, and never a password', async () => {
    const { ui } = mount();
    const f = await until(ui.lastFrame, (x) => x.includes('PRODUCTION'), 'the banner');
    expect(f).toContain('PRODUCTION  prod: app@db.internal:5432/shop · PostgreSQL 16.4');
    expect(f).toContain('INCIDENT');
    expect(f).not.toMatch(/REDACTED|password/i);
    ui.unmount();
  });

  it('ticks checklist items one by one, records each tick, and continues when all are ticked', async () => {
    const { ui, journal } = mount();
    await until(ui.lastFrame, (f) => f.includes('[ ] Channel open'), 'the checklist');
    await press(ui, ' ');
    expect(ui.lastFrame()).toContain('[x] Channel open');
    await press(ui, '\r'); // not all ticked yet
    expect(ui.lastFrame()).toContain('tick every item');
    await press(ui, 'j');
    await press(ui, ' ');
    expect(ui.lastFrame()).toContain('[x] Deploys frozen');
    await press(ui, '\r');
    await until(ui.lastFrame, (f) => f.includes('Do the work') && f.includes('Enter: run it'), 'the next step');
    expect(journal.events.filter((e) => e.type === 'checklist.ticked').map((e) => (e as { text: string }).text)).toEqual(['Channel open', 'Deploys frozen']);
    ui.unmount();
  });

  it('asks for the typed target name before a production write, cancels on a mismatch, runs on a match and shows its output', async () => {
    let release: () => void = () => undefined;
    const shell = new ScriptedShell();
    shell.run = async (req) => {
      shell.ran.push(req.command);
      req.onOutput('stdout', 'restarting app\nall good\n');
      await new Promise<void>((r) => (release = r));
      return { exitCode: 0, signal: null, durationMs: 2500, timedOut: false, cancelled: false };
    };
    const { ui, journal } = mount(undefined, shell);
    await until(ui.lastFrame, (f) => f.includes('[ ] Channel open'), 'the checklist');
    for (const k of [' ', 'j', ' ', '\r']) await press(ui, k);
    await until(ui.lastFrame, (f) => f.includes('Enter: run it'), 'the go prompt');
    expect(ui.lastFrame()).toContain('Restarts the app.');
    await press(ui, '\r');
    const confirm = await until(ui.lastFrame, (f) => f.includes('confirm the target'), 'the confirmation');
    expect(confirm).toContain('REVERSIBLE step on  PRODUCTION  database "shop"');
    expect(confirm).toContain('./fix.sh');
    expect(confirm).toContain('rollback: undo: Undo');
    expect(confirm).toContain('Type the database name shop');
    await press(ui, 'prod');
    await press(ui, '\r');
    await until(ui.lastFrame, (f) => f.includes('did not match (typed "prod")'), 'the mismatch');
    expect(shell.ran).toEqual([]);
    await press(ui, '\r');
    await until(ui.lastFrame, (f) => f.includes('confirm the target'), 'the confirmation again');
    await press(ui, 'shop\r');
    const out = await until(ui.lastFrame, (f) => f.includes('all good'), 'the command output');
    expect(out).toContain('restarting app');
    expect(out).toContain('running… (Ctrl-C stops it)');
    expect(shell.ran).toEqual(['./fix.sh']);
    release();
    const after = await until(ui.lastFrame, (f) => f.includes('Run completed'), 'the end of the run');
    expect(after).toContain('✓ count · Rows are there: PASS');
    expect(after).toMatch(/c0\s*\n.*--\s*\n.*4\s*\n.*\(1 row\)/);
    expect(journal.events.find((e) => e.type === 'command.exited')).toMatchObject({ step: 'work', exitCode: 0 });
    expect(journal.events.filter((e) => e.type === 'confirmation').map((e) => (e as { matched: boolean }).matched)).toEqual([false, true]);
    ui.unmount();
  });

  it('shows a failed check with its result and the failure menu; s asks a reason and skips', async () => {
    const { ui, journal, outcome } = mount(new ScriptedDb({ 'SELECT n FROM t': [rows(['3'])] }));
    await until(ui.lastFrame, (f) => f.includes('[ ] Channel open'), 'the checklist');
    for (const k of [' ', 'j', ' ', '\r']) await press(ui, k);
    await until(ui.lastFrame, (f) => f.includes('Enter: run it'), 'the go prompt');
    await press(ui, '\r');
    await until(ui.lastFrame, (f) => f.includes('confirm the target'), 'the confirmation');
    await press(ui, 'shop\r');
    const failed = await until(ui.lastFrame, (f) => f.includes('FAILED'), 'the failure menu');
    expect(failed).toContain('FAIL: expected the value 4, got "3"');
    expect(failed).toMatch(/c0\s*\n.*\n\s*.*3/);
    expect(failed).toContain('r: retry the step');
    expect(failed).toContain('o: count the check as passed');
    expect(failed).toContain('b: start rollback');
    await press(ui, 's');
    await until(ui.lastFrame, (f) => f.includes('Why skip this step?'), 'the reason prompt');
    await press(ui, 'verified by hand\r');
    expect(await outcome).toBe('completed');
    expect(journal.events.find((e) => e.type === 'step.skipped')).toMatchObject({ step: 'count', reason: 'verified by hand' });
    ui.unmount();
  });

  it('q asks before quitting; y quits and the run is aborted', async () => {
    const { ui, outcome } = mount();
    await until(ui.lastFrame, (f) => f.includes('[ ] Channel open'), 'the checklist');
    await press(ui, 'q');
    expect(ui.lastFrame()).toContain('Quit now? The run stops here and can be resumed');
    await press(ui, 'n');
    expect(ui.lastFrame()).not.toContain('Quit now?');
    await press(ui, 'q');
    await press(ui, 'y');
    expect(await outcome).toBe('aborted');
    ui.unmount();
  });

  it('in a drill, q, the failure menu and the help say the drill ends and is rehearsed again, never that it can be resumed', async () => {
    const { ui, outcome } = mount(new ScriptedDb({ 'SELECT n FROM t': [rows(['3'])] }), undefined, 'rehearsal');
    await until(ui.lastFrame, (f) => f.includes('[ ] Channel open'), 'the checklist');
    await press(ui, 'q');
    expect(words(ui.lastFrame()!)).toContain('Quit now? The drill ends here; rehearse again with drillbook drill ui.');
    expect(ui.lastFrame()).not.toMatch(/resum/);
    await press(ui, 'n');
    await press(ui, '?');
    expect(words(ui.lastFrame()!)).toContain('quit (asks first; the drill ends: rehearse it again)');
    await press(ui, 'x');
    for (const k of [' ', 'j', ' ', '\r']) await press(ui, k);
    await until(ui.lastFrame, (f) => f.includes('Enter: run it'), 'the go prompt');
    await press(ui, '\r');
    await until(ui.lastFrame, (f) => f.includes('confirm the target'), 'the confirmation');
    await press(ui, 'shop\r');
    const failed = await until(ui.lastFrame, (f) => f.includes('FAILED'), 'the failure menu');
    expect(words(failed)).toContain('q: quit (the drill ends here; rehearse again with drillbook drill ui)');
    expect(failed).toContain('b: rehearse the rollback from here');
    expect(failed).not.toMatch(/resum/);
    await press(ui, 'q');
    await press(ui, 'y');
    expect(await outcome).toBe('aborted');
    ui.unmount();
  });

  it('n adds a note to the transcript at any time', async () => {
    const { ui, journal } = mount();
    await until(ui.lastFrame, (f) => f.includes('[ ] Channel open'), 'the checklist');
    await press(ui, 'n');
    await press(ui, 'paged the DBA\r');
    await until(ui.lastFrame, (f) => f.includes('note recorded'), 'the note');
    expect(journal.events.find((e) => e.type === 'note')).toMatchObject({ text: 'paged the DBA', step: 'team' });
    ui.unmount();
  });

  it('M marks a milestone with the time it happened', async () => {
    const { ui, journal } = mount();
    await until(ui.lastFrame, (f) => f.includes('[ ] Channel open'), 'the checklist');
    await press(ui, 'M');
    expect(ui.lastFrame()).toContain('m: mitigated');
    await press(ui, 'm');
    expect(ui.lastFrame()).toContain('When was it mitigated?');
    await press(ui, '5m ago\r');
    await until(ui.lastFrame, (f) => f.includes('milestone recorded: mitigated'), 'the milestone');
    const m = journal.events.find((e) => e.type === 'milestone') as { name: string; at: string; ts: string } | undefined;
    expect(m?.name).toBe('mitigated');
    const lag = Date.parse(m!.ts) - Date.parse(m!.at);
    expect(lag).toBeGreaterThanOrEqual(5 * 60_000);
    expect(lag).toBeLessThan(6 * 60_000);
    ui.unmount();
  });
});
