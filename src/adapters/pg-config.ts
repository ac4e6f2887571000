/**
 * The pg client configuration of a resolved connection. pg reads a URL with its own rules (it
 * decodes the database name with decodeURI, leaving %3A, %2F, %40 … as they are, while libpq decodes
 * them): so the parts drillbook resolved are handed over as they are, and only what pg alone knows
 * how to read (sslmode and its files, options, …) comes from parsing the URL.
 */
import type pg from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { resolveConnection, type ResolvedConnection } from '../core/conn.js';

export function pgConfig(conn: ResolvedConnection): pg.ClientConfig {
  const parsed: pg.ClientConfig = parseIntoClientConfig(conn.url);
  return {
    ...parsed,
    host: conn.host,
    port: Number(conn.port),
    database: conn.database,
    user: conn.user,
    ...(conn.password !== undefined ? { password: conn.password } : {}),
  };
}

/** For code that holds a URL drillbook built itself (every part explicit): the same, from the URL. */
export function pgConfigOfUrl(url: string): pg.ClientConfig {
  return pgConfig(resolveConnection(url, {}, 'database URL'));
}
