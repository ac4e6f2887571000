/**
 * Staging an incident recipe (src/core/incident.ts) in a drill database, from a project's own
 * migrations, the way the tool itself would leave it:
 *
 *   1. the applied migrations: the tool applies them (`prisma migrate deploy`, `drizzle-kit
 *      migrate`, `mix ecto.migrate`; real where installed, else the stand-in), with the scratch
 *      copy's migrations folder showing only them; or a dump of production is restored and their
 *      tracking rows are written as the tool writes them (--from-dump, src/drill/dump.ts);
 *   2. a phantom: a migration the tool applies, then taken out of the folder (Prisma), or a
 *      tracking row alone;
 *   3. the fixture's rows (`data`), on the shipped fixture only;
 *   4. lost tracking rows (`untracked`);
 *   5. a failed migration: the tool runs it while every DDL and write is refused (a lock timeout, a
 *      serialization failure), so the tool records the failed attempt itself; or a unique index
 *      built CONCURRENTLY over duplicate rows, which fails and leaves the index INVALID;
 *   6. an edited migration: its file in the copy changed after it was applied.
 *
 * Everything happens in the scratch copy and the drill database: the project is never written.
 */
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { DrillbookError } from '../core/errors.js';
import { factsOf, IncidentError, planIncident, trackedName, type Fact, type Incident, type IncidentPlan } from '../core/incident.js';
import type { LocalMigration, Tool } from '../core/migrations/types.js';
import { prismaChecksum } from '../core/migrations/prisma.js';
import { drizzleHash } from '../core/migrations/drizzle.js';
import { createdTables, ectoCreatedTables } from '../core/migrations/sql-objects.js';
import { diagnose, locate, PRISMA_TABLE_DDL, q, type Located } from '../adapters/migrations/tracking.js';
import { pgConfigOfUrl } from '../adapters/pg-config.js';
import type { ToolChoice } from './tools.js';
import { detectProject, type Project } from './project.js';
import { ensureDuplicates } from './synthetic-rows.js';

export interface StageOptions {
  /** The project as read from its own folder (for names in messages). */
  project: Project;
  /** The scratch copy of the project (the tool runs here). */
  workdir: string;
  /** Where folders are set aside while the tool sees only some migrations. */
  stash: string;
  /** The drill database the incident is staged in. */
  url: string;
  /** The drill's environment: the chosen tools first on PATH, the URL variables set. */
  env: NodeJS.ProcessEnv;
  /** The folder holding the chosen tools (binDir of provisionTools). */
  binDir: string;
  /** The migration tool chosen for the drill (real or stand-in). */
  tool: ToolChoice;
  /** Runs the incident's `data` SQL (the shipped fixture's rows); undefined on another project. */
  runData?: (c: pg.Client) => Promise<void>;
  /** Seeds the applied migrations from a dump instead of running them (--from-dump). */
  fromDump?: (c: pg.Client) => Promise<string[]>;
}

export interface StagedIncident {
  plan: IncidentPlan;
  facts: Partial<Record<Fact, string>>;
  /** What was staged, one line each, in words. */
  lines: string[];
}

const COMMAND: Record<Tool, { bin: string; args: string[]; label: string }> = {
  prisma: { bin: 'prisma', args: ['migrate', 'deploy'], label: 'prisma migrate deploy' },
  drizzle: { bin: 'drizzle-kit', args: ['migrate'], label: 'drizzle-kit migrate' },
  ecto: { bin: 'mix', args: ['ecto.migrate'], label: 'mix ecto.migrate' },
};

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ ...pgConfigOfUrl(url), application_name: 'drillbook-stage' });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

function describeTool(t: ToolChoice): string {
  return t.kind === 'real' ? `${COMMAND_NAME[t.tool] ?? t.tool} ${t.version}` : `${COMMAND_NAME[t.tool] ?? t.tool} stand-in`;
}
const COMMAND_NAME: Record<string, string> = { prisma: 'prisma', 'drizzle-kit': 'drizzle-kit', mix: 'mix' };

function lastLines(text: string, n: number): string {
  // eslint-disable-next-line no-control-regex
  const lines = text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split('\n').map((l) => l.trimEnd()).filter(Boolean);
  return lines.slice(-n).join('\n');
}

