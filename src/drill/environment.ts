/**
 * What a drill's commands see of the operator's machine: nothing that leads to a real database.
 *
 * - The environment is an allow-list: the basics a shell and the tools need (PATH, HOME, locale,
 *   terminal, temp folders, the tools' own settings), and nothing else. A connection can hide in
 *   any name (DIRECT_URL, DB_HOST + DB_PASSWORD, LEGACY_DSN), so names are not trusted; and even an
 *   allowed name is dropped when its value is a connection.
 * - The project's copy is cleaned the same way: lines of `.env` files that hold a connection are
 *   commented out (tools and configs load them), and a tool configuration that names a database
 *   itself (a literal URL) refuses the drill, which could not keep the tool from connecting there.
 */
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { looksLikeConnection } from '../core/conn.js';
import { DrillbookError } from '../core/errors.js';

export interface DrillEnvironment {
  env: NodeJS.ProcessEnv;
  /** Names (never values) of removed variables that look like a way to a database. */
  removed: string[];
  /** How many other variables were left out (not on the allow-list). */
  others: number;
}

const ALLOWED = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'PWD', 'SHLVL', 'HOSTNAME',
  'LANG', 'LANGUAGE', 'TZ', 'TERM', 'COLORTERM', 'NO_COLOR', 'FORCE_COLOR', 'COLUMNS', 'LINES',
  'TMPDIR', 'TMP', 'TEMP', 'CI',
  'NODE_PATH', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR',
]);
const ALLOWED_PREFIXES = ['LC_', 'XDG_', 'npm_config_', 'PRISMA_', 'MIX_', 'HEX_', 'ERL_', 'ELIXIR_', 'DRILLBOOK'];

const DATABASE_NAME = /^PG|DATABASE|POSTGRES|DSN|DIRECT_URL|(^|_)DB(_|$)|DB_?(HOST|PORT|NAME|USER|PASS|URL)|PASSWORD/i;

/** A prisma:// or prisma+postgres:// URL (Accelerate) leads to a database too. */
function leadsToADatabase(value: string): boolean {
  return looksLikeConnection(value) || /(?:^|[^a-z])prisma(?:\+postgres)?:\/\//i.test(value);
}

export function drillEnvironment(base: Readonly<NodeJS.ProcessEnv>): DrillEnvironment {
  const env: NodeJS.ProcessEnv = {};
  const removed: string[] = [];
  let others = 0;
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined) continue;
    // npm exports its configuration to the scripts it runs as npm_config_*; `nodedir` is node-gyp's,
    // not npm's, and an npx run inside the drill warns about it ("Unknown env config") on npm 11.
    const allowed = (ALLOWED.has(name) || ALLOWED_PREFIXES.some((p) => name.startsWith(p))) && name !== 'npm_config_nodedir';
    if (allowed && !name.startsWith('PG') && !leadsToADatabase(value)) {
      env[name] = value;
      continue;
    }
    if (leadsToADatabase(value) || DATABASE_NAME.test(name)) removed.push(name);
    else others++;
  }
  return { env, removed: removed.sort(), others };
}

/** Tool configurations that may name a database themselves. */
const CONFIG_FILE = /^(prisma\.config|drizzle\.config|knexfile|ormconfig|data-source)\.[cm]?[jt]s$|^schema\.prisma$|^(config|dev|prod|runtime|test)\.exs$|^drizzle\.config\.json$/;
const SKIP_DIRS = new Set(['node_modules', '.git', '_build', 'deps', 'dist', 'build']);
const LITERAL_URL = /postgres(?:ql)?:\/\/[^\s'"`)]+/i;

export interface ProjectCleanup {
  /** "file: NAME" for each .env line commented out. */
  scrubbed: string[];
}

/**
 * Make a drill's copy of a project safe to run tools in: comment out the connections of its .env
 * files, and refuse a configuration that names a database itself. The original project is never
 * touched: this runs on the scratch copy only.
 */
export function cleanProjectCopy(dir: string, maxFiles = 5000): ProjectCleanup {
  const scrubbed: string[] = [];
  let seen = 0;
  const walk = (folder: string, depth: number) => {
    if (depth > 8) return;
    let entries: string[];
    try {
      entries = readdirSync(folder);
    } catch {
      return;
    }
    for (const name of entries) {
      if (++seen > maxFiles) return;
      const file = path.join(folder, name);
      const st = lstatSync(file);
      if (st.isSymbolicLink()) continue;
      if (st.isDirectory()) {
        if (!SKIP_DIRS.has(name)) walk(file, depth + 1);
        continue;
      }
      if (!st.isFile() || st.size > 1 << 20) continue;
      const rel = path.relative(dir, file);
      if (name === '.env' || name.startsWith('.env.')) {
        const text = readFileSync(file, 'utf8');
        const lines = text.split('\n');
        let changed = false;
        const out = lines.map((line) => {
          const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
          if (!m) return line;
          const [, key, value] = m as unknown as [string, string, string];
          if (!leadsToADatabase(value) && !DATABASE_NAME.test(key)) return line;
          changed = true;
          scrubbed.push(`${rel}: ${key}`);
          return `# ${key}=… removed by drillbook for the drill: it could reach a real database`;
        });
        if (changed) writeFileSync(file, out.join('\n'));
        continue;
      }
      if (CONFIG_FILE.test(name)) {
        const text = readFileSync(file, 'utf8');
        const m = LITERAL_URL.exec(text);
        if (m) {
          const line = text.slice(0, m.index).split('\n').length;
          throw new DrillbookError(`${rel}:${line}: this configuration names a database itself (a postgres:// URL), so a drill could not keep its tool from connecting there`, {
            exitCode: 2,
            hint: 'read the URL from the environment instead (env("DATABASE_URL"), process.env.DATABASE_URL, System.get_env("DATABASE_URL")): the drill sets it to its own database',
          });
        }
      }
    }
  };
  walk(dir, 0);
  return { scrubbed };
}
