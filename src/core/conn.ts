/**
 * Connections, resolved once. A database URL is read the way libpq and pg read it (the URL first,
 * then the PG* environment, then defaults), ambiguous input is refused, and the result is explicit:
 * drillbook's own connections and the commands a runbook runs are handed the same host, port,
 * database and user, so a variable or URL parameter can never send one of them somewhere else.
 * Who the server then says it is (adapters/postgres.ts) is what the operator confirms.
 */
import { UsageError } from './errors.js';
import { REDACTED } from './redact.js';

export interface ResolvedConnection {
  host: string;
  port: string;
  database: string;
  user: string;
  password: string | undefined;
  /** The host is a folder holding the server's unix socket. */
  socket: boolean;
  /** Query parameters kept as given (sslmode, options, schema for Prisma, ...). */
  params: Array<[string, string]>;
  /** Where each of host, port, database and user came from: the URL, the environment, or a default. */
  sources: Record<'host' | 'port' | 'database' | 'user', string>;
  /** The connection as one explicit URL, password included: what pg and commands get. */
  url: string;
  /** Every secret the connection holds (its password, an sslpassword, ...): redacted everywhere. */
  secrets: string[];
  /** The same URL with the password replaced. */
  redacted: string;
}

/** Kept for display code that only needs the parts; never the password. */
export type UrlParts = Pick<ResolvedConnection, 'host' | 'port' | 'database' | 'user' | 'password' | 'redacted'>;

/** Parameters whose meaning differs between pg and libpq, or that we cannot resolve: refused. */
const REFUSED_PARAMS: Record<string, string> = {
  service: 'a connection service file (pg_service.conf) is read by libpq tools but not by drillbook: give the host, port and database in the URL',
  servicefile: 'a connection service file is read by libpq tools but not by drillbook: give the host, port and database in the URL',
  hostaddr: 'hostaddr makes libpq tools connect to an address other than the host shown: give the address as the host',
};

/** PG* variables that would make libpq tools connect elsewhere than drillbook: refused when set. */
const REFUSED_ENV: Record<string, string> = {
  PGSERVICE: 'drillbook does not read connection service files, so commands and drillbook could reach different servers',
  PGSERVICEFILE: 'drillbook does not read connection service files, so commands and drillbook could reach different servers',
  PGHOSTADDR: 'libpq tools would connect to that address instead of the host drillbook shows',
};

function decode(part: string, what: string, label: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    // The URL itself is never echoed: it may hold a password.
    throw new UsageError(`${label}: the ${what} in the connection URL has a bad % escape`, 'escape "%" as %25, and other special characters as %XX (the URL is not shown: it may hold a password)');
  }
}

export function isPostgresUrl(text: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(text.trim());
}

