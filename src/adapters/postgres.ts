/**
 * PostgreSQL through pg. Checks run in a READ ONLY transaction with a statement_timeout and are
 * always rolled back; writes run in one transaction. A refused or dropped connection is a result
 * with a clear message, never a crash; the next query reconnects.
 */
import pg from 'pg';
import { parseDatabaseUrl } from '../core/conn.js';
import { ROWS_CAP, type CheckRows, type TargetInfo } from '../core/events.js';
import type { DatabasePort, QueryOutcome } from '../core/ports.js';

const CONNECT_TIMEOUT_MS = 10_000;

/** Every value as the text PostgreSQL sent: what the operator reads, and what expect compares. */
const textTypes = { getTypeParser: () => (value: string) => value };

export interface PgError extends Error {
  code?: string;
  position?: string;
  detail?: string;
  hint?: string;
}

export class PgDatabases implements DatabasePort {
  private readonly clients = new Map<string, pg.Client>();

  constructor(private readonly urls: Readonly<Record<string, string>>) {}

  private where(name: string): string {
    const parts = parseDatabaseUrl(this.urls[name] ?? '');
    return parts ? `${parts.host}:${parts.port}/${parts.database}` : name;
  }

  private async client(name: string): Promise<pg.Client> {
    const existing = this.clients.get(name);
    if (existing) return existing;
    const url = this.urls[name];
    if (!url) throw Object.assign(new Error(`no connection URL for database "${name}"`), { code: 'DRILLBOOK_NO_URL' });
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'drillbook' });
    // A connection that drops while idle emits 'error': forget it, the next query reconnects.
    client.on('error', () => this.forget(name, client));
    client.on('end', () => this.forget(name, client));
    try {
      await client.connect();
    } catch (e) {
      void client.end().catch(() => undefined);
      throw e;
    }
    this.clients.set(name, client);
    return client;
  }

  private forget(name: string, client: pg.Client): void {
    if (this.clients.get(name) === client) this.clients.delete(name);
  }

  private async cancelBackend(name: string, pid: number | undefined): Promise<void> {
    if (pid === undefined || !this.urls[name]) return;
    const c = new pg.Client({ connectionString: this.urls[name], connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    try {
      await c.connect();
      await c.query('SELECT pg_cancel_backend($1)', [pid]);
    } catch {
      // best effort
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  private async run(name: string, sql: string, params: readonly string[], timeoutMs: number, signal: AbortSignal, readOnly: boolean): Promise<QueryOutcome> {
    let client: pg.Client;
    try {
      client = await this.client(name);
    } catch (e) {
      return { ok: false, error: this.explain(name, e as PgError, timeoutMs, false) };
    }
    const pid = (client as unknown as { processID?: number }).processID;
    const onAbort = () => void this.cancelBackend(name, pid);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      // One round trip to open the transaction and set its timeout.
      await client.query(`${readOnly ? 'BEGIN TRANSACTION READ ONLY' : 'BEGIN'}; SET LOCAL statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
      const res = await client.query(
        params.length ? { text: sql, values: [...params], rowMode: 'array', types: textTypes } : { text: sql, rowMode: 'array', types: textTypes },
      );
      const last = (Array.isArray(res) ? res[res.length - 1] : res) as pg.QueryArrayResult;
      if (readOnly) {
        // Nothing to keep: the rollback is queued on the connection (the next statement waits for it),
        // and the check does not wait for its answer.
        client.query('ROLLBACK').catch(() => this.drop(name, client));
      } else {
        await client.query('COMMIT');
      }
      const rows = (last.rows ?? []) as Array<Array<string | null>>;
      const result: CheckRows = {
        columns: (last.fields ?? []).map((f) => f.name),
        rows: rows.slice(0, ROWS_CAP),
        rowCount: last.command === 'SELECT' || last.fields?.length ? rows.length : (last.rowCount ?? 0),
      };
      return { ok: true, result, rowCount: last.rowCount ?? rows.length };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => this.drop(name, client));
      return { ok: false, error: this.explain(name, e as PgError, timeoutMs, signal.aborted) };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private drop(name: string, client: pg.Client): void {
    this.forget(name, client);
    void client.end().catch(() => undefined);
  }

  check(database: string, sql: string, params: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<QueryOutcome> {
    return this.run(database, sql, params, timeoutMs, signal, true);
  }

  execute(database: string, sql: string, params: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<QueryOutcome> {
    return this.run(database, sql, params, timeoutMs, signal, false);
  }

  async inspect(database: string): Promise<Partial<TargetInfo>> {
    let client: pg.Client;
    try {
      client = await this.client(database);
    } catch (e) {
      return { unreachable: this.explain(database, e as PgError, 0, false) };
    }
    const info: Partial<TargetInfo> = {};
    const one = async (sql: string): Promise<string[] | undefined> => {
      try {
        const r = await client.query({ text: sql, rowMode: 'array', types: textTypes });
        return r.rows[0] as string[] | undefined;
      } catch {
        return undefined;
      }
    };
    const row = await one("SELECT current_setting('server_version'), pg_is_in_recovery()::text");
    if (row?.[0]) info.serverVersion = row[0];
    if (row?.[1]) info.inRecovery = row[1] === 'true';
    // Superusers and pg_monitor members may read the system identifier; others just do without it.
    const sysid = await one('SELECT system_identifier::text FROM pg_control_system()');
    if (sysid?.[0]) info.systemIdentifier = sysid[0];
    return info;
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.end().catch(() => undefined)));
  }

  explain(name: string, e: PgError, timeoutMs: number, cancelled: boolean): string {
    return explainPgError(`${name} (${this.where(name)})`, e, timeoutMs, cancelled);
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** A message for the operator: what happened, where, and what it means for the step. */
export function explainPgError(where: string, e: PgError, timeoutMs: number, cancelled: boolean): string {
    const code = e.code ?? '';
    const msg = e.message ?? String(e);
    if (code === 'DRILLBOOK_NO_URL') return msg;
    if (code === '57014') {
      return cancelled ? 'cancelled by the operator' : `timed out after ${formatMs(timeoutMs)} (statement_timeout); the statement was cancelled`;
    }
    if (code === '25006') return `the statement tried to write and the READ ONLY transaction refused it (${msg}); a check never writes: use an sql step`;
    if (code === 'ECONNREFUSED') return `cannot connect to ${where}: connection refused (is the database running and reachable?)`;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot connect to ${where}: the host name does not resolve`;
    if (code === 'ETIMEDOUT' || /timeout expired/i.test(msg)) return `cannot connect to ${where}: no answer within ${CONNECT_TIMEOUT_MS / 1000}s`;
    if (code === '28P01' || code === '28000') return `cannot connect to ${where}: authentication failed for this user`;
    if (code === '3D000') return `cannot connect to ${where}: ${msg}`;
    if (code === '57P01' || code === '57P02' || code === '57P03' || /Connection terminated|terminating connection|ECONNRESET|EPIPE|not queryable/i.test(`${code} ${msg}`)) {
      return `lost the connection to ${where} (${msg}); the statement did not complete and the next attempt reconnects`;
    }
    const detail = [e.detail, e.hint ? `hint: ${e.hint}` : undefined].filter(Boolean).join('; ');
    return `${code ? `${code}: ` : ''}${msg}${detail ? ` (${detail})` : ''}`;
}
