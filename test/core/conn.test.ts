import { describe, expect, it } from 'vitest';
import { libpqEnv, readOnlyUrl, resolveConnection } from '../../src/core/conn.js';
import { UsageError } from '../../src/core/errors.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanProjectCopy, drillEnvironment } from '../../src/drill/environment.js';

const r = (url: string, env: Record<string, string> = {}) => resolveConnection(url, env, 'DATABASE_URL', 'alice');

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return `${(e as UsageError).message} | ${(e as UsageError).hint ?? ''}`;
  }
  throw new Error('expected a refusal');
}

describe('a connection is resolved once, as libpq and pg would, and ambiguity is refused', () => {
  it('takes every part from a complete URL and builds one explicit URL from it', () => {
    const c = r('postgresql://app:s%3Acret@db.internal:6432/shop?sslmode=require&schema=billing');
    expect(c).toMatchObject({ host: 'db.internal', port: '6432', database: 'shop', user: 'app', password: 's:cret', socket: false });
    expect(c.sources).toEqual({ host: 'url', port: 'url', database: 'url', user: 'url' });
    expect(c.url).toBe('postgresql://app:s%3Acret@db.internal:6432/shop?sslmode=require&schema=billing');
    expect(c.redacted).toBe('postgresql://app:[REDACTED]@db.internal:6432/shop?sslmode=require&schema=billing');
  });

  it('fills what the URL leaves out from PG* variables, and says where each part came from', () => {
    // The attack of the review: a URL without a database, and PGDATABASE pointing elsewhere.
    const c = r('postgresql://app@db.internal/', { PGDATABASE: 'prod', PGPORT: '5433', PGPASSWORD: 'pw1' });
    expect(c).toMatchObject({ database: 'prod', port: '5433', password: 'pw1' });
    expect(c.sources).toMatchObject({ database: 'PGDATABASE', port: 'PGPORT', host: 'url' });
    expect(c.url).toBe('postgresql://app:pw1@db.internal:5433/prod');
  });

  it('defaults like libpq: the OS user, and a database named like the user', () => {
    const c = r('postgresql://db.internal');
    expect(c).toMatchObject({ user: 'alice', database: 'alice', port: '5432' });
    expect(c.sources).toMatchObject({ user: 'default', database: 'default (the user name)', port: 'default' });
  });

  it('refuses a PG* variable that disagrees with the URL', () => {
    expect(refusal(() => r('postgresql://app@db/staging', { PGDATABASE: 'prod' }))).toMatch(/PGDATABASE=prod in the environment disagrees with the URL's database "staging".*unset PGDATABASE/);
    expect(refusal(() => r('postgresql://app@db:5432/staging', { PGPORT: '5433' }))).toMatch(/PGPORT=5433/);
    expect(refusal(() => r('postgresql://app@db/staging', { PGHOST: 'prod-db' }))).toMatch(/PGHOST=prod-db/);
    // Agreeing variables are fine.
    expect(r('postgresql://app@db/staging', { PGDATABASE: 'staging', PGHOST: 'db' }).database).toBe('staging');
  });

  it('refuses URL parameters that pg and libpq read differently, or that name a second target', () => {
    expect(refusal(() => r('postgresql://app@db/staging?dbname=prod'))).toMatch(/two different databases/);
    expect(refusal(() => r('postgresql://app@db:5432/staging?port=6543'))).toMatch(/two different ports/);
    expect(refusal(() => r('postgresql://app@db/staging?service=prod'))).toMatch(/service=/);
    expect(refusal(() => r('postgresql://app@db/staging?hostaddr=10.0.0.9'))).toMatch(/hostaddr/);
    expect(refusal(() => r('postgresql://app@db1,db2/staging'))).toMatch(/several hosts/);
    expect(refusal(() => r('postgresql://app@db/staging', { PGSERVICE: 'prod' }))).toMatch(/PGSERVICE is set/);
    // A parameter that agrees with the URL, or fills a gap, is honoured as libpq does.
    expect(r('postgresql://app@/?host=/var/run/postgresql&dbname=shop')).toMatchObject({ host: '/var/run/postgresql', socket: true, database: 'shop' });
  });

  it('hands a socket connection on as ?host=, which pg, libpq and Prisma all read', () => {
    const c = r('postgresql://app:pw@/shop?host=%2Ftmp%2Fpg');
    expect(c.url).toBe('postgresql://app:pw@localhost:5432/shop?host=%2Ftmp%2Fpg');
    expect(libpqEnv(c)).toEqual({ PGHOST: '/tmp/pg', PGPORT: '5432', PGDATABASE: 'shop', PGUSER: 'app', PGPASSWORD: 'pw' });
  });

  it('a bad % escape is a clear usage error that never echoes the URL', () => {
    const msg = refusal(() => r('postgresql://app:p%zzword@db/shop'));
    expect(msg).toMatch(/password in the connection URL has a bad % escape/);
    expect(msg).not.toContain('p%zzword');
    expect(refusal(() => r('postgresql://app@db/sh%G0p'))).toMatch(/database name .* bad % escape/);
  });

  it('never echoes part of a password that was not percent-encoded (it looks like the port)', () => {
    const msg = refusal(() => r('postgresql://app:Xk9mQ2/rT7vW+pL3@db.internal:5432/shop'));
    expect(msg).toMatch(/the port in the connection URL is not a number/);
    expect(msg).not.toContain('Xk9mQ2');
    expect(msg).toMatch(/percent-encoded/);
  });

  it('keeps secret URL parameters (sslpassword, …) out of the displayed URL, and counts them as secrets', () => {
    const c = r('postgresql://app:pw@db/shop?sslmode=verify-full&sslpassword=hunter2&application_name=x');
    expect(c.redacted).toBe('postgresql://app:[REDACTED]@db:5432/shop?sslmode=verify-full&sslpassword=[REDACTED]&application_name=x');
    expect(c.secrets).toEqual(['pw', 'hunter2']);
  });

  it('a command labelled read-only gets URLs whose sessions are read-only, even when the URL sets options', () => {
    expect(readOnlyUrl(r('postgresql://app:pw@db/shop'))).toBe('postgresql://app:pw@db:5432/shop?options=-c%20default_transaction_read_only%3Don');
    expect(readOnlyUrl(r('postgresql://app:pw@db/shop?options=-c%20search_path%3Dbilling'))).toBe(
      'postgresql://app:pw@db:5432/shop?options=-c%20search_path%3Dbilling%20-c%20default_transaction_read_only%3Don',
    );
  });

  it('gives commands the connection as libpq variables, the password only in PGPASSWORD', () => {
    const env = libpqEnv(r('postgresql://app:pw@db:6432/shop?sslmode=verify-full&options=-c%20search_path%3Dbilling'));
    expect(env).toEqual({ PGHOST: 'db', PGPORT: '6432', PGDATABASE: 'shop', PGUSER: 'app', PGPASSWORD: 'pw', PGSSLMODE: 'verify-full', PGOPTIONS: '-c search_path=billing' });
  });
});

describe("a drill's environment", () => {
  it('keeps every variable that could lead a command to a real database out, by value as well as by name', () => {
    const { env, removed } = drillEnvironment({
      PATH: '/usr/bin',
      HOME: '/root',
      PGHOST: 'prod-db',
      PGPASSWORD: 'x',
      DIRECT_URL: 'postgresql://app:pw@prod-db/shop',
      PROD_DATABASE_URL: 'postgres://prod-db/shop',
      JDBC: 'jdbc:postgresql://prod-db:5432/shop',
      ACCELERATE: 'prisma+postgres://accelerate.prisma-data.net/?api_key=k',
      DSN: 'host=prod-db dbname=shop user=app',
      EDITOR: 'vim',
    });
    expect(removed).toEqual(['ACCELERATE', 'DIRECT_URL', 'DSN', 'JDBC', 'PGHOST', 'PGPASSWORD', 'PROD_DATABASE_URL']);
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/root' });
  });

  it('is an allow-list: connection parts in variables of any name stay out, so do unknown variables', () => {
    const { env, removed, others } = drillEnvironment({
      PATH: '/usr/bin',
      LANG: 'C.UTF-8',
      LC_ALL: 'C',
      PRISMA_SCHEMA_ENGINE_BINARY: '/opt/engine',
      DB_HOST: 'prod-db',
      DB_PORT: '5432',
      DB_PASSWORD: 'pw',
      DB_NAME: 'shop',
      GITHUB_TOKEN: 'ghp_x',
      // An allowed name with a connection in it is dropped too.
      npm_config_x: 'postgres://prod-db/shop',
    });
    expect(env).toEqual({ PATH: '/usr/bin', LANG: 'C.UTF-8', LC_ALL: 'C', PRISMA_SCHEMA_ENGINE_BINARY: '/opt/engine' });
    expect(removed).toEqual(['DB_HOST', 'DB_NAME', 'DB_PASSWORD', 'DB_PORT', 'npm_config_x']);
    expect(others).toBe(1);
  });
});

describe("a drill's copy of a project", () => {
  it('comments out every .env line that could reach a database, anywhere in the copy, and keeps the rest', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drillbook-clean-'));
    try {
      mkdirSync(path.join(dir, 'prisma'));
      writeFileSync(path.join(dir, '.env'), 'DIRECT_URL="postgresql://app:pw@prod-db/shop"\nAPP_NAME=shop\nexport DB_HOST=prod-db\n');
      writeFileSync(path.join(dir, 'prisma', '.env.production'), 'SHADOW=postgres://x@y/z\n');
      const { scrubbed } = cleanProjectCopy(dir);
      expect(scrubbed).toEqual(['.env: DIRECT_URL', '.env: DB_HOST', 'prisma/.env.production: SHADOW']);
      const env = readFileSync(path.join(dir, '.env'), 'utf8');
      expect(env).toContain('APP_NAME=shop');
      expect(env).not.toMatch(/prod-db/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a tool configuration that names a database itself, with its file and line', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drillbook-clean-'));
    try {
      writeFileSync(path.join(dir, 'drizzle.config.ts'), "export default {\n  dialect: 'postgresql',\n  dbCredentials: { url: 'postgres://app:pw@prod-db/shop' },\n};\n");
      expect(() => cleanProjectCopy(dir)).toThrow(/^drizzle\.config\.ts:3: this configuration names a database itself/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
