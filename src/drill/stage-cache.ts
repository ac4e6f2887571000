/**
 * Staged incidents, kept for the next drill. Staging a shipped fixture's incident runs the migration
 * tool (with the real Prisma CLI, two `prisma migrate deploy` of about two seconds each); the next
 * drill of the same runbook on the same day starts from a copy of the cluster as staging left it,
 * taken with the server stopped cleanly, and the copy's migrations folder as staging left it.
 *
 * A snapshot is used only for exactly the same inputs: drillbook's built code (every file of the
 * bundle, the stand-ins included), the runbook file and its data files, the variant, every file of
 * the fixture, the tools (real or stand-in, versions, paths, the environment they get), the
 * PostgreSQL build, and the day (UTC): staging writes times, and fixtures place rows relative to
 * today. Only the shipped fixtures are kept (small, and theirs to reproduce), never a project of the
 * operator's or a dump; staging that changes anything in the copy besides the migrations folder is
 * not kept; drillbook run from its sources (tests of the modules) keeps nothing. A snapshot is
 * checked before use (its files' sizes and its migrations against what was kept): a damaged one is
 * deleted and the incident staged anew. `DRILLBOOK_STAGE_CACHE=0` turns it off.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, readClusterCopy, type ClusterCopy } from '../adapters/drill-db.js';
import { VERSION } from '../version.js';
import type { StagedIncident } from './stage.js';
import type { ToolChoice } from './tools.js';

/** How many staged snapshots are kept (each a small cluster, about 30 MB): every shipped runbook and variant. */
const KEEP = 12;
/** A snapshot used this recently is never evicted (another drill may be copying it). */
const IN_USE_MS = 10 * 60_000;
const FORMAT = 2;

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
  /** The drill's environment variables that reach the tools (names and values). */
  toolEnv: Record<string, string>;
  /** Defaults to today (UTC). */
  day?: string;
}

interface Meta {
  staged: StagedSnapshot['staged'];
  at: string;
  /** The data folder's files and sizes, and the migrations folder's content, when kept. */
  data: string;
  migrations: string;
}

export function stageCacheEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.DRILLBOOK_STAGE_CACHE !== '0' && codeDigest() !== undefined;
}

/** Every file under `dir` (its path, kind and content, or only its size), `skip` left out. */
export function treeDigest(dir: string, opts: { skip?: readonly string[]; sizesOnly?: boolean } = {}): string {
  const h = createHash('sha256');
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (opts.skip?.includes(r)) continue;
      const p = path.join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        h.update(`d ${r}\n`);
        walk(p, r);
      } else if (st.isSymbolicLink()) h.update(`l ${r} ${readlinkSync(p)}\n`);
      else {
        h.update(`f ${r} ${st.size}\n`);
        if (!opts.sizesOnly) h.update(readFileSync(p));
      }
    }
  };
  walk(dir, '');
  return h.digest('hex');
}

let code: string | null | undefined;
/**
 * drillbook's built code: every file of the folder the running bundle is in (dist/: the CLI, the
 * stand-ins and their chunks). Undefined when not running from a bundle (the sources, in tests).
 */
function codeDigest(): string | undefined {
  if (code !== undefined) return code ?? undefined;
  code = null;
  try {
    const self = fileURLToPath(import.meta.url);
    if (path.basename(self) === 'main.cjs') code = treeDigest(path.dirname(self), { skip: readdirSync(path.dirname(self)).filter((f) => f.endsWith('.map')) });
  } catch {
    code = null;
  }
  return code ?? undefined;
}