/** Whether a value looks like a connection to a PostgreSQL server (a URL or a key=value conninfo). */
export function looksLikeConnection(value: string): boolean {
  if (/postgres(?:ql)?:\/\//i.test(value)) return true;
  return /(?:^|\s)(?:host|hostaddr|dbname|service)\s*=\s*\S/i.test(value) && /(?:^|\s)(?:host|hostaddr|dbname|service|port|user)\s*=/i.test(value);
}

/**
 * Resolve a postgres:// URL exactly once. `env` is the environment libpq and pg would read,
 * `osUser` what they fall back to for the user name. Throws a UsageError (never echoing the URL)
 * when the input is malformed or ambiguous.
 */
export function resolveConnection(url: string, env: Readonly<Record<string, string | undefined>>, label: string, osUser = 'postgres'): ResolvedConnection {
  const text = url.trim();
  if (!isPostgresUrl(text)) throw new UsageError(`${label}: not a postgres:// or postgresql:// URL`);
  // Split by hand: WHATWG URL accepts some inputs libpq rejects and vice versa.
  const m = /^(postgres(?:ql)?):\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?(#.*)?$/i.exec(text);
  if (!m) throw new UsageError(`${label}: the connection URL is malformed (the URL is not shown: it may hold a password)`);
  const authority = m[2] ?? '';
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
  const hostport = at >= 0 ? authority.slice(at + 1) : authority;
  let urlUser: string | undefined;
  let urlPassword: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    urlUser = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, 'user name', label) || undefined;
    urlPassword = colon >= 0 ? decode(userinfo.slice(colon + 1), 'password', label) : undefined;
  }
  if (hostport.includes(',')) throw new UsageError(`${label}: the URL names several hosts`, 'name exactly one host: drillbook confirms one server');
  let urlHost: string | undefined;
  let urlPort: string | undefined;
  const bracket = /^\[([^\]]*)\](?::(.*))?$/.exec(hostport);
  if (bracket) {
    urlHost = bracket[1];
    urlPort = bracket[2];
  } else {
    const colon = hostport.lastIndexOf(':');
    urlHost = colon >= 0 ? hostport.slice(0, colon) : hostport;
    urlPort = colon >= 0 ? hostport.slice(colon + 1) : undefined;
  }
  urlHost = urlHost ? decode(urlHost, 'host', label) : undefined;
  urlPort = urlPort || undefined;
  const path = (m[3] ?? '').replace(/^\//, '');
  const urlDatabase = path ? decode(path, 'database name', label) : undefined;

  const params: Array<[string, string]> = [];
  const query = new Map<string, string>();
  for (const pair of (m[4] ?? '').replace(/^\?/, '').split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decode((eq >= 0 ? pair.slice(0, eq) : pair).replace(/\+/g, ' '), 'parameter name', label);
    const value = decode((eq >= 0 ? pair.slice(eq + 1) : '').replace(/\+/g, ' '), `value of "${key}"`, label);
    if (REFUSED_PARAMS[key]) throw new UsageError(`${label}: the URL sets ${key}=`, REFUSED_PARAMS[key]);
    if (query.has(key) && query.get(key) !== value) throw new UsageError(`${label}: the URL sets ${key} twice, to different values`);
    query.set(key, value);
  }

  const pick = (what: string, fromUrl: string | undefined, fromQuery: string | undefined): string | undefined => {
    if (fromUrl !== undefined && fromQuery !== undefined && fromUrl !== fromQuery) {
      throw new UsageError(`${label}: the URL names two different ${what}s (in the URL and in its ?${what === 'database' ? 'dbname' : what}= parameter)`, 'remove one of them, so there is no doubt which server is meant');
    }
    return fromQuery ?? fromUrl;
  };
  const wanted = {
    host: pick('host', urlHost, query.get('host')),
    port: pick('port', urlPort, query.get('port')),
    database: pick('database', urlDatabase, query.get('dbname')),
    user: pick('user', urlUser, query.get('user')),
  };
  const password = query.get('password') ?? urlPassword;
  if (wanted.host?.includes(',')) throw new UsageError(`${label}: the URL names several hosts`, 'name exactly one host: drillbook confirms one server');

  for (const [name, why] of Object.entries(REFUSED_ENV)) {
    if (env[name]) throw new UsageError(`${name} is set in the environment`, `${why}: unset ${name}`);
  }
  const envOf: Record<keyof typeof wanted, string> = { host: 'PGHOST', port: 'PGPORT', database: 'PGDATABASE', user: 'PGUSER' };
  const sources = { host: 'url', port: 'url', database: 'url', user: 'url' } as Record<keyof typeof wanted, string>;
  const resolved = { ...wanted } as Record<keyof typeof wanted, string | undefined>;
  for (const key of Object.keys(envOf) as Array<keyof typeof wanted>) {
    const fromEnv = env[envOf[key]] || undefined;
    if (resolved[key] !== undefined) {
      if (fromEnv !== undefined && fromEnv !== resolved[key]) {
        throw new UsageError(
          `${label}: ${envOf[key]}=${fromEnv} in the environment disagrees with the URL's ${key} "${resolved[key]}"`,
          `unset ${envOf[key]} (or make it agree): tools that read it would reach a different ${key === 'database' ? 'database' : 'server'} than the one you confirm`,
        );
      }
      continue;
    }
    if (fromEnv !== undefined) {
      resolved[key] = fromEnv;
      sources[key] = envOf[key];
    }
  }
  if (resolved.host === undefined) {
    resolved.host = 'localhost';
    sources.host = 'default';
  }
  if (resolved.host.includes(',')) throw new UsageError(`${label}: PGHOST names several hosts`, 'name exactly one host: drillbook confirms one server');
  if (resolved.port === undefined) {
    resolved.port = '5432';
    sources.port = 'default';
  }
  if (!/^\d{1,5}$/.test(resolved.port) || Number(resolved.port) < 1 || Number(resolved.port) > 65535) {
    // Not echoed: with an unencoded "/", "?" or "#" in a password, what looks like the port is part of it.
    throw new UsageError(
      `${label}: the port in the connection URL is not a number (the URL is not shown: it may hold a password)`,
      'a password with "/", "?", "#", "@" or ":" must be percent-encoded in a URL (/ as %2F, ? as %3F, # as %23, @ as %40, : as %3A)',
    );
  }
  if (resolved.user === undefined) {
    resolved.user = osUser;
    sources.user = 'default';
  }
  if (resolved.database === undefined) {
    resolved.database = resolved.user;
    sources.database = 'default (the user name)';
  }
  const finalPassword = password ?? (env.PGPASSWORD || undefined);
  for (const [k, v] of query) if (!['host', 'port', 'dbname', 'user', 'password'].includes(k)) params.push([k, v]);
  const socket = resolved.host.startsWith('/');
  const conn = {
    host: resolved.host,
    port: resolved.port,
    database: resolved.database,
    user: resolved.user,
    password: finalPassword,
    socket,
    params,
    sources,
  };
  const secrets = [finalPassword, ...params.filter(([k]) => SENSITIVE_PARAM.test(k)).map(([, v]) => v)].filter((v): v is string => Boolean(v));
  return { ...conn, secrets, url: buildUrl(conn, finalPassword), redacted: buildUrl(conn, finalPassword === undefined ? undefined : REDACTED, true) };
}

