/** Runs the bundled CLI as a real process, the way an operator does. */
import { execa } from 'execa';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'drillbook.js');

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number | undefined;
  signal: string | undefined;
}

export async function drillbook(args: string[], options: { cwd?: string; env?: Record<string, string | undefined>; input?: string; timeout?: number } = {}): Promise<CliResult> {
  const r = await execa(process.execPath, [BIN, ...args], {
    reject: false,
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: '1', ...options.env },
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
    ...(options.timeout ? { timeout: options.timeout } : {}),
  });
  return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode, signal: r.signal };
}