/** The first line of the SQL error in Prisma's logs: "ERROR: relation … already exists (42P07)". */
function prismaLogError(logs: string | null): string {
  if (!logs) return 'no error recorded';
  const code = /Database error code: (\w+)/.exec(logs)?.[1];
  // Prisma's own words when it has no database error to quote ("Transaction write conflict" for 40001).
  const msg = /ERROR: ([^\n]+)/.exec(logs)?.[1] ?? logs.split('\n').map((l) => l.trim()).find((l) => l && l !== 'external connector error' && !/^\d+: /.test(l)) ?? logs;
  return `${msg}${code ? ` (${code})` : ''}`;
}

export class Stager {
  private located: Located;
  private copy: Project;
  readonly lines: string[] = [];

  constructor(private readonly o: StageOptions) {
    // The copy's own paths (same migrations, same names): the tool runs there.
    this.copy = detectProject(o.workdir, { tool: o.project.tool, migrations: o.project.migrations });
    this.located = locate(o.project.tool, path.join(o.workdir, o.project.migrations), o.url, o.project.tracking ?? {});
  }

  private get tool(): Tool {
    return this.o.project.tool;
  }

  private get folder(): string {
    return path.join(this.o.workdir, this.o.project.migrations);
  }

  private name(m: LocalMigration): string {
    return trackedName(this.tool, m);
  }

  /** The copy's migration of the same name. */
  private mine(m: LocalMigration): LocalMigration {
    return this.copy.local.find((x) => x.name === m.name)!;
  }

  /** Run `fn` while the migrations folder of the copy shows exactly `view` (plus `extra` added by the caller). */
  private async withView<T>(view: readonly LocalMigration[], fn: () => Promise<T>): Promise<T> {
    const keep = new Set(view.map((m) => m.name));
    const hidden = this.copy.local.filter((m) => !keep.has(m.name));
    const stash = path.join(this.o.stash, `view-${Date.now()}-${Math.random().toString(16).slice(2)}`);
    mkdirSync(stash, { recursive: true });
    const journal = path.join(this.folder, 'meta', '_journal.json');
    const drizzleJournal = this.tool === 'drizzle' && existsSync(journal);
    const moved: Array<[string, string]> = [];
    let journalText: string | undefined;
    try {
      if (drizzleJournal) {
        journalText = readFileSync(journal, 'utf8');
        const j = JSON.parse(journalText) as { entries: Array<{ tag: string }> };
        writeFileSync(journal, JSON.stringify({ ...j, entries: j.entries.filter((e) => keep.has(e.tag)) }, null, 2));
      } else {
        for (const m of hidden) {
          // Prisma and Drizzle 1.0: the migration's folder; Ecto: the .exs and the .sql beside it.
          const items = this.tool === 'ecto' ? [m.path, m.path.replace(/\.exs$/, '.sql')] : [path.dirname(m.path)];
          for (const from of items) {
            if (!existsSync(from)) continue;
            const to = path.join(stash, path.relative(this.folder, from));
            mkdirSync(path.dirname(to), { recursive: true });
            renameSync(from, to);
            moved.push([to, from]);
          }
        }
      }
      return await fn();
    } finally {
      if (journalText !== undefined) writeFileSync(journal, journalText);
      for (const [to, from] of moved.reverse()) renameSync(to, from);
      rmSync(stash, { recursive: true, force: true });
    }
  }

  /** The tool's own apply command in the copy. */
  private async runTool(): Promise<{ exitCode: number; output: string }> {
    const { execa } = await import('execa');
    const cmd = COMMAND[this.tool];
    const r = await execa(path.join(this.o.binDir, cmd.bin), cmd.args, { cwd: this.o.workdir, env: this.o.env, extendEnv: false, reject: false, stdin: 'ignore', all: true, timeout: 15 * 60_000, encoding: 'utf8' });
    return { exitCode: r.exitCode ?? 1, output: String(r.all ?? '') };
  }

  private async stateOf(c: pg.Client): Promise<Map<string, string>> {
    const d = await diagnose(c, this.located);
    return new Map(d.entries.map((e) => [e.name, e.state]));
  }

