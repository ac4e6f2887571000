/**
 * Where input values and database URLs come from: --var/--db flags, the environment, defaults, and
 * (before any screen is drawn) the operator. Checked against their patterns before the run starts.
 */
import { parseDatabaseUrl } from '../core/conn.js';
import { UsageError } from '../core/errors.js';
import type { Runbook } from '../core/runbook.js';
import { didYouMean } from '../core/suggest.js';

export function parseAssignments(flags: readonly string[] | undefined, what: '--var' | '--db'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags ?? []) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} ${JSON.stringify(flag.replace(/:[^:@/]*@/, ':[REDACTED]@'))}: expected NAME=VALUE`);
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
  if (spec?.pattern && !new RegExp(`^(?:${spec.pattern})$`).test(value)) {
    throw new UsageError(`input ${name}: ${spec.secret ? 'the value' : JSON.stringify(value)} does not match the pattern ${spec.pattern}`, spec.description);
  }
}

/** Connection URLs of the runbook's databases: --db NAME=URL, else the declared variable or input. */
export function resolveDatabases(runbook: Runbook, dbFlags: Record<string, string>, env: NodeJS.ProcessEnv, values: Record<string, string>): Record<string, string> {
  const dbs = runbook.databases ?? {};
  for (const name of Object.keys(dbFlags)) {
    if (!(name in dbs)) throw new UsageError(`--db ${name}: the runbook declares no database "${name}"${didYouMean(name, Object.keys(dbs))}`, Object.keys(dbs).length ? `its databases: ${Object.keys(dbs).join(', ')}` : undefined);
  }
  const urls: Record<string, string> = {};
  const missing: string[] = [];
  for (const [name, spec] of Object.entries(dbs)) {
    const url = dbFlags[name] ?? ('env' in spec.url ? env[spec.url.env] : values[spec.url.input]);
    if (!url) {
      missing.push(`${name} (${'env' in spec.url ? `set ${spec.url.env}` : `give --var ${spec.url.input}=URL`}, or --db ${name}=URL)`);
      continue;
    }
    if (!parseDatabaseUrl(url)) throw new UsageError(`database ${name}: not a postgres:// or postgresql:// URL`);
    urls[name] = url;
  }
  if (missing.length) throw new UsageError(`no connection URL for: ${missing.join('; ')}`);
  return urls;
}
