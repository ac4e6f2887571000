import { describe, expect, it } from 'vitest';
import { autoOperator } from '../../src/core/auto-operator.js';
import type { Recorded } from '../../src/core/events.js';
import { initialState, nextEffect, retryMayHelp, transition, type StepState } from '../../src/core/machine.js';
import type { Operator, OperatorAnswer, OperatorRequest } from '../../src/core/ports.js';
import { makeRun, rows, ScriptedDb, ScriptedShell, types } from '../helpers/engine.js';

const RUNBOOK = `
id: scenario
title: Scenario
version: 1
inputs:
  name: {default: x}
databases:
  prod: {url: {env: DATABASE_URL}, environment: production, default: true}
phases:
  - id: prep
    title: Prepare
    kind: prepare
    steps:
      - {id: precheck, title: Precheck, check: SELECT 1, expect: {value: 1}}
      - {id: tick, title: Tick, checklist: [a, b]}
  - id: backup
    title: Backup
    kind: backup
    steps:
      - {id: dump, title: Dump, run: pg_dump, effect: reversible, rollback: keep-dump}
  - id: change
    title: Change
    kind: deploy
    steps:
      - {id: mark, title: Mark, sql: UPDATE t SET a = 1, rollback: unmark}
      - {id: deploy, title: Deploy, run: deploy-it, rollback: undeploy, on_failure: rollback}
  - id: verify
    title: Verify
    kind: verify
    steps:
      - {id: verify, title: Verify, check: SELECT count(*) FROM t, expect: {value: 4}, retry: {interval: 1s, timeout: 5s}}
  - id: rollback
    title: Rollback
    kind: rollback
    steps:
      - {id: keep-dump, title: Keep dump, checklist: [kept]}
      - {id: unmark, title: Unmark, sql: UPDATE t SET a = 0}
      - {id: undeploy, title: Undeploy, run: undeploy-it}
      - {id: final, title: Final check, check: SELECT 1}
`;

/** An operator answering from a script, one answer per request, recording what it was asked. */
function scripted(answers: Array<OperatorAnswer | ((req: OperatorRequest) => OperatorAnswer)>): Operator & { asked: OperatorRequest[] } {
  const asked: OperatorRequest[] = [];
  return {
    asked,
    async request(req, session) {
      asked.push(req);
      if (req.kind === 'checklist') {
        req.items.forEach((_, i) => session.tick(req.step.id, i, true));
        return { kind: 'done' };
      }
      const next = answers.shift();
      if (!next) return { kind: 'quit' };
      return typeof next === 'function' ? next(req) : next;
    },
  };
}

describe('a run that goes to plan', () => {
  it('given every step passes and the target is confirmed, completes with each step recorded in order', async () => {
    const db = new ScriptedDb({ 'SELECT count(*) FROM t': [rows(['4'])] });
    const r = makeRun(RUNBOOK, { confirmTarget: 'prod_db', db });
    expect(await r.run.execute()).toBe('completed');
    expect(types(r.journal)).toEqual([
      'run.started',
      'step.started:precheck', 'check.result:precheck', 'step.finished:precheck',
      'step.started:tick', 'checklist.ticked:tick', 'checklist.ticked:tick', 'step.finished:tick',
      'step.started:dump', 'confirmation:dump', 'command.started:dump', 'command.exited:dump', 'step.finished:dump',
      'step.started:mark', 'confirmation:mark', 'sql.result:mark', 'step.finished:mark',
      'step.started:deploy', 'confirmation:deploy', 'command.started:deploy', 'command.exited:deploy', 'step.finished:deploy',
      'step.started:verify', 'check.result:verify', 'step.finished:verify',
      'run.finished',
    ]);
    expect(r.db.writes).toEqual(['UPDATE t SET a = 1']);
    expect(r.shell.ran).toEqual(['pg_dump', 'deploy-it']);
  });

  it('replaying the recorded events rebuilds the same state', async () => {
    const r = makeRun(RUNBOOK, { confirmTarget: 'prod_db', db: new ScriptedDb({ 'SELECT count(*) FROM t': [rows(['4'])] }) });
    await r.run.execute();
    const replayed = r.journal.events.reduce(transition, initialState(r.plan));
    expect(replayed.steps).toEqual(r.run.state.steps);
    expect(replayed.outcome).toBe('completed');
    expect(nextEffect(replayed)).toEqual({ type: 'done', outcome: 'completed' });
  });
});

