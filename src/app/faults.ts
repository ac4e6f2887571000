/**
 * Faults a game master injects into a drill. Each one is real (a real restart, a real lock, a real
 * failing process), recorded in the transcript, and something the trainee recovers from with the runbook.
 */
import pg from 'pg';
import type { RunEvent } from '../core/events.js';
import type { CommandRequest, CommandResult, DatabasePort, QueryOutcome, ShellPort } from '../core/ports.js';
import type { Run } from '../core/runner.js';
import type { DrillDatabase } from '../adapters/drill-db.js';

export const FAULTS = {
  'db-restart': 'the database restarts in the middle of a phase',
  'statement-hang': 'a statement hangs on a lock until its timeout',
  'command-fails-once': 'the first command fails once',
} as const;
export type FaultName = keyof typeof FAULTS;

export function isFault(name: string): name is FaultName {
  return name in FAULTS;
}

/** Records through the run once it exists. */
export class FaultLog {
  run: Run | undefined;
  record(name: FaultName, detail: string): void {
    this.run?.record({ type: 'fault', name, detail } satisfies RunEvent);
  }
}

export class FaultyShell implements ShellPort {
  private failed = false;
  constructor(private readonly inner: ShellPort, private readonly log: FaultLog) {}
  async run(req: CommandRequest): Promise<CommandResult> {
    if (this.failed) return this.inner.run(req);
    this.failed = true;
    this.log.record('command-fails-once', `the command of this step fails once instead of running: ${FAULTS['command-fails-once']}`);
    // A real process that fails, in place of the real command.
    return this.inner.run({ ...req, command: 'echo "connection reset by peer (injected by the game master)" >&2; exit 97' });
  }
}

/** Holds a real ACCESS EXCLUSIVE lock on the application tables while the first statement that needs them runs. */
export class HangingDb implements DatabasePort {
  private done = false;
  constructor(private readonly inner: DatabasePort, private readonly url: string, private readonly log: FaultLog) {}

  private async withLock(call: () => Promise<QueryOutcome>): Promise<QueryOutcome> {
    if (this.done) return call();
    const gm = new pg.Client({ connectionString: this.url, application_name: 'drillbook-game-master' });
    gm.on('error', () => undefined);
    await gm.connect();
    try {
      const tables = (await gm.query("SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")).rows.map((r: { t: string }) => r.t);
      if (tables.length === 0) return await call();
      await gm.query('BEGIN');
      await gm.query(`LOCK TABLE ${tables.join(', ')} IN ACCESS EXCLUSIVE MODE`);
      const result = await call();
      if (!result.ok && /timed out/.test(result.error)) {
        this.done = true;
        this.log.record('statement-hang', `a lock held by another session made the statement wait until its statement_timeout: ${FAULTS['statement-hang']}`);
      }
      return result;
    } finally {
      await gm.query('ROLLBACK').catch(() => undefined);
      await gm.end().catch(() => undefined);
    }
  }

  check(database: string, sql: string, params: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<QueryOutcome> {
    return this.withLock(() => this.inner.check(database, sql, params, timeoutMs, signal));
  }
  execute(database: string, sql: string, params: readonly string[], timeoutMs: number, signal: AbortSignal, options?: { transaction?: boolean }): Promise<QueryOutcome> {
    return this.withLock(() => this.inner.execute(database, sql, params, timeoutMs, signal, options));
  }
  inspect(database: string) {
    return this.inner.inspect(database);
  }
  identify(database: string) {
    return this.inner.identify(database);
  }
  close() {
    return this.inner.close();
  }
}

/** Restart the drill database right after the first step that has more database steps after it in its phase. */
export function armRestart(run: Run, db: DrillDatabase, log: FaultLog): void {
  let armed = true;
  run.subscribe((_state, e) => {
    if (!armed || !e || e.type !== 'step.finished' || e.outcome !== 'passed') return;
    const phase = run.plan.phases.find((p) => p.steps.includes(e.step));
    if (!phase || phase.kind === 'rollback') return;
    const rest = phase.steps.slice(phase.steps.indexOf(e.step) + 1);
    if (!rest.some((id) => ['check', 'sql', 'migrations', 'run'].includes(run.plan.steps[id]!.action))) return;
    armed = false;
    log.record('db-restart', `the database server restarts now, after ${e.step}, in the middle of phase ${phase.id}: ${FAULTS['db-restart']}`);
    void db.restart().catch(() => undefined);
  });
}