export function stageKey(k: StageKeyInput): string {
  const parts = {
    format: FORMAT,
    drillbook: VERSION,
    code: codeDigest() ?? 'sources',
    day: k.day ?? new Date().toISOString().slice(0, 10),
    runbook: createHash('sha256').update(k.runbookText).digest('hex'),
    variant: k.variant ?? null,
    fixture: treeDigest(k.fixtureDir, { skip: ['node_modules'] }),
    tools: k.tools.map((t) => [t.tool, t.kind, t.version, t.detail, t.executable ?? '', t.packageDir ?? '', Object.entries(t.env ?? {}).sort()]),
    env: Object.entries(k.toolEnv).sort(),
    server: k.serverVersion,
    databases: [...k.databases],
  };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

function root(): string {
  return path.join(cacheDir(), 'staged');
}

function folderOf(key: string): string {
  return path.join(root(), key);
}

/** Forget a snapshot (damaged, or it would not start). */
export function dropStaged(snapshot: Pick<StagedSnapshot, 'dir'>): void {
  rmSync(snapshot.dir, { recursive: true, force: true });
}

/** The snapshot for these inputs, whole; a damaged one is deleted. */
export function findStaged(key: string): StagedSnapshot | undefined {
  const dir = folderOf(key);
  if (!existsSync(dir)) return undefined;
  try {
    const cluster = readClusterCopy(dir);
    const meta = JSON.parse(readFileSync(path.join(dir, 'staged.json'), 'utf8')) as Partial<Meta>;
    const whole =
      cluster !== undefined &&
      cluster.password !== '' &&
      typeof meta.at === 'string' &&
      Array.isArray(meta.staged?.lines) &&
      typeof meta.staged?.facts === 'object' &&
      meta.staged.facts !== null &&
      meta.data === treeDigest(cluster.dir, { sizesOnly: true }) &&
      meta.migrations === treeDigest(path.join(dir, 'migrations'));
    if (!whole) {
      dropStaged({ dir });
      return undefined;
    }
    const now = new Date();
    utimesSync(dir, now, now); // most recently used: kept longest
    return { cluster, staged: meta.staged!, at: meta.at!, dir };
  } catch {
    dropStaged({ dir });
    return undefined;
  }
}

/** Whether a snapshot could be kept: the cache folder can be written (checked before the server is stopped for it). */
function writable(): boolean {
  try {
    mkdirSync(root(), { recursive: true, mode: 0o700 });
    const probe = path.join(root(), `.probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    writeFileSync(probe, '');
    rmSync(probe);
    return true;
  } catch {
    return false;
  }
}

/**
 * Keep what staging left: the cluster (`snapshot` writes it into the folder it is given) and the
 * copy's migrations folder. Best effort: a cache that cannot be written costs the next drill time,
 * nothing else; only a server that does not start again (thrown by `snapshot`) stops the drill.
 */
export async function keepStaged(key: string, snapshot: (dest: string) => Promise<boolean>, migrationsDir: string, staged: StagedSnapshot['staged']): Promise<void> {
  const dir = folderOf(key);
  if (existsSync(dir) || !writable()) return;
  sweep();
  const tmp = `${dir}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    if (!(await snapshot(tmp))) return;
    cpSync(migrationsDir, path.join(tmp, 'migrations'), { recursive: true });
    const meta: Meta = { staged, at: new Date().toISOString(), data: treeDigest(path.join(tmp, 'data'), { sizesOnly: true }), migrations: treeDigest(path.join(tmp, 'migrations')) };
    writeFileSync(path.join(tmp, 'staged.json'), JSON.stringify(meta), { mode: 0o600 });
    // Published whole or not at all; another drill may have published the same one first.
    renameSync(tmp, dir);
    evict();
  } catch {
    // best effort
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Only the most recently used snapshots stay; one in use (recently found) is never deleted. */
function evict(): void {
  const all = readdirSync(root())
    .filter((n) => /^[0-9a-f]{32}$/.test(n))
    .map((n) => ({ n, t: statSync(path.join(root(), n)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const old of all.slice(KEEP)) if (Date.now() - old.t > IN_USE_MS) rmSync(path.join(root(), old.n), { recursive: true, force: true });
}

/** Snapshots cut short (a drill killed while writing one), once they are surely not being written. */
function sweep(): void {
  for (const n of readdirSync(root())) {
    const p = path.join(root(), n);
    try {
      if (n.endsWith('.tmp') && Date.now() - statSync(p).mtimeMs > IN_USE_MS) rmSync(p, { recursive: true, force: true });
    } catch {
      // gone meanwhile
    }
  }
}

/** The copy's migrations folder, as staging left it. */
export function restoreMigrations(snapshot: StagedSnapshot, migrationsDir: string): void {
  rmSync(migrationsDir, { recursive: true, force: true });
  cpSync(path.join(snapshot.dir, 'migrations'), migrationsDir, { recursive: true });
}
