/**
 * Staged incidents, kept for the next drill. Staging a shipped fixture's incident runs the migration
 * tool (with the real Prisma CLI, two `prisma migrate deploy` of about two seconds each); the next
 * drill of the same runbook starts from a copy of the cluster as staging left it, taken with the
 * server stopped cleanly, and the fixture's migrations folder as staging left it.
 *
 * A snapshot is used only for exactly the same inputs: drillbook's code, the runbook file, the
 * variant, every file of the fixture, the tools (real or stand-in, their versions and paths) and the
 * PostgreSQL build. Only the shipped fixtures are kept (small, and theirs to reproduce), never a
 * project of the operator's or a dump. Staging that changes anything in the copy besides the
 * migrations folder is not kept. `DRILLBOOK_STAGE_CACHE=0` turns it off.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, readClusterCopy, type ClusterCopy } from '../adapters/drill-db.js';
import { VERSION } from '../version.js';
import type { StagedIncident } from './stage.js';
import type { ToolChoice } from './tools.js';

/** How many staged snapshots are kept (each a small cluster, about 30 MB). */
const KEEP = 6;
const FORMAT = 1;

export interface StagedSnapshot {
  cluster: ClusterCopy;
  /** What staging said and found (the lines and the facts the runbook's inputs come from). */
  staged: Pick<StagedIncident, 'facts' | 'lines'>;
  /** When it was staged (ISO). */
  at: string;
  /** The snapshot's folder (its migrations folder is restored into the drill's copy). */
  dir: string;
}

export interface StageKeyInput {
  runbookText: string;
  variant: string | undefined;
  fixtureDir: string;
  tools: readonly ToolChoice[];
  serverVersion: string;
  databases: readonly string[];
}

export function stageCacheEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.DRILLBOOK_STAGE_CACHE !== '0';
}

/** Every file under `dir` (its path, kind and content), node_modules and `skip` left out. */
export function treeDigest(dir: string, skip: readonly string[] = []): string {
  const h = createHash('sha256');
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (name === 'node_modules' || skip.includes(r)) continue;
      const p = path.join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        h.update(`d ${r}\n`);
        walk(p, r);
      } else if (st.isSymbolicLink()) h.update(`l ${r} ${readlinkSync(p)}\n`);
      else h.update(`f ${r} ${st.size}\n`).update(readFileSync(p));
    }
  };
  walk(dir, '');
  return h.digest('hex');
}

/** The code that stages: the running bundle (or, from the sources, this module), so a changed drillbook never reuses a staging. */
function codeDigest(): string {
  try {
    return createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url))).digest('hex');
  } catch {
    return 'unknown';
  }
}

export function stageKey(k: StageKeyInput): string {
  const parts = {
    format: FORMAT,
    drillbook: VERSION,
    code: codeDigest(),
    runbook: createHash('sha256').update(k.runbookText).digest('hex'),
    variant: k.variant ?? null,
    fixture: treeDigest(k.fixtureDir),
    tools: k.tools.map((t) => [t.tool, t.kind, t.version, t.executable ?? '', t.packageDir ?? '']),
    server: k.serverVersion,
    databases: [...k.databases],
  };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

function folderOf(key: string): string {
  return path.join(cacheDir(), 'staged', key);
}

/** The snapshot for these inputs, or undefined. */
export function findStaged(key: string): StagedSnapshot | undefined {
  const dir = folderOf(key);
  const cluster = readClusterCopy(dir);
  if (!cluster) return undefined;
  try {
    const meta = JSON.parse(readFileSync(path.join(dir, 'staged.json'), 'utf8')) as { staged: StagedSnapshot['staged']; at: string };
    if (!existsSync(path.join(dir, 'migrations'))) return undefined;
    const now = new Date();
    utimesSync(dir, now, now); // most recently used: kept longest
    return { cluster, staged: meta.staged, at: meta.at, dir };
  } catch {
    return undefined;
  }
}

/**
 * Keep what staging left: the cluster (`snapshot` writes it into the folder it is given) and the
 * copy's migrations folder. Best effort: a cache that cannot be written costs the next drill time, nothing else.
 */
export async function keepStaged(key: string, snapshot: (dest: string) => Promise<boolean>, migrationsDir: string, staged: StagedSnapshot['staged']): Promise<void> {
  const root = path.join(cacheDir(), 'staged');
  const dir = folderOf(key);
  const tmp = `${dir}.${process.pid}.tmp`;
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    if (existsSync(dir)) return;
  } catch {
    return;
  }
  // Not caught: if the drill's server does not start again, the drill cannot go on.
  if (!(await snapshot(tmp))) return;
  try {
    cpSync(migrationsDir, path.join(tmp, 'migrations'), { recursive: true });
    writeFileSync(path.join(tmp, 'staged.json'), JSON.stringify({ staged, at: new Date().toISOString() }), { mode: 0o600 });
    // Published whole or not at all; another drill may have published the same one first.
    renameSync(tmp, dir);
    evict(root);
  } catch {
    // best effort
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Only the most recently used snapshots stay. */
function evict(root: string): void {
  const all = readdirSync(root)
    .filter((n) => /^[0-9a-f]{32}$/.test(n))
    .map((n) => ({ n, t: statSync(path.join(root, n)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const old of all.slice(KEEP)) rmSync(path.join(root, old.n), { recursive: true, force: true });
  // A snapshot cut short (a drill killed while writing it), once it is surely not being written.
  for (const n of readdirSync(root)) {
    const p = path.join(root, n);
    if (n.endsWith('.tmp') && Date.now() - statSync(p).mtimeMs > 10 * 60_000) rmSync(p, { recursive: true, force: true });
  }
}

/** The copy's migrations folder, as staging left it. */
export function restoreMigrations(snapshot: StagedSnapshot, migrationsDir: string): void {
  rmSync(migrationsDir, { recursive: true, force: true });
  cpSync(path.join(snapshot.dir, 'migrations'), migrationsDir, { recursive: true });
}
