/**
 * The database confirmed is the database written (issue 14), end to end on the bundled CLI against
 * a real PostgreSQL: connections redirected by the environment or URL parameters, steps labelled
 * read-only that try to write, a drill whose environment holds real connections, a resume that
 * needs a secret again.
 */
import { copyFileSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { drillbook, ROOT } from '../helpers/cli.js';
import { adminUrl, freshDatabase, sql } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const RUNBOOK = path.join(FIXTURES, 'runbooks', 'target-safety.yaml');
const NODE_PATH = path.join(ROOT, 'node_modules');

async function twoDatabases() {
  const staging = await freshDatabase('staging');
  const prod = await freshDatabase('prod');
  for (const d of [staging, prod]) await sql(d.url, 'CREATE TABLE marks (what text)');
  const cwd = tempDir('target');
  copyFileSync(path.join(FIXTURES, 'drill-env', 'write.cjs'), path.join(cwd, 'write.cjs'));
  return { staging, prod, cwd };
}

const marks = async (url: string) => (await sql(url, 'SELECT what FROM marks ORDER BY what')).rows.map((r: { what: string }) => r.what);

function events(cwd: string): Array<Record<string, unknown> & { type: string }> {
  const dir = path.join(cwd, 'transcripts');
  const file = readdirSync(dir).find((f) => f.endsWith('.jsonl'))!;
  return readFileSync(path.join(dir, file), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { type: string });
}

function withParam(url: string, key: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u.toString();
}

/** The server's URL without a database: what an operator pastes when the variable supplies the rest. */
function serverUrl(): string {
  const u = new URL(adminUrl());
  u.pathname = '/';
  return u.toString();
}

describe('the write lands only in the database that was confirmed, or nothing runs', () => {
  it('a URL without a database and PGDATABASE elsewhere: the confirmation is matched against the server, and every write lands there', async () => {
    const { staging, prod, cwd } = await twoDatabases();
    const env = { DATABASE_URL: serverUrl(), PGDATABASE: prod.name, CI: 'true', NODE_PATH };
    // The operator believes this is staging: the server says it is prod, so nothing runs.
    const refused = await drillbook(['run', RUNBOOK, '--auto', '--confirm-target', staging.name], { cwd, env });
    expect(refused.exitCode, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stderr).toContain(`the URL of main names no database: PGDATABASE in the environment supplies "${prod.name}"`);
    expect(refused.stdout).toContain(`targets "${prod.name}", not "${staging.name}" (--confirm-target): it did not run`);
    expect(await marks(prod.url)).toEqual([]);
    expect(await marks(staging.url)).toEqual([]);
    const started = events(cwd)[0] as unknown as { targets: Array<Record<string, unknown>> };
    expect(started.targets[0]).toMatchObject({ identified: true, database: prod.name, host: '127.0.0.1', requested: { database: prod.name, sources: { database: 'PGDATABASE' } } });
    expect(started.targets[0]!.systemIdentifier).toMatch(/^\d+$/);

    // Confirming what the server reports: the SQL step and the command both write there, and only there.
    rmSync(path.join(cwd, 'transcripts'), { recursive: true });
    const ok = await drillbook(['run', RUNBOOK, '--auto', '--confirm-target', prod.name], { cwd, env });
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    expect(await marks(prod.url)).toEqual(['cmd', 'sql']);
    expect(await marks(staging.url)).toEqual([]);
  });

  it('refuses, before anything connects, a PG* variable or URL parameter that contradicts the URL', async () => {
    const { staging, prod, cwd } = await twoDatabases();
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ DATABASE_URL: staging.url, PGDATABASE: prod.name }, /PGDATABASE=prod_\w+ in the environment disagrees with the URL's database "staging_\w+"/],
      [{ DATABASE_URL: withParam(staging.url, 'dbname', prod.name) }, /the URL names two different databases/],
      [{ DATABASE_URL: staging.url, PGSERVICE: 'prod' }, /PGSERVICE is set in the environment/],
      [{ DATABASE_URL: withParam(staging.url, 'service', 'prod') }, /the URL sets service=/],
      [{ DATABASE_URL: withParam(staging.url, 'port', '1') }, /two different ports/],
    ];
    for (const [vars, message] of cases) {
      const r = await drillbook(['run', RUNBOOK, '--auto', '--confirm-target', staging.name], { cwd, env: { CI: 'true', NODE_PATH, ...vars } });
      expect(r.exitCode, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr).not.toContain(inject('pgPassword'));
    }
    expect(existsSync(path.join(cwd, 'transcripts'))).toBe(false);
    expect(await marks(prod.url)).toEqual([]);
    expect(await marks(staging.url)).toEqual([]);
  });

  it('a malformed URL or --db without NAME= is a clear error that never shows the password', async () => {
    const { staging, cwd } = await twoDatabases();
    const pw = inject('pgPassword');
    const bad = await drillbook(['run', RUNBOOK, '--auto'], { cwd, env: { CI: 'true', DATABASE_URL: staging.url.replace('@', '%zz@') } });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/bad % escape/);
    const diag = await drillbook(['diagnose', '--db', staging.url.replace('@', '%zz@'), '--json'], { cwd, env: { CI: 'true' } });
    expect(diag.exitCode).toBe(2);
    expect(JSON.parse(diag.stdout)).toMatchObject({ error: expect.stringMatching(/^--db: the password in the connection URL has a bad % escape/), exitCode: 2 });
    expect(diag.stdout + diag.stderr).not.toContain(pw);
    for (const url of [staging.url, withParam(staging.url, 'application_name', 'x')]) {
      const r = await drillbook(['run', RUNBOOK, '--auto', '--db', url], { cwd, env: { CI: 'true' } });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/--db expects NAME=URL/);
      expect(r.stderr + r.stdout).not.toContain(pw);
    }
  });
});

