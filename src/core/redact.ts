/**
 * Redaction: secrets are replaced by a fixed token before anything is written or shown.
 * Known values (passwords, secret inputs) are masked as they are, URL-encoded and base64-encoded;
 * patterns catch the forms no one listed (a URL with a password, PASSWORD '...', password=...).
 */

export const REDACTED = '[REDACTED]';

const PATTERNS: Array<[RegExp, string]> = [
  // scheme://user:password@host
  [/([a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]*:)([^\s@'"/]+)(@)/gi, `$1${REDACTED}$3`],
  // ?password=... or &password=... in URLs and key=value connection strings
  [/([?&;\s]password=)('(?:[^'\\]|\\.)*'|[^\s&;'"]+)/gi, `$1${REDACTED}`],
  [/(^|[\s'"])(password\s*=\s*)('(?:[^'\\]|\\.)*'|"[^"]*"|[^\s'"]+)/gim, `$1$2${REDACTED}`],
  // PGPASSWORD=... in shell text or env dumps
  [/(PGPASSWORD\s*=\s*)('[^']*'|"[^"]*"|\S+)/g, `$1${REDACTED}`],
  // CREATE/ALTER ROLE/USER ... PASSWORD '...'
  [/(\bPASSWORD\s+)('(?:[^']|'')*'|E'(?:[^'\\]|\\.)*')/gi, `$1'${REDACTED}'`],
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The forms in which a secret value may appear in text. */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret]);
  const encoded = encodeURIComponent(secret);
  forms.add(encoded);
  forms.add(encoded.replace(/%20/g, '+'));
  const b64 = Buffer.from(secret, 'utf8').toString('base64');
  forms.add(b64);
  forms.add(b64.replace(/=+$/, ''));
  return [...forms].filter((f) => f.length >= 3);
}

export class Redactor {
  private readonly values: string[] = [];
  private matcher: RegExp | undefined;

  constructor(secrets: Iterable<string> = []) {
    for (const s of secrets) this.add(s);
  }

  /** Register a secret value; values shorter than 3 characters would mask too much and are refused. */
  add(secret: string | undefined): void {
    if (!secret || secret.length < 3) return;
    for (const f of secretForms(secret)) if (!this.values.includes(f)) this.values.push(f);
    this.values.sort((a, b) => b.length - a.length);
    this.matcher = new RegExp(this.values.map(escapeRegExp).join('|'), 'g');
  }

  /** The longest form of any secret: how much of a stream must be held back at a chunk boundary. */
  get longest(): number {
    return this.values[0]?.length ?? 0;
  }

  redact(text: string): string {
    let out = this.matcher ? text.replace(this.matcher, REDACTED) : text;
    for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
    return out;
  }

  /** Redact every string inside a JSON-like value. */
  deep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.deep(v)) as T;
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.deep(v);
      return out as T;
    }
    return value;
  }
}

/**
 * Redacts a stream whose secrets may be split across chunks: complete lines go out at once; a
 * partial line is held until its newline, or until flush().
 */
export class StreamRedactor {
  private pending = '';
  constructor(private readonly redactor: Redactor, private readonly maxHold = 64 * 1024) {}

  push(chunk: string): string {
    this.pending += chunk;
    const cut = this.pending.lastIndexOf('\n');
    if (cut === -1) {
      if (this.pending.length <= this.maxHold) return '';
      return this.flush();
    }
    const ready = this.pending.slice(0, cut + 1);
    this.pending = this.pending.slice(cut + 1);
    return this.redactor.redact(ready);
  }

  flush(): string {
    const out = this.redactor.redact(this.pending);
    this.pending = '';
    return out;
  }

  get holding(): boolean {
    return this.pending.length > 0;
  }
}
