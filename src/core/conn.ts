/** Connection URLs: what the banner shows and what gets masked. Never the password. */
import { REDACTED } from './redact.js';

export interface UrlParts {
  host: string;
  port: string;
  database: string;
  user: string;
  password: string | undefined;
  redacted: string;
}

export function parseDatabaseUrl(url: string): UrlParts | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') return undefined;
  const password = u.password ? decodeURIComponent(u.password) : (u.searchParams.get('password') ?? undefined);
  const masked = new URL(url);
  if (masked.password) masked.password = REDACTED;
  if (masked.searchParams.has('password')) masked.searchParams.set('password', REDACTED);
  const host = u.hostname || u.searchParams.get('host') || 'localhost';
  return {
    host: host.replace(/^\[|\]$/g, ''),
    port: u.port || u.searchParams.get('port') || '5432',
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres',
    user: decodeURIComponent(u.username) || u.searchParams.get('user') || '',
    password,
    redacted: masked.toString().replace(encodeURIComponent(REDACTED), REDACTED),
  };
}

export function isLocalHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host.startsWith('/');
}
