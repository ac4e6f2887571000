/**
 * A fingerprint of a drill database: everything a rollback must bring back. The schema (schemas,
 * tables, columns with their types, collations, defaults and order, indexes and whether they are
 * valid, constraints and whether they are validated, views and materialized views, functions,
 * triggers, rules, policies and row-level security, types, sequences, statistics objects), who may
 * do what (owners, GRANTs), comments, persistence (UNLOGGED), installed extensions, the cluster's
 * roles, the migration tools' tracking rows, and every table's and materialized view's row count
 * and content hash. Sequence positions are kept apart: one that only advanced is normal after rows
 * were inserted and removed, one set back is not.
 *
 * Taken before a rehearsed rollback and after it, the two say whether the state came back: proof,
 * not trust. Read in one REPEATABLE READ, READ ONLY transaction, in a few round trips.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';

export interface TableData {
  rows: number;
  /**
   * md5 over the sorted md5 of every row as JSON (keys sorted, so independent of the column order
   * and of the physical order of the rows; SQL NULL values left out, so a nullable column added or
   * dropped while empty does not change it). "" when the table is empty or a materialized view is
   * not populated.
   */
  hash: string;
  /** A materialized view WITH NO DATA. */
  unpopulated?: true;
}

export interface TrackingRow {
  tool: 'prisma' | 'drizzle' | 'ecto';
  table: string;
  /** The migration the row is about (its name, hash or version). */
  migration: string;
  /** What must come back as it was (timestamps of re-inserted rows are left out). */
  facts: Record<string, string | null>;
}

/** A table, partitioned table, view, materialized view, foreign table, sequence or composite type. */
export interface Relation {
  /** relkind: r table, p partitioned, v view, m materialized view, f foreign, S sequence, c composite type. */
  kind: string;
  owner: string;
  /** relpersistence: p permanent, u unlogged. */
  persistence: string;
  /** The privileges granted on it (aclitems, sorted; the default ones spelled out). */
  acl: string[];
  comment: string | null;
  /** Storage parameters (reloptions), sorted. */
  options: string[];
  rowSecurity: boolean;
  forceRowSecurity: boolean;
  /** relreplident: d default, n nothing, f full, i index. */
  replicaIdentity: string;
  /** A view's query, a partitioned table's key, a sequence's parameters and the column that owns it. */
  definition: string | null;
  /** A partition's bounds. */
  partitionBound: string | null;
  /** The tables it inherits from (or is a partition of). */
  parents: string[];
}

export interface Column {
  name: string;
  /** "type [collate c] [not null] [generated … | default …]" */
  type: string;
  /** Column-level privileges, sorted. */
  acl: string[];
  comment: string | null;
}

export interface Fingerprint {
  /** The database itself: its privileges, comment, settings, default privileges and event triggers. */
  database: { name: string; owner: string; acl: string[]; comment: string | null; settings: string[]; defaultAcl: string[]; eventTriggers: string[] };
  /** The cluster's roles (not the built-in pg_*): "attributes; member of …; settings". */
  roles: Record<string, string>;
  /** Installed extensions: "version in schema". */
  extensions: Record<string, string>;
  schemas: Record<string, { owner: string; acl: string[]; comment: string | null }>;
  /** "schema.name" → the relation. */
  relations: Record<string, Relation>;
  /** "schema.table" → its columns, in their order. */
  columns: Record<string, Column[]>;
  /** "schema.index" → { table, definition, valid }. */
  indexes: Record<string, { table: string; definition: string; valid: boolean; comment: string | null }>;
  /** "schema.table.constraint" → { definition, validated }. */
  constraints: Record<string, { table: string; definition: string; validated: boolean; comment: string | null }>;
  /** "schema.table.trigger" (user triggers, not the internal ones of foreign keys). */
  triggers: Record<string, { table: string; definition: string; enabled: string; comment: string | null }>;
  /** "schema.table.policy" */
  policies: Record<string, { table: string; definition: string; comment: string | null }>;
  /** "schema.table.rule" (not a view's own _RETURN rule) */
  rules: Record<string, { table: string; definition: string; enabled: string }>;
  /** "schema.statistics" → extended statistics objects. */
  statistics: Record<string, { table: string; definition: string }>;
  /** "schema.name(argument types)" → functions, procedures, aggregates (not an extension's own). */
  functions: Record<string, { definition: string; owner: string; acl: string[]; comment: string | null }>;
  /** "schema.name" → enum, domain, range and base types (not an extension's own). */
  types: Record<string, { kind: string; definition: string; owner: string; acl: string[]; comment: string | null }>;
  /** Row count and content hash of every table (and populated materialized view), tracking tables aside. */
  data: Record<string, TableData>;
  tracking: TrackingRow[];
  /**
   * "schema.sequence" → the value its next nextval() returns, and its increment. Not part of the
   * digest: compared on its own (set back is a difference, advanced is a note).
   */
  positions: Record<string, { next: string; increment: string }>;
  /** sha256 over everything above but the sequence positions. */
  digest: string;
}

