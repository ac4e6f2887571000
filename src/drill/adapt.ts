/**
 * A shipped runbook, adapted to a project: its migrations folder wherever the runbook names the
 * tool's usual one (`dir:` of migrations steps and success checks, paths in commands, notes and
 * input defaults). The same rules serve `drill --project` (on the loaded runbook) and `drillbook
 * init` (on the file's text, which keeps its comments and layout).
 */
import { isMap, isScalar, isSeq, parseDocument, visit } from 'yaml';
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

interface Edit {
  start: number;
  end: number;
  text: string;
}

type Ranged = { range?: [number, number, number] | null };

/** From the start of the line `at` is on. */
function lineStart(text: string, at: number): number {
  return text.lastIndexOf('\n', at - 1) + 1;
}

/** To just after the end of the line `at` is on (or `at`, when it already starts a line). */
function lineEnd(text: string, at: number): number {
  if (at > 0 && text[at - 1] === '\n') return at;
  const nl = text.indexOf('\n', at);
  return nl === -1 ? text.length : nl + 1;
}

export interface InitAdaptation {
  /** The project's folder, relative to where the runbook is written. */
  workdir: string;
  /** Where the JSON Schema is, relative to the runbook. */
  schema: string;
  /** The first comment lines to add, under the schema modeline. */
  header: string[];
}

/**
 * A shipped runbook's text, adapted for a project's own runbooks folder (drillbook init): the
 * rehearsal runs on the project itself (`workdir`), the fixture's rows and fixture-only checks
 * and the variants' fixture folders are gone, and its migrations folder is the project's. Edits
 * are made on the text by the YAML nodes' positions, so every comment and line of the rest stays.
 */
export function adaptRunbookText(text: string, project: Project, a: InitAdaptation): string {
  checkTracking(project);
  const doc = parseDocument(text);
  const edits: Edit[] = [];
  const remove = (node: Ranged | undefined | null, keyNode?: Ranged | null) => {
    const start = (keyNode?.range ?? node?.range)?.[0];
    const end = node?.range?.[2];
    if (start === undefined || end === undefined) return;
    edits.push({ start: lineStart(text, start), end: lineEnd(text, end), text: '' });
  };
  const replaceScalar = (node: unknown, value: string) => {
    if (isScalar(node) && node.range) edits.push({ start: node.range[0], end: node.range[1], text: JSON.stringify(value) === `"${value}"` && /^[\w./-]+$/.test(value) ? value : JSON.stringify(value) });
  };
  const pairOf = (map: unknown, key: string) => (isMap(map) ? map.items.find((p) => isScalar(p.key) && p.key.value === key) : undefined);

  const rehearsal = doc.get('rehearsal', true);
  replaceScalar(pairOf(rehearsal, 'workdir')?.value, a.workdir);
  const incident = pairOf(rehearsal, 'incident')?.value;
  const data = pairOf(incident, 'data');
  if (data) remove(data.value as Ranged, data.key as Ranged);
  const success = pairOf(rehearsal, 'success')?.value;
  if (isSeq(success)) {
    for (const item of success.items) {
      const fixture = pairOf(item, 'fixture')?.value;
      if (isScalar(fixture) && fixture.value === true) remove(item as Ranged);
    }
  }
  const variants = pairOf(rehearsal, 'variants')?.value;
  if (isSeq(variants)) {
    for (const v of variants.items) {
      const vIncident = pairOf(v, 'incident');
      if (!vIncident) {
        remove(v as Ranged); // it only swapped the fixture's folder: on the project it is the rehearsal itself
        continue;
      }
      const w = pairOf(v, 'workdir');
      if (w) remove(w.value as Ranged, w.key as Ranged);
      const d = pairOf(vIncident.value, 'data');
      if (d) remove(d.value as Ranged, d.key as Ranged);
    }
  }
  // `dir:` of migrations steps and success checks, and input defaults, when they are the usual folder.
  const usual = USUAL_DIR[project.tool];
  if (project.migrations !== usual) {
    visit(doc, {
      Pair(_k, pair) {
        if (isScalar(pair.key) && (pair.key.value === 'dir' || pair.key.value === 'default') && isScalar(pair.value) && (pair.value.value === usual || pair.value.value === `./${usual}`)) replaceScalar(pair.value, project.migrations);
      },
    });
  }
  // An edit inside a part that goes is dropped with it.
  const removals = edits.filter((e) => e.text === '');
  const kept = edits.filter((e) => e.text === '' || !removals.some((r) => r.start <= e.start && e.end <= r.end));
  let out = text;
  for (const e of kept.sort((x, y) => y.start - x.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  out = adaptPathText(out, project.tool, project.migrations);
  // The modeline points at the schema beside the runbooks, then who wrote this file and from what.
  const modeline = /^# yaml-language-server: \$schema=\S+\n/;
  const head = `# yaml-language-server: $schema=${a.schema}\n${a.header.map((l) => `# ${l}\n`).join('')}`;
  return modeline.test(out) ? out.replace(modeline, head) : head + out;
}
