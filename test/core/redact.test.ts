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

describe('forms a secret travels in', () => {
  const token = 'ghp_R4nd0mT0k3nV4lu3';

  it('HTTP basic credentials: base64(user:secret) for every known user, and for a token alone', () => {
    const r = new Redactor([token], ['deploy']);
    for (const pair of [`deploy:${token}`, `:${token}`, `${token}:`]) {
      const header = `Authorization: Basic ${Buffer.from(pair).toString('base64')}`;
      expect(r.redact(header)).toBe(`Authorization: Basic ${REDACTED}`);
    }
  });

  it('base64 of a secret inside longer text (any user, any alignment): the secret cannot be decoded from what is left', () => {
    const r = new Redactor([token]);
    for (const user of ['x', 'ab', 'someone-else']) {
      const encoded = Buffer.from(`${user}:${token} trailing`).toString('base64');
      const out = r.redact(`Basic ${encoded}`);
      expect(out).toContain(REDACTED);
      const left = out.replace('Basic ', '').split(REDACTED).join('');
      expect(Buffer.from(left, 'base64').toString('latin1')).not.toContain(token.slice(0, 6));
    }
  });

  it('URL-encoding with lower-case hex, base64url, and JSON escapes', () => {
    const secret = 'p@ss/w"rd\\1?';
    const r = new Redactor([secret]);
    const lowerHex = encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
    const b64url = Buffer.from(secret).toString('base64url');
    const json = JSON.stringify({ secret });
    for (const text of [lowerHex, b64url, json]) expect(r.redact(`x ${text} y`)).toContain(REDACTED);
    expect(r.redact(json)).toBe(`{"secret":"${REDACTED}"}`);
  });

  it('config files: DB_PASSWORD=, "password": "…", password: at the start of a YAML line', () => {
    const r = new Redactor();
    expect(r.redact('DB_PASSWORD=s3cr3t-value\n')).toBe(`DB_PASSWORD=${REDACTED}\n`);
    expect(r.redact('{"user": "app", "password": "s3 cr3t"}')).toBe(`{"user": "app", "password": "${REDACTED}"}`);
    expect(r.redact('db:\n  password: correct horse battery\n  host: x\n')).toBe(`db:\n  password: ${REDACTED}\n  host: x\n`);
    // Prose is left alone.
    expect(r.redact('the password is wrong; passwords: 3, password_hash=abc')).toBe('the password is wrong; passwords: 3, password_hash=abc');
  });
});

/** A long line with no newline, as a command might print (a minified JSON, a base64 blob). */
function adversarial(kind: string, n: number): string {
  const unit = { letters: 'a', scheme: 'postgres://', colons: 'x://y:', keyword: 'password=', quoted: "PASSWORD '", mixed: 'ab:// password=x:y@' }[kind]!;
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

describe('redaction is linear in its input', () => {
  const kinds = ['letters', 'scheme', 'colons', 'keyword', 'quoted', 'mixed'];

  it.each(kinds)('a 512 KiB single line of %s: work grows with the length, not its square', (kind) => {
    const r = new Redactor(['hunter22', 'tok_4f9a8b7c'], ['app']);
    const work = (n: number) => {
      const s = new StreamRedactor(r);
      const text = adversarial(kind, n);
      let out = '';
      for (let i = 0; i < text.length; i += 64 * 1024) out += s.push(text.slice(i, i + 64 * 1024));
      out += s.flush();
      expect(out.length).toBeGreaterThan(0);
      return s.work;
    };
    const small = work(64 * 1024);
    const big = work(512 * 1024);
    // Each character is examined a bounded number of times...
    expect(big).toBeLessThan(32 * 512 * 1024);
    // ...so eight times the text is (about) eight times the work, not sixty-four.
    expect(big / small).toBeLessThan(9);
  });

  it('nothing is held back longer than a secret or a bounded pattern needs', () => {
    const s = new StreamRedactor(new Redactor(['hunter22']));
    const out = s.push('x'.repeat(100_000) + 'hunte');
    expect(out.length).toBe(100_000);
    expect(s.push('r22 and more')).toBe(`${REDACTED} and more`);
  });
});

describe('secrets straddling chunk boundaries', () => {
  const secret = 'S3cr3t-Pa55w0rd!';
  const forms: Array<[string, string]> = [
    ['as is', secret],
    ['URL-encoded', encodeURIComponent(secret)],
    ['base64', Buffer.from(secret).toString('base64')],
    ['basic credentials', Buffer.from(`app:${secret}`).toString('base64')],
  ];

  for (const boundary of [64 * 1024, 128 * 1024, 256 * 1024]) {
    it.each(forms)(`%s, cut at ${boundary / 1024} KiB at every offset`, (_name, form) => {
      const r = new Redactor([secret], ['app']);
      for (let k = 1; k < form.length; k++) {
        // One long line: the secret starts k characters before the boundary.
        const text = `${'y'.repeat(boundary - k)}${form}${'z'.repeat(100)}`;
        const s = new StreamRedactor(r);
        let out = '';
        for (let i = 0; i < text.length; i += 64 * 1024) out += s.push(text.slice(i, i + 64 * 1024));
        out += s.flush();
        expect(out).toBe(`${'y'.repeat(boundary - k)}${REDACTED}${'z'.repeat(100)}`);
      }
    });
  }

  it('a URL password no one listed, split across chunks', () => {
    const r = new Redactor();
    const text = `${'q'.repeat(65_530)}postgresql://app:unlisted-pw@db/x\n`;
    for (let cut = 65_520; cut < 65_560; cut++) {
      const s = new StreamRedactor(r);
      const out = s.push(text.slice(0, cut)) + s.push(text.slice(cut)) + s.flush();
      expect(out).toBe(`${'q'.repeat(65_530)}postgresql://app:${REDACTED}@db/x\n`);
    }
  });

  it('any chunking gives the same output as redacting the whole text at once', () => {
    const r = new Redactor(['hunter22', 'tok_4f9a8b7c'], ['app']);
    const pieces = ['hunter22', 'postgres://u:pw1@h/d', 'PASSWORD \'it\'\'s\'', 'password=abc&x=1', Buffer.from('app:tok_4f9a8b7c').toString('base64'), 'plain text ', '\n', '://', 'password'];
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      let text = '';
      for (let i = 0; i < 30; i++) text += `${pieces[rand(pieces.length)]}${rand(3) ? ' ' : '\n'}`;
      const whole = r.redact(text);
      const s = new StreamRedactor(r);
      let out = '';
      for (let i = 0; i < text.length; ) {
        const n = 1 + rand(12);
        out += s.push(text.slice(i, i + n));
        i += n;
      }
      out += s.flush();
      expect(out).toBe(whole);
      expect(whole).not.toMatch(/hunter22|tok_4f9a8b7c|pw1@|it''s|abc&/);
    }
  });
});