const SYSTEM = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;
/** Not a member of an extension (its objects come and go with it, named by the extension's version). */
const notExtensionMember = (catalog: string, oid: string) => `NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '${catalog}'::regclass AND dep.objid = ${oid} AND dep.deptype = 'e')`;
/** Privileges as a sorted list, the owner's default ones spelled out (NULL means the default). */
const aclOf = (acl: string, kind: string, owner: string) => `ARRAY(SELECT x::text FROM unnest(coalesce(${acl}, acldefault(${kind}, ${owner}))) x ORDER BY 1)`;
const qi = (s: string) => `"${s.replace(/"/g, '""')}"`;

const TRACKING_TABLES: Record<string, TrackingRow['tool']> = { _prisma_migrations: 'prisma', __drizzle_migrations: 'drizzle', schema_migrations: 'ecto' };

/** The catalog, read in one round trip (several statements, one simple query). */
const CATALOG = {
  database: `SELECT d.datname AS name, pg_get_userbyid(d.datdba) AS owner, ${aclOf('d.datacl', `'d'`, 'd.datdba')} AS acl, shobj_description(d.oid, 'pg_database') AS comment,
      ARRAY(SELECT CASE WHEN s.setrole = 0 THEN '' ELSE pg_get_userbyid(s.setrole) || ': ' END || array_to_string(s.setconfig, ', ') FROM pg_db_role_setting s WHERE s.setdatabase = d.oid ORDER BY 1) AS settings,
      ARRAY(SELECT pg_get_userbyid(a.defaclrole) || coalesce(' in schema ' || an.nspname, '') || ' on ' || a.defaclobjtype::text || ': ' || array_to_string(ARRAY(SELECT x::text FROM unnest(a.defaclacl) x ORDER BY 1), ',')
            FROM pg_default_acl a LEFT JOIN pg_namespace an ON an.oid = a.defaclnamespace ORDER BY 1) AS default_acl,
      ARRAY(SELECT e.evtname || ' on ' || e.evtevent || ' executes ' || e.evtfoid::regproc::text || ' (enabled ' || e.evtenabled::text || ')' || coalesce(' when tag in (' || array_to_string(e.evttags, ', ') || ')', '')
            FROM pg_event_trigger e ORDER BY 1) AS event_triggers
    FROM pg_database d WHERE d.datname = current_database()`,
  roles: `SELECT r.rolname AS name,
      concat_ws(' ', CASE WHEN r.rolsuper THEN 'superuser' END, CASE WHEN r.rolcanlogin THEN 'login' ELSE 'nologin' END, CASE WHEN r.rolcreatedb THEN 'createdb' END,
        CASE WHEN r.rolcreaterole THEN 'createrole' END, CASE WHEN NOT r.rolinherit THEN 'noinherit' END, CASE WHEN r.rolreplication THEN 'replication' END,
        CASE WHEN r.rolbypassrls THEN 'bypassrls' END, CASE WHEN r.rolconnlimit <> -1 THEN 'connection limit ' || r.rolconnlimit END,
        CASE WHEN r.rolvaliduntil IS NOT NULL THEN 'valid until ' || r.rolvaliduntil END) AS attributes,
      ARRAY(SELECT DISTINCT b.rolname || CASE WHEN m.admin_option THEN ' (with admin option)' ELSE '' END FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS member_of,
      ARRAY(SELECT x FROM unnest(r.rolconfig) x ORDER BY 1) AS settings,
      shobj_description(r.oid, 'pg_authid') AS comment
    FROM pg_roles r WHERE r.rolname !~ '^pg_' ORDER BY 1`,
  extensions: `SELECT e.extname AS name, e.extversion AS version, n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1`,
  schemas: `SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner, ${aclOf('n.nspacl', `'n'`, 'n.nspowner')} AS acl, obj_description(n.oid, 'pg_namespace') AS comment
    FROM pg_namespace n WHERE ${SYSTEM} ORDER BY 1`,
  relations: `SELECT n.nspname AS s, c.relname AS t, c.relkind::text AS k, pg_get_userbyid(c.relowner) AS owner, c.relpersistence::text AS persistence,
      ${aclOf('c.relacl', `(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char"`, 'c.relowner')} AS acl,
      obj_description(c.oid, 'pg_class') AS comment, ARRAY(SELECT x FROM unnest(c.reloptions) x ORDER BY 1) AS options,
      c.relrowsecurity AS rls, c.relforcerowsecurity AS force_rls, c.relreplident::text AS replident,
      CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) WHEN c.relkind = 'p' THEN 'partition by ' || pg_get_partkeydef(c.oid)
           WHEN c.relkind = 'S' THEN (SELECT format('%s start %s increment %s minvalue %s maxvalue %s cache %s%s', format_type(q.seqtypid, NULL), q.seqstart, q.seqincrement, q.seqmin, q.seqmax, q.seqcache, CASE WHEN q.seqcycle THEN ' cycle' ELSE '' END)
             || coalesce((SELECT ' owned by ' || tn.nspname || '.' || t.relname || '.' || a.attname FROM pg_depend o JOIN pg_class t ON t.oid = o.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
                          JOIN pg_attribute a ON a.attrelid = o.refobjid AND a.attnum = o.refobjsubid
                          WHERE o.classid = 'pg_class'::regclass AND o.objid = c.oid AND o.refclassid = 'pg_class'::regclass AND o.refobjsubid > 0 AND o.deptype IN ('a', 'i') LIMIT 1), '')
             FROM pg_sequence q WHERE q.seqrelid = c.oid) END AS definition,
      CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS bound,
      ARRAY(SELECT pn.nspname || '.' || pc.relname FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = c.oid ORDER BY i.inhseqno) AS parents,
      c.relispopulated AS populated, (SELECT q.seqincrement::text FROM pg_sequence q WHERE q.seqrelid = c.oid) AS increment
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c') AND ${SYSTEM} AND ${notExtensionMember('pg_class', 'c.oid')} ORDER BY 1, 2`,
  columns: `SELECT n.nspname AS s, c.relname AS t, a.attname AS c,
      format_type(a.atttypid, a.atttypmod)
        || CASE WHEN a.attcollation <> ty.typcollation AND co.oid IS NOT NULL THEN ' collate ' || CASE WHEN cn.nspname = 'pg_catalog' THEN '' ELSE quote_ident(cn.nspname) || '.' END || quote_ident(co.collname) ELSE '' END
        || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
        || CASE a.attidentity WHEN 'a' THEN ' generated always as identity' WHEN 'd' THEN ' generated by default as identity' ELSE '' END
        || CASE WHEN a.attgenerated = 's' THEN ' generated always as (' || pg_get_expr(d.adbin, d.adrelid) || ') stored' WHEN d.adbin IS NOT NULL THEN ' default ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END AS ty,
      ARRAY(SELECT x::text FROM unnest(a.attacl) x ORDER BY 1) AS acl, col_description(c.oid, a.attnum) AS comment
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type ty ON ty.oid = a.atttypid
    LEFT JOIN pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') AND ${SYSTEM} AND ${notExtensionMember('pg_class', 'c.oid')} ORDER BY 1, 2, a.attnum`,
  indexes: `SELECT n.nspname AS s, t.relname AS t, i.relname AS i, pg_get_indexdef(x.indexrelid) AS def, x.indisvalid AS valid, obj_description(i.oid, 'pg_class') AS comment
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE ${SYSTEM} AND ${notExtensionMember('pg_class', 't.oid')} ORDER BY 1, 3`,
  constraints: `SELECT n.nspname AS s, t.relname AS t, co.conname AS c, pg_get_constraintdef(co.oid) AS def, co.convalidated AS v, obj_description(co.oid, 'pg_constraint') AS comment
    FROM pg_constraint co JOIN pg_class t ON t.oid = co.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE ${SYSTEM} AND ${notExtensionMember('pg_class', 't.oid')} ORDER BY 1, 2, 3`,
  triggers: `SELECT n.nspname AS s, t.relname AS t, g.tgname AS g, pg_get_triggerdef(g.oid) AS def, g.tgenabled::text AS enabled, obj_description(g.oid, 'pg_trigger') AS comment
    FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE NOT g.tgisinternal AND ${SYSTEM} AND ${notExtensionMember('pg_class', 't.oid')} ORDER BY 1, 2, 3`,
  policies: `SELECT n.nspname AS s, t.relname AS t, p.polname AS p,
      CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END
        || ' for ' || CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END
        || ' to ' || array_to_string(ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r) END FROM unnest(p.polroles) r ORDER BY 1), ', ')
        || coalesce(' using (' || pg_get_expr(p.polqual, p.polrelid) || ')', '') || coalesce(' with check (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '') AS def,
      obj_description(p.oid, 'pg_policy') AS comment
    FROM pg_policy p JOIN pg_class t ON t.oid = p.polrelid JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE ${SYSTEM} ORDER BY 1, 2, 3`,
  rules: `SELECT n.nspname AS s, t.relname AS t, r.rulename AS r, pg_get_ruledef(r.oid) AS def, r.ev_enabled::text AS enabled
    FROM pg_rewrite r JOIN pg_class t ON t.oid = r.ev_class JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE r.rulename <> '_RETURN' AND ${SYSTEM} ORDER BY 1, 2, 3`,
  statistics: `SELECT n.nspname AS s, x.stxname AS x, tn.nspname || '.' || t.relname AS t, pg_get_statisticsobjdef(x.oid) AS def
    FROM pg_statistic_ext x JOIN pg_namespace n ON n.oid = x.stxnamespace JOIN pg_class t ON t.oid = x.stxrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
    WHERE ${SYSTEM} ORDER BY 1, 2`,
  functions: `SELECT n.nspname AS s, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS f,
      CASE WHEN p.prokind = 'a' THEN (SELECT format('aggregate returning %s, state %s of type %s, final %s, initially %s', pg_get_function_result(p.oid), a.aggtransfn::regproc::text, format_type(a.aggtranstype, NULL), a.aggfinalfn::regproc::text, coalesce(a.agginitval, 'NULL')) FROM pg_aggregate a WHERE a.aggfnoid = p.oid)
           ELSE pg_get_functiondef(p.oid) END AS def,
      pg_get_userbyid(p.proowner) AS owner, ${aclOf('p.proacl', `'f'`, 'p.proowner')} AS acl, obj_description(p.oid, 'pg_proc') AS comment
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE ${SYSTEM} AND ${notExtensionMember('pg_proc', 'p.oid')} ORDER BY 1, 2`,
  types: `SELECT n.nspname AS s, t.typname AS t, t.typtype::text AS k,
      CASE t.typtype
        WHEN 'e' THEN '(' || array_to_string(ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), ', ') || ')'
        WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod) || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || t.typdefault, '')
          || coalesce((SELECT string_agg(' constraint ' || co.conname || ' ' || pg_get_constraintdef(co.oid) || CASE WHEN co.convalidated THEN '' ELSE ' (not validated)' END, '' ORDER BY co.conname) FROM pg_constraint co WHERE co.contypid = t.oid), '')
        WHEN 'r' THEN (SELECT 'range of ' || format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid)
        ELSE 'base type (input ' || t.typinput::text || ', output ' || t.typoutput::text || ')' END AS def,
      pg_get_userbyid(t.typowner) AS owner, ${aclOf('t.typacl', `'T'`, 't.typowner')} AS acl, obj_description(t.oid, 'pg_type') AS comment
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typtype IN ('e', 'd', 'r', 'b') AND NOT EXISTS (SELECT 1 FROM pg_type el WHERE el.typarray = t.oid) AND ${SYSTEM} AND ${notExtensionMember('pg_type', 't.oid')} ORDER BY 1, 2`,
} as const;

