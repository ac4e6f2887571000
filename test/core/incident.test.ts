/**
 * Incidents as recipes, the pure part: which migrations a recipe leaves applied, pending or
 * failed on a project's folder, the facts that fill a runbook's inputs, the unique index a
 * migration builds concurrently, and what the linter refuses in an incident.
 */
import { describe, expect, it } from 'vitest';
import { factsOf, IncidentError, incidentOf, planIncident, uniqueIndexBuiltConcurrently, type Incident } from '../../src/core/incident.js';
import type { LocalMigration } from '../../src/core/migrations/types.js';
import { parseRunbook } from '../../src/core/load.js';
import { formatProblem } from '../../src/core/errors.js';

const m = (name: string, sql = 'SELECT 1;'): LocalMigration => ({ name, sql, checksum: 'x', path: `/p/${name}/migration.sql` });
const names = (ms: readonly LocalMigration[]) => ms.map((x) => x.name);
const FOLDER = ['20250101_init', '20250102_orders', '20250103_inventory', '20250104_reviews', '20250105_coupons'].map((n) => m(n));

describe('planIncident', () => {
  it('failed: true is the last migration; everything before it applied', () => {
    const p = planIncident({ tool: 'prisma', failed: true }, FOLDER, 'shop');
    expect(names(p.base)).toEqual(names(FOLDER.slice(0, 4)));
    expect(p.failed?.name).toBe('20250105_coupons');
    expect(p.pending).toEqual([]);
    expect(factsOf(p, {})).toEqual({ failed: '20250105_coupons', deploy: '20250105_coupons', applied: names(FOLDER.slice(0, 4)).join(','), last_applied: '20250104_reviews' });
  });

  it('pending counts the failed one; failed: K puts the failure K from the end, with pending on both sides', () => {
    const p = planIncident({ tool: 'prisma', pending: 3, failed: 2 }, FOLDER, 'shop');
    expect(names(p.base)).toEqual(['20250101_init', '20250102_orders']);
    expect(p.failed?.name).toBe('20250104_reviews');
    expect(names(p.pending)).toEqual(['20250103_inventory', '20250105_coupons']);
    const f = factsOf(p, {});
    expect(f.deploy).toBe('20250103_inventory,20250104_reviews,20250105_coupons');
    expect(f.pending).toBe('20250103_inventory,20250105_coupons');
    expect(f.first_pending).toBe('20250103_inventory');
  });

  it('untracked, a phantom and an edited migration are facts of the applied part', () => {
    const p = planIncident({ tool: 'drizzle', untracked: true, pending: 1, edited: true, phantom: true }, FOLDER, 'pulse');
    expect(p.untracked).toBe(true);
    expect(p.edited?.name).toBe('20250104_reviews');
    expect(p.phantom).toEqual({ kind: 'row', name: undefined });
    expect(factsOf(p, { phantom: 'hotfix' })).toMatchObject({ untracked: names(FOLDER.slice(0, 4)).join(','), pending: '20250105_coupons', phantom: 'hotfix', edited: '20250104_reviews' });
  });

  it('Ecto names migrations by version, as schema_migrations does', () => {
    const ecto = [{ ...m('20240101000000_create_users'), version: '20240101000000' }, { ...m('20240202000000_add_plan'), version: '20240202000000' }];
    expect(factsOf(planIncident({ tool: 'ecto', pending: 1, untracked: true }, ecto, 'app'), {})).toMatchObject({ untracked: '20240101000000', pending: '20240202000000' });
  });

  it('invalid_index fails the last migration that builds a unique index concurrently; what follows it is pending', () => {
    const folder = [m('1_init'), m('2_sku', '-- CreateIndex\nCREATE UNIQUE INDEX CONCURRENTLY "Product_sku_key" ON "Product"("sku");\n'), m('3_coupons')];
    const p = planIncident({ tool: 'prisma', invalid_index: true }, folder, 'shop');
    expect(p.failed?.name).toBe('2_sku');
    expect(names(p.pending)).toEqual(['3_coupons']);
    expect(factsOf(p, { key: 'id' })).toMatchObject({ index: 'Product_sku_key', table: 'Product', column: 'sku', key: 'id', aside: 'Product_sku_duplicates', failed: '2_sku', deploy: '2_sku,3_coupons' });
  });

  it('a project that cannot hold the incident is said, with what it has', () => {
    expect(() => planIncident({ tool: 'prisma', pending: 5 }, FOLDER, 'shop')).toThrow(IncidentError);
    expect(() => planIncident({ tool: 'prisma', pending: 5 }, FOLDER, 'shop')).toThrow('this incident needs at least 6 migrations (5 not applied and at least one applied before them); shop has 5');
    expect(() => planIncident({ tool: 'prisma', invalid_index: true }, FOLDER, 'shop')).toThrow('none of the 5 migrations of shop builds one');
    expect(() => planIncident({ tool: 'prisma', invalid_index: true }, [m('1', 'CREATE UNIQUE INDEX CONCURRENTLY a ON t (c)')], 'one')).toThrow("is one's first");
  });
});