  /** Apply exactly `view` with the tool; anything that stops it is an error naming the migration and the SQL error. */
  private async apply(c: pg.Client, view: readonly LocalMigration[], what: string): Promise<void> {
    const r = await this.withView(view, () => this.runTool());
    const state = await this.stateOf(c);
    const notApplied = view.filter((m) => state.get(m.name) !== 'applied');
    if (r.exitCode === 0 && notApplied.length === 0) return;
    throw await this.applyFailure(c, notApplied.length ? notApplied : view, r, what);
  }

  private async applyFailure(c: pg.Client, candidates: readonly LocalMigration[], r: { exitCode: number; output: string }, what: string): Promise<DrillbookError> {
    const who = `${this.o.project.dir}`;
    const by = `${COMMAND[this.tool].label} (${describeTool(this.o.tool)})`;
    const hint = 'fix the migration (the project itself is untouched: the drill worked on a scratch copy and a throwaway database), or seed the drill from a schema-only dump of production: --from-dump <file>';
    if (this.tool === 'prisma') {
      const rows = await c.query(`SELECT migration_name, logs FROM ${q(this.located.schema)}.${q(this.located.table)} WHERE finished_at IS NULL AND rolled_back_at IS NULL ORDER BY started_at DESC LIMIT 1`).catch(() => undefined);
      const row = rows?.rows[0] as { migration_name: string; logs: string | null } | undefined;
      if (row) return new DrillbookError(`${what}: ${by} failed on ${who}'s migration ${row.migration_name}: ${prismaLogError(row.logs)}`, { exitCode: 1, hint });
    }
    // drizzle-kit 0.31 swallows the SQL error; mix prints it among its logs: find it by replaying in a transaction that is rolled back.
    const found = await this.replay(c, candidates);
    const said = lastLines(r.output, 6);
    if (found) return new DrillbookError(`${what}: ${by} failed on ${who}'s migration ${found.name}: ${found.message}${found.code ? ` (${found.code})` : ''}${this.tool === 'prisma' ? '' : ` (the statement found by replaying the migrations in a transaction that was rolled back)${said ? `; the tool's last words:\n${said}` : ''}`}`, { exitCode: 1, hint });
    if (r.exitCode === 0) {
      return new DrillbookError(`${what}: ${by} reported success, yet ${candidates.map((m) => this.name(m)).join(', ')} ${candidates.length > 1 ? 'are' : 'is'} not applied${this.tool === 'drizzle' ? ' (drizzle skips a migration whose journal "when" is not newer than the newest applied one)' : ''}`, { exitCode: 1, hint });
    }
    return new DrillbookError(`${what}: ${by} exited ${r.exitCode} on ${who}:\n${lastLines(r.output, 12)}`, { exitCode: 1, hint });
  }

  private async replay(c: pg.Client, candidates: readonly LocalMigration[]): Promise<{ name: string; message: string; code?: string } | undefined> {
    const state = await this.stateOf(c);
    await c.query('BEGIN');
    try {
      for (const m of candidates) {
        if (state.get(m.name) === 'applied' || m.sql === undefined) continue;
        const statements = this.tool === 'drizzle' ? m.sql.split('--> statement-breakpoint') : [m.sql];
        for (const stmt of statements) {
          if (!stmt.trim()) continue;
          await c.query('SAVEPOINT drillbook_replay');
          try {
            await c.query(stmt);
          } catch (e) {
            const err = e as { code?: string; message: string };
            return { name: this.name(m), message: err.message, ...(err.code ? { code: err.code } : {}) };
          }
        }
      }
      return undefined;
    } catch {
      return undefined;
    } finally {
      await c.query('ROLLBACK').catch(() => undefined);
    }
  }

  // ---------- the recipe ----------

