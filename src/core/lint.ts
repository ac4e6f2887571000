/**
 * Runbook → Problem[]: what the schema alone cannot say (references, safety rules, SQL and text
 * placeholders). Never throws.
 */
import type { Problem, Severity } from './errors.js';
import { placeholders } from './interpolate.js';
import { escapesReadOnly, identifierProblem, isTransactionControl, maxParam, splitSql, sqlPlaceholders } from './sql-split.js';
import { defaultDatabaseName, effectOf, type Runbook, type Step } from './runbook.js';
import { ACTION_KEYS, type ActionKey } from './schema.js';
import { didYouMean } from './suggest.js';
import { incidentProblems } from './incident.js';
import type { Locator, Path } from './yaml-locate.js';

/** Which step keys make sense for which action. */
const APPLIES_TO: Record<string, readonly ActionKey[]> = {
  params: ['check', 'sql'],
  expect: ['check', 'sql'],
  retry: ['check'],
  cwd: ['run'],
  expect_exit: ['run'],
  expect_output: ['run'],
  expect_error: ['run'],
  timeout: ['run', 'check', 'sql'],
  transaction: ['sql'],
  database: ['check', 'sql', 'run', 'migrations'],
};

export function lintRunbook(rb: Runbook, file: string, loc: Locator): Problem[] {
  const problems: Problem[] = [];
  const add = (severity: Severity, path: Path, message: string, key = false) =>
    problems.push({ file, severity, message, ...(key ? loc.key(path) : loc.value(path)) });

  const inputs = rb.inputs ?? {};
  const inputNames = Object.keys(inputs);
  const databases = rb.databases ?? {};
  const dbNames = Object.keys(databases);
  const defaultDb = defaultDatabaseName(rb);

  // inputs
  for (const [name, spec] of Object.entries(inputs)) {
    if (spec.pattern !== undefined) {
      let re: RegExp | undefined;
      try {
        re = new RegExp(`^(?:${spec.pattern})$`);
      } catch (e) {
        add('error', ['inputs', name, 'pattern'], `input "${name}": invalid pattern: ${(e as Error).message}`);
      }
      if (re && spec.default !== undefined && !re.test(String(spec.default))) {
        add('error', ['inputs', name, 'default'], `input "${name}": default ${JSON.stringify(spec.default)} does not match its pattern`);
      }
    }
    if (spec.kind === 'identifier' && spec.default !== undefined) {
      const why = identifierProblem(String(spec.default));
      if (why) add('error', ['inputs', name, 'default'], `input "${name}": default is not an identifier: ${why}`);
    }
    if (spec.secret && spec.default !== undefined) {
      add('warning', ['inputs', name, 'default'], `input "${name}" is secret but has a default written in the runbook`);
    }
  }

  // databases
  const defaults = Object.entries(databases).filter(([, d]) => d.default);
  if (defaults.length > 1) {
    for (const [name] of defaults.slice(1)) add('error', ['databases', name, 'default'], `more than one default database ("${defaults[0]![0]}" and "${name}")`);
  }
  for (const [name, spec] of Object.entries(databases)) {
    if ('input' in spec.url && !(spec.url.input in inputs)) {
      add('error', ['databases', name, 'url', 'input'], `database "${name}": unknown input "${spec.url.input}"${didYouMean(spec.url.input, inputNames)}`);
    }
  }

  // text fields of the runbook
  const checkText = (path: Path, text: string | undefined) => {
    if (text === undefined) return;
    for (const name of placeholders(text)) {
      if (!(name in inputs)) add('error', path, `\${${name}} is not a declared input${didYouMean(name, inputNames)}`);
    }
  };
  checkText(['title'], rb.title);
  checkText(['summary'], rb.summary);

  // What must never be on a command line: database URLs (they hold passwords) and secret inputs.
  const exposed = new Map<string, string>();
  for (const [name, spec] of Object.entries(databases)) {
    if ('env' in spec.url) exposed.set(spec.url.env, `the URL of database ${name}, with its password`);
    else exposed.set(spec.url.input, `the URL of database ${name}, with its password`);
  }
  for (const [name, spec] of Object.entries(inputs)) if (spec.secret) exposed.set(name, 'a secret input');
  exposed.set('PGPASSWORD', 'the database password');

  // ids, phases, steps
  const phaseIds = new Map<string, number>();
  const stepIds = new Map<string, Path>();
  const rollbackPhases = rb.phases.map((p, i) => [p, i] as const).filter(([p]) => p.kind === 'rollback');
  if (rollbackPhases.length > 1) {
    for (const [, i] of rollbackPhases.slice(1)) add('error', ['phases', i, 'kind'], 'only one phase may be of kind rollback');
  }
  const rollbackIds = new Set(rollbackPhases.flatMap(([p]) => p.steps.map((s) => s.id)));
  const hasRollbackPhase = rollbackPhases.length > 0;

  rb.phases.forEach((phase, pi) => {
    const pPath: Path = ['phases', pi];
    if (phaseIds.has(phase.id)) add('error', [...pPath, 'id'], `duplicate phase id "${phase.id}" (also phase ${phaseIds.get(phase.id)! + 1})`);
    else phaseIds.set(phase.id, pi);
    if (phase.steps.length === 0) add('error', [...pPath, 'steps'], `phase "${phase.id}" has no steps`);
    checkText([...pPath, 'title'], phase.title);
    checkText([...pPath, 'notes'], phase.notes);
    const inRollback = phase.kind === 'rollback';

    phase.leaves?.forEach((item, li) => {
      const lPath: Path = [...pPath, 'leaves', li];
      if (!inRollback) add('error', [...pPath, 'leaves'], '"leaves" declares what a rollback cannot undo: it belongs on the phase of kind rollback', true);
      const named = (['table', 'migration', 'object'] as const).filter((k) => item[k] !== undefined);
      if (named.length !== 1) add('error', lPath, 'name exactly one of table, migration or object (and a reason)');
      for (const k of ['table', 'migration', 'object', 'reason'] as const) if (item[k] !== undefined) checkText([...lPath, k], item[k]);
    });
    phase.steps.forEach((step, si) => {
      const sPath: Path = [...pPath, 'steps', si];
      const previous = stepIds.get(step.id);
      if (previous) add('error', [...sPath, 'id'], `duplicate step id "${step.id}" (first used at line ${loc.value([...previous, 'id']).line})`);
      else stepIds.set(step.id, sPath);
      lintStep(step, sPath, inRollback);
    });
  });

  function lintStep(step: Step, sPath: Path, inRollback: boolean) {
    const actions = ACTION_KEYS.filter((k) => step[k] !== undefined);
    if (actions.length === 0) {
      add('error', sPath, `step "${step.id}" has no action: give it one of ${ACTION_KEYS.join(', ')}`);
      return;
    }
    if (actions.length > 1) {
      add('error', [...sPath, actions[1]!], `step "${step.id}" has more than one action (${actions.join(', ')}): split it into steps`, true);
      return;
    }
    const action = actions[0]!;

    for (const [key, allowed] of Object.entries(APPLIES_TO)) {
      if ((step as Record<string, unknown>)[key] !== undefined && !allowed.includes(action)) {
        add('error', [...sPath, key], `"${key}" does not apply to a ${action} step (only to ${allowed.join(', ')})`, true);
      }
    }

    checkText([...sPath, 'title'], step.title);
    checkText([...sPath, 'notes'], step.notes);
    step.checklist?.forEach((item, i) => checkText([...sPath, 'checklist', i], item));

    // databases and parameters
    if (step.database !== undefined && !(step.database in databases)) {
      add('error', [...sPath, 'database'], `unknown database "${step.database}"${didYouMean(step.database, dbNames)}`);
    }
    const needsDb = action === 'check' || action === 'sql' || action === 'migrations';
    if (needsDb && step.database === undefined && step.migrations?.database === undefined && defaultDb === undefined) {
      add('error', [...sPath, action], `step "${step.id}" needs a database: add "database:" or mark one database "default: true"`, true);
    }
    for (const [i, p] of (step.params ?? []).entries()) {
      if (!(p in inputs)) add('error', [...sPath, 'params', i], `unknown input "${p}"${didYouMean(p, inputNames)}`);
    }
    const sql = step.check ?? step.sql;
    if (sql !== undefined) {
      for (const { name, inCode } of sqlPlaceholders(sql)) {
        if (inputs[name]?.kind === 'identifier') {
          if (!inCode) add('error', [...sPath, action], `\${${name}} inside a string or comment is never filled in: an identifier input stands in the SQL itself (it is quoted for you)`, true);
          continue;
        }
        add('error', [...sPath, action], `\${${name}} in SQL: inputs reach SQL only as bind parameters (use params: [${name}] and $1); a table, index or column name is an input of kind: identifier`, true);
      }
      if (step.transaction === false) {
        const st = splitSql(sql);
        if (action !== 'sql') {
          // reported by APPLIES_TO
        } else if (effectOf(step) === 'read-only') {
          add('error', [...sPath, 'transaction'], 'transaction: false is for statements that write outside a transaction; a read-only step runs in a READ ONLY transaction', true);
        } else if (st.length !== 1) {
          add('error', [...sPath, 'sql'], `transaction: false runs exactly one statement (this has ${st.length}): split it into steps`, true);
        }
      }
      const statements = splitSql(sql);
      const readOnly = action === 'check' || effectOf(step) === 'read-only';
      lintStatements(statements, [...sPath, action], readOnly ? (action === 'check' ? 'a check' : 'a read-only sql step') : undefined);
      const used = maxParam(statements);
      const given = step.params?.length ?? 0;
      if (used > given) add('error', [...sPath, action], `the SQL uses $${used} but only ${given} parameter(s) are given in params`, true);
      else if (given > used) add('warning', [...sPath, 'params'], `${given} parameter(s) given but the SQL uses ${used === 0 ? 'none' : `only up to $${used}`}`);
    }
    if (step.expect_output !== undefined) {
      const patterns = typeof step.expect_output === 'string' ? [[[], step.expect_output] as const] : Object.entries(step.expect_output).map(([k, v]) => [[k], v] as const);
      for (const [at, pattern] of patterns) {
        try {
          new RegExp(pattern ?? '', 'm');
        } catch (e) {
          add('error', [...sPath, 'expect_output', ...at], `expect_output: invalid pattern: ${(e as Error).message}`);
        }
      }
    }
    if (step.run !== undefined) {
      for (const name of placeholders(step.run)) {
        if (/^[a-z_][a-z0-9_]*$/.test(name) && !(name in inputs)) {
          add('warning', [...sPath, 'run'], `\${${name}} looks like an input but none is declared${didYouMean(name, inputNames)}`, true);
        }
      }
      for (const [name, what] of exposed) {
        if (new RegExp(`\\$(?:\\{${name}\\}|${name}(?![A-Za-z0-9_]))`).test(step.run)) {
          add(
            'warning',
            [...sPath, 'run'],
            `$${name} (${what}) on a command line: every user of the machine can read a process's arguments (ps). ${
              what === 'a secret input'
                ? `Inputs reach commands as environment variables: let the program read ${name} from its environment`
                : `The command already gets PGHOST, PGPORT, PGDATABASE, PGUSER and PGPASSWORD for its database: use those, or let the program read $${name} from its environment`
            }`,
            true,
          );
        }
      }
    }
    if (step.ask !== undefined && !(step.ask in inputs)) {
      add('error', [...sPath, 'ask'], `unknown input "${step.ask}": declare it under inputs${didYouMean(step.ask, inputNames)}`);
    }
    if (step.migrations) lintMigrations(step, sPath);

    // safety
    const effect = effectOf(step);
    if (action === 'check' && effect !== 'read-only') add('error', [...sPath, 'effect'], 'a check step is always read-only; use an sql step to write', true);
    if (action === 'migrations' && step.migrations?.action && step.effect !== undefined && step.effect !== 'destructive') {
      add('error', [...sPath, 'effect'], `a migrations step with an action writes the tracking table: it is destructive, whatever "effect" says`, true);
    }
    if (action === 'run' && effect !== 'read-only' && step.database === undefined && defaultDb === undefined && dbNames.length > 1) {
      add('error', [...sPath, 'run'], `step "${step.id}" changes something, and the runbook has several databases and no default: say which one it is gated on (database:), so the confirmation names it`, true);
    }
    if ((action === 'checklist' || action === 'ask') && step.effect !== undefined && effect !== 'read-only') {
      add('warning', [...sPath, 'effect'], `a ${action} step changes nothing by itself; "effect" has no use here`, true);
    }
    if (inRollback) {
      if (step.rollback !== undefined) add('error', [...sPath, 'rollback'], 'a step of the rollback phase cannot name a rollback step of its own', true);
    } else {
      if (step.rollback !== undefined && !rollbackIds.has(step.rollback)) {
        const where = hasRollbackPhase ? didYouMean(step.rollback, rollbackIds) : ': the runbook has no rollback phase';
        add('error', [...sPath, 'rollback'], `rollback step "${step.rollback}" is not a step of the rollback phase${where}`);
      }
      if (effect === 'destructive' && step.rollback === undefined && step.irreversible !== true) {
        add('error', [...sPath, 'id'], `destructive step "${step.id}" has neither "rollback: <step id>" nor "irreversible: true"`);
      }
      if (step.irreversible === true && step.rollback !== undefined) {
        add('warning', [...sPath, 'irreversible'], `step "${step.id}" is marked irreversible but names a rollback step`, true);
      }
    }
    if (step.on_failure === 'rollback' && !hasRollbackPhase) {
      add('error', [...sPath, 'on_failure'], 'on_failure: rollback needs a phase of kind rollback');
    }
  }

  /** One statement for read-only SQL; never a statement that ends drillbook's transaction. */
  function lintStatements(statements: ReturnType<typeof splitSql>, path: Path, readOnly: string | undefined) {
    if (statements.length === 0) {
      add('error', path, 'no SQL statement here (only comments or semicolons)', true);
      return;
    }
    if (readOnly && statements.length > 1) {
      add('error', path, `${readOnly} runs exactly one statement, inside a READ ONLY transaction; this has ${statements.length}: split it into steps`, true);
    }
    for (const st of statements) {
      if (isTransactionControl(st)) {
        add('error', path, `"${st.keywords.join(' ')}" on line ${st.line} of the SQL: ${readOnly ? `${readOnly} runs inside a READ ONLY transaction` : 'an sql step runs in one transaction of its own'}, which this would end; remove it`, true);
      }
      const outside = readOnly ? escapesReadOnly(st) : undefined;
      if (outside) add('error', path, `${outside}, which a READ ONLY transaction does not stop: ${readOnly} cannot use it`, true);
    }
  }

  // A rollback that nothing checks is a rollback nobody knows works: a destructive step's rollback
  // step proves itself (an sql step with expect) or the rollback phase ends with a check.
  const rollbackPhase = rollbackPhases[0]?.[0];
  if (rollbackPhase) {
    const referenced = new Set(rb.phases.filter((p) => p.kind !== 'rollback').flatMap((p) => p.steps.map((s) => s.rollback)).filter(Boolean));
    const finalCheck = rollbackPhase.steps.some((s) => !referenced.has(s.id) && (s.check !== undefined || (s.migrations?.expect !== undefined && s.migrations.action === undefined)));
    rb.phases.forEach((phase, pi) => {
      if (phase.kind === 'rollback') return;
      phase.steps.forEach((step, si) => {
        if (effectOf(step) !== 'destructive' || step.rollback === undefined || finalCheck) return;
        const target = rollbackPhase.steps.find((s) => s.id === step.rollback);
        if (!target || target.expect !== undefined) return;
        add('warning', ['phases', pi, 'steps', si, 'rollback'], `nothing proves the rollback of "${step.id}" worked: give "${step.rollback}" an expect, or end the rollback phase with a check`, true);
      });
    });
  }

  function lintMigrations(step: Step, sPath: Path) {
    const m = step.migrations!;
    const mPath: Path = [...sPath, 'migrations'];
    if (m.database !== undefined && !(m.database in databases)) {
      add('error', [...mPath, 'database'], `unknown database "${m.database}"${didYouMean(m.database, dbNames)}`);
    }
    if (m.action !== undefined && m.expect !== undefined) add('error', [...mPath, 'action'], 'a migrations step either checks (expect) or writes (action), not both', true);
    if (m.action === undefined && m.expect === undefined) add('error', mPath, 'a migrations step needs "expect" (a live check) or "action" (a write)');
    m.names?.forEach((n, i) => checkText([...mPath, 'names', i], n));
    if ((m.action === 'mark-applied' || m.action === 'mark-rolled-back') && !m.names?.length) {
      add('error', mPath, `migrations action ${m.action} needs "names": the migrations to mark`);
    }
  }

  // rehearsal
  const rehearsal = rb.rehearsal;
  const successIds = new Set<string>();
  rehearsal?.success?.forEach((c, i) => {
    const cPath: Path = ['rehearsal', 'success', i];
    if (successIds.has(c.id)) add('error', [...cPath, 'id'], `duplicate rehearsal check id "${c.id}"`);
    successIds.add(c.id);
    if (c.database !== undefined && !(c.database in databases)) add('error', [...cPath, 'database'], `unknown database "${c.database}"${didYouMean(c.database, dbNames)}`);
    for (const [j, p] of (c.params ?? []).entries()) if (!(p in inputs)) add('error', [...cPath, 'params', j], `unknown input "${p}"`);
    if (c.check === undefined) return; // a migrations success check: the schema checked it
    for (const { name, inCode } of sqlPlaceholders(c.check)) {
      if (inputs[name]?.kind === 'identifier' && inCode) continue;
      add('error', [...cPath, 'check'], `\${${name}} in SQL: use params and $1 (or an input of kind: identifier for a name)`);
    }
    lintStatements(splitSql(c.check), [...cPath, 'check'], 'a rehearsal check');
  });
  for (const p of incidentProblems(rb)) add('error', p.path, p.message, p.key);
  for (const [name] of Object.entries(rehearsal?.inputs ?? {})) {
    if (!(name in inputs)) add('error', ['rehearsal', 'inputs', name], `unknown input "${name}"${didYouMean(name, inputNames)}`, true);
  }

  return problems;
}
