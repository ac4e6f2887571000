/**
 * The destructive-step gate on a small terminal (80×24): the banner (the target in words) stays on
 * screen, the gate takes the whole width and names the environment beside the database, and a run
 * with no backup says so as a warning.
 */
import { describe, expect, it } from 'vitest';
import type { TargetInfo } from '../../src/core/events.js';
import { App, InkBridge } from '../../src/ui/app.js';
import { ThemeContext } from '../../src/ui/theme.js';
import { makeRun, ScriptedShell } from '../helpers/engine.js';
import { renderSized } from '../helpers/ink-sized.js';
import { until } from '../helpers/frames.js';

const NOTES = Array.from({ length: 6 }, (_, i) => `Line ${i + 1} of what this step does and why the operator should care before running it.`).join(' ');

const RUNBOOK = `
id: gate
title: Resolve a failed Prisma migration (P3009)
version: 1
databases:
  prod: {url: {env: DATABASE_URL}, environment: production, default: true}
phases:
  - id: backup
    title: Back up before touching the migration history
    kind: backup
    steps:
      - {id: dump, title: Dump the database, run: pg_dump --format=custom --file=backup.dump, effect: reversible, rollback: keep}
  - id: deploy
    title: Deploy the pending migrations
    kind: deploy
    steps:
      - id: deploy
        title: Run prisma migrate deploy
        notes: '${NOTES}'
        run: npx prisma migrate deploy
        effect: destructive
        rollback: keep
  - id: rollback
    title: Roll back
    kind: rollback
    steps:
      - {id: keep, title: Keep the backup, checklist: [kept]}
`;

const target = (environment: TargetInfo['environment']): TargetInfo => ({ name: 'prod', environment, url: 'postgresql://app:[REDACTED]@db.internal:5432/shop', host: 'db.internal', port: '5432', database: 'shop', user: 'app', serverVersion: '17.6', systemIdentifier: '7713678281926547342' });

/** The runbook on an 80×24 screen, running. */
function mount(environment: TargetInfo['environment'], opts: { mode?: 'incident' | 'rehearsal' } = {}) {
  const bridge = new InkBridge();
  const r = makeRun(RUNBOOK, { shell: new ScriptedShell(), operator: { request: (req) => bridge.request(req) }, targets: [target(environment)], ...(opts.mode ? { environment, mode: opts.mode } : {}) });
  r.run.subscribe(() => bridge.bump());
  const ui = renderSized(
    <ThemeContext.Provider value={{ color: false }}>
      <App run={r.run} bridge={bridge} interrupt={() => undefined} now={() => Date.parse('2026-11-22T10:00:05Z')} />
    </ThemeContext.Provider>,
    { columns: 80, rows: 24 },
  );
  void r.run.execute();
  return ui;
}

async function toGate(environment: TargetInfo['environment'], mode: 'incident' | 'rehearsal', skipBackup: boolean) {
  const ui = mount(environment, { mode });
  await until(ui.lastFrame, (f) => f.includes('Dump the database') && f.includes('Enter: run it'), 'the backup step');
  if (skipBackup) {
    ui.stdin.write('s');
    await until(ui.lastFrame, (f) => f.includes('Why skip'), 'the reason prompt');
    ui.stdin.write('no time\r');
  } else {
    ui.stdin.write('\r');
    await until(ui.lastFrame, (f) => f.includes('confirm the target'), 'the backup gate');
    ui.stdin.write('shop\r');
  }
  await until(ui.lastFrame, (f) => f.includes('Run prisma migrate deploy') && f.includes('Enter: run it'), 'the deploy step');
  ui.stdin.write('\r');
  const gate = await until(ui.lastFrame, (f) => f.includes('confirm the target') && f.includes('npx prisma migrate deploy'), 'the gate');
  return { ui, gate };
}

describe('a step taller than an 80×24 terminal', () => {
  it('folds its notes to their first rows (v shows them whole) so the command and the keys stay in sight under the banner', async () => {
    const ui = mount('production');
    await until(ui.lastFrame, (f) => f.includes('Dump the database') && f.includes('Enter: run it'), 'the backup step');
    ui.stdin.write('s');
    await until(ui.lastFrame, (f) => f.includes('Why skip'), 'the reason prompt');
    ui.stdin.write('no time\r');
    const f = await until(ui.lastFrame, (x) => x.includes('Run prisma migrate deploy') && x.includes('the notes go on'), 'the deploy step, its notes folded');
    const lines = f.split('\n');
    expect(lines.length, f).toBeLessThanOrEqual(24);
    expect(lines[0]).toMatch(/^┌─{78}┐$/);
    expect(f).toContain('Line 1 of what this step does');
    expect(f).toContain('$ npx prisma migrate deploy');
    expect(f).toContain('Enter: run it');
    // v shows the notes whole.
    ui.stdin.write('v');
    ui.stdin.write('\x1b[C');
    const review = await until(ui.lastFrame, (x) => x.includes('deploy · Run prisma migrate deploy: not run yet'), 'the review of the current step');
    expect(review.replace(/[│\s]+/g, ' ')).toContain('Line 6 of what this step does');
    ui.unmount();
  });
});

describe('the gate on an 80×24 terminal', () => {
  it('keeps the banner on screen, takes the whole width, and names the environment beside the database', async () => {
    const { ui, gate } = await toGate('production', 'incident', false);
    const lines = gate.split('\n');
    expect(lines.length, gate).toBeLessThanOrEqual(24);
    expect(lines[0]).toMatch(/^┌─{78}┐$/);
    expect(lines.some((l) => l.includes('PRODUCTION  prod: app@10.0.0.5:5432/shop')), gate).toBe(true);
    // The gate's frame spans the terminal, not the column beside the phase list.
    expect(lines.some((l) => /^╔═{78}╗$/.test(l)), gate).toBe(true);
    expect(gate).toContain('DESTRUCTIVE step on  PRODUCTION  database "shop": confirm the target');
    expect(gate).toContain('║ npx prisma migrate deploy');
    // The notes fold away while the gate (which repeats the exact command) is open.
    expect(gate).not.toContain('Line 1 of what this step does');
    expect(gate).toContain('latest backup: dump: Dump the database');
    expect(gate).not.toContain('! latest backup');
    ui.unmount();
  });

  it('in a drill, names the rehearsal; with no backup taken, says so as a warning', async () => {
    const { ui, gate } = await toGate('rehearsal', 'rehearsal', true);
    expect(gate.split('\n').length, gate).toBeLessThanOrEqual(24);
    expect(gate).toContain('DESTRUCTIVE step on  REHEARSAL  database "shop"');
    expect(gate).toContain('! latest backup: none taken in this run');
    ui.unmount();
  });
});
