import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { autoOperator } from '../../src/core/auto-operator.js';
import { verifyChain } from '../../src/core/chain.js';
import type { Recorded, TargetInfo } from '../../src/core/events.js';
import type { Operator } from '../../src/core/ports.js';
import { renderHtml, renderJson, renderMarkdown, reportFacts } from '../../src/core/report.js';
import { ROOT } from '../helpers/cli.js';
import { makeRun, rows, ScriptedDb, ScriptedShell } from '../helpers/engine.js';

const RUNBOOK = readFileSync(path.join(ROOT, 'test', 'fixtures', 'runbooks', 'report-scenario.yaml'), 'utf8');
const target: TargetInfo = { name: 'prod', environment: 'production', url: 'postgresql://app:[REDACTED]@db.internal:5432/shop', host: 'db.internal', port: '5432', database: 'shop', user: 'app', serverVersion: '16.4', systemIdentifier: '7301234567890123456', inRecovery: false, identified: true };

function golden(name: string, actual: string): void {
  const file = path.join(ROOT, 'test', 'fixtures', 'golden', name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

/** Auto, plus an operator who writes a note and marks mitigation at the first go-ahead. */
function noting(inner: Operator): Operator {
  let done = false;
  return {
    async request(req, session) {
      if (!done && req.kind === 'go') {
        done = true;
        session.note('Paged the DBA.\nCustomers see errors on checkout | cart.');
        session.milestone('mitigated', new Date('2026-11-22T10:00:30Z'));
      }
      return inner.request(req, session);
    },
  };
}

async function scenario(kind: 'success' | 'rolled-back' | 'aborted') {
  const shell = new ScriptedShell({ 'deploy-it': kind === 'rolled-back' ? { exitCode: 1, output: 'ERROR: relation "users" already exists\n' } : { output: 'applied 2 migrations\n' } });
  const db = new ScriptedDb({ 'SELECT count(*) FROM t': [rows(['4'])] });
  const base = autoOperator({ confirmTarget: 'shop', values: {} });
  const quitting: Operator = {
    async request(req, session) {
      if (req.kind === 'confirm' && req.step.id === 'mark') return { kind: 'quit' };
      return base.request(req, session);
    },
  };
  const r = makeRun(RUNBOOK, { shell, db, targets: [target], tick: 1500, operator: noting(kind === 'aborted' ? quitting : base) });
  await r.run.execute();
  const chain = verifyChain(r.journal.lines);
  if (!chain.ok) throw new Error(chain.reason);
  return chain.events;
}

describe('the postmortem report', () => {
  it('for a successful run (golden file)', async () => {
    const events = await scenario('success');
    const md = renderMarkdown(events);
    golden('report-success.md', md);
    expect(md).toContain('| Outcome | **completed** |');
    expect(md).toContain('| Time (UTC) | Phase/Step | Event | Result |');
  });

  it('for a failed and rolled-back run (golden file)', async () => {
    const events = await scenario('rolled-back');
    const md = renderMarkdown(events);
    golden('report-rolled-back.md', md);
    expect(md).toContain('**rolled-back**');
    expect(md).toMatch(/- 2026-11-22 [\d:]+ `deploy` \(Deploy\): failed: the command exited with code 1/);
  });

  it('for an aborted run (golden file)', async () => {
    const events = await scenario('aborted');
    const md = renderMarkdown(events);
    golden('report-aborted.md', md);
    expect(md).toContain('**aborted**: the operator quit at step mark');
  });

  it('keeps operator notes verbatim, and tables intact when text holds a pipe', async () => {
    const md = renderMarkdown(await scenario('success'));
    expect(md).toContain('  > Paged the DBA.\n  > Customers see errors on checkout | cart.');
    for (const line of md.split('\n').filter((l) => l.startsWith('| 2026'))) {
      expect(line.split(/(?<!\\)\|/).length).toBe(6);
    }
  });

  it('measures time to first action, to mitigation and to recovery from the events alone', async () => {
    const f = reportFacts(await scenario('success'));
    expect(f.timeToMitigationMs).toBe(Date.parse('2026-11-22T10:00:30Z') - Date.parse(f.startedAt!));
    expect(f.timeToFirstActionMs).toBeGreaterThan(0);
    expect(f.timeToRecoveryMs).toBe(f.durationMs);
    expect(f.lastHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('renders the same facts as HTML and JSON', async () => {
    const events = await scenario('rolled-back');
    const html = renderHtml(events);
    expect(html).toContain('<table>');
    expect(html).toContain('<details><summary><code>deploy</code>');
    expect(html).toContain('relation &quot;users&quot; already exists');
    const json = JSON.parse(renderJson(events)) as { outcome: string; timeline: unknown[] };
    expect(json.outcome).toBe('rolled-back');
    expect(json.timeline.length).toBeGreaterThan(10);
  });

  it('names each step as the run showed it then (input values given so far), and places a step that never started in its phase', () => {
    let seq = 0;
    const at = (e: Record<string, unknown>) => ({ ...e, seq: ++seq, ts: `2026-11-22T10:00:0${seq}.000Z`, actor: 'ada', mode: 'incident' }) as unknown as Recorded;
    const events = [
      at({ type: 'run.started', runbook: { id: 'r', title: 'R', version: '1', path: 'r.yaml', hash: 'h' }, drillbook: 't', operator: 'ada', host: 'h', mode: 'incident', targets: [], inputs: {}, plan: { phases: [
        { id: 'prep', title: 'Prep', kind: 'backup', rollback: false, steps: [{ id: 'backup', title: 'Back up ${db}', action: 'run', effect: 'writes' }] },
        { id: 'verify', title: 'Verify', kind: 'verify', rollback: false, steps: [{ id: 'check', title: 'Check ${db}', action: 'check', effect: 'read-only' }] },
      ] } }),
      at({ type: 'step.started', step: 'backup', phase: 'prep', attempt: 1 }),
      at({ type: 'input.set', step: 'backup', name: 'db', value: 'shop' }),
      at({ type: 'step.finished', step: 'backup', outcome: 'passed' }),
      at({ type: 'step.skipped', step: 'check', reason: 'nothing to check' }),
    ];
    const md = renderMarkdown(events);
    const row = (type: string) => md.split('\n').find((l) => l.includes(`| ${type} |`));
    expect(row('step.started')).toContain('| prep/backup (Back up ${db}) |');
    expect(row('step.finished')).toContain('| prep/backup (Back up shop) |');
    expect(row('step.skipped')).toContain('| verify/check (Check shop) |');
    // The summary, written at the end, knows every value.
    expect(md).toContain('2026-11-22 10:00:05 `check` (Check shop): skipped: nothing to check');
  });

  it('shows the output of a command whose end is not recorded (drillbook stopped, the run resumed), and an input called __proto__', () => {
    let seq = 0;
    const at = (e: Record<string, unknown>) => ({ ...e, seq: ++seq, ts: `2026-11-22T10:00:0${seq}.000Z`, actor: 'ada', mode: 'incident' }) as unknown as Recorded;
    const events = [
      at({ type: 'run.started', runbook: { id: 'r', title: 'R', version: '1', path: 'r.yaml', hash: 'h' }, drillbook: 't', operator: 'ada', host: 'h', mode: 'incident', targets: [], inputs: JSON.parse('{"__proto__": "shop"}') as Record<string, string>, plan: { phases: [
        { id: 'p', title: 'P', kind: 'deploy', rollback: false, steps: [{ id: 'deploy', title: 'Deploy to ${__proto__}', action: 'run', effect: 'writes' }] },
      ] } }),
      at({ type: 'step.started', step: 'deploy', phase: 'p', attempt: 1 }),
      at({ type: 'command.started', step: 'deploy', command: 'migrate deploy', cwd: '/', env: [] }),
      at({ type: 'command.output', step: 'deploy', stream: 'stdout', text: 'applying 0002_add_index\n' }),
      at({ type: 'run.resumed', from: 'x', operator: 'ada' }),
      at({ type: 'step.started', step: 'deploy', phase: 'p', attempt: 2 }),
      at({ type: 'command.started', step: 'deploy', command: 'migrate deploy', cwd: '/', env: [] }),
      at({ type: 'command.output', step: 'deploy', stream: 'stdout', text: 'nothing to apply\n' }),
    ];
    for (const out of [renderMarkdown(events), renderHtml(events)]) {
      // Both attempts, the first one's output included, neither with an exit: each said so.
      expect(out.split('no end recorded (still running, or drillbook stopped while it ran)').length - 1).toBe(2);
      expect(out).toContain('applying 0002_add_index');
      expect(out).toContain('nothing to apply');
      expect(out).toContain('Deploy to shop');
      expect(out).not.toContain('No commands or queries ran.');
    }
  });
});

