/**
 * PostgreSQL through pg, on connections resolved once (core/conn.ts).
 *
 * - Every new connection asks the server who it is; once a target is pinned, a connection to any
 *   other server or database is refused before a statement runs.
 * - Checks run exactly one statement through the extended protocol inside BEGIN READ ONLY, so the
 *   server, not a label, keeps them from writing; results stream through a cursor and are kept
 *   bounded (ROWS_CAP rows, VALUE_CAP characters a value) whatever their size, with the full count.
 * - Writes run statement by statement in one transaction, each with only the parameters it uses;
 *   a COMMIT whose answer is lost is looked up again (txid_status) and otherwise reported unknown.
 * - A frozen network ends at the step's timeout (client-side timer, TCP keepalive) and Ctrl-C
 *   gives up on a silent server after a short grace. A dropped connection is a result, never a crash.
 */
import pg from 'pg';
import Cursor from 'pg-cursor';
import { whereOf, type ResolvedConnection } from '../core/conn.js';
import { pgConfig } from './pg-config.js';
import { ROWS_CAP, VALUE_CAP, type CheckRows, type ServerIdentity, type TargetInfo } from '../core/events.js';
import type { DatabasePort, IdentifyOutcome, QueryOutcome } from '../core/ports.js';
import { escapesReadOnly, isTransactionControl, splitSql, type SqlStatement } from '../core/sql-split.js';

const CONNECT_TIMEOUT_MS = 10_000;
const CANCEL_CONNECT_TIMEOUT_MS = 2_000;
/** How long past its statement_timeout a silent server is waited for before the connection is dropped. */
const SILENCE_GRACE_MS = 5_000;
/** After Ctrl-C, how long a cancelled statement may take to answer before its connection is dropped. */
const CANCEL_GRACE_MS = 2_000;
const BATCH = 500;

/** Every value as the text PostgreSQL sent: what the operator reads, and what expect compares. */
const textTypes = { getTypeParser: () => (value: string) => value };

export interface PgError extends Error {
  code?: string;
  position?: string;
  detail?: string;
  hint?: string;
}

const IDENTITY_SQL = `SELECT current_database(), current_user, coalesce(host(inet_server_addr()), ''), coalesce(inet_server_port()::text, current_setting('port')), current_setting('server_version'), pg_is_in_recovery()::text, current_setting('is_superuser')`;

function fail(code: string, message: string): PgError {
  return Object.assign(new Error(message), { code });
}

/** What differs between the identity a target was pinned to and the one a connection reports. */
export function identityChanges(pinned: ServerIdentity, now: ServerIdentity): string[] {
  const out: string[] = [];
  if (pinned.database !== now.database) out.push(`database ${pinned.database} → ${now.database}`);
  if (pinned.systemIdentifier && now.systemIdentifier && pinned.systemIdentifier !== now.systemIdentifier) out.push(`cluster ${pinned.systemIdentifier} → ${now.systemIdentifier}`);
  if (pinned.address !== now.address || pinned.port !== now.port) out.push(`server ${pinned.address}:${pinned.port} → ${now.address}:${now.port}`);
  if (pinned.user !== now.user) out.push(`user ${pinned.user} → ${now.user}`);
  return out;
}

export function describeIdentity(id: ServerIdentity): string {
  return `${id.user}@${id.socket ? `${id.address} (socket)` : id.address}:${id.port}/${id.database}`;
}

interface Live {
  client: pg.Client;
  identity: ServerIdentity;
}

export class PgDatabases implements DatabasePort {
  private readonly clients = new Map<string, Live>();
  private readonly pinned = new Map<string, ServerIdentity>();

  constructor(private readonly conns: Readonly<Record<string, ResolvedConnection>>) {}

  private where(name: string): string {
    const c = this.conns[name];
    return c ? whereOf(c) : name;
  }

  /** The identity new connections to this target must match. */
  pin(name: string, identity: ServerIdentity): void {
    this.pinned.set(name, identity);
  }

  /**
   * For connections drillbook opens elsewhere (migration-state steps): refuse, before anything
   * runs, a server that is not the one this target was pinned to.
   */
  async verifyConnection(name: string, client: pg.Client): Promise<void> {
    const conn = this.conns[name];
    const pinned = this.pinned.get(name);
    if (!conn || !pinned) return;
    const changes = identityChanges(pinned, await readIdentity(client, conn));
    if (changes.length) throw fail('DRILLBOOK_TARGET_CHANGED', `the server behind ${name} is not the one confirmed at the start (${changes.join('; ')}): nothing was run`);
  }