describe('gates', () => {
  it('given --auto without --confirm-target, a destructive step never runs and the run fails saying why', async () => {
    const r = makeRun(RUNBOOK);
    expect(await r.run.execute()).toBe('failed');
    expect(r.shell.ran).toEqual([]);
    expect(r.db.writes).toEqual([]);
    const finished = r.journal.events.at(-1) as Recorded & { reason: string };
    expect(finished.reason).toContain('--confirm-target prod_db');
  });

  it('given a confirmation that does not match, cancels the step, records it, and asks again', async () => {
    const op = scripted([
      { kind: 'go' }, { kind: 'typed', text: 'prod' }, // dump: wrong name
      { kind: 'go' }, { kind: 'typed', text: 'prod_db' }, // dump again: right
      { kind: 'quit' },
    ]);
    const r = makeRun(RUNBOOK, { operator: op });
    expect(await r.run.execute()).toBe('aborted');
    const confirmations = r.journal.events.filter((e) => e.type === 'confirmation');
    expect(confirmations.map((e) => (e as { matched: boolean }).matched)).toEqual([false, true]);
    expect(r.shell.ran).toEqual(['pg_dump']);
    const secondGo = op.asked.filter((a) => a.kind === 'go')[1];
    expect(secondGo && 'note' in secondGo ? secondGo.note : '').toContain('did not match');
  });

  it('production writes are gated even when not destructive; read-only steps never are', () => {
    const r = makeRun(RUNBOOK);
    expect(r.plan.steps.dump!.gated).toBe(true); // reversible, but production
    expect(r.plan.steps.precheck!.gated).toBe(false);
    const staging = makeRun(RUNBOOK, { environment: 'staging' });
    expect(staging.plan.steps.dump!.gated).toBe(false);
    expect(staging.plan.steps.mark!.gated).toBe(true); // destructive anywhere
  });
});

describe('failure and rollback', () => {
  it('given deploy fails with on_failure: rollback, undoes what was done in reverse, once, and says what state the target is in', async () => {
    const shell = new ScriptedShell({ 'deploy-it': { exitCode: 1, output: 'boom\n' } });
    const r = makeRun(RUNBOOK, { confirmTarget: 'prod_db', shell });
    expect(await r.run.execute()).toBe('rolled-back');
    const started = r.journal.events.find((e) => e.type === 'rollback.started') as unknown as { steps: string[] };
    expect(started.steps).toEqual(['undeploy', 'unmark', 'keep-dump', 'final']);
    expect(shell.ran).toEqual(['pg_dump', 'deploy-it', 'undeploy-it']);
    expect(r.db.writes).toEqual(['UPDATE t SET a = 1', 'UPDATE t SET a = 0']);
    const finished = r.journal.events.find((e) => e.type === 'rollback.finished') as unknown as { undone: string[]; summary: string };
    expect(finished.undone).toEqual(['dump', 'mark']);
    expect(finished.summary).toContain('Every step that changed the target was undone by its rollback step (dump, mark)');
    // Never claimed without a comparison.
    expect(finished.summary).toContain('has not been compared: check it');
    expect(r.run.state.steps.mark!.stage).toBe('rolled-back');
    expect(r.journal.events.filter((e) => e.type === 'rollback.started')).toHaveLength(1);
  });

  it('given a check that fails twice then passes within its retry window, records each attempt and goes on', async () => {
    const db = new ScriptedDb({ 'SELECT count(*) FROM t': [rows(['2']), rows(['3']), rows(['4'])] });
    const r = makeRun(RUNBOOK, { confirmTarget: 'prod_db', db });
    expect(await r.run.execute()).toBe('completed');
    const attempts = r.journal.events.filter((e) => e.type === 'check.result' && e.step === 'verify') as unknown as Array<{ pass: boolean; failures: string[] }>;
    expect(attempts.map((a) => a.pass)).toEqual([false, false, true]);
    expect(attempts[0]!.failures).toEqual(['expected the value 4, got "2"']);
  });

  it('given a check that never passes, fails after its retry timeout and the unattended run stops failed', async () => {
    const db = new ScriptedDb({ 'SELECT count(*) FROM t': [rows(['2'])] });
    const r = makeRun(RUNBOOK, { confirmTarget: 'prod_db', db });
    expect(await r.run.execute()).toBe('failed');
    expect(r.run.state.steps.verify!.stage).toBe('failed');
    expect(r.run.state.steps.verify!.reason).toMatch(/expected the value 4, got "2" \(after \d attempts\)/);
  });

  it('given the operator skips a failed step with a reason, records the reason and moves on', async () => {
    const db = new ScriptedDb({ 'SELECT 1': [rows(['0'])] });
    const op = scripted([{ kind: 'skip', reason: 'checked by hand in psql' }, { kind: 'quit' }]);
    const r = makeRun(RUNBOOK, { operator: op, db });
    expect(await r.run.execute()).toBe('aborted');
    expect(r.run.state.steps.precheck).toMatchObject({ stage: 'skipped', reason: 'checked by hand in psql' });
    expect(r.run.state.steps.tick!.stage).toBe('passed');
    const decide = op.asked.find((a) => a.kind === 'decide');
    expect(decide && decide.kind === 'decide' ? decide.options : []).toEqual(['retry', 'skip', 'override', 'rollback', 'quit']);
  });

  it('a failure during rollback offers no second rollback', async () => {
    const shell = new ScriptedShell({ 'deploy-it': { exitCode: 1 }, 'undeploy-it': { exitCode: 2 } });
    const op = scripted([
      { kind: 'go' }, { kind: 'typed', text: 'prod_db' }, // dump
      { kind: 'go' }, { kind: 'typed', text: 'prod_db' }, // mark
      { kind: 'go' }, { kind: 'typed', text: 'prod_db' }, // deploy fails → rollback (on_failure)
      { kind: 'go' }, // undeploy: a run step, not destructive-declared: destructive by default → gated
      { kind: 'typed', text: 'prod_db' },
      (req) => {
        expect(req.kind === 'decide' && req.options).toEqual(['retry', 'skip', 'quit']);
        return { kind: 'skip', reason: 'undeploy by hand' };
      },
      { kind: 'go' }, { kind: 'typed', text: 'prod_db' }, // unmark
    ]);
    const r = makeRun(RUNBOOK, { operator: op, shell });
    expect(await r.run.execute()).toBe('rolled-back');
    const finished = r.journal.events.find((e) => e.type === 'rollback.finished') as unknown as { failed: string[]; summary: string };
    expect(finished.failed).toEqual(['undeploy']);
    expect(finished.summary).toContain('only partly restored');
  });
});

