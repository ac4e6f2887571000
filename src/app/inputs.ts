/**
 * Where input values and database URLs come from: --var/--db flags, the environment, defaults, and
 * (before any screen is drawn) the operator. Checked against their patterns before the run starts.
 */
import os from 'node:os';
import { resolveConnection, type ResolvedConnection } from '../core/conn.js';
import { UsageError } from '../core/errors.js';
import { identifierProblem } from '../core/sql-split.js';
import type { Runbook } from '../core/runbook.js';
import { didYouMean } from '../core/suggest.js';

export function parseAssignments(flags: readonly string[] | undefined, what: '--var' | '--db'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags ?? []) {
    const eq = flag.indexOf('=');
    // A URL's own "=" (…?sslmode=require) is not a NAME=: the name comes first and is a plain word.
    if (eq <= 0 || (what === '--db' && !/^[A-Za-z0-9_-]+$/.test(flag.slice(0, eq)))) {
      // A --db value is never echoed: it may hold a password.
      if (what === '--db') throw new UsageError('--db expects NAME=URL, the runbook\'s name for the database first (the value is not shown: it may hold a password)', 'e.g. --db prod=postgresql://app@db.internal:5432/shop');
      throw new UsageError(`${what} ${JSON.stringify(flag)}: expected NAME=VALUE`);
    }
    out[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return out;
}

export interface ResolvedInputs {
  values: Record<string, string>;
  /** Inputs with no value yet that no ask step will ask for: the operator is asked before the run. */
  missing: string[];
}

/** Inputs the runbook asks for in an `ask` step: they need no value up front. */
export function askedInputs(runbook: Runbook): Set<string> {
  const asked = new Set<string>();
  for (const phase of runbook.phases) for (const step of phase.steps) if (step.ask) asked.add(step.ask);
  return asked;
}

export function resolveInputs(runbook: Runbook, vars: Record<string, string>, env: NodeJS.ProcessEnv, extra: Record<string, string> = {}): ResolvedInputs {
  const inputs = runbook.inputs ?? {};
  for (const name of Object.keys(vars)) {
    if (!(name in inputs)) {
      throw new UsageError(`--var ${name}: the runbook has no input "${name}"${didYouMean(name, Object.keys(inputs))}`, Object.keys(inputs).length ? `its inputs: ${Object.keys(inputs).join(', ')}` : 'this runbook takes no inputs');
    }
  }
  const values: Record<string, string> = {};
  const missing: string[] = [];
  const asked = askedInputs(runbook);
  for (const [name, spec] of Object.entries(inputs)) {
    const fromEnv = spec.env ? env[spec.env] : undefined;
    const value = vars[name] ?? extra[name] ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined) ?? (spec.default !== undefined ? String(spec.default) : undefined);
    if (value === undefined) {
      if (!asked.has(name)) missing.push(name);
      continue;
    }
    checkPattern(runbook, name, value);
    values[name] = value;
  }
  return { values, missing };
}

export function checkPattern(runbook: Runbook, name: string, value: string): void {
  const spec = runbook.inputs?.[name];
  const notName = spec?.kind === 'identifier' ? identifierProblem(value) : undefined;
  if (notName) throw new UsageError(`input ${name}: ${spec?.secret ? 'the value' : JSON.stringify(value)} is not a table, index or column name: ${notName}`, spec?.description);
  if (spec?.pattern && !new RegExp(`^(?:${spec.pattern})$`).test(value)) {
    throw new UsageError(`input ${name}: ${spec.secret ? 'the value' : JSON.stringify(value)} does not match the pattern ${spec.pattern}`, spec.description);
  }
}

function osUser(env: NodeJS.ProcessEnv): string {
  try {
    return env.USER || env.LOGNAME || os.userInfo().username;
  } catch {
    return 'postgres';
  }
}

/**
 * The runbook's databases, each resolved once: --db NAME=URL, else the declared variable or input,
 * read with the PG* environment exactly as libpq and pg read it (conn.ts). Ambiguous or malformed
 * input is refused before anything connects.
 */
export function resolveDatabases(runbook: Runbook, dbFlags: Record<string, string>, env: NodeJS.ProcessEnv, values: Record<string, string>): Record<string, ResolvedConnection> {
  const dbs = runbook.databases ?? {};
  for (const name of Object.keys(dbFlags)) {
    if (!(name in dbs)) throw new UsageError(`--db ${name}: the runbook declares no database "${name}"${didYouMean(name, Object.keys(dbs))}`, Object.keys(dbs).length ? `its databases: ${Object.keys(dbs).join(', ')}` : undefined);
  }
  const conns: Record<string, ResolvedConnection> = {};
  const missing: string[] = [];
  for (const [name, spec] of Object.entries(dbs)) {
    const url = dbFlags[name] ?? ('env' in spec.url ? env[spec.url.env] : values[spec.url.input]);
    if (!url) {
      missing.push(`${name} (${'env' in spec.url ? `set ${spec.url.env}` : `give --var ${spec.url.input}=URL`}, or --db ${name}=URL)`);
      continue;
    }
    const from = dbFlags[name] !== undefined ? `--db ${name}` : 'env' in spec.url ? `${spec.url.env} (database ${name})` : `input ${spec.url.input} (database ${name})`;
    conns[name] = resolveConnection(url, env, from, osUser(env));
  }
  if (missing.length) throw new UsageError(`no connection URL for: ${missing.join('; ')}`);
  return conns;
}