  private async connect(name: string): Promise<Live> {
    const conn = this.conns[name];
    if (!conn) throw fail('DRILLBOOK_NO_URL', `no connection for database "${name}"`);
    const client = new pg.Client({
      ...pgConfig(conn),
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: 'drillbook',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    client.on('error', () => this.forget(name, client));
    client.on('end', () => this.forget(name, client));
    try {
      await client.connect();
      const identity = await readIdentity(client, conn);
      const pinned = this.pinned.get(name);
      if (pinned) {
        const changes = identityChanges(pinned, identity);
        if (changes.length) {
          throw fail('DRILLBOOK_TARGET_CHANGED', `the server behind ${name} is not the one confirmed at the start (${changes.join('; ')}): nothing was run`);
        }
      } else {
        // The first server to answer is the target from now on (a target unreachable at the start
        // is pinned when it first answers): a later connection anywhere else is refused.
        this.pinned.set(name, identity);
      }
      return { client, identity };
    } catch (e) {
      void client.end().catch(() => undefined);
      throw e;
    }
  }

  private async live(name: string): Promise<Live> {
    const existing = this.clients.get(name);
    if (existing) return existing;
    const live = await this.connect(name);
    this.clients.set(name, live);
    return live;
  }

  private forget(name: string, client: pg.Client): void {
    if (this.clients.get(name)?.client === client) this.clients.delete(name);
  }

  private drop(name: string, client: pg.Client): void {
    this.forget(name, client);
    destroy(client);
  }

  private async cancelBackend(name: string, pid: number | undefined): Promise<void> {
    const conn = this.conns[name];
    if (pid === undefined || !conn) return;
    // A short wait: on a dead network, Ctrl-C must not hang on its own cancel request.
    const c = new pg.Client({ ...pgConfig(conn), connectionTimeoutMillis: CANCEL_CONNECT_TIMEOUT_MS });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT pg_cancel_backend($1)', [pid]);
    } catch {
      // best effort: the grace timer drops the connection anyway
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  /**
   * Run `work` on the target's connection with its guards: Ctrl-C cancels the statement (and drops
   * the connection if the server stays silent), a silent server ends the wait after the timeout.
   */
  private async guarded<T>(
    name: string,
    timeoutMs: number,
    signal: AbortSignal,
    work: (client: pg.Client, progress: () => void) => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; error: PgError; silent: boolean; client: pg.Client | undefined }> {
    let live: Live;
    try {
      live = await this.live(name);
    } catch (e) {
      return { ok: false, error: e as PgError, silent: false, client: undefined };
    }
    const { client } = live;
    const pid = (client as unknown as { processID?: number }).processID;
    let silent = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      void this.cancelBackend(name, pid);
      graceTimer ??= setTimeout(() => {
        silent = true;
        this.drop(name, client);
      }, CANCEL_GRACE_MS);
    };
    // Silence, not duration, ends the wait: every answer from the server re-arms the timer.
    let silence: NodeJS.Timeout | undefined;
    const progress = () => {
      if (silence) clearTimeout(silence);
      silence = setTimeout(() => {
        silent = true;
        this.drop(name, client);
      }, timeoutMs + SILENCE_GRACE_MS);
    };
    progress();
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    try {
      return { ok: true, value: await work(client, progress) };
    } catch (e) {
      return { ok: false, error: e as PgError, silent, client };
    } finally {
      clearTimeout(silence);
      if (graceTimer) clearTimeout(graceTimer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  async check(database: string, sql: string, params: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<QueryOutcome> {
    const statements = splitSql(sql);
    const refused = refuseForReadOnly(statements);
    if (refused) return { ok: false, error: refused };
    const stmt = statements[0]!;
    const r = await this.guarded(database, timeoutMs, signal, async (client, progress) => {
      await client.query(`BEGIN TRANSACTION READ ONLY; SET LOCAL statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
      const result = await readBounded(client, stmt, params, progress);
      // Nothing to keep: the rollback is queued on the connection (the next statement waits for it).
      client.query('ROLLBACK').catch(() => this.drop(database, client));
      return result;
    });
    if (r.ok) return { ok: true, result: r.value.rows, rowCount: r.value.rows.rowCount };
    if (r.client) await r.client.query('ROLLBACK').catch(() => this.drop(database, r.client!));
    return { ok: false, error: this.explainFailure(database, r.error, timeoutMs, signal.aborted, r.silent), ...codeOf(r.error, r.silent) };
  }

  async execute(database: string, sql: string, params: readonly string[], timeoutMs: number, signal: AbortSignal, options: { transaction?: boolean } = {}): Promise<QueryOutcome> {
    if (options.transaction === false) return this.executeOutside(database, sql, params, timeoutMs, signal);
    const statements = splitSql(sql);
    if (statements.length === 0) return { ok: false, error: 'the step has no SQL statement to run' };
    const control = statements.find(isTransactionControl);
    if (control) {
      return { ok: false, error: `"${control.keywords.join(' ')}" (line ${control.line}) would end drillbook's transaction: an sql step runs in one transaction of its own; remove it. Nothing was run.` };
    }
    let xid: string | undefined;
    let committing = false;
    const r = await this.guarded(database, timeoutMs, signal, async (client, progress) => {
      await client.query(`BEGIN; SET LOCAL statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
      xid = String((await client.query({ text: 'SELECT txid_current()', rowMode: 'array', types: textTypes })).rows[0]?.[0] ?? '');
      const summary: Array<{ command: string; rowCount: number }> = [];
      let last: { rows: CheckRows; command: string } | undefined;
      for (const stmt of statements) {
        last = await readBounded(client, stmt, params, progress);
        summary.push({ command: last.command, rowCount: last.rows.rowCount });
      }
      committing = true;
      progress();
      await client.query('COMMIT');
      return { last: last!, summary };
    });
    if (r.ok) {
      const { last, summary } = r.value;
      return { ok: true, result: last.rows, rowCount: last.rows.rowCount, ...(summary.length > 1 ? { statements: summary } : {}) };
    }
    const message = this.explainFailure(database, r.error, timeoutMs, signal.aborted, r.silent);
    if (!committing) {
      if (r.client) await r.client.query('ROLLBACK').catch(() => this.drop(database, r.client!));
      return { ok: false, error: message, ...codeOf(r.error, r.silent) };
    }
    // COMMIT was sent and its answer lost: ask a new connection what became of the transaction.
    if (r.client) this.drop(database, r.client);
    const fate = xid ? await this.transactionFate(database, xid) : undefined;
    if (fate === 'committed') {
      return { ok: true, result: { columns: [], rows: [], rowCount: 0 }, rowCount: 0, note: `the answer to COMMIT was lost (${message}), and the server says transaction ${xid} committed` };
    }
    if (fate === 'aborted') return { ok: false, error: `${message}; the server says transaction ${xid} did not commit` };
    return {
      ok: false,
      unknown: true,
      error: `${message}, after COMMIT was sent: the change may or may not have been committed${xid ? ` (check it, e.g. SELECT txid_status(${xid}))` : ''}`,
    };
  }

  /**
   * One statement in autocommit (CREATE INDEX CONCURRENTLY, VACUUM, ...): no transaction to roll
   * back, so a failure may leave partial work, and a lost answer leaves the outcome unknown.
   */
  private async executeOutside(database: string, sql: string, params: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<QueryOutcome> {
    const statements = splitSql(sql);
    if (statements.length !== 1) return { ok: false, error: `a statement run outside a transaction must be alone; this step has ${statements.length}. Nothing was run.` };
    const stmt = statements[0]!;
    if (isTransactionControl(stmt)) return { ok: false, error: `"${stmt.keywords.join(' ')}" cannot be a step of its own. Nothing was run.` };
    let sent = false;
    const r = await this.guarded(database, timeoutMs, signal, async (client, progress) => {
      await client.query(`SET statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
      try {
        sent = true;
        return await readBounded(client, stmt, params, progress);
      } finally {
        await client.query('RESET statement_timeout').catch(() => undefined);
      }
    });
    if (r.ok) return { ok: true, result: r.value.rows, rowCount: r.value.rows.rowCount };
    const message = this.explainFailure(database, r.error, timeoutMs, signal.aborted, r.silent);
    const lost = r.silent || /^lost the connection/.test(message);
    if (sent && lost) {
      if (r.client) this.drop(database, r.client);
      return { ok: false, unknown: true, error: `${message}, while a statement ran outside a transaction: it may have finished, partly or wholly (check what it leaves, e.g. an INVALID index)` };
    }
    return { ok: false, error: sent ? `${message} (it ran outside a transaction: look for partial work it may have left, such as an INVALID index)` : message, ...codeOf(r.error, r.silent) };
  }

  private async transactionFate(name: string, xid: string): Promise<string | undefined> {
    try {
      const live = await this.live(name);
      const res = await live.client.query({ text: 'SELECT txid_status($1::bigint)', values: [xid], rowMode: 'array', types: textTypes });
      return (res.rows[0]?.[0] as string | null) ?? undefined;
    } catch {
      return undefined;
    }
  }

  async identify(database: string): Promise<IdentifyOutcome> {
    try {
      const live = await this.live(database);
      return { ok: true, identity: live.identity };
    } catch (e) {
      const changed = (e as PgError).code === 'DRILLBOOK_TARGET_CHANGED';
      return { ok: false, error: this.explain(database, e as PgError, 0, false), ...(changed ? { changed } : {}) };
    }
  }

  async inspect(database: string): Promise<Partial<TargetInfo>> {
    const id = await this.identify(database);
    if (!id.ok) return { unreachable: id.error };
    const i = id.identity;
    return {
      identified: true,
      host: i.address,
      port: i.port,
      database: i.database,
      user: i.user,
      serverVersion: i.serverVersion,
      inRecovery: i.inRecovery,
      ...(i.systemIdentifier ? { systemIdentifier: i.systemIdentifier } : {}),
    };
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((l) => l.client.end().catch(() => undefined)));
  }

  private explainFailure(name: string, e: PgError, timeoutMs: number, cancelled: boolean, silent: boolean): string {
    if (silent) {
      return cancelled
        ? `cancelled by the operator; ${name} (${this.where(name)}) did not answer, so its connection was dropped`
        : `no answer from ${name} (${this.where(name)}) within ${formatMs(timeoutMs + SILENCE_GRACE_MS)}: the network or the server is not responding; the connection was dropped`;
    }
    return this.explain(name, e, timeoutMs, cancelled);
  }

  explain(name: string, e: PgError, timeoutMs: number, cancelled: boolean): string {
    return explainPgError(`${name} (${this.where(name)})`, e, timeoutMs, cancelled);
  }
}

async function readIdentity(client: pg.Client, conn: ResolvedConnection): Promise<ServerIdentity> {
  const res = await client.query({ text: IDENTITY_SQL, rowMode: 'array', types: textTypes });
  const row = (res.rows[0] ?? []) as string[];
  const address = row[2] || (conn.socket ? conn.host : 'local socket');
  const identity: ServerIdentity = {
    database: row[0] ?? '',
    user: row[1] ?? '',
    address,
    port: row[3] ?? conn.port,
    socket: !row[2],
    serverVersion: row[4] ?? '',
    inRecovery: row[5] === 'true',
    ...(row[6] === 'on' ? { superuser: true } : {}),
  };
  // Superusers and pg_monitor members may read the system identifier; others do without it.
  try {
    const sys = await client.query({ text: 'SELECT system_identifier::text FROM pg_control_system()', rowMode: 'array', types: textTypes });
    const v = sys.rows[0]?.[0] as string | undefined;
    if (v) identity.systemIdentifier = v;
  } catch {
    // not allowed for this role
  }
  return identity;
}

/** Why a statement list cannot run as a read-only check, or undefined when it can. */
export function refuseForReadOnly(statements: readonly SqlStatement[]): string | undefined {
  if (statements.length === 0) return 'the check has no SQL statement';
  if (statements.length > 1) return `a check runs exactly one statement; this one has ${statements.length} (the first ends on line ${statements[1]!.line - 1 || 1}). Nothing was run.`;
  const s = statements[0]!;
  if (isTransactionControl(s)) return `"${s.keywords.join(' ')}" would end the READ ONLY transaction a check runs in: nothing was run`;
  const out = escapesReadOnly(s);
  if (out) return `${out}, which a READ ONLY transaction does not stop: a check cannot use it. Nothing was run.`;
  return undefined;
}

/** Run one statement through a cursor, keeping at most ROWS_CAP rows and VALUE_CAP characters a value. */
async function readBounded(client: pg.Client, stmt: SqlStatement, params: readonly string[], progress: () => void): Promise<{ rows: CheckRows; command: string }> {
  const values = stmt.params.map((p) => params[p - 1] ?? null);
  const cursor = client.query(new Cursor(stmt.bound, values, { rowMode: 'array', types: textTypes }));
  const kept: Array<Array<string | null>> = [];
  let count = 0;
  let cut = 0;
  let result: pg.QueryResult | undefined;
  for (;;) {
    const batch = await new Promise<unknown[][]>((resolve, reject) => {
      cursor.read(BATCH, (err, rows, res) => {
        if (err) reject(err);
        else {
          if (res) result = res;
          resolve(rows as unknown[][]);
        }
      });
    });
    progress();
    if (batch.length === 0) break;
    count += batch.length;
    for (const row of batch) {
      if (kept.length >= ROWS_CAP) break;
      kept.push(
        row.map((v) => {
          if (v === null || v === undefined) return null;
          const s = String(v);
          if (s.length <= VALUE_CAP) return s;
          cut++;
          return `${s.slice(0, VALUE_CAP)}… [${s.length - VALUE_CAP} more characters]`;
        }),
      );
    }
  }
  await cursor.close().catch(() => undefined);
  const fields = result?.fields ?? [];
  const command = result?.command ?? '';
  const rowCount = fields.length || command === 'SELECT' ? count : (result?.rowCount ?? count);
  return { rows: { columns: fields.map((f) => f.name), rows: kept, rowCount, ...(cut ? { valuesCut: cut } : {}) }, command };
}

/** The SQLSTATE (or network error code) of a failure, for deciding whether a retry can help. */
function codeOf(e: PgError, silent: boolean): { code?: string } {
  if (silent) return { code: 'DRILLBOOK_SILENT' };
  return e.code ? { code: e.code } : /Connection terminated|not queryable/i.test(e.message ?? '') ? { code: 'ECONNRESET' } : {};
}

function destroy(client: pg.Client): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  try {
    stream?.destroy();
  } catch {
    // already gone
  }
  void client.end().catch(() => undefined);
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** A message for the operator: what happened, where, and what it means for the step. */
export function explainPgError(where: string, e: PgError, timeoutMs: number, cancelled: boolean): string {
  const code = e.code ?? '';
  const msg = e.message ?? String(e);
  if (code === 'DRILLBOOK_NO_URL' || code === 'DRILLBOOK_TARGET_CHANGED') return msg;
  if (code === '57014') {
    return cancelled ? 'cancelled by the operator' : `timed out after ${formatMs(timeoutMs)} (statement_timeout); the statement was cancelled`;
  }
  if (code === '25006') return `the statement tried to write and the READ ONLY transaction refused it (${msg}); a check never writes: use an sql step`;
  if (code === 'ECONNREFUSED') return `cannot connect to ${where}: connection refused (is the database running and reachable?)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot connect to ${where}: the host name does not resolve`;
  if (code === 'ETIMEDOUT' || /timeout expired/i.test(msg)) return `cannot connect to ${where}: no answer within ${CONNECT_TIMEOUT_MS / 1000}s`;
  if (code === '28P01' || code === '28000') return `cannot connect to ${where}: authentication failed for this user`;
  if (code === '3D000') return `cannot connect to ${where}: ${msg}`;
  if (code === '42601' && /multiple commands/.test(msg)) return `${msg}: a check runs exactly one statement`;
  if (code === '57P01' || code === '57P02' || code === '57P03' || /Connection terminated|terminating connection|ECONNRESET|EPIPE|not queryable/i.test(`${code} ${msg}`)) {
    return `lost the connection to ${where} (${msg}); the statement did not complete and the next attempt reconnects`;
  }
  const detail = [e.detail, e.hint ? `hint: ${e.hint}` : undefined].filter(Boolean).join('; ');
  return `${code ? `${code}: ` : ''}${msg}${detail ? ` (${detail})` : ''}`;
}
