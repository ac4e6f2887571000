import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor, StreamRedactor } from '../../src/core/redact.js';
import { parseDatabaseUrl } from '../../src/core/conn.js';

const SECRET = 'pä$$ w0rd/+=';

function known(): Redactor {
  return new Redactor([SECRET, 'tok_4f9a8b7c']);
}

describe('redaction of secret forms', () => {
  const cases: Array<[string, string]> = [
    ['postgres:// URL with a password', 'postgres://app:hunter22@db.example.com:5432/app'],
    ['postgresql:// URL with a password', 'postgresql://app:hunter22@db.example.com/app?sslmode=require'],
    ['URL-encoded password', `postgresql://app:${encodeURIComponent(SECRET)}@db/app`],
    ['?password= parameter', 'postgresql://db.example.com/app?user=app&password=hunter22'],
    ['key/value password=\'…\'', "host=db user=app password='hunter 22' dbname=app"],
    ['key/value password=… unquoted', 'host=db user=app password=hunter22 dbname=app'],
    ['PGPASSWORD=…', 'PGPASSWORD=hunter22 psql -h db'],
    ['ALTER ROLE … PASSWORD', "ALTER ROLE app WITH LOGIN PASSWORD 'hunter22';"],
    ['CREATE USER … PASSWORD', "CREATE USER app PASSWORD 'it''s-hunter22'"],
    ['a known secret as is', `the value is ${SECRET} here`],
    ['a known secret URL-encoded', `v=${encodeURIComponent(SECRET)}`],
    ['a known secret in base64', `Authorization: Basic ${Buffer.from(SECRET).toString('base64')}`],
    ['a known secret in base64 without padding', `x=${Buffer.from('tok_4f9a8b7c').toString('base64').replace(/=+$/, '')}`],
  ];

  it.each(cases)('%s', (_name, text) => {
    const out = known().redact(text);
    expect(out).toContain(REDACTED);
    for (const s of ['hunter22', 'hunter 22', "it''s-hunter22", SECRET, encodeURIComponent(SECRET), Buffer.from(SECRET).toString('base64'), 'tok_4f9a8b7c']) {
      expect(out).not.toContain(s);
    }
  });

  it('keeps everything that is not a secret', () => {
    const r = known();
    expect(r.redact('postgres://app@db.example.com:5432/app')).toBe('postgres://app@db.example.com:5432/app');
    expect(r.redact('SELECT 1; -- no password here')).toBe('SELECT 1; -- no password here');
    expect(r.redact('postgresql://app:hunter22@db/app')).toBe(`postgresql://app:${REDACTED}@db/app`);
  });

  it('redacts inside nested event data', () => {
    const e = known().deep({ type: 'x', a: [{ b: `postgres://u:${SECRET}@h/d` }], n: 3, t: true });
    expect(JSON.stringify(e)).not.toContain('w0rd');
    expect(e.n).toBe(3);
  });

  it('catches a secret split across output chunks', () => {
    const s = new StreamRedactor(known());
    const chunks = ['connecting as tok_4f', '9a8b7c now\nnext line with ', 'postgres://a:hun', 'ter22@db/x\n'];
    const out = chunks.map((c) => s.push(c)).join('') + s.flush();
    expect(out).toBe(`connecting as ${REDACTED} now\nnext line with postgres://a:${REDACTED}@db/x\n`);
  });

  it('ignores secrets too short to mask safely', () => {
    const r = new Redactor(['ab', '']);
    expect(r.redact('abc ab')).toBe('abc ab');
  });

  it('parses a URL without ever keeping the password in its display form', () => {
    const p = parseDatabaseUrl(`postgresql://app:${encodeURIComponent(SECRET)}@db.example.com:6543/shop?sslmode=require`)!;
    expect(p).toMatchObject({ host: 'db.example.com', port: '6543', database: 'shop', user: 'app', password: SECRET });
    expect(p.redacted).toBe(`postgresql://app:${REDACTED}@db.example.com:6543/shop?sslmode=require`);
    // A password given as ?password= is moved into the canonical form, and masked there.
    expect(parseDatabaseUrl('postgresql://db/app?password=x1y2z3')!.redacted).toBe(`postgresql://postgres:${REDACTED}@db:5432/app`);
    expect(parseDatabaseUrl('mysql://x@y/z')).toBeUndefined();
  });
});
