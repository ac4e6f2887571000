/** Builds a Run over fake ports, for engine scenarios that need no process or database. */
import { autoOperator } from '../../src/core/auto-operator.js';
import type { RunOutcome, TargetInfo } from '../../src/core/events.js';
import { parseRunbook } from '../../src/core/load.js';
import { buildPlan, type PlanTarget } from '../../src/core/plan.js';
import type { CommandRequest, CommandResult, DatabasePort, IdentifyOutcome, Operator, QueryOutcome, ShellPort } from '../../src/core/ports.js';
import { Redactor } from '../../src/core/redact.js';
import { Run } from '../../src/core/runner.js';
import { MemoryJournal } from './memory-journal.js';

export class ScriptedShell implements ShellPort {
  readonly ran: string[] = [];
  constructor(private readonly results: Record<string, Partial<CommandResult> & { output?: string }> = {}) {}
  async run(req: CommandRequest): Promise<CommandResult> {
    this.ran.push(req.command);
    const r = this.results[req.command] ?? {};
    if (r.output) req.onOutput('stdout', r.output);
    return { exitCode: 0, signal: null, durationMs: 5, timedOut: false, cancelled: false, ...r };
  }
}

export class ScriptedDb implements DatabasePort {
  readonly checks: string[] = [];
  readonly writes: string[] = [];
  /** Per SQL text: outcomes returned in turn (the last one repeats). */
  constructor(private readonly script: Record<string, QueryOutcome[]> = {}) {}
  private next(sql: string): QueryOutcome {
    const list = this.script[sql.trim()];
    if (!list?.length) return { ok: true, result: { columns: ['?column?'], rows: [['1']], rowCount: 1 }, rowCount: 1 };
    return list.length > 1 ? list.shift()! : list[0]!;
  }
  async check(_db: string, sql: string): Promise<QueryOutcome> {
    this.checks.push(sql.trim());
    return this.next(sql);
  }
  async execute(_db: string, sql: string): Promise<QueryOutcome> {
    this.writes.push(sql.trim());
    return this.next(sql);
  }
  async inspect() {
    return {};
  }
  /** The database name each target's server reports (set by makeRun; else "<name>_db"). */
  names: Record<string, string> = {};
  /** Targets whose server cannot be reached. */
  unreachable = new Set<string>();
  async identify(name: string): Promise<IdentifyOutcome> {
    if (this.unreachable.has(name)) return { ok: false, error: `cannot connect to ${name}: connection refused` };
    return { ok: true, identity: { database: this.names[name] ?? `${name}_db`, user: 'app', address: '10.0.0.5', port: '5432', socket: false, serverVersion: '17.6', inRecovery: false } };
  }
  async close() {}
}

export function rows(...values: Array<Array<string | null>>): QueryOutcome {
  return { ok: true, result: { columns: values[0]?.map((_, i) => `c${i}`) ?? [], rows: values, rowCount: values.length }, rowCount: values.length };
}

export function makeRun(yaml: string, opts: {
  shell?: ScriptedShell;
  db?: ScriptedDb;
  operator?: Operator;
  confirmTarget?: string;
  mode?: 'incident' | 'dry-run' | 'rehearsal';
  environment?: PlanTarget['environment'];
  values?: Record<string, string>;
  secrets?: string[];
  targets?: TargetInfo[];
  /** Milliseconds the clock moves at each reading (default 1). */
  tick?: number;
} = {}) {
  const { runbook, problems } = parseRunbook(yaml, 'test.yaml');
  if (!runbook) throw new Error(problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n'));
  const mode = opts.mode ?? 'incident';
  const targets: Record<string, PlanTarget> = {};
  for (const name of Object.keys(runbook.databases ?? {})) targets[name] = { environment: opts.environment ?? 'production', databaseName: opts.targets?.find((t) => t.name === name)?.database ?? `${name}_db` };
  const plan = buildPlan(runbook, mode, targets);
  const journal = new MemoryJournal();
  const shell = opts.shell ?? new ScriptedShell();
  const db = opts.db ?? new ScriptedDb();
  for (const [name, t] of Object.entries(targets)) db.names[name] ??= t.databaseName;
  const values = { ...(opts.values ?? {}) };
  let t = Date.parse('2026-11-22T10:00:00Z');
  const run = new Run(
    plan,
    {
      runbook,
      runbookPath: 'test.yaml',
      runbookHash: 'h',
      drillbookVersion: 'test',
      mode,
      operatorName: 'tester',
      host: 'host',
      cwd: '/tmp',
      values,
      databaseEnv: {},
      baseEnv: {},
      targets: opts.targets ?? [],
      secretInputs: new Set(),
    },
    {
      shell,
      db,
      // Time moves 1 ms per reading, and by the full interval on sleep.
      clock: { now: () => new Date((t += opts.tick ?? 1)), sleep: async (ms) => void (t += ms) },
      journal,
      operator: opts.operator ?? autoOperator({ confirmTarget: opts.confirmTarget, values }),
      redactor: new Redactor(opts.secrets ?? []),
    },
  );
  return { run, journal, shell, db, plan };
}

export async function runToEnd(r: ReturnType<typeof makeRun>): Promise<RunOutcome> {
  return r.run.execute();
}

export function types(journal: MemoryJournal): string[] {
  return journal.events.map((e) => ('step' in e && e.step ? `${e.type}:${e.step}` : e.type));
}
