/** drillbook's version, fixed into the bundle at build time (read from package.json when unbundled). */
import { readFileSync } from 'node:fs';

declare const __DRILLBOOK_VERSION__: string | undefined;

function readVersion(): string {
  if (typeof __DRILLBOOK_VERSION__ === 'string') return __DRILLBOOK_VERSION__;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const VERSION = readVersion();