/** URL parameters whose values are secrets (sslpassword, a token, ...): never shown or written. */
const SENSITIVE_PARAM = /pass|secret|token|api_?key/i;

function buildUrl(c: Pick<ResolvedConnection, 'host' | 'port' | 'database' | 'user' | 'socket' | 'params'>, password: string | undefined, redact = false): string {
  const enc = (s: string) => (s === REDACTED ? s : encodeURIComponent(s));
  const auth = `${enc(c.user)}${password !== undefined ? `:${enc(password)}` : ''}@`;
  const netloc = c.socket ? 'localhost' : c.host.includes(':') ? `[${c.host}]` : c.host;
  const query: Array<[string, string]> = [...(c.socket ? [['host', c.host] as [string, string]] : []), ...c.params];
  const qs = query.map(([k, v]) => `${encodeURIComponent(k)}=${redact && SENSITIVE_PARAM.test(k) ? REDACTED : encodeURIComponent(v)}`).join('&');
  return `postgresql://${auth}${netloc}:${c.port}/${encodeURIComponent(c.database)}${qs ? `?${qs}` : ''}`;
}

/**
 * The same connection with every transaction of its sessions read-only: what a command labelled
 * read-only gets in its URL variables (a URL's own `options` would otherwise override PGOPTIONS).
 */
export function readOnlyUrl(c: ResolvedConnection): string {
  const flag = '-c default_transaction_read_only=on';
  const had = c.params.find(([k]) => k === 'options');
  const params: Array<[string, string]> = had ? c.params.map(([k, v]) => [k, k === 'options' ? `${v} ${flag}` : v]) : [...c.params, ['options', flag]];
  return buildUrl({ ...c, params }, c.password);
}

/**
 * The parts of a URL on its own (no environment), for display and stand-ins; undefined when it is
 * not a usable postgres URL. Connections go through resolveConnection.
 */
export function parseDatabaseUrl(url: string): UrlParts | undefined {
  try {
    const c = resolveConnection(url, {}, 'url');
    return { host: c.host, port: c.port, database: c.database, user: c.user, password: c.password, redacted: c.redacted };
  } catch {
    return undefined;
  }
}

/** The password of a URL, if it has one and it can be read (for redaction; never throws). */
export function passwordOf(url: string): string | undefined {
  try {
    return resolveConnection(url, {}, 'url').password;
  } catch {
    const m = /^[a-z]+:\/\/[^:/@]*:([^@]*)@/i.exec(url);
    if (!m) return undefined;
    try {
      return decodeURIComponent(m[1]!);
    } catch {
      return m[1];
    }
  }
}

/**
 * The environment a command gets for one database: the same host, port, database and user that
 * drillbook connects to, the password through PGPASSWORD (never on a command line), and none of
 * the variables that could send libpq somewhere else.
 */
export function libpqEnv(c: ResolvedConnection): Record<string, string> {
  const env: Record<string, string> = { PGHOST: c.host, PGPORT: c.port, PGDATABASE: c.database, PGUSER: c.user };
  if (c.password !== undefined) env.PGPASSWORD = c.password;
  for (const [k, v] of c.params) {
    if (k === 'sslmode') env.PGSSLMODE = v;
    if (k === 'sslrootcert') env.PGSSLROOTCERT = v;
    if (k === 'sslcert') env.PGSSLCERT = v;
    if (k === 'sslkey') env.PGSSLKEY = v;
    if (k === 'options') env.PGOPTIONS = v;
    if (k === 'connect_timeout') env.PGCONNECT_TIMEOUT = v;
  }
  return env;
}

/** Variables removed from every command's environment: they would redirect libpq tools. */
export const REDIRECTING_ENV = ['PGSERVICE', 'PGSERVICEFILE', 'PGHOSTADDR'] as const;

export function isLocalHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host.startsWith('/');
}

/** Where a connection points, for messages: host:port/database (never the password). */
export function whereOf(c: Pick<ResolvedConnection, 'host' | 'port' | 'database'>): string {
  return `${c.host}:${c.port}/${c.database}`;
}