  async stage(incident: Incident): Promise<StagedIncident> {
    let plan: IncidentPlan;
    try {
      plan = planIncident(incident, this.copy.local, this.o.project.dir);
    } catch (e) {
      if (e instanceof IncidentError) throw new DrillbookError(e.message, { exitCode: 2, hint: 'rehearse another runbook on this project, or this one on its shipped fixture (without --project)' });
      throw e;
    }
    const c = await connect(this.o.url);
    let staged: { phantom?: string; key?: string } = {};
    try {
      // 1. What is applied.
      if (this.o.fromDump) {
        const seeded = await this.o.fromDump(c);
        this.lines.push(...seeded);
        await this.checkDumpFits(c, plan);
        const state = await this.stateOf(c);
        const recorded = plan.base.filter((m) => state.get(m.name) === 'applied' || state.get(m.name) === 'modified');
        if (recorded.length) this.lines.push(`recorded as applied in the dump's ${this.located.schema}.${this.located.table}: ${this.span(recorded)}`);
        const written = await this.recordApplied(c, plan.base);
        if (written.length) this.lines.push(`recorded as applied, as ${COMMAND[this.tool].label} records them: ${written.join(', ')}`);
      } else {
        await this.apply(c, plan.base, `applying the project's migrations`);
        this.lines.push(`applied with ${COMMAND[this.tool].label} (${describeTool(this.o.tool)}): ${this.span(plan.base)}`);
      }
      // 2. A phantom.
      if (plan.phantom) staged.phantom = await this.stagePhantom(c, plan);
      // 3. The fixture's rows.
      if (this.o.runData) {
        await this.o.runData(c);
        this.lines.push('the fixture\'s rows inserted (incident data)');
      }
      // 4. Lost tracking rows.
      if (plan.untracked) {
        const n = await this.forget(c, plan.base);
        this.lines.push(`tracking rows lost: ${n} row(s) of ${this.span(plan.base)} deleted from ${this.located.schema}.${this.located.table} (the schema stays)`);
      }
      // 5. A failed migration.
      if (plan.failed && !plan.invalidIndex) await this.stageFailed(c, plan, plan.failed);
      if (plan.invalidIndex) staged = { ...staged, key: await this.stageInvalidIndex(c, plan) };
      if (plan.pending.length) this.lines.push(`never applied (pending): ${plan.pending.map((m) => this.name(m)).join(', ')}`);
      // 6. An edited migration (the copy's file only).
      if (plan.edited) {
        const file = this.mine(plan.edited).path;
        appendFileSync(file, '\n-- edited after it was applied (staged by drillbook: the applied checksum no longer matches)\n');
        this.lines.push(`edited after it was applied: ${this.name(plan.edited)} (in the scratch copy)`);
      }
    } finally {
      await c.end().catch(() => undefined);
    }
    return { plan, facts: factsOf(plan, staged), lines: this.lines };
  }

  private span(ms: readonly LocalMigration[]): string {
    if (ms.length === 0) return 'none';
    if (ms.length <= 3) return ms.map((m) => this.name(m)).join(', ');
    return `${ms.length} migrations, ${this.name(ms[0]!)} … ${this.name(ms[ms.length - 1]!)}`;
  }

  /** A dump must not already hold what the incident leaves unapplied. */
  private async checkDumpFits(c: pg.Client, plan: IncidentPlan): Promise<void> {
    const state = await this.stateOf(c);
    for (const m of plan.unapplied) {
      if (state.get(m.name) === 'applied' || state.get(m.name) === 'modified') {
        throw new DrillbookError(`the dump records ${this.name(m)} as applied, and this incident needs it ${m === plan.failed ? 'to fail' : 'pending'}`, { exitCode: 2, hint: 'use a dump taken before it was deployed, or rehearse on the project\'s migrations (without --from-dump)' });
      }
      const created = this.tool === 'ecto' ? ectoCreatedTables(readFileSync(m.path, 'utf8')) : createdTables(m.sql);
      for (const t of created) {
        const r = await c.query('SELECT to_regclass($1) IS NOT NULL AS present', [`"${t.replace(/"/g, '""')}"`]);
        if ((r.rows[0] as { present: boolean }).present) {
          throw new DrillbookError(`the dump already has table ${t}, which ${this.name(m)} creates, and this incident needs ${this.name(m)} ${m === plan.failed ? 'to fail' : 'pending'}`, { exitCode: 2, hint: 'use a dump taken before that migration was deployed, or rehearse on the project\'s migrations (without --from-dump)' });
        }
      }
    }
  }

