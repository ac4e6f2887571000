/**
 * A shipped runbook, adapted to a project: its migrations folder wherever the runbook names the
 * tool's usual one (`dir:` of migrations steps and success checks, paths in commands, notes and
 * input defaults). The same rules serve `drill --project` (on the loaded runbook) and `drillbook
 * init` (on the file's text, which keeps its comments and layout).
 */
import { DrillbookError } from '../core/errors.js';
import type { Tool } from '../core/migrations/types.js';
import type { Runbook } from '../core/runbook.js';
import type { Project } from './project.js';

export const USUAL_DIR: Record<Tool, string> = { prisma: 'prisma/migrations', drizzle: 'drizzle', ecto: 'priv/repo/migrations' };

/** Path tokens in free text: the usual folder as a path (prisma/migrations, drizzle/meta/…), not as a word. */
export function adaptPathText(text: string, tool: Tool, dir: string): string {
  const usual = USUAL_DIR[tool];
  if (dir === usual) return text;
  if (tool === 'drizzle') return text.replace(/(?<![\w./-])drizzle\/meta\b/g, `${dir}/meta`);
  const re = new RegExp(`(?<![\\w.-])${usual.replace(/[/.]/g, (c) => `\\${c}`)}(?![\\w-])`, 'g');
  return text.replace(re, dir);
}

/** The tracking table the shipped runbooks name is the tool's default: a project that moved it is refused, not guessed at. */
export function checkTracking(project: Project): void {
  if (project.tracking) {
    const where = `${project.tracking.schema ?? 'drizzle'}.${project.tracking.table ?? '__drizzle_migrations'}`;
    throw new DrillbookError(`${project.dir}: its drizzle config keeps the tracking table at ${where}, and the shipped runbooks read drizzle.__drizzle_migrations`, {
      exitCode: 2,
      hint: 'copy a runbook into ./runbooks and change the table in its SQL and migrations steps (schema:), then rehearse that one',
    });
  }
}

function mapStrings<T>(value: T, f: (s: string, key: string | undefined) => string, key?: string): T {
  if (typeof value === 'string') return f(value, key) as T;
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f, key)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f, k)])) as T;
  return value;
}

/** Any part of a runbook with the project's migrations folder where it names the tool's usual one. */
export function adaptValue<T>(value: T, project: Project): T {
  const usual = USUAL_DIR[project.tool];
  if (project.migrations === usual) return value;
  return mapStrings(value, (s, key) => {
    if ((key === 'dir' || key === 'default') && (s === usual || s === `./${usual}`)) return project.migrations;
    return adaptPathText(s, project.tool, project.migrations);
  });
}

/** The loaded runbook with the project's migrations folder where it names the tool's usual one. */
export function adaptRunbook(rb: Runbook, project: Project): Runbook {
  checkTracking(project);
  return adaptValue(rb, project);
}
