/**
 * What a drill's commands see of the operator's environment: nothing that leads to a real
 * database. Every PG* variable goes, and so does any variable whose value is a connection (a
 * postgres:// URL anywhere in it, a Prisma Accelerate URL, a key=value conninfo), whatever its
 * name: DIRECT_URL, PROD_DATABASE_URL, SHADOW_DATABASE_URL, ... The drill then adds its own.
 */
import { looksLikeConnection } from '../core/conn.js';

export interface DrillEnvironment {
  env: NodeJS.ProcessEnv;
  /** Names (never values) of the variables removed. */
  removed: string[];
}

export function leadsToADatabase(name: string, value: string): boolean {
  if (name.startsWith('PG')) return true;
  if (looksLikeConnection(value)) return true;
  return /(?:^|[^a-z])prisma(?:\+postgres)?:\/\//i.test(value);
}

export function drillEnvironment(base: Readonly<NodeJS.ProcessEnv>): DrillEnvironment {
  const env: NodeJS.ProcessEnv = {};
  const removed: string[] = [];
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined) continue;
    if (leadsToADatabase(name, value)) removed.push(name);
    else env[name] = value;
  }
  return { env, removed: removed.sort() };
}
