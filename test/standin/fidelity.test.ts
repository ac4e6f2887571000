/**
 * Fidelity: the same command sequences, on the same database states, through the real tool and
 * through drillbook's stand-in, compared command by command: exit code, the error codes the output
 * names, the tracking rows afterwards, and the output itself stream by stream (with what must
 * differ masked: the stand-in's banner, ports, timestamps, durations).
 *
 * Real Prisma 7.10.1 runs offline through prisma-wasm-engine (Prisma's own schema engine as
 * WebAssembly), found in a shared/tools folder above the repository or through
 * PRISMA_SCHEMA_ENGINE_BINARY; where it is not, the Prisma half is skipped and says why.
 */
import { execa } from 'execa';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseTools, findPrismaEngine, provisionTools, type ToolName, type ToolsMode } from '../../src/drill/tools.js';
import { ROOT } from '../helpers/cli.js';
import { freshDatabase, sql } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURES = path.join(ROOT, 'runbooks', 'fixtures');

const engine = findPrismaEngine(path.join(ROOT, 'node_modules', 'prisma'), [ROOT]);
const ENGINE_MISSING = 'reason' in engine ? engine.reason : undefined;

interface Outcome {
  exitCode: number | undefined;
  codes: string[];
  stdout: string;
  stderr: string;
  rows: unknown[];
}

/** A scratch copy of a fixture project with the tool provisioned as a drill does it, and its environment. */
function side(tool: ToolName, mode: ToolsMode, project: string, url: string): { cwd: string; env: Record<string, string> } {
  const scratch = tempDir(`fidelity-${mode}`);
  const cwd = path.join(scratch, 'project');
  cpSync(project, cwd, { recursive: true });
  const choices = chooseTools([tool], mode, { nodeSearch: [ROOT], projectDir: cwd, serverMajor: 0, envPath: process.env.PATH });
  expect(choices[0]!.kind).toBe(mode);
  const env = provisionTools(choices, path.join(scratch, 'bin'), cwd, process.env.PATH);
  return { cwd, env: { ...env, DATABASE_URL: url, NO_COLOR: '1' } };
}

function mask(text: string, cwd: string): string {
  return text
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/^drillbook stand-in for .*\n/m, '')
    .replaceAll(cwd, '<project>')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? UTC/g, '<time>')
    .replace(/ in \d+ms/g, ' in <n>ms')
    // drizzle-kit redraws its spinner every 128 ms: how many frames depends on the machine's load.
    .replace(/(\[[⣷⣯⣟⡿⢿⣻⣽⣾]\] applying migrations\.\.\.)+/g, '[<spinner>] applying migrations...')
    .replace(/"fid_[a-z]+_[0-9a-f]{8}"/g, '"<db>"');
}

async function runAll(tool: ToolName, mode: ToolsMode, project: string, seed: string | undefined, commands: string[], rowsSql: string, prepare?: (cwd: string) => void): Promise<Outcome[]> {
  const db = await freshDatabase(`fid_${mode.replace('-', '')}`);
  if (seed) await sql(db.url, seed);
  const s = side(tool, mode, project, db.url);
  prepare?.(s.cwd);
  const out: Outcome[] = [];
  for (const command of commands) {
    const unset = command.startsWith('UNSET ');
    const r = await execa('bash', ['-c', unset ? command.slice(6) : command], { cwd: s.cwd, env: unset ? { ...s.env, DATABASE_URL: undefined } : s.env, extendEnv: true, reject: false, stdin: 'ignore', stripFinalNewline: false });
    const all = `${String(r.stdout)}\n${String(r.stderr)}`;
    let rows: unknown[] = [];
    try {
      rows = (await sql(db.url, rowsSql)).rows;
    } catch {
      rows = ['(no tracking table)'];
    }
    out.push({ exitCode: r.exitCode, codes: [...new Set(all.match(/\b(P\d{4})\b/g) ?? [])], stdout: mask(String(r.stdout), s.cwd), stderr: mask(String(r.stderr), s.cwd), rows });
  }
  return out;
}

