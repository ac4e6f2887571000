/** Runs the bundled CLI as a real process, the way an operator does. */
import { execa, type Options } from 'execa';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'drillbook.js');

export async function drillbook(args: string[], options: Options = {}) {
  return execa(process.execPath, [BIN, ...args], {
    reject: false,
    cwd: ROOT,
    env: { NO_COLOR: '1', ...options.env },
    ...options,
  });
}
