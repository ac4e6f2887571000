/**
 * The drill server takes no connection without its password: over TCP, over its unix socket, and
 * from another OS user (issue 14). Nothing local may reach it as superuser for free.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDrillDatabase, type DrillDatabase } from '../../src/adapters/drill-db.js';
import { ROOT } from '../helpers/cli.js';

let db: DrillDatabase;
beforeAll(async () => {
  db = await startDrillDatabase();
});
afterAll(async () => db?.stop());

async function tryConnect(config: pg.ClientConfig): Promise<string> {
  const c = new pg.Client({ ...config, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 5000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.end();
    return 'connected';
  } catch (e) {
    return `${(e as { code?: string }).code ?? ''} ${(e as Error).message}`;
  }
}

/** uid/gid of an unprivileged OS user, when this process may switch to one (it runs as root). */
function otherUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    return { uid: Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' })) };
  } catch {
    return undefined;
  }
}

describe('the drill server', () => {
  it('accepts its own password over TCP', async () => {
    expect(await tryConnect({ host: '127.0.0.1', port: db.port, password: db.password })).toBe('connected');
  });

  it('refuses a connection without the password, or with another, over TCP', async () => {
    expect(await tryConnect({ host: '127.0.0.1', port: db.port, password: 'not-the-password' })).toMatch(/28P01 password authentication failed/);
    expect(await tryConnect({ host: '127.0.0.1', port: db.port })).not.toBe('connected');
  });

  it('refuses a connection without the password over its unix socket, even from root', async () => {
    expect(await tryConnect({ host: db.socketDir, port: db.port, password: 'not-the-password' })).toMatch(/28P01/);
    expect(await tryConnect({ host: db.socketDir, port: db.port })).not.toBe('connected');
    // The socket's folder is closed to everyone but the server's user.
    expect(statSync(db.socketDir).mode & 0o777).toBe(0o700);
  });

  it('is out of reach for another OS user: the socket folder is closed, TCP wants the password', (ctx) => {
    const who = otherUser();
    if (!who) {
      ctx.skip();
      return;
    }
    const script = `
      const net = require('node:net');
      const pg = require('pg');
      const socket = ${JSON.stringify(path.join(db.socketDir, `.s.PGSQL.${db.port}`))};
      const s = net.connect(socket);
      s.on('connect', () => { console.log('socket: connected'); s.destroy(); next(); });
      s.on('error', (e) => { console.log('socket: ' + e.code); next(); });
      async function next() {
        const c = new pg.Client({ host: '127.0.0.1', port: ${db.port}, user: 'postgres', database: 'postgres', password: 'guess' });
        c.on('error', () => {});
        try { await c.connect(); console.log('tcp: connected'); await c.end(); } catch (e) { console.log('tcp: ' + e.code); }
      }`;
    const r = spawnSync(process.execPath, ['-e', script], { ...who, encoding: 'utf8', env: { PATH: process.env.PATH, NODE_PATH: path.join(ROOT, 'node_modules') }, cwd: '/' });
    expect(r.stdout.trim().split('\n'), r.stderr).toEqual(['socket: EACCES', 'tcp: 28P01']);
  });
});