describe('dry run', () => {
  it('runs only read-only checks and records the exact command each skipped step would have run', async () => {
    const db = new ScriptedDb({ 'SELECT count(*) FROM t': [rows(['4'])] });
    const r = makeRun(RUNBOOK, { mode: 'dry-run', db });
    expect(await r.run.execute()).toBe('completed');
    expect(r.shell.ran).toEqual([]);
    expect(r.db.writes).toEqual([]);
    expect(r.db.checks).toEqual(['SELECT 1', 'SELECT count(*) FROM t']);
    const would = r.journal.events.filter((e) => e.type === 'step.dry-run').map((e) => (e as unknown as { would: string }).would);
    expect(would).toEqual(['pg_dump', '-- on prod\nUPDATE t SET a = 1', 'deploy-it']);
  });
});

describe('resume', () => {
  it('a command whose end was never recorded has an unknown outcome, and the operator decides', async () => {
    const r = makeRun(RUNBOOK, { confirmTarget: 'prod_db' });
    const recorded = [] as Recorded[];
    r.run.subscribe((_s, e) => {
      if (e) recorded.push(e);
    });
    // Stop the run right after the dump command started (as a crash would).
    const shell = r.shell as ScriptedShell;
    shell.run = async (req) => {
      req.onSpawn?.({ pgid: 4242 });
      throw new Error('crash');
    };
    await expect(r.run.execute()).rejects.toThrow('crash');
    expect(recorded.at(-1)).toMatchObject({ type: 'command.started', pgid: 4242 });

    let state = recorded.reduce(transition, initialState(r.plan));
    state = transition(state, { type: 'run.resumed', from: 'x', operator: 'tester' });
    expect(state.steps.dump!.stage).toBe('unknown');
    const effect = nextEffect(state);
    expect(effect).toMatchObject({ type: 'decide', unknown: true, options: ['retry', 'mark-done', 'rollback', 'quit'] });
  });

  it('a check caught in progress runs again by itself on resume', () => {
    const r = makeRun(RUNBOOK);
    let state = transition(initialState(r.plan), { type: 'run.started', runbook: { id: 'scenario', title: '', version: '1', path: '', hash: '' }, drillbook: '', operator: 'a', host: '', mode: 'incident', targets: [], inputs: {} });
    state = transition(state, { type: 'step.started', step: 'precheck', phase: 'prep', attempt: 1 });
    state = transition(state, { type: 'run.resumed', from: 'x', operator: 'b' });
    expect(nextEffect(state)).toMatchObject({ type: 'start', step: { id: 'precheck' } });
  });
});

describe('redaction', () => {
  it('a secret in command output never reaches the events, even split across chunks', async () => {
    const shell = new ScriptedShell();
    shell.run = async (req) => {
      req.onOutput('stdout', 'connecting with s3cr');
      req.onOutput('stdout', 'et-pass now\n');
      req.onOutput('stderr', 'postgres://app:other-pw@db:5432/app\n');
      return { exitCode: 0, signal: null, durationMs: 1, timedOut: false, cancelled: false };
    };
    const r = makeRun(RUNBOOK, { confirmTarget: 'prod_db', shell, secrets: ['s3cret-pass'], db: new ScriptedDb({ 'SELECT count(*) FROM t': [rows(['4'])] }) });
    await r.run.execute();
    const all = r.journal.lines.join('\n');
    expect(all).not.toContain('s3cret-pass');
    expect(all).not.toContain('other-pw');
    const output = (stream: string) => r.journal.events.filter((e) => e.type === 'command.output' && e.stream === stream).map((e) => (e as { text: string }).text).join('');
    expect(output('stdout')).toContain('connecting with [REDACTED] now\n');
    expect(output('stderr')).toContain('postgres://app:[REDACTED]@db:5432/app\n');
  });
});

