/**
 * The tools a drill's commands call, and which one runs: the real tool where it is installed and
 * can work here (offline, against the drill server), else drillbook's stand-in. Whatever is chosen
 * is made the thing that runs inside the drill's scratch copy, the way the runbook invokes it:
 *
 * - bare commands (`pg_dump`, `mix`) find it first on PATH (a bin folder of the drill);
 * - `npx prisma` finds it in node_modules/.bin of the copy: npx looks only in node_modules/.bin up
 *   from the working directory (and npm's global bin), then would download the package; the drill
 *   also sets npm offline and "never install", so a drill cannot reach for the network;
 * - configs that import their tool (prisma.config.ts → prisma/config, drizzle.config.ts →
 *   drizzle-kit) resolve it through node_modules/<package> of the copy.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, chmodSync, constants as fsConstants, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DrillbookError } from '../core/errors.js';
import type { RunEvent, StandInCause } from '../core/events.js';
import type { Runbook } from '../core/runbook.js';
import { standinScript } from '../standin/install.js';
import { MODELLED_ON } from '../standin/io.js';
import { VERSION } from '../version.js';

export type ToolsMode = 'real' | 'stand-in' | 'auto';
export const TOOLS_MODES: readonly ToolsMode[] = ['real', 'stand-in', 'auto'];

export const TOOL_NAMES = ['prisma', 'drizzle-kit', 'mix', 'psql', 'pg_dump', 'pg_restore'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** Node tools: the npm package each command comes from. */
const PACKAGES: Partial<Record<ToolName, string>> = { prisma: 'prisma', 'drizzle-kit': 'drizzle-kit' };

/** psql of a supported major (15 is the oldest still supported in 2026) runs SQL against any newer server. */
const PSQL_MIN_FOR_NEWER_SERVER = 15;

const INSTALL: Record<ToolName, (serverMajor: number) => string> = {
  prisma: () => 'npm install --save-dev prisma@7 (in the project, or in drillbook\'s folder); offline, point PRISMA_SCHEMA_ENGINE_BINARY at a schema engine (e.g. prisma-wasm-engine\'s engine.mjs)',
  'drizzle-kit': () => 'npm install --save-dev drizzle-kit drizzle-orm pg (in the project, or in drillbook\'s folder)',
  mix: () => 'install Elixir (https://elixir-lang.org/install.html), add ecto_sql to the project and run mix deps.get',
  psql: (m) => `install the PostgreSQL ${m} client tools (Debian/Ubuntu: apt-get install postgresql-client-${m}; macOS: brew install libpq)`,
  pg_dump: (m) => `install the PostgreSQL ${m} client tools (Debian/Ubuntu: apt-get install postgresql-client-${m}; macOS: brew install libpq), or rehearse on the major your pg_dump has: --pg-version N`,
  pg_restore: (m) => `install the PostgreSQL ${m} client tools (Debian/Ubuntu: apt-get install postgresql-client-${m}; macOS: brew install libpq), or rehearse on the major your pg_restore has: --pg-version N`,
};

export interface ToolChoice {
  tool: ToolName;
  kind: 'real' | 'stand-in';
  /** What the tool reports: the real tool's version, or the stand-in's (drillbook's) own. */
  version: string;
  /** Where it came from, or why the real tool was not used. */
  detail: string;
  /** Real tools: the executable that runs. */
  executable?: string;
  /** Real node tools: the package folder (linked into the copy's node_modules). */
  packageDir?: string;
  /** Environment the real tool needs (Prisma's schema engine). */
  env?: Record<string, string>;
  /** Stand-ins: why the real tool is not used. */
  cause?: StandInCause;
}

/** A real tool found but unusable here, or not found at all. */
interface Unusable {
  tool: ToolName;
  reason: string;
  /** The reason for the interface: 'other' unless it is one the interface words itself. */
  cause?: StandInCause;
}

// ---------- which tools a runbook calls ----------

/** The tools the runbook's commands call (every `run:` step, rollback included), in TOOL_NAMES order. */
export function toolsNeeded(rb: Runbook): ToolName[] {
  const commands = rb.phases.flatMap((p) => p.steps).flatMap((s) => (s.run === undefined ? [] : [s.run]));
  return TOOL_NAMES.filter((tool) => {
    // The tool as a command word: after a separator or npx, followed by a space or the end.
    const re = new RegExp(`(?:^|[\\s;&|(!\`])${tool.replace(/[-]/g, '\\-')}(?=$|[\\s;&|)])`, 'm');
    return commands.some((c) => re.test(c));
  });
}