describe('read-only is enforced by PostgreSQL, not by the label', () => {
  // A check that smuggles a write (COMMIT; INSERT …) is refused by validation (test/fixtures/invalid/31-*)
  // and, should one reach PostgreSQL anyway, by the adapter (test/adapters/postgres.test.ts).
  it('in a live run: the read-only sql step and the read-only command write nothing', async () => {
    const { staging, cwd } = await twoDatabases();
    const r = await drillbook(['run', RUNBOOK, '--auto', '--confirm-target', staging.name], { cwd, env: { CI: 'true', NODE_PATH, DATABASE_URL: staging.url } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    // Only the two confirmed writes landed.
    expect(await marks(staging.url)).toEqual(['cmd', 'sql']);
    const ev = events(cwd);
    const finished = (id: string) => ev.find((e) => e.type === "step.finished" && e.step === id) as unknown as { outcome: string; reason?: string };
    expect(finished('ro-sql')).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/READ ONLY transaction refused it/) });
    // The command ran (the file exists) in a session PostgreSQL kept read-only.
    expect(existsSync(path.join(cwd, 'ran-ro-cmd'))).toBe(true);
    expect(finished('ro-cmd')).toMatchObject({ outcome: 'failed' });
    expect(ev.find((e) => e.type === 'command.started' && e.step === 'ro-cmd')).toMatchObject({ readOnlySession: true });
    expect(JSON.stringify(ev.filter((e) => e.type === 'command.output' && e.step === 'ro-cmd'))).toContain('25006');
    expect(finished('ro-url')).toMatchObject({ outcome: 'failed' });
  });

  it('a read-only command stays read-only when the URL it gets sets options of its own', async () => {
    const { staging, cwd } = await twoDatabases();
    const r = await drillbook(['run', RUNBOOK, '--auto', '--confirm-target', staging.name], { cwd, env: { CI: 'true', NODE_PATH, DATABASE_URL: withParam(staging.url, 'options', '-c search_path=public') } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(existsSync(path.join(cwd, 'ran-ro-url'))).toBe(true);
    expect(await marks(staging.url)).toEqual(['cmd', 'sql']);
  });

  it('a resumed run refuses a connection that now reaches another server', async () => {
    const { staging, prod, cwd } = await twoDatabases();
    const first = await drillbook(['run', RUNBOOK, '--auto', '--confirm-target', 'not-this-one'], { cwd, env: { CI: 'true', NODE_PATH, DATABASE_URL: staging.url } });
    expect(first.exitCode).toBe(1);
    const transcript = path.join(cwd, 'transcripts', readdirSync(path.join(cwd, 'transcripts')).find((f) => f.endsWith('.jsonl'))!);
    const r = await drillbook(['resume', transcript, '--auto', '--confirm-target', prod.name], { cwd, env: { CI: 'true', NODE_PATH, DATABASE_URL: prod.url } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`this run was against postgres@127\\.0\\.0\\.1:\\d+/${staging.name} \\(cluster \\d+\\); main now reaches another server: \\(database ${staging.name} → ${prod.name}\\)`));
    expect(await marks(prod.url)).toEqual([]);
  });

  it('under --dry-run no command runs, whatever its label, and nothing is written', async () => {
    const { staging, cwd } = await twoDatabases();
    const env = { CI: 'true', NODE_PATH, DATABASE_URL: staging.url };
    const r = await drillbook(['run', RUNBOOK, '--dry-run', '--auto'], { cwd, env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(await marks(staging.url)).toEqual([]);
    expect(existsSync(path.join(cwd, 'ran-ro-cmd'))).toBe(false);
    expect(existsSync(path.join(cwd, 'ran-cmd'))).toBe(false);
    expect(events(cwd).filter((e) => e.type === 'step.dry-run').map((e) => e.step)).toEqual(['ro-cmd', 'ro-url', 'write-sql', 'write-cmd']);

    // Opting in runs the read-only command, in a session PostgreSQL keeps read-only: its write is refused.
    rmSync(path.join(cwd, 'transcripts'), { recursive: true });
    const opt = await drillbook(['run', RUNBOOK, '--dry-run', '--auto', '--run-read-only-commands'], { cwd, env });
    expect(opt.exitCode, opt.stdout + opt.stderr).toBe(0);
    expect(existsSync(path.join(cwd, 'ran-ro-cmd'))).toBe(true);
    expect(existsSync(path.join(cwd, 'ran-cmd'))).toBe(false);
    expect(await marks(staging.url)).toEqual([]);
  });
});

describe("a drill's commands see only the drill", () => {
  it('with every kind of real connection in the environment, the real database is untouched', async () => {
    const real = await freshDatabase('real');
    await sql(real.url, 'CREATE TABLE marks (what text)');
    const u = new URL(real.url);
    const password = inject('pgPassword');
    const cwd = tempDir('drillenv');
    const env = {
      CI: 'true',
      NODE_PATH,
      DATABASE_URL: real.url,
      DIRECT_URL: real.url,
      PROD_DATABASE_URL: real.url,
      SHADOW: `jdbc:${real.url}`,
      LEGACY_DSN: `host=127.0.0.1 port=${u.port} dbname=${real.name} user=postgres password=${password}`,
      PGHOST: '127.0.0.1',
      PGPORT: u.port,
      PGDATABASE: real.name,
      PGUSER: 'postgres',
      PGPASSWORD: password,
    };
    // The project carries a .env too (tools and configs load it), naming the real database.
    const project = path.join(cwd, 'fixture', 'drill-env');
    cpSync(path.join(FIXTURES, 'drill-env'), project, { recursive: true });
    cpSync(path.join(FIXTURES, 'runbooks', 'drill-env.yaml'), path.join(cwd, 'fixture', 'runbooks', 'runbook.yaml'));
    writeFileSync(path.join(project, '.env'), `DIRECT_URL="${real.url}"\nDOTENV_DB_URL=${real.url}\nAPP_NAME=shop\n`);
    const parts = { DB_HOST: '127.0.0.1', DB_PORT: u.port, DB_NAME: real.name, DB_USER: 'postgres', DB_PASSWORD: password };
    const r = await drillbook(['drill', path.join(cwd, 'fixture', 'runbooks', 'runbook.yaml'), '--auto'], { cwd, env: { ...env, ...parts } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/kept out of the drill's commands \(they could reach a real database\): DATABASE_URL, DB_HOST, DB_NAME, DB_PASSWORD, DB_PORT, DB_USER, DIRECT_URL, LEGACY_DSN, PGDATABASE, PGHOST, PGPASSWORD, PGPORT, PGUSER, PROD_DATABASE_URL, SHADOW/);
    expect(r.stdout).toContain("commented out in the project's copy (they could reach a real database): .env: DIRECT_URL, .env: DOTENV_DB_URL");
    expect(await marks(real.url)).toEqual([]);
    const output = events(cwd).filter((e) => e.type === 'command.output').map((e) => e.text).join('');
    // The command reached the drill twice (DATABASE_URL, which the drill sets, and libpq's defaults) and nothing else.
    expect(output).toMatch(/^DATABASE_URL: wrote a mark in main$/m);
    expect(output).toMatch(/^libpq defaults: wrote a mark in main$/m);
    expect(output).not.toMatch(/DIRECT_URL|PROD_DATABASE_URL|SHADOW|LEGACY_DSN|DB_\* parts|DOTENV/);
    // The project itself is untouched: only the drill's copy was cleaned.
    expect(readFileSync(path.join(project, '.env'), 'utf8')).toContain('DIRECT_URL=');
  });
});

describe('resume', () => {
  it('asks again for a secret input instead of running with it empty', async () => {
    const { name, url } = await freshDatabase('secret');
    const cwd = tempDir('secret');
    const runbook = path.join(FIXTURES, 'runbooks', 'secret-resume.yaml');
    const env = { CI: 'true', DATABASE_URL: url };
    const token = 'tok-resume-5e4f3a2b';
    const first = await drillbook(['run', runbook, '--auto', '--var', `token=${token}`, '--confirm-target', 'not-this-one'], { cwd, env });
    expect(first.exitCode).toBe(1);
    const transcript = path.join(cwd, 'transcripts', readdirSync(path.join(cwd, 'transcripts')).find((f) => f.endsWith('.jsonl'))!);
    const without = await drillbook(['resume', transcript, '--auto', '--confirm-target', name], { cwd, env });
    expect(without.exitCode, without.stdout + without.stderr).toBe(2);
    expect(without.stderr).toMatch(/no value for input token/);
    expect(existsSync(path.join(cwd, 'token.txt'))).toBe(false);
    const again = await drillbook(['resume', transcript, '--auto', '--confirm-target', name, '--var', `token=${token}`], { cwd, env });
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    expect(readFileSync(path.join(cwd, 'token.txt'), 'utf8').trim()).toBe(token);
  });
});