describe('the journal', () => {
  it('a failed write stops the run before its next step: nothing runs unrecorded', async () => {
    const r = makeRun(RUNBOOK, { confirmTarget: 'prod_db' });
    let appends = 0;
    const original = r.journal.append.bind(r.journal);
    r.journal.append = (e) => {
      if (++appends > 6) throw new Error('ENOSPC: no space left on device');
      original(e);
    };
    await expect(r.run.execute()).rejects.toThrow('ENOSPC');
    expect(r.shell.ran).toEqual([]);
    expect(r.db.writes).toEqual([]);
    expect(r.journal.events).toHaveLength(6);
  });
});

describe('a command that changes things, stopped half-way', () => {
  it('is an unknown outcome, not a failure: the operator decides (re-run, mark done, roll back), and rollback counts it as acted', async () => {
    const shell = new ScriptedShell({ 'pg_dump': { exitCode: null, signal: 'SIGKILL', timedOut: true } });
    const decided: Array<{ unknown: boolean; options: string[] }> = [];
    const base = autoOperator({ confirmTarget: 'prod_db', values: {} });
    const r = makeRun(RUNBOOK, {
      shell,
      operator: {
        async request(req, session) {
          if (req.kind === 'decide') {
            decided.push({ unknown: req.unknown, options: req.options });
            return { kind: 'rollback' };
          }
          return base.request(req, session);
        },
      },
    });
    expect(await r.run.execute()).toBe('rolled-back');
    const finished = r.journal.events.find((e) => e.type === 'step.finished' && e.step === 'dump') as unknown as { outcome: string; reason: string };
    expect(finished).toMatchObject({ outcome: 'unknown', reason: expect.stringMatching(/timed out .* it may have done part of its work/) });
    expect(decided).toEqual([{ unknown: true, options: ['retry', 'mark-done', 'rollback', 'quit'] }]);
    const started = r.journal.events.find((e) => e.type === 'rollback.started') as unknown as { steps: string[] };
    expect(started.steps).toContain('keep-dump');
  });
});

describe('whether a retry can help', () => {
  const st = (patch: Partial<StepState>): StepState => ({ id: 's', stage: 'failed', attempts: 1, ticks: [], output: '', ...patch });
  it('no for a deterministic SQL error: syntax, a missing object, a broken constraint', () => {
    for (const code of ['42601', '42P01', '23505', '22P02']) expect(retryMayHelp(st({ lastSql: { error: 'x', code } }))).toBe(false);
    expect(retryMayHelp(st({ lastCheck: { pass: false, failures: ['x'], error: 'x', code: '42703', attempt: 1 } }))).toBe(false);
  });
  it('yes for a lost connection, a lock, a conflict, a silent server', () => {
    for (const code of ['08006', '57P01', '40001', '40P01', '55P03', '57014', 'DRILLBOOK_SILENT', 'ECONNREFUSED']) expect(retryMayHelp(st({ lastSql: { error: 'x', code } }))).toBe(true);
    expect(retryMayHelp(st({ lastCheck: { pass: false, failures: [], error: 'cannot connect to prod (h:5432/db): connection refused', attempt: 1 } }))).toBe(true);
  });
  it('cannot tell for a command, or an expectation not (yet) met', () => {
    expect(retryMayHelp(st({ lastExit: { exitCode: 1, signal: null, timedOut: false, cancelled: false, durationMs: 1 } }))).toBeUndefined();
    expect(retryMayHelp(st({ lastCheck: { pass: false, failures: ['expected 1 row(s), got 0'], attempt: 1 } }))).toBeUndefined();
  });
});

describe('commands wait for the operator', () => {
  it('a command labelled read-only still asks "go" before it runs (a label proves nothing about a program)', async () => {
    const asked: string[] = [];
    const base = autoOperator({ confirmTarget: undefined, values: {} });
    const r = makeRun(`id: ro\ntitle: RO\nversion: 1\nphases:\n  - id: p\n    title: P\n    kind: prepare\n    steps:\n      - {id: look, title: Look, run: ls, effect: read-only}\n`, {
      operator: {
        async request(req, session) {
          asked.push(`${req.kind}:${req.step.id}`);
          return base.request(req, session);
        },
      },
    });
    expect(await r.run.execute()).toBe('completed');
    expect(asked).toEqual(['go:look']);
    expect(r.shell.ran).toEqual(['ls']);
  });
});