async function compare(tool: ToolName, project: string, seed: string | undefined, commands: string[], rowsSql: string, prepare?: (cwd: string) => void): Promise<Outcome[]> {
  const [real, standIn] = await Promise.all([
    runAll(tool, 'real', project, seed, commands, rowsSql, prepare),
    runAll(tool, 'stand-in', project, seed, commands, rowsSql, prepare),
  ]);
  commands.forEach((command, i) => {
    const what = `${command} (command ${i + 1})`;
    expect(standIn[i]!.exitCode, `exit code of ${what}`).toBe(real[i]!.exitCode);
    expect(standIn[i]!.codes, `error codes of ${what}`).toEqual(real[i]!.codes);
    expect(standIn[i]!.rows, `tracking rows after ${what}`).toEqual(real[i]!.rows);
    expect(standIn[i]!.stdout, `stdout of ${what}`).toBe(real[i]!.stdout);
    expect(standIn[i]!.stderr, `stderr of ${what}`).toBe(real[i]!.stderr);
  });
  return real;
}

const PRISMA_ROWS = `SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back, applied_steps_count, logs IS NULL AS no_logs
  FROM _prisma_migrations ORDER BY migration_name, finished_at IS NOT NULL, rolled_back_at IS NOT NULL`;
const PRISMA_PROJECT = path.join(FIXTURES, 'prisma-failed-migration', 'project');
const { readFileSync } = await import('node:fs');
const BROKEN = readFileSync(path.join(ROOT, 'test', 'fixtures', 'fidelity', 'prisma-failed-migration.sql'), 'utf8');
const FAILED = '20240103000000_add_post_index';

describe.skipIf(ENGINE_MISSING !== undefined)(`prisma stand-in against real prisma 7.10.1${ENGINE_MISSING ? ` (skipped: ${ENGINE_MISSING}; prisma-wasm-engine is looked for in shared/tools/prisma-wasm-engine above ${ROOT})` : ''}`, () => {
  it('a failed migration: status, P3009, resolve --rolled-back, deploy, and every resolve error (P3008, P3017, P3011, P3012)', async () => {
    const real = await compare('prisma', PRISMA_PROJECT, BROKEN, [
      'npx prisma migrate status',
      'npx prisma migrate deploy',
      `npx prisma migrate resolve --rolled-back ${FAILED}`,
      'npx prisma migrate status',
      'npx prisma migrate deploy',
      // Already rolled back and applied again: Prisma exits 0 and changes nothing.
      `npx prisma migrate resolve --rolled-back ${FAILED}`,
      `npx prisma migrate resolve --applied ${FAILED}`,
      'npx prisma migrate resolve --applied 20240109000000_nope',
      'npx prisma migrate resolve --rolled-back 20240109000000_nope',
      'npx prisma migrate resolve --rolled-back 20240102000000_add_posts',
    ], PRISMA_ROWS);
    expect(real.map((o) => o.codes.join(','))).toEqual(['', 'P3009', '', '', '', '', 'P3008', 'P3017', 'P3011', 'P3012']);
    expect(real[5]!.exitCode).toBe(0);
  }, 240_000);

  it('an empty database, a database that is not empty (P3005), and histories that diverge', async () => {
    await compare('prisma', PRISMA_PROJECT, undefined, ['npx prisma migrate status', 'npx prisma migrate deploy', 'npx prisma migrate status'], PRISMA_ROWS);
    await compare('prisma', PRISMA_PROJECT, 'CREATE TABLE legacy (id int)', ['npx prisma migrate status', 'npx prisma migrate deploy'], PRISMA_ROWS);
    const diverged = `${BROKEN.replace(/INSERT INTO _prisma_migrations \(id, checksum, migration_name, started_at, logs\)[\s\S]*$/, '')}
      INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES ('44444444-4444-4444-8444-444444444444', repeat('a', 64), '20231231000000_hotfix', now(), now(), 1);`;
    await compare('prisma', PRISMA_PROJECT, diverged, ['npx prisma migrate status', 'npx prisma migrate deploy', 'npx prisma migrate status'], PRISMA_ROWS);
  }, 240_000);

  it('a migration that fails on deploy (P3018) leaves the same failed row; config errors (P1012, a missing DATABASE_URL) read the same', async () => {
    const addBad = (cwd: string) => {
      mkdirSync(path.join(cwd, 'prisma', 'migrations', '20240104000000_bad'));
      writeFileSync(path.join(cwd, 'prisma', 'migrations', '20240104000000_bad', 'migration.sql'), 'CREATE TABLE "x1" ("id" INTEGER);\nCREATE TABLE "posts" ("id" INTEGER);\n');
    };
    await compare('prisma', PRISMA_PROJECT, undefined, ['npx prisma migrate deploy', 'npx prisma migrate status', 'npx prisma migrate resolve --rolled-back 20240104000000_bad'], PRISMA_ROWS, addBad);
    const urlInSchema = (cwd: string) => writeFileSync(path.join(cwd, 'prisma', 'schema.prisma'), 'datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n');
    const real = await compare('prisma', PRISMA_PROJECT, undefined, ['npx prisma migrate status', 'npx prisma validate', 'UNSET npx prisma migrate deploy'], PRISMA_ROWS, urlInSchema);
    expect(real[0]!.codes).toEqual(['P1012']);
  }, 240_000);
});