type Row = Record<string, unknown>;
const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** Several statements in one simple query: one round trip, their results in order. */
async function many(client: pg.Client, statements: readonly string[]): Promise<Row[][]> {
  if (statements.length === 0) return [];
  const r = (await client.query(statements.join(';\n'))) as unknown as pg.QueryResult | pg.QueryResult[];
  return (Array.isArray(r) ? r : [r]).map((x) => x.rows as Row[]);
}

export async function takeFingerprint(client: pg.Client): Promise<Fingerprint> {
  await client.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const names = Object.keys(CATALOG) as Array<keyof typeof CATALOG>;
    const results = await many(client, names.map((k) => CATALOG[k]));
    const rows = Object.fromEntries(names.map((k, i) => [k, results[i] ?? []])) as Record<keyof typeof CATALOG, Row[]>;

    const db = rows.database[0] ?? {};
    const database: Fingerprint['database'] = { name: str(db.name), owner: str(db.owner), acl: strs(db.acl), comment: strOrNull(db.comment), settings: strs(db.settings), defaultAcl: strs(db.default_acl), eventTriggers: strs(db.event_triggers) };
    const roles: Fingerprint['roles'] = {};
    for (const r of rows.roles) {
      const memberOf = strs(r.member_of);
      const settings = strs(r.settings);
      roles[str(r.name)] = [str(r.attributes), memberOf.length ? `member of ${memberOf.join(', ')}` : '', settings.length ? `set ${settings.join(', ')}` : '', r.comment !== null ? `comment ${JSON.stringify(r.comment)}` : ''].filter(Boolean).join('; ');
    }
    const extensions: Fingerprint['extensions'] = {};
    for (const r of rows.extensions) extensions[str(r.name)] = `${str(r.version)} in schema ${str(r.schema)}`;
    const schemas: Fingerprint['schemas'] = {};
    for (const r of rows.schemas) schemas[str(r.name)] = { owner: str(r.owner), acl: strs(r.acl), comment: strOrNull(r.comment) };

    const relations: Fingerprint['relations'] = {};
    const populated = new Map<string, boolean>();
    const increments = new Map<string, string>();
    for (const r of rows.relations) {
      const rel = `${str(r.s)}.${str(r.t)}`;
      relations[rel] = {
        kind: str(r.k),
        owner: str(r.owner),
        persistence: str(r.persistence),
        acl: r.k === 'c' ? [] : strs(r.acl),
        comment: strOrNull(r.comment),
        options: strs(r.options),
        rowSecurity: r.rls === true,
        forceRowSecurity: r.force_rls === true,
        replicaIdentity: str(r.replident),
        definition: strOrNull(r.definition),
        partitionBound: strOrNull(r.bound),
        parents: strs(r.parents),
      };
      populated.set(rel, r.populated === true);
      if (r.k === 'S' && r.increment !== null) increments.set(rel, str(r.increment));
    }
    const columns: Fingerprint['columns'] = {};
    for (const r of rows.columns) (columns[`${str(r.s)}.${str(r.t)}`] ??= []).push({ name: str(r.c), type: str(r.ty), acl: strs(r.acl), comment: strOrNull(r.comment) });
    const indexes: Fingerprint['indexes'] = {};
    for (const r of rows.indexes) indexes[`${str(r.s)}.${str(r.i)}`] = { table: `${str(r.s)}.${str(r.t)}`, definition: str(r.def), valid: r.valid === true, comment: strOrNull(r.comment) };
    const constraints: Fingerprint['constraints'] = {};
    for (const r of rows.constraints) constraints[`${str(r.s)}.${str(r.t)}.${str(r.c)}`] = { table: `${str(r.s)}.${str(r.t)}`, definition: str(r.def), validated: r.v === true, comment: strOrNull(r.comment) };
    const triggers: Fingerprint['triggers'] = {};
    for (const r of rows.triggers) triggers[`${str(r.s)}.${str(r.t)}.${str(r.g)}`] = { table: `${str(r.s)}.${str(r.t)}`, definition: str(r.def), enabled: str(r.enabled), comment: strOrNull(r.comment) };
    const policies: Fingerprint['policies'] = {};
    for (const r of rows.policies) policies[`${str(r.s)}.${str(r.t)}.${str(r.p)}`] = { table: `${str(r.s)}.${str(r.t)}`, definition: str(r.def), comment: strOrNull(r.comment) };
    const rules: Fingerprint['rules'] = {};
    for (const r of rows.rules) rules[`${str(r.s)}.${str(r.t)}.${str(r.r)}`] = { table: `${str(r.s)}.${str(r.t)}`, definition: str(r.def), enabled: str(r.enabled) };
    const statistics: Fingerprint['statistics'] = {};
    for (const r of rows.statistics) statistics[`${str(r.s)}.${str(r.x)}`] = { table: str(r.t), definition: str(r.def) };
    const functions: Fingerprint['functions'] = {};
    for (const r of rows.functions) functions[`${str(r.s)}.${str(r.f)}`] = { definition: str(r.def), owner: str(r.owner), acl: strs(r.acl), comment: strOrNull(r.comment) };
    const types: Fingerprint['types'] = {};
    for (const r of rows.types) types[`${str(r.s)}.${str(r.t)}`] = { kind: str(r.k), definition: str(r.def), owner: str(r.owner), acl: strs(r.acl), comment: strOrNull(r.comment) };

    // The migration tools' tracking tables, reduced to what a rollback must restore.
    const tracking: TrackingRow[] = [];
    const trackingTables = new Set<string>();
    for (const [rel, r] of Object.entries(relations)) {
      if (r.kind !== 'r') continue;
      const [schema, table] = splitName(rel);
      const tool = TRACKING_TABLES[table];
      if (!tool) continue;
      const found = await trackingRows(client, tool, schema, table);
      if (found) {
        tracking.push(...found);
        trackingTables.add(rel);
      }
    }

    // Every table's and populated materialized view's rows, and every sequence's position: one round trip.
    const hashed = Object.entries(relations).filter(([rel, r]) => (r.kind === 'r' || (r.kind === 'm' && populated.get(rel))) && !trackingTables.has(rel));
    const sequences = Object.entries(relations).filter(([, r]) => r.kind === 'S');
    const statements = [
      ...hashed.map(([rel]) => rowsHashSql(client, rel, columns[rel] ?? [])),
      ...sequences.map(([rel]) => { const [s, t] = splitName(rel); return `SELECT last_value::text AS last, is_called AS called FROM ${qi(s)}.${qi(t)}`; }),
    ];
    const answers = await many(client, statements);
    const data: Fingerprint['data'] = {};
    hashed.forEach(([rel], i) => {
      const r = answers[i]?.[0] ?? {};
      data[rel] = { rows: Number(r.n), hash: str(r.hash ?? '') };
    });
    for (const [rel, r] of Object.entries(relations)) if (r.kind === 'm' && !populated.get(rel)) data[rel] = { rows: 0, hash: '', unpopulated: true };
    const positions: Fingerprint['positions'] = {};
    sequences.forEach(([rel], i) => {
      const r = answers[hashed.length + i]?.[0];
      if (!r) return;
      const increment = increments.get(rel) ?? '1';
      // What the next nextval() hands out: the last value plus the increment once called, else the last value itself.
      positions[rel] = { next: r.called === true ? (BigInt(str(r.last)) + BigInt(increment)).toString() : str(r.last), increment };
    });

    const fp = { database, roles, extensions, schemas, relations, columns, indexes, constraints, triggers, policies, rules, statistics, functions, types, data, tracking };
    return { ...fp, positions, digest: createHash('sha256').update(JSON.stringify(fp)).digest('hex') };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

function splitName(rel: string): [string, string] {
  const dot = rel.indexOf('.');
  return [rel.slice(0, dot), rel.slice(dot + 1)];
}

/**
 * Count and content hash of a table's rows. Each row as JSON (its keys sorted: the column order does
 * not matter), without its SQL NULL values (a JSON null inside a json column stays): a column
 * re-added empty after its values were dropped changes the hash, a nullable column added and left
 * empty does not (the schema names it).
 */
function rowsHashSql(client: pg.Client, rel: string, cols: readonly Column[]): string {
  const [schema, table] = splitName(rel);
  const nulls = cols.map((c) => `CASE WHEN num_nulls(t.${qi(c.name)}) = 1 THEN ${client.escapeLiteral(c.name)} END`);
  const row = `(to_jsonb(t) - ARRAY[${nulls.join(', ')}]::text[])::text`;
  return `SELECT count(*)::text AS n, coalesce(md5(string_agg(h, '' ORDER BY h)), '') AS hash FROM (SELECT md5(${row}) AS h FROM ONLY ${qi(schema)}.${qi(table)} t) rows`;
}

/** The tracking rows of a tool, reduced to what a rollback must restore; undefined if the table is not the tool's. */
async function trackingRows(client: pg.Client, tool: TrackingRow['tool'], schema: string, table: string): Promise<TrackingRow[] | undefined> {
  const from = `${qi(schema)}.${qi(table)}`;
  const label = `${schema}.${table}`;
  try {
    await client.query('SAVEPOINT fingerprint_tracking');
    let out: TrackingRow[];
    if (tool === 'prisma') {
      const rows = (await client.query(`SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back, applied_steps_count::text AS steps, coalesce(logs, '') AS logs FROM ${from} ORDER BY migration_name, started_at, id`)).rows as Array<{ migration_name: string; checksum: string; finished: boolean; rolled_back: boolean; steps: string; logs: string }>;
      const seen = new Map<string, number>();
      out = rows.map((r) => {
        const n = (seen.get(r.migration_name) ?? 0) + 1;
        seen.set(r.migration_name, n);
        const state = r.rolled_back ? 'rolled back' : r.finished ? 'applied' : 'failed';
        return { tool, table: label, migration: n > 1 ? `${r.migration_name} (row ${n})` : r.migration_name, facts: { state, checksum: r.checksum, applied_steps_count: r.steps, logs: r.logs } };
      });
    } else if (tool === 'drizzle') {
      const rows = (await client.query(`SELECT hash, created_at::text AS created_at FROM ${from} ORDER BY created_at, hash`)).rows as Array<{ hash: string; created_at: string | null }>;
      out = rows.map((r) => ({ tool, table: label, migration: `${r.created_at ?? 'NULL'} (${r.hash.slice(0, 12)})`, facts: { hash: r.hash, created_at: r.created_at } }));
    } else {
      const rows = (await client.query(`SELECT version::text AS version FROM ${from} ORDER BY version`)).rows as Array<{ version: string }>;
      out = rows.map((r) => ({ tool, table: label, migration: r.version, facts: { version: r.version } }));
    }
    await client.query('RELEASE SAVEPOINT fingerprint_tracking');
    return out;
  } catch {
    // Not the tool's table after all (other columns): fingerprint it as data.
    await client.query('ROLLBACK TO SAVEPOINT fingerprint_tracking').catch(() => undefined);
    return undefined;
  }
}
