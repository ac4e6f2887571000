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

export interface RunbookEntry {
  id: string;
  title: string;
  tags: string[];
  path: string;
  summary: string | undefined;
  severity: string | undefined;
  origin: 'shipped' | 'local';
}

export function listRunbooks(cwd = process.cwd()): { entries: RunbookEntry[]; problems: Problem[] } {
  const dirs: Array<[string, RunbookEntry['origin']]> = [[shippedRunbooksDir(), 'shipped']];
  const local = path.resolve(cwd, 'runbooks');
  if (existsSync(local) && path.resolve(local) !== path.resolve(dirs[0]![0])) dirs.push([local, 'local']);
  const entries: RunbookEntry[] = [];
  const problems: Problem[] = [];
  for (const [dir, origin] of dirs) {
    if (!existsSync(dir)) continue;
    for (const file of expandRunbookPaths(dir)) {
      const r = readRunbookFile(file);
      if (!r.runbook) {
        problems.push(...r.problems.filter((p) => p.severity === 'error'));
        continue;
      }
      const rb = r.runbook;
      entries.push({ id: rb.id, title: rb.title, tags: rb.tags ?? [], path: file, summary: rb.summary, severity: rb.severity, origin });
    }
  }
  return { entries, problems };
}

/** A runbook named by path, or by id among the shipped and local runbooks. */
export function resolveRunbook(ref: string, cwd = process.cwd()): string {
  if (existsSync(ref) && statSync(ref).isFile()) return ref;
  // Fast path: a runbook file named after its id (a local one overrides a shipped one).
  for (const dir of [path.resolve(cwd, 'runbooks'), shippedRunbooksDir()]) {
    for (const ext of ['.yaml', '.yml']) {
      const file = path.join(dir, `${ref}${ext}`);
      if (/^[a-z0-9][a-z0-9_-]*$/.test(ref) && existsSync(file) && readRunbookFile(file).runbook?.id === ref) return file;
    }
  }
  const { entries } = listRunbooks(cwd);
  const found = entries.filter((e) => e.id === ref);
  if (found.length >= 1) return found[found.length - 1]!.path; // a local runbook overrides a shipped one
  const ids = entries.map((e) => e.id);
  throw new DrillbookError(`no runbook "${ref}": not a file, and no runbook has that id`, {
    exitCode: 2,
    hint: ids.length ? `known runbooks: ${ids.join(', ')} (drillbook list)` : 'give the path of a runbook file',
  });
}