describe('uniqueIndexBuiltConcurrently', () => {
  it('reads the index, table and first column as written (quoted names keep their case), ignoring comments', () => {
    expect(uniqueIndexBuiltConcurrently('-- CREATE UNIQUE INDEX CONCURRENTLY nope ON x (y)\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "Product_sku_key" ON ONLY public."Product" USING btree ("sku", "id");')).toEqual({ index: 'Product_sku_key', schema: 'public', table: 'Product', column: 'sku' });
    expect(uniqueIndexBuiltConcurrently('create unique index concurrently Users_Email_Key on Users (Email)')).toEqual({ index: 'users_email_key', schema: undefined, table: 'users', column: 'email' });
    expect(uniqueIndexBuiltConcurrently('CREATE UNIQUE INDEX "a" ON "t" ("c")')).toBeUndefined();
    expect(uniqueIndexBuiltConcurrently('CREATE INDEX CONCURRENTLY "a" ON "t" ("c")')).toBeUndefined();
  });
});

const RUNBOOK = (rehearsal: string) => `id: r
title: R
version: 1
inputs:
  failed_migration: {}
databases:
  prod: {url: {env: DATABASE_URL}, environment: production, default: true}
phases:
  - id: p
    title: P
    kind: verify
    steps:
      - {id: c, title: C, check: SELECT 1}
rehearsal:
${rehearsal}`;

function problems(rehearsal: string): string[] {
  return parseRunbook(RUNBOOK(rehearsal), 'r.yaml').problems.filter((p) => p.severity === 'error').map(formatProblem);
}

describe('the linter on incidents', () => {
  it('accepts a recipe whose facts fill declared inputs', () => {
    expect(problems('  workdir: p\n  incident:\n    tool: prisma\n    failed: true\n    inputs: {failed_migration: failed}\n')).toEqual([]);
  });

  it('refuses what cannot go together, at the key, and a fact the incident does not produce', () => {
    expect(problems('  incident:\n    tool: drizzle\n    failed: true\n')).toEqual(['r.yaml:17:5: failed: only Prisma records a failed migration (drizzle runs a failure back in one transaction and records nothing)']);
    expect(problems('  incident:\n    tool: prisma\n    invalid_index: true\n    pending: 1\n')).toEqual(['r.yaml:18:5: with invalid_index, the migrations after the failed index build are pending: drop pending']);
    expect(problems('  incident:\n    tool: prisma\n    pending: 1\n    inputs: {failed_migration: failed}\n')[0]).toMatch(/^r\.yaml:18:\d+: this incident has no "failed" to fill failed_migration with \(it produces: applied, last_applied, pending, first_pending, deploy\)$/);
    expect(problems('  incident:\n    tool: prisma\n    failed: true\n    inputs: {nope: failed}\n')[0]).toMatch(/unknown input "nope"/);
    expect(problems('  setup: [{sql: SELECT 1}]\n  incident: {tool: prisma, failed: true}\n')[0]).toMatch(/from setup SQL or from an incident recipe, not both/);
    expect(problems('  success:\n    - {id: s, title: S}\n')[0]).toMatch(/either check \(SQL\) or migrations, exactly one/);
  });

  it('a variant changes the incident, merged over it', () => {
    const r = parseRunbook(RUNBOOK('  incident: {tool: prisma, pending: 1, inputs: {failed_migration: first_pending}}\n  variants:\n    - {id: two, incident: {pending: 2}}\n'), 'r.yaml');
    expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(incidentOf(r.runbook!, 'two')).toEqual({ tool: 'prisma', pending: 2, inputs: { failed_migration: 'first_pending' } } satisfies Incident);
    expect(incidentOf(r.runbook!, undefined)?.pending).toBe(1);
  });
});
