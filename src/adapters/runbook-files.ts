/** Reading runbook files from disk and finding them by id. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DrillbookError, RunbookInvalidError, type Problem } from '../core/errors.js';
import { hasErrors, parseRunbook } from '../core/load.js';
import type { LoadedRunbook, Runbook } from '../core/runbook.js';
import { expandRunbookPaths, shippedRunbooksDir } from './runbook-dirs.js';

export { expandRunbookPaths, shippedRunbooksDir } from './runbook-dirs.js';

export interface FileResult {
  file: string;
  runbook: Runbook | undefined;
  problems: Problem[];
  hash: string;
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function readRunbookFile(file: string): FileResult {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? e);
    return { file, runbook: undefined, hash: '', problems: [{ file, line: 1, col: 1, severity: 'error', message: `cannot read runbook: ${why}` }] };
  }
  const { runbook, problems } = parseRunbook(bytes.toString('utf8'), file);
  return { file, runbook, problems, hash: sha256(bytes) };
}

/** Load a runbook for running: any error stops here with every problem listed. */
export function loadRunbookOrThrow(file: string): LoadedRunbook {
  const r = readRunbookFile(file);
  if (!r.runbook || hasErrors(r.problems)) throw new RunbookInvalidError(r.problems);
  return { runbook: r.runbook, path: path.resolve(file), hash: r.hash };
}

/** Where a file declares its top-level id (1-based), found without parsing; line 1 if not found. */
function idLine(file: string): number {
  try {
    const m = /^id\s*:/m.exec(readFileSync(file, 'utf8'));
    return m ? readFileSync(file, 'utf8').slice(0, m.index).split('\n').length : 1;
  } catch {
    return 1;
  }
}

/** Two runbook files with one id: which would run is a guess, so neither does. An error for each, naming both files. */
export function duplicateIdProblems(results: ReadonlyArray<{ file: string; id: string | undefined }>): { problems: Problem[]; ids: Map<string, string[]> } {
  const byId = new Map<string, string[]>();
  for (const r of results) {
    if (!r.id) continue;
    const files = byId.get(r.id) ?? [];
    if (!files.some((f) => path.resolve(f) === path.resolve(r.file))) byId.set(r.id, [...files, r.file]);
  }
  const ids = new Map([...byId].filter(([, files]) => files.length > 1));
  const problems: Problem[] = [];
  for (const [id, files] of ids) {
    for (const file of files) {
      const others = files.filter((f) => f !== file).join(', ');
      problems.push({ file, line: idLine(file), col: 1, severity: 'error', message: `runbook id "${id}" is also the id of ${others}: each runbook in a folder needs its own id` });
    }
  }
  return { problems, ids };
}

export interface RunbookEntry {
  id: string;
  title: string;
  tags: string[];
  path: string;
  summary: string | undefined;
  severity: string | undefined;
  origin: 'shipped' | 'local';
}

/** The runbooks found, and the problems of the files that are not (invalid, or sharing an id with another file in their folder). */
export function listRunbooks(cwd = process.cwd()): { entries: RunbookEntry[]; problems: Problem[]; duplicates: Map<string, string[]> } {
  const dirs: Array<[string, RunbookEntry['origin']]> = [[shippedRunbooksDir(), 'shipped']];
  const local = path.resolve(cwd, 'runbooks');
  if (existsSync(local) && path.resolve(local) !== path.resolve(dirs[0]![0])) dirs.push([local, 'local']);
  const entries: RunbookEntry[] = [];
  const problems: Problem[] = [];
  const duplicates = new Map<string, string[]>();
  for (const [dir, origin] of dirs) {
    if (!existsSync(dir)) continue;
    const found: RunbookEntry[] = [];
    for (const file of expandRunbookPaths(dir)) {
      const r = readRunbookFile(file);
      if (!r.runbook) {
        problems.push(...r.problems.filter((p) => p.severity === 'error'));
        continue;
      }
      const rb = r.runbook;
      found.push({ id: rb.id, title: rb.title, tags: rb.tags ?? [], path: file, summary: rb.summary, severity: rb.severity, origin });
    }
    // Within a folder, ids are unique (a local runbook may still override a shipped one).
    const dup = duplicateIdProblems(found.map((e) => ({ file: e.path, id: e.id })));
    problems.push(...dup.problems);
    for (const [id, files] of dup.ids) duplicates.set(id, files);
    entries.push(...found.filter((e) => !dup.ids.has(e.id)));
  }
  return { entries, problems, duplicates };
}

function duplicateError(id: string, files: readonly string[]): DrillbookError {
  return new DrillbookError(`runbook id "${id}" is declared by more than one file: ${files.join(' and ')}`, {
    exitCode: 2,
    hint: 'give each runbook its own id, or name the file to run',
  });
}

/** Other runbook files in the folder that declare the same id (a cheap look at their top-level id: line, then a parse). */
function sameIdIn(dir: string, file: string, id: string): string[] {
  const out: string[] = [];
  const pattern = new RegExp(`^id\\s*:\\s*['"]?${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"]?\\s*(#.*)?$`, 'm');
  for (const other of expandRunbookPaths(dir)) {
    if (path.resolve(other) === path.resolve(file)) continue;
    let text: string;
    try {
      text = readFileSync(other, 'utf8');
    } catch {
      continue;
    }
    if (pattern.test(text) && readRunbookFile(other).runbook?.id === id) out.push(other);
  }
  return out;
}

/** A runbook named by path, or by id among the shipped and local runbooks. */
export function resolveRunbook(ref: string, cwd = process.cwd()): string {
  if (existsSync(ref) && statSync(ref).isFile()) return ref;
  // Fast path: a runbook file named after its id (a local one overrides a shipped one).
  for (const dir of [path.resolve(cwd, 'runbooks'), shippedRunbooksDir()]) {
    for (const ext of ['.yaml', '.yml']) {
      const file = path.join(dir, `${ref}${ext}`);
      if (/^[a-z0-9][a-z0-9_-]*$/.test(ref) && existsSync(file) && readRunbookFile(file).runbook?.id === ref) {
        const also = sameIdIn(dir, file, ref);
        if (also.length) throw duplicateError(ref, [file, ...also]);
        return file;
      }
    }
  }
  const { entries, duplicates } = listRunbooks(cwd);
  const dup = duplicates.get(ref);
  if (dup) throw duplicateError(ref, dup);
  const found = entries.filter((e) => e.id === ref);
  if (found.length >= 1) return found[found.length - 1]!.path; // a local runbook overrides a shipped one
  const ids = entries.map((e) => e.id);
  throw new DrillbookError(`no runbook "${ref}": not a file, and no runbook has that id`, {
    exitCode: 2,
    hint: ids.length ? `known runbooks: ${ids.join(', ')} (drillbook list)` : 'give the path of a runbook file',
  });
}
