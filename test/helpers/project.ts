/** Scratch copies of fixture projects, and the stand-ins run as real processes in them. */
import { execa } from 'execa';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './cli.js';

const made: string[] = [];

export function scratchCopy(fixture: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drillbook-project-'));
  made.push(dir);
  cpSync(path.join(ROOT, 'test', 'fixtures', 'migrations', fixture), dir, { recursive: true });
  return dir;
}

export function cleanupCopies(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export async function standin(tool: 'prisma' | 'drizzle-kit' | 'mix', args: string[], cwd: string, url: string) {
  const r = await execa(process.execPath, [path.join(ROOT, 'dist', 'standin.js'), tool, ...args], { cwd, env: { DATABASE_URL: url, PATH: process.env.PATH }, reject: false, stdin: 'ignore' });
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode };
}
