/**
 * The drill's scratch copy of a project. The project itself is only ever read: every file is
 * copied (symbolic links by their content, so nothing in the copy leads back into the project),
 * except `.git` and `node_modules`. The packages the project's configs import (`dotenv/config`,
 * `prisma/config`) are reached the way Node would reach them from the project: each entry of the
 * nearest node_modules up from the project is linked into the copy's own node_modules, never the
 * folder itself, so what a drill adds there (the tools it chose) lands in the copy. Generated
 * clients (`.prisma`, `@prisma/client`) are not linked: a `prisma generate` in a drill must not
 * write into the project's node_modules through a link.
 */
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { DrillbookError } from '../core/errors.js';

const SKIPPED = new Set(['.git', 'node_modules']);
const NOT_LINKED = new Set(['.bin', '.cache', '.prisma', '.package-lock.json', '.vite', '@prisma/client']);
/** A project larger than this is not a project but build output or vendored dependencies. */
const MAX_FILES = 100_000;

export interface ProjectCopy {
  files: number;
  /** node_modules folders whose entries were linked into the copy. */
  linkedFrom: string[];
}

export function copyProject(src: string, dest: string, opts: { linkModules?: boolean } = {}): ProjectCopy {
  let files = 0;
  const seen = new Set<string>();
  const copyDir = (from: string, to: string, depth: number) => {
    const real = realpathSync(from);
    if (seen.has(real) || depth > 64) return; // a link back up the tree
    seen.add(real);
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from)) {
      if (SKIPPED.has(name)) continue;
      const a = path.join(from, name);
      const b = path.join(to, name);
      let st = lstatSync(a);
      if (st.isSymbolicLink()) {
        try {
          st = statSync(a);
        } catch {
          continue; // a dangling link: nothing to copy
        }
      }
      if (st.isDirectory()) copyDir(a, b, depth + 1);
      else if (st.isFile()) {
        if (++files > MAX_FILES) {
          throw new DrillbookError(`${src} holds more than ${MAX_FILES} files (not counting .git and node_modules): too many to copy for a drill`, { exitCode: 2, hint: 'point --project at the folder of the migration tool\'s config, not at a folder of build output or vendored code' });
        }
        copyFileSync(a, b);
      }
    }
  };
  copyDir(src, dest, 0);

  // Node's resolution from the project: node_modules of the project, then of each folder above it.
  // (Not for drillbook's own fixtures: the folders above them are drillbook's, not theirs.)
  const linkedFrom: string[] = [];
  if (opts.linkModules === false) return { files, linkedFrom };
  const target = path.join(dest, 'node_modules');
  const taken = new Set<string>();
  for (let dir = path.resolve(src); ; dir = path.dirname(dir)) {
    const nm = path.join(dir, 'node_modules');
    if (existsSync(nm) && statSync(nm).isDirectory()) {
      let any = false;
      for (const entry of readdirSync(nm)) {
        let names = [entry];
        if (entry.startsWith('@')) {
          try {
            names = readdirSync(path.join(nm, entry)).map((x) => `${entry}/${x}`);
          } catch {
            continue;
          }
        }
        for (const name of names) {
          if (taken.has(name) || NOT_LINKED.has(name) || NOT_LINKED.has(entry)) continue;
          taken.add(name);
          let real: string;
          try {
            real = realpathSync(path.join(nm, name));
          } catch {
            continue; // a dangling link in node_modules
          }
          const at = path.join(target, name);
          mkdirSync(path.dirname(at), { recursive: true });
          symlinkSync(real, at);
          any = true;
        }
      }
      if (any) linkedFrom.push(nm);
    }
    if (path.dirname(dir) === dir) break;
  }
  return { files, linkedFrom };
}