// ---------- finding real tools ----------

const versionCache = new Map<string, string | undefined>();

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(tool: string, envPath: string | undefined): string | undefined {
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, tool))) return path.join(dir, tool);
  }
  return undefined;
}

/** `<tool> --version`, first version-looking word; cached per executable. */
function reportedVersion(executable: string, args: string[] = ['--version']): string | undefined {
  if (versionCache.has(executable)) return versionCache.get(executable);
  let v: string | undefined;
  try {
    const out = execFileSync(executable, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000, env: { ...process.env, LC_ALL: 'C' } });
    v = /\d+(?:\.\d+)+(?:[-+][\w.]+)?/.exec(out)?.[0];
  } catch {
    v = undefined;
  }
  versionCache.set(executable, v);
  return v;
}

function majorOf(version: string | undefined): number {
  return Number(/^(\d+)/.exec(version ?? '')?.[1] ?? 0);
}

function* ancestors(dir: string): Generator<string> {
  let d = path.resolve(dir);
  for (;;) {
    yield d;
    const up = path.dirname(d);
    if (up === d) return;
    d = up;
  }
}

/** The package folder of a node tool, from its bin file: the nearest package.json named `pkg` above it. */
function packageOf(binFile: string, pkg: string): { dir: string; version: string } | undefined {
  for (const dir of ancestors(path.dirname(binFile))) {
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (json.name === pkg) return { dir, version: json.version ?? '?' };
    } catch {
      // unreadable: keep looking
    }
  }
  return undefined;
}

/** Where npx would find a node tool: node_modules/.bin up from each folder, then npm's global bin. */
function findNodeTool(tool: ToolName, from: readonly string[]): { bin: string; dir: string; version: string; where: string } | undefined {
  const pkg = PACKAGES[tool]!;
  const candidates: string[] = [];
  for (const start of from) for (const dir of ancestors(start)) candidates.push(path.join(dir, 'node_modules', '.bin', tool));
  const globalPrefix = process.env.npm_config_prefix || path.resolve(path.dirname(process.execPath), '..');
  candidates.push(path.join(globalPrefix, 'bin', tool));
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      continue;
    }
    const p = packageOf(real, pkg);
    if (p) return { bin: real, dir: p.dir, version: p.version, where: file };
  }
  return undefined;
}

/** drillbook's own folder (where its node_modules is). */
function drillbookRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of ancestors(here)) if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'runbooks'))) return dir;
  return here;
}

/**
 * Prisma 7 runs its schema engine as a native binary it downloads on first use; a drill never
 * downloads. Usable engines: $PRISMA_SCHEMA_ENGINE_BINARY, a native engine already downloaded into
 * @prisma/engines, or prisma-wasm-engine (Prisma's own engine as WebAssembly) in a shared tools folder.
 */
export function findPrismaEngine(prismaDir: string, searchFrom: readonly string[]): { env: Record<string, string>; detail: string } | { reason: string } {
  const fromEnv = process.env.PRISMA_SCHEMA_ENGINE_BINARY;
  if (fromEnv) {
    if (!existsSync(fromEnv)) return { reason: `PRISMA_SCHEMA_ENGINE_BINARY points at ${fromEnv}, which does not exist` };
    return { env: withDeps({ PRISMA_SCHEMA_ENGINE_BINARY: fromEnv }, prismaDir, fromEnv), detail: `schema engine ${fromEnv} (PRISMA_SCHEMA_ENGINE_BINARY)` };
  }
  try {
    const enginesDir = path.dirname(createRequire(path.join(prismaDir, 'package.json')).resolve('@prisma/engines/package.json'));
    const native = readdirSync(enginesDir).find((f) => f.startsWith('schema-engine') && isExecutable(path.join(enginesDir, f)));
    if (native) return { env: {}, detail: `native schema engine ${path.join(enginesDir, native)}` };
  } catch {
    // no @prisma/engines beside it
  }
  for (const start of searchFrom) {
    for (const dir of ancestors(start)) {
      const engine = path.join(dir, 'shared', 'tools', 'prisma-wasm-engine', 'engine.mjs');
      if (existsSync(engine)) return { env: withDeps({ PRISMA_SCHEMA_ENGINE_BINARY: engine }, prismaDir, engine), detail: `schema engine prisma-wasm-engine (${engine})` };
    }
  }
  return { reason: 'no schema engine: Prisma would download one on first use, and a drill never reaches for the network (set PRISMA_SCHEMA_ENGINE_BINARY)' };
}

