/**
 * A run's target as the operator must see it: who the server says it is, what the URL and the
 * environment asked for, and every point where those disagree, said before any step runs.
 */
import type { ResolvedConnection } from './conn.js';
import type { Environment, ServerIdentity, TargetInfo } from './events.js';

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]+:[0-9a-f:]*)$/i;

/** Where what was asked for and what the server reports differ, in words. */
export function discrepancies(name: string, conn: ResolvedConnection, identity: ServerIdentity | undefined, rehearsal = false): string[] {
  const out: string[] = [];
  for (const key of ['host', 'port', 'database', 'user'] as const) {
    const source = conn.sources[key];
    // 5432 is every tool's default port and surprises no one; anything else not in the URL is said.
    if (source !== 'url' && !(key === 'port' && source === 'default')) {
      out.push(`the URL of ${name} names no ${key}: ${source.startsWith('PG') ? `${source} in the environment supplies "${conn[key]}"` : `"${conn[key]}" is the ${source}`}`);
    }
  }
  if (!identity) return out;
  if (identity.database !== conn.database) {
    out.push(`${name}: the connection asked for database "${conn.database}", and the server says it is "${identity.database}" (a pooler or proxy maps one to the other): you confirm "${identity.database}"`);
  }
  if (identity.user !== conn.user) out.push(`${name}: connected as "${conn.user}", and the server says the current user is "${identity.user}"`);
  if (!identity.socket && !conn.socket) {
    if (IP.test(conn.host) && conn.host !== identity.address && !(conn.host === '127.0.0.1' && identity.address === '::1')) {
      out.push(`${name}: connected to ${conn.host}, and the server reports its address as ${identity.address} (a proxy or NAT in between)`);
    }
    if (conn.port !== identity.port) out.push(`${name}: connected to port ${conn.port}, and the server listens on ${identity.port} (a proxy or pooler in between)`);
  }
  // A drill's own server is run as its superuser on purpose: nothing to say there.
  if (identity.superuser && !rehearsal) {
    out.push(`${name}: connected as a superuser (${identity.user}). A READ ONLY transaction stops writes to tables, not a superuser's server-side programs or connections to other servers: drillbook refuses those in checks, but a role without superuser is the safer way to run this`);
  }
  if (identity.socket !== conn.socket) out.push(`${name}: asked for ${conn.socket ? 'a unix socket' : 'TCP'}, connected over ${identity.socket ? 'a unix socket' : 'TCP'}`);
  return out;
}

/** The target for the banner and the transcript: the server's word where it gave it. */
export function targetInfo(
  name: string,
  environment: Environment,
  conn: ResolvedConnection,
  identity: ServerIdentity | undefined,
  unreachable: string | undefined,
): TargetInfo {
  const requested = { host: conn.host, port: conn.port, database: conn.database, user: conn.user, sources: { ...conn.sources } };
  const notes = discrepancies(name, conn, identity, environment === 'rehearsal');
  const base = { name, environment, url: conn.redacted, requested, ...(notes.length ? { discrepancies: notes } : {}) };
  if (!identity) {
    return { ...base, host: conn.host, port: conn.port, database: conn.database, user: conn.user, identified: false, ...(unreachable ? { unreachable } : {}) };
  }
  return {
    ...base,
    host: identity.address,
    port: identity.port,
    database: identity.database,
    user: identity.user,
    identified: true,
    serverVersion: identity.serverVersion,
    inRecovery: identity.inRecovery,
    ...(identity.systemIdentifier ? { systemIdentifier: identity.systemIdentifier } : {}),
  };
}

/** The host the operator named, and the address the server reports when they differ (two servers may report the same private address). */
export function shownHost(t: TargetInfo): string {
  const asked = t.requested?.host;
  return asked && asked !== t.host && !asked.startsWith('/') ? `${asked} (${t.host})` : t.host;
}