const DRIZZLE_PROJECT = path.join(FIXTURES, 'drizzle-untracked-push', 'project');
const DRIZZLE_ROWS = 'SELECT hash, created_at::text FROM drizzle.__drizzle_migrations ORDER BY id';
const sha = async (f: string) => (await import('node:crypto')).createHash('sha256').update(readFileSync(path.join(DRIZZLE_PROJECT, 'drizzle', f))).digest('hex');

describe('drizzle-kit stand-in against real drizzle-kit 0.31.11', () => {
  it('a pushed schema: migrate fails with only its spinner, and after a baseline applies what is left; check; an empty database', async () => {
    const pushed = `${readFileSync(path.join(DRIZZLE_PROJECT, 'drizzle', '0003_steady_audit_logs.sql'), 'utf8')}\n${readFileSync(path.join(ROOT, 'test', 'fixtures', 'fidelity', 'drizzle-untracked-push.sql'), 'utf8')}`;
    const baseline = async (upto: number) => {
      const files = ['0000_lonely_users.sql', '0001_bright_projects.sql', '0002_quiet_api_keys.sql', '0003_steady_audit_logs.sql'].slice(0, upto);
      const whens = [1730000000000, 1730100000000, 1730200000000, 1730300000000];
      const values = await Promise.all(files.map(async (f, i) => `('${await sha(f)}', ${whens[i]})`));
      return `psql -q "$DATABASE_URL" -c "INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ${values.join(', ')}"`;
    };
    const real = await compare('drizzle-kit', DRIZZLE_PROJECT, pushed, ['npx drizzle-kit migrate', await baseline(3), 'npx drizzle-kit migrate', 'npx drizzle-kit check', 'UNSET npx drizzle-kit migrate'], DRIZZLE_ROWS);
    expect(real[0]!.exitCode).toBe(1);
    expect(real[0]!.stdout).not.toMatch(/42P07|already exists/);
    expect(real[2]!.exitCode).toBe(1);
    const clean = await compare('drizzle-kit', DRIZZLE_PROJECT, undefined, ['npx drizzle-kit migrate', 'npx drizzle-kit migrate'], DRIZZLE_ROWS);
    expect(clean[0]!.exitCode).toBe(0);
    expect(clean[1]!.rows).toHaveLength(4);
  }, 120_000);
});
