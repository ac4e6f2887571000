/** Shims named like the real tools, calling the stand-ins; a drill puts their folder first on PATH. */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const STANDIN_TOOLS = ['prisma', 'drizzle-kit', 'mix'] as const;
export const PG_TOOLS = ['pg_dump', 'pg_restore', 'psql'] as const;

export function standinScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const p of [path.join(here, 'standin.js'), path.join(here, '..', 'dist', 'standin.js'), path.join(here, '..', '..', 'dist', 'standin.js')]) {
    if (existsSync(p)) return p;
  }
  return path.join(here, 'standin.js');
}

/** Write the shims into `dir` (created if needed); returns the folder. */
export function installStandins(dir: string, tools: readonly string[] = STANDIN_TOOLS): string {
  mkdirSync(dir, { recursive: true });
  const script = standinScript();
  for (const tool of tools) {
    const file = path.join(dir, tool);
    writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" "${script}" ${tool} "$@"\n`);
    chmodSync(file, 0o755);
  }
  return dir;
}