  /** Tracking rows for migrations a dump holds but does not record, as a deploy writes them. */
  private async recordApplied(c: pg.Client, ms: readonly LocalMigration[]): Promise<string[]> {
    const state = await this.stateOf(c);
    const missing = ms.filter((m) => state.get(m.name) !== 'applied' && state.get(m.name) !== 'modified');
    if (!missing.length) return [];
    const from = `${q(this.located.schema)}.${q(this.located.table)}`;
    await c.query('BEGIN');
    try {
      if (this.tool === 'prisma') {
        if (!(await c.query('SELECT to_regclass($1) IS NOT NULL AS p', [from])).rows[0].p) {
          if (this.located.schema !== 'public') await c.query(`CREATE SCHEMA IF NOT EXISTS ${q(this.located.schema)}`);
          await c.query(PRISMA_TABLE_DDL(from));
        }
        for (const m of missing) {
          await c.query(`INSERT INTO ${from} (id, checksum, started_at, finished_at, migration_name, applied_steps_count) VALUES (gen_random_uuid()::text, $1, now(), now(), $2, 1)`, [m.checksum, m.name]);
        }
      } else if (this.tool === 'drizzle') {
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${q(this.located.schema)}`);
        await c.query(`CREATE TABLE IF NOT EXISTS ${from} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint${this.located.nameTracked ? ', name text, applied_at timestamp with time zone DEFAULT now()' : ''})`);
        for (const m of missing) {
          if (this.located.nameTracked) await c.query(`INSERT INTO ${from} (hash, created_at, name) VALUES ($1, $2, $3)`, [m.checksum, m.when, m.name]);
          else await c.query(`INSERT INTO ${from} (hash, created_at) VALUES ($1, $2)`, [m.checksum, m.when]);
        }
      } else {
        await c.query(`CREATE TABLE IF NOT EXISTS ${from} ("version" bigint, "inserted_at" timestamp(0), PRIMARY KEY ("version"))`);
        for (const m of missing) await c.query(`INSERT INTO ${from} (version, inserted_at) VALUES ($1, (now() AT TIME ZONE 'utc')::timestamp(0)) ON CONFLICT DO NOTHING`, [m.version]);
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
    return missing.map((m) => this.name(m));
  }

  private async forget(c: pg.Client, ms: readonly LocalMigration[]): Promise<number> {
    const from = `${q(this.located.schema)}.${q(this.located.table)}`;
    const r =
      this.tool === 'prisma'
        ? await c.query(`DELETE FROM ${from} WHERE migration_name = ANY($1)`, [ms.map((m) => m.name)])
        : this.tool === 'drizzle'
          ? await c.query(`DELETE FROM ${from} WHERE hash = ANY($1)`, [ms.map((m) => m.checksum)])
          : await c.query(`DELETE FROM ${from} WHERE version = ANY($1::bigint[])`, [ms.map((m) => m.version)]);
    return r.rowCount ?? 0;
  }

  // ---------- phantoms ----------

  private timestampAfter(ms: readonly LocalMigration[], days: number): string {
    const stamps = ms.map((m) => /^(\d{14})/.exec(this.name(m))?.[1]).filter((x): x is string => x !== undefined).sort();
    const last = stamps[stamps.length - 1];
    const base = last ? Date.UTC(+last.slice(0, 4), +last.slice(4, 6) - 1, +last.slice(6, 8), +last.slice(8, 10), +last.slice(10, 12), +last.slice(12, 14)) : Date.now();
    return new Date(base + days * 86_400_000).toISOString().replace(/\D/g, '').slice(0, 14);
  }

  private async stagePhantom(c: pg.Client, plan: IncidentPlan): Promise<string> {
    const p = plan.phantom!;
    if (p.kind === 'folder') return this.phantomFromFolder(c, plan, p.folder);
    const from = `${q(this.located.schema)}.${q(this.located.table)}`;
    const made = p.name === undefined;
    const text = `-- applied by hand in production; its file is in no repository\n`;
    let name: string;
    if (this.tool === 'prisma') {
      name = p.name ?? `${this.timestampAfter(plan.base, 1)}_hotfix_applied_in_production`;
      await c.query(`INSERT INTO ${from} (id, checksum, started_at, finished_at, migration_name, applied_steps_count) VALUES (gen_random_uuid()::text, $1, now() - interval '1 day', now() - interval '1 day', $2, 1)`, [prismaChecksum(`${text}-- ${name}\n`), name]);
    } else if (this.tool === 'drizzle') {
      const last = plan.base[plan.base.length - 1]!;
      name = p.name ?? `hotfix after ${last.name}`;
      // created_at no newer than the last applied migration's, so drizzle's high-water mark hides nothing pending.
      await c.query(`INSERT INTO ${from} (hash, created_at) VALUES ($1, $2)`, [drizzleHash(`${text}-- ${name}\n`), last.when]);
    } else {
      const versions = new Set(this.copy.local.map((m) => m.version));
      let v = p.name ?? this.timestampAfter(plan.base, 1);
      while (!p.name && versions.has(v)) v = String(BigInt(v) + 1n);
      name = v;
      await c.query(`INSERT INTO ${from} (version, inserted_at) VALUES ($1, (now() AT TIME ZONE 'utc')::timestamp(0) - interval '1 day') ON CONFLICT DO NOTHING`, [v]);
    }
    this.lines.push(`phantom: a tracking row for ${name}, a migration that is not in ${this.o.project.migrations}${made ? ' (name made up by drillbook)' : ''}`);
    return name;
  }

  /** Prisma: the migrations of `folder` (made up when it has none) are applied by the tool, then are not in the migrations folder. */
  private async phantomFromFolder(c: pg.Client, plan: IncidentPlan, folder: string): Promise<string> {
    const dir = path.resolve(this.o.workdir, folder);
    const rel = path.relative(this.o.workdir, dir);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new DrillbookError(`phantom folder ${folder} is outside the project`, { exitCode: 2 });
    let names = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'migration.sql'))).map((e) => e.name).sort() : [];
    let made = false;
    if (names.length === 0) {
      const name = `${this.timestampAfter(this.copy.local, 1)}_production_hotfix`;
      mkdirSync(path.join(dir, name), { recursive: true });
      writeFileSync(
        path.join(dir, name, 'migration.sql'),
        `-- Applied to production from another branch, and never merged into this repository.\n-- (Made up by drillbook for the drill: ${path.basename(this.o.project.dir)} has no such migration.)\n-- CreateTable\nCREATE TABLE "drill_production_hotfix" (\n    "id" SERIAL NOT NULL,\n    "note" TEXT NOT NULL,\n    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,\n\n    CONSTRAINT "drill_production_hotfix_pkey" PRIMARY KEY ("id")\n);\n`,
      );
      names = [name];
      made = true;
    }
    const clash = names.find((n) => this.copy.local.some((m) => m.name === n));
    if (clash) throw new DrillbookError(`phantom ${clash} in ${folder} is also in ${this.o.project.migrations}: it would not be a phantom`, { exitCode: 2 });
    for (const n of names) cpSync(path.join(dir, n), path.join(this.folder, n), { recursive: true });
    try {
      // The tool applies them as it would on the other branch: they join the folder for one deploy.
      this.copy = detectProject(this.o.workdir, { tool: this.tool, migrations: this.o.project.migrations });
      const view = [...plan.base.map((m) => this.mine(m)), ...this.copy.local.filter((m) => names.includes(m.name))];
      this.located = locate(this.tool, this.folder, this.o.url, this.o.project.tracking ?? {});
      await this.apply(c, view, `applying the phantom migration${names.length > 1 ? 's' : ''} ${names.join(', ')}`);
    } finally {
      for (const n of names) rmSync(path.join(this.folder, n), { recursive: true, force: true });
      this.copy = detectProject(this.o.workdir, { tool: this.tool, migrations: this.o.project.migrations });
      this.located = locate(this.tool, this.folder, this.o.url, this.o.project.tracking ?? {});
    }
    this.lines.push(`phantom: ${names.join(', ')} applied with ${COMMAND[this.tool].label}, then left out of ${this.o.project.migrations} (kept in ${rel}${made ? ', made up by drillbook' : ''})`);
    return names.join(',');
  }

  // ---------- failures ----------

  /** Every DDL refused (a lock timeout) and every write to an application table (a serialization failure): the tool records the failure itself. */
  private async refuseChanges(c: pg.Client): Promise<() => Promise<void>> {
    const tables = (
      await c.query(
        `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_%'
           AND NOT (n.nspname = $1 AND c.relname = $2)`,
        [this.located.schema, this.located.table],
      )
    ).rows.map((r: { t: string }) => r.t);
    // Event trigger functions cannot live in pg_temp: a schema of drillbook's own, dropped afterwards.
    await c.query('CREATE SCHEMA drillbook_staging');
    await c.query(`CREATE FUNCTION drillbook_staging.refuse_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'canceling statement due to lock timeout' USING ERRCODE = '55P03'; END $$`);
    await c.query(`CREATE FUNCTION drillbook_staging.refuse_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not serialize access due to concurrent update' USING ERRCODE = '40001'; END $$`);
    for (const t of tables) await c.query(`CREATE TRIGGER drillbook_staged_failure BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION drillbook_staging.refuse_write()`);
    await c.query('CREATE EVENT TRIGGER drillbook_staged_failure ON ddl_command_start EXECUTE FUNCTION drillbook_staging.refuse_ddl()');
    return async () => {
      await c.query('DROP EVENT TRIGGER IF EXISTS drillbook_staged_failure');
      for (const t of tables) await c.query(`DROP TRIGGER IF EXISTS drillbook_staged_failure ON ${t}`);
      await c.query('DROP SCHEMA drillbook_staging CASCADE');
    };
  }

  private async failedRow(c: pg.Client, name: string): Promise<{ logs: string | null } | undefined> {
    const r = await c.query(`SELECT logs FROM ${q(this.located.schema)}.${q(this.located.table)} WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`, [name]);
    return r.rows[0] as { logs: string | null } | undefined;
  }

  private async stageFailed(c: pg.Client, plan: IncidentPlan, failed: LocalMigration): Promise<void> {
    const undo = await this.refuseChanges(c);
    let r: { exitCode: number; output: string };
    try {
      r = await this.withView([...plan.base, failed].map((m) => this.mine(m)), () => this.runTool());
    } finally {
      await undo();
    }
    const row = await this.failedRow(c, failed.name);
    if (r.exitCode === 0 || !row) {
      throw new DrillbookError(`staging the failed migration ${failed.name}: ${COMMAND[this.tool].label} did not fail as staged (exit ${r.exitCode})${r.output ? `:\n${lastLines(r.output, 8)}` : ''}`, { exitCode: 1 });
    }
    this.lines.push(`failed during ${COMMAND[this.tool].label}: ${failed.name} (${prismaLogError(row.logs)}; recorded by the tool, nothing else left behind)`);
  }

  /** A unique index built CONCURRENTLY over duplicate rows: it fails, the index stays INVALID, the tool records the failure. Returns the table's key column. */
  private async stageInvalidIndex(c: pg.Client, plan: IncidentPlan): Promise<string | undefined> {
    const { migration, build } = plan.invalidIndex!;
    const table = `${q(build.schema ?? 'public')}.${q(build.table)}`;
    const present = (await c.query('SELECT to_regclass($1) IS NOT NULL AS p', [table])).rows[0].p as boolean;
    if (!present) throw new DrillbookError(`staging the INVALID index: ${migration.name} builds ${build.index} on ${build.table}, which the migrations before it do not create`, { exitCode: 2 });
    const added = await ensureDuplicates(c, table, build.column);
    if (added) this.lines.push(`${added} rows made up in ${build.table} so that ${build.column} holds duplicates (the project's database has no rows here)`);
    const r = await this.withView([...plan.base, migration].map((m) => this.mine(m)), () => this.runTool());
    const idx = await c.query('SELECT x.indisvalid AS valid FROM pg_index x WHERE x.indexrelid = to_regclass($1)', [`${q(build.schema ?? 'public')}.${q(build.index)}`]);
    const row = await this.failedRow(c, migration.name);
    if (r.exitCode === 0 || !row || idx.rowCount !== 1 || (idx.rows[0] as { valid: boolean }).valid) {
      throw new DrillbookError(`staging the INVALID index: ${COMMAND[this.tool].label} of ${migration.name} did not leave ${build.index} INVALID and the migration failed (exit ${r.exitCode})${r.output ? `:\n${lastLines(r.output, 8)}` : ''}`, { exitCode: 1 });
    }
    this.lines.push(`failed during ${COMMAND[this.tool].label}: ${migration.name} (${prismaLogError(row.logs)}), leaving ${build.index} INVALID`);
    const key = await c.query(
      `SELECT a.attname AS k FROM pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
       WHERE x.indrelid = $1::regclass AND x.indisprimary AND x.indnatts = 1`,
      [table],
    );
    return (key.rows[0] as { k: string } | undefined)?.k;
  }
}
