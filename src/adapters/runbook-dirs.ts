/** Where runbook files are: the shipped folder, and the YAML files a path names. Loads nothing else (start-up reads it before the runbook loader). */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNBOOK_FILE = /\.ya?ml$/i;

/** The runbook files a path names: the file itself, or the *.yaml/*.yml directly inside a folder. */
export function expandRunbookPaths(target: string): string[] {
  let st;
  try {
    st = statSync(target);
  } catch {
    return [target]; // reported as unreadable by readRunbookFile
  }
  if (!st.isDirectory()) return [target];
  return readdirSync(target)
    .filter((f) => RUNBOOK_FILE.test(f))
    .sort()
    .map((f) => path.join(target, f));
}

/** The runbooks shipped with drillbook (next to dist/ or src/). */
export function shippedRunbooksDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.join(here, '..', 'runbooks'), path.join(here, '..', '..', 'runbooks')]) {
    if (existsSync(candidate)) return candidate;
  }
  return path.join(here, '..', 'runbooks');
}