/** prisma-wasm-engine loads its packages from PRISMA_WASM_ENGINE_DEPS: the folder whose node_modules holds prisma, when it has them. */
function withDeps(env: Record<string, string>, prismaDir: string, engine: string): Record<string, string> {
  if (!engine.endsWith('.mjs') || process.env.PRISMA_WASM_ENGINE_DEPS) return env;
  const nodeModules = path.dirname(prismaDir);
  const root = path.basename(nodeModules) === 'node_modules' ? path.dirname(nodeModules) : undefined;
  if (!root) return env;
  try {
    createRequire(path.join(root, 'noop.js')).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    return { ...env, PRISMA_WASM_ENGINE_DEPS: root };
  } catch {
    return env;
  }
}

interface ResolveContext {
  /** Where npx would look for node tools: the project's own folder, then the operator's. */
  nodeSearch: readonly string[];
  /** The drill's working copy (for mix: are its dependencies fetched?). */
  projectDir: string;
  serverMajor: number;
  envPath: string | undefined;
}

function resolveReal(tool: ToolName, ctx: ResolveContext): ToolChoice | Unusable {
  if (PACKAGES[tool]) {
    const found = findNodeTool(tool, ctx.nodeSearch);
    if (!found) return { tool, reason: `not installed where npx would look (node_modules/.bin up from ${ctx.nodeSearch.join(' or ')}, or npm's global bin)`, cause: { kind: 'missing' } };
    const base: ToolChoice = { tool, kind: 'real', version: found.version, detail: found.where, executable: found.bin, packageDir: found.dir };
    if (tool === 'prisma') {
      if (majorOf(found.version) < 7) return { tool, reason: `prisma ${found.version} at ${found.where} is older than Prisma 7 (the runbooks use prisma.config.ts for the datasource URL)` };
      const engine = findPrismaEngine(found.dir, [drillbookRoot(), process.cwd(), ...ctx.nodeSearch]);
      if ('reason' in engine) return { tool, reason: `prisma ${found.version} at ${found.where}: ${engine.reason}` };
      return { ...base, detail: `${found.where}; ${engine.detail}`, env: engine.env };
    }
    if (tool === 'drizzle-kit') {
      const req = createRequire(path.join(found.dir, 'package.json'));
      for (const dep of ['drizzle-orm', 'pg']) {
        try {
          req.resolve(dep);
        } catch {
          return { tool, reason: `drizzle-kit ${found.version} at ${found.where} cannot load ${dep} (install it beside drizzle-kit)` };
        }
      }
    }
    return base;
  }
  const exe = onPath(tool, ctx.envPath);
  if (!exe) return { tool, reason: 'not installed (not on PATH)', cause: { kind: 'missing' } };
  if (tool === 'mix') {
    if (!existsSync(path.join(ctx.projectDir, 'deps', 'ecto_sql'))) {
      return { tool, reason: `mix at ${exe}, but the project has no fetched ecto_sql (deps/ecto_sql): a drill never fetches dependencies` };
    }
    const version = reportedVersion(exe) ?? '?';
    return { tool, kind: 'real', version, detail: exe, executable: exe };
  }
  const version = reportedVersion(exe);
  if (!version) return { tool, reason: `${exe} did not report its version` };
  const major = majorOf(version);
  // pg_dump refuses a server of a newer major ("aborting because of server version mismatch"), and
  // pg_restore reads only archives of its own format version or older: both must be at least the
  // server's major. psql runs SQL against newer servers.
  if (tool === 'psql' ? major < ctx.serverMajor && major < PSQL_MIN_FOR_NEWER_SERVER : major < ctx.serverMajor) {
    return {
      tool,
      reason: `${tool} ${version} at ${exe} is older than the drill server (PostgreSQL ${ctx.serverMajor})${tool === 'pg_dump' ? ': pg_dump refuses a newer server' : tool === 'pg_restore' ? ': it must read what a PostgreSQL ' + ctx.serverMajor + ' pg_dump writes' : ''}`,
      cause: { kind: 'older', version, server: ctx.serverMajor },
    };
  }
  return { tool, kind: 'real', version, detail: exe, executable: exe };
}

