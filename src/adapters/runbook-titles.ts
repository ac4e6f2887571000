/**
 * The ids and titles of the runbooks the drill picker offers, read quickly for its static first
 * frame: the fast YAML parser only, without the schema (the picker itself then lists the runbooks
 * that load). Undefined when a file is unreadable or needs the full loader: then no static frame.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fastParseYaml } from '../core/fast-yaml.js';
import { expandRunbookPaths, shippedRunbooksDir } from './runbook-dirs.js';

export function quickRunbookTitles(cwd = process.cwd()): Array<{ id: string; title: string }> | undefined {
  // The folders listRunbooks reads, in its order: the shipped runbooks, then ./runbooks.
  const shipped = shippedRunbooksDir();
  const local = path.resolve(cwd, 'runbooks');
  const dirs = [shipped, ...(existsSync(local) && local !== path.resolve(shipped) ? [local] : [])];
  const out: Array<{ id: string; title: string }> = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const file of expandRunbookPaths(dir)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        return undefined;
      }
      const v = fastParseYaml(text)?.value;
      if (typeof v?.id !== 'string' || typeof v.title !== 'string') return undefined;
      out.push({ id: v.id, title: v.title });
    }
  }
  return out;
}