function standIn(tool: ToolName, why: string, cause: StandInCause): ToolChoice {
  return { tool, kind: 'stand-in', version: `drillbook ${VERSION}`, detail: `${why}; modelled on ${MODELLED_ON[tool]}`, cause };
}

/**
 * Choose real or stand-in for each tool the runbook needs. `real` refuses to start when one is
 * missing or unusable, naming each and how to install it.
 */
export function chooseTools(needed: readonly ToolName[], mode: ToolsMode, ctx: ResolveContext): ToolChoice[] {
  if (mode === 'stand-in') return needed.map((t) => standIn(t, 'chosen with --tools stand-in', { kind: 'asked' }));
  const resolved = needed.map((t) => resolveReal(t, ctx));
  if (mode === 'real') {
    const missing = resolved.filter((r): r is Unusable => 'reason' in r);
    if (missing.length) {
      throw new DrillbookError(
        `--tools real: ${missing.length === 1 ? 'a tool this runbook needs is' : 'tools this runbook needs are'} not usable here:\n${missing.map((m) => `  - ${m.tool}: ${m.reason}\n    install: ${INSTALL[m.tool](ctx.serverMajor)}`).join('\n')}`,
        { exitCode: 2, hint: 'or rehearse with --tools auto (the stand-ins where a real tool is missing) or --tools stand-in' },
      );
    }
  }
  return resolved.map((r) => ('reason' in r ? standIn(r.tool, `real ${r.tool}: ${r.reason}`, r.cause ?? { kind: 'other', text: r.reason }) : r));
}

// ---------- making the choice the thing that runs ----------

function link(target: string, at: string): void {
  try {
    lstatSync(at);
    rmSync(at, { recursive: true, force: true });
  } catch {
    // nothing there
  }
  mkdirSync(path.dirname(at), { recursive: true });
  symlinkSync(target, at);
}

function shim(tool: ToolName, at: string): void {
  try {
    rmSync(at, { force: true });
  } catch {
    // nothing there
  }
  mkdirSync(path.dirname(at), { recursive: true });
  writeFileSync(at, `#!/bin/sh\nexec "${process.execPath}" "${standinScript()}" ${tool} "$@"\n`);
  chmodSync(at, 0o755);
}

/**
 * Put the chosen tools where the runbook's commands look: `binDir` (first on PATH) for every tool,
 * and for node tools node_modules/.bin and node_modules/<package> of the working copy. Returns the
 * environment to add to the drill's commands.
 */
export function provisionTools(choices: readonly ToolChoice[], binDir: string, workdir: string, basePath: string | undefined): Record<string, string> {
  const env: Record<string, string> = {
    PATH: `${binDir}${path.delimiter}${basePath ?? ''}`,
    // npx (npm exec): offline, and never install a missing package.
    npm_config_offline: 'true',
    npm_config_yes: 'false',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    // Prisma's update check and telemetry would call home.
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  };
  mkdirSync(binDir, { recursive: true });
  for (const c of choices) {
    const pkg = PACKAGES[c.tool];
    if (c.kind === 'real') {
      link(c.executable!, path.join(binDir, c.tool));
      if (pkg) {
        link(c.executable!, path.join(workdir, 'node_modules', '.bin', c.tool));
        link(c.packageDir!, path.join(workdir, 'node_modules', pkg));
      }
      Object.assign(env, c.env ?? {});
    } else {
      shim(c.tool, path.join(binDir, c.tool));
      if (pkg) shim(c.tool, path.join(workdir, 'node_modules', '.bin', c.tool));
    }
  }
  return env;
}

/** The transcript's record of each tool. */
export function toolEvents(choices: readonly ToolChoice[]): RunEvent[] {
  return choices.map((c) => ({ type: 'rehearsal.tool', tool: c.tool, kind: c.kind, version: c.version, detail: c.detail, ...(c.cause ? { cause: c.cause } : {}) }));
}

/** One line for the drill's banner. */
export function describeTools(choices: readonly ToolChoice[]): string {
  if (choices.length === 0) return 'no tools (the runbook runs no prisma, drizzle-kit, mix or PostgreSQL client commands)';
  return choices.map((c) => `${c.tool} ${c.kind === 'real' ? `${c.version} (real)` : '(stand-in)'}`).join(', ');
}
