/**
 * The runbook format, defined once. Types (runbook.ts), validation (load.ts) and the JSON Schema
 * (`drillbook schema`, schema/runbook.schema.json) are all derived from these zod schemas.
 */
import { z } from 'zod';

const identifier = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, "-" or "_", starting with a letter or digit');

/** Input names become environment variables of commands, so they follow shell naming. */
export const inputName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]*$/, 'input names are lower-case letters, digits and "_" (they become environment variables)');

/** "30s", "500ms", "5m", "1h", or a number of seconds. */
export const duration = z
  .union([
    z.number().positive(),
    z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h)$/, 'a duration such as "500ms", "30s", "5m" or "1h"'),
  ])
  .describe('A duration: a number of seconds, or a string such as "500ms", "30s", "5m", "1h".');

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const inputSchema = z.strictObject({
  description: z.string().optional().describe('What the value is, shown when the operator is asked for it.'),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional()
    .describe('Read the value from this environment variable when it is set.'),
  secret: z.boolean().optional().describe('Never shown or written: redacted everywhere.'),
  pattern: z.string().optional().describe('A regular expression the whole value must match.'),
  kind: z
    .enum(['text', 'identifier'])
    .optional()
    .describe('identifier: a table, index or column name (or schema.name). It may then appear as ${name} in SQL, where it is filled in quoted as an identifier ("name"), so any value is safe.'),
});

export const environmentSchema = z.enum(['production', 'staging', 'development']);

export const databaseSchema = z.strictObject({
  description: z.string().optional(),
  url: z
    .union([
      z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') }),
      z.strictObject({ input: inputName }),
    ])
    .describe('Where the connection URL comes from: {env: NAME} or {input: name}. Never a literal URL.'),
  environment: environmentSchema,
  default: z.boolean().optional().describe('Steps without `database:` use this one.'),
});

const comparison = z.strictObject({
  eq: z.number().int().nonnegative().optional(),
  ne: z.number().int().nonnegative().optional(),
  gt: z.number().int().nonnegative().optional(),
  gte: z.number().int().nonnegative().optional(),
  lt: z.number().int().nonnegative().optional(),
  lte: z.number().int().nonnegative().optional(),
});

export const expectSchema = z
  .strictObject({
    rows: z.union([z.number().int().nonnegative(), comparison]).optional()
      .describe('Row count: an exact number, or comparisons {eq, ne, gt, gte, lt, lte}.'),
    value: scalar.optional().describe('The first column of the first row equals this value.'),
    rows_equal: z.array(z.record(z.string(), scalar)).optional()
      .describe('The result is exactly these rows, in this order (values compared as text).'),
    empty: z.boolean().optional().describe('true: no rows; false: at least one row.'),
  })
  .describe('What a check expects. Several keys must all hold.');

export const retrySchema = z.strictObject({
  interval: duration.optional(),
  timeout: duration,
});

export const migrationToolSchema = z.enum(['prisma', 'drizzle', 'ecto']);

export const migrationsStepSchema = z.strictObject({
  tool: migrationToolSchema,
  dir: z.string().describe('The migrations folder, relative to the working directory of the run.'),
  database: identifier.optional(),
  expect: z
    .union([
      z.literal('in-sync'),
      z.strictObject({
        pending: z.number().int().nonnegative().optional(),
        failed: z.number().int().nonnegative().optional(),
        phantom: z.number().int().nonnegative().optional(),
        modified: z.number().int().nonnegative().optional(),
        applied: z.number().int().nonnegative().optional(),
      }),
    ])
    .optional(),
  action: z.enum(['mark-applied', 'mark-rolled-back', 'baseline']).optional(),
  names: z.array(z.string()).optional(),
  schema: z.string().optional().describe('The schema holding the tracking table, when not the tool default.'),
});

const errorCode = z.string().regex(/^[A-Z0-9]{4,6}$/, 'an error code such as P3009 or 42P07');

export const effectSchema = z.enum(['read-only', 'reversible', 'destructive']);
export const onFailureSchema = z.enum(['stop', 'rollback', 'continue']);

/** The keys of a step that pick its action: exactly one must be present. */
export const ACTION_KEYS = ['checklist', 'run', 'check', 'sql', 'ask', 'migrations'] as const;
export type ActionKey = (typeof ACTION_KEYS)[number];

export const stepSchema = z.strictObject({
  id: identifier,
  title: z.string().min(1),
  notes: z.string().optional().describe('Markdown shown with the step: why, what to look at.'),
  // actions: exactly one
  checklist: z.array(z.string().min(1)).min(1).optional().describe('Items the operator ticks, each recorded.'),
  run: z.string().min(1).optional().describe('A shell command. Inputs reach it as environment variables ($name).'),
  check: z.string().min(1).optional().describe('Read-only SQL, run in a READ ONLY transaction.'),
  sql: z.string().min(1).optional().describe('SQL that writes, run in a transaction.'),
  ask: inputName.optional().describe('Ask the operator for the value of this input.'),
  migrations: migrationsStepSchema.optional(),
  // action options
  database: identifier.optional().describe('Which database a check, sql or migrations step targets, or the target a command is gated on.'),
  params: z.array(inputName).optional().describe('Inputs bound to $1, $2, ... in order.'),
  expect: expectSchema.optional(),
  retry: retrySchema.optional(),
  timeout: duration.optional().describe('Command timeout, or statement_timeout of a check or sql step (default 30s for checks).'),
  transaction: z
    .boolean()
    .optional()
    .describe('sql steps: false runs its one statement outside a transaction (CREATE INDEX CONCURRENTLY, VACUUM). Still gated by its effect; a failure may leave partial work behind.'),
  cwd: z.string().optional(),
  expect_exit: z.union([z.number().int(), z.array(z.number().int())]).optional().describe('Exit code(s) that count as success (default 0).'),
  expect_output: z
    .union([z.string().min(1), z.strictObject({ stdout: z.string().min(1).optional(), stderr: z.string().min(1).optional() })])
    .optional()
    .describe('A regular expression the command\'s output must match: on stdout or stderr, or {stdout, stderr} for one stream each. Colour codes are ignored.'),
  expect_error: z
    .union([errorCode, z.array(errorCode).min(1)])
    .optional()
    .describe('The error code(s) the command must fail with, as its output names them (P3009, 42P07): it must exit non-zero (or with expect_exit) and name one of them.'),
  // safety
  effect: effectSchema.optional().describe('What the step does to its target. Default: check is read-only, sql and run are destructive, migrations with action destructive.'),
  irreversible: z.boolean().optional().describe('Declares that a destructive step has no rollback, on purpose.'),
  rollback: identifier.optional().describe('The id of a step of the rollback phase that undoes this one.'),
  on_failure: onFailureSchema.optional(),
});

export const phaseKindSchema = z.enum(['prepare', 'backup', 'fetch', 'mark-applied', 'deploy', 'verify', 'rollback', 'other']);

export const leftBehindSchema = z
  .strictObject({
    table: z.string().min(1).optional().describe("A table (schema.name or name) whose rows (count and content) the rollback does not restore. Never the table's schema: its existence, columns or indexes are objects."),
    migration: z.string().min(1).optional().describe('A migration whose tracking row the rollback does not restore (${input} allowed).'),
    object: z.string().min(1).optional().describe('A schema object the rollback leaves as it is, by its exact name: a table, view, sequence, index or type (name or schema.name), a column (table.column), a constraint, trigger, policy or rule (name or table.name), a function (name(argument types)), a schema, an extension or a role. Never rows.'),
    reason: z.string().min(1).describe('Why, in words the operator reads in the debrief.'),
  })
  .describe('Something this rollback cannot undo, on purpose: a rehearsed rollback expects it to differ.');

export const phaseSchema = z.strictObject({
  id: identifier,
  title: z.string().min(1),
  kind: phaseKindSchema,
  notes: z.string().optional(),
  steps: z.array(stepSchema),
  leaves: z.array(leftBehindSchema).optional().describe('Rollback phase only: what the rollback cannot undo, declared so a rehearsal says "restored, except as declared".'),
});

/** A success check's live look at the migration state, as a `migrations` step with `expect` reads it. */
export const successMigrationsSchema = z.strictObject({
  tool: migrationToolSchema,
  dir: z.string().describe('The migrations folder, relative to the drill\'s working directory.'),
  expect: migrationsStepSchema.shape.expect.unwrap(),
  schema: z.string().optional().describe('The schema holding the tracking table, when not the tool default.'),
});

export const rehearsalCheckSchema = z
  .strictObject({
    id: identifier,
    title: z.string().min(1),
    check: z.string().min(1).optional().describe('Read-only SQL, run in a READ ONLY transaction.'),
    migrations: successMigrationsSchema.optional().describe('The tool\'s migration state instead of SQL: {tool, dir, expect}.'),
    database: identifier.optional(),
    params: z.array(inputName).optional(),
    expect: expectSchema.optional(),
    fixture: z
      .boolean()
      .optional()
      .describe('true: this check reads the shipped fixture\'s own tables or rows, so a drill on another project (--project) skips it, and says so.'),
  })
  .refine((c) => (c.check === undefined) !== (c.migrations === undefined), { message: 'a success check has either check (SQL) or migrations, exactly one' });

const expectError = z
  .union([z.string().regex(/^[0-9A-Z]{5}$/, 'a SQLSTATE code such as "23505"'), z.literal(true)])
  .optional()
  .describe('The statement is expected to fail (with this SQLSTATE, or true for any error): the broken state it stages is what it leaves behind.');

const setupItem = z.union([
  z.strictObject({ file: z.string().min(1), expect_error: expectError }),
  z.strictObject({ sql: z.string().min(1), expect_error: expectError }),
]);

/** What a staged incident tells the runbook's inputs (see docs/runbook-format.md, "Incidents as recipes"). */
export const incidentFactSchema = z.enum(['failed', 'pending', 'first_pending', 'deploy', 'applied', 'last_applied', 'untracked', 'phantom', 'edited', 'index', 'table', 'column', 'key', 'aside']);

const incidentShape = z.strictObject({
  tool: migrationToolSchema.describe('The migration tool of the projects this incident is staged in: a project (the rehearsal workdir or --project) must use it.'),
  migrations: z.string().optional().describe('The migrations folder, relative to the project (default: from the project\'s config: prisma.config.*, drizzle.config.*, else the tool\'s usual folder).'),
  pending: z.number().int().nonnegative().optional().describe('The last N migrations of the folder were never applied (a failed one among them counts).'),
  failed: z
    .union([z.literal(true), z.number().int().positive()])
    .optional()
    .describe('Prisma: the K-th migration from the end (true: the last) failed during `migrate deploy`: the tool itself records the failed attempt (P3009 from then on) and, one transaction on PostgreSQL, leaves nothing else. The migrations after it are pending.'),
  invalid_index: z
    .boolean()
    .optional()
    .describe('Prisma: the last migration that builds a unique index CONCURRENTLY failed on duplicate rows (made up when the data holds none), leaving the index INVALID and a failed attempt; the migrations after it are pending.'),
  untracked: z.boolean().optional().describe('The applied migrations\' tracking rows are lost (a `push`, a consolidation, a restored dump): their schema is there, the tracking table is empty but for phantoms.'),
  phantom: z
    .union([
      z.literal(true),
      z.strictObject({ name: z.string().min(1).describe('A tracking row only, under this name: a migration applied by hand in production, whose file nobody has.') }),
      z.strictObject({ folder: z.string().min(1).describe('Prisma: migrations in this folder of the project (one made up there when it has none) are applied by the tool, then are not in the migrations folder: a migration from another branch.') }),
    ])
    .optional()
    .describe('A migration applied to the database that is not in the migrations folder. true: a tracking row under a made-up name.'),
  edited: z.boolean().optional().describe('The last applied migration\'s file was edited after it was applied (Prisma, Drizzle: its checksum no longer matches).'),
  tables: z.array(z.string().min(1)).optional().describe('Tables the runbook\'s steps name: a project fits this runbook only when its migrations create them.'),
  data: z.array(setupItem).optional().describe('SQL run once the applied migrations are in (the rows the fixture\'s database holds); skipped on another project (--project).'),
  inputs: z.record(inputName, incidentFactSchema).optional().describe('Inputs filled from the staged incident: input name to fact (failed, pending, deploy, phantom, …).'),
});

export const incidentSchema = incidentShape.describe(
  'The incident as a recipe over a project\'s own migrations: the tool applies them, then the incident is staged on top. Works on the shipped fixture (workdir) and on any project of the same tool (drill --project).',
);

/** A variant's changes to the incident (merged over the rehearsal's own). */
export const incidentOverrideSchema = incidentShape.partial().omit({ tool: true });

export const rehearsalSchema = z
  .strictObject({
    setup: z.array(setupItem).optional().describe('SQL run in order on the drill database to build the broken state (runbooks without an incident recipe).'),
    incident: incidentSchema.optional(),
    workdir: z.string().optional().describe('A folder copied into a scratch working directory where the commands run: with an incident, the project whose migrations the drill applies.'),
    inputs: z.record(inputName, z.union([z.string(), z.number(), z.boolean()])).optional()
      .describe('Input values used by the rehearsal.'),
    success: z.array(rehearsalCheckSchema).optional().describe('Checks that pass only when the incident is fixed.'),
    variants: z
      .array(
        z.strictObject({
          id: identifier,
          title: z.string().optional(),
          setup: z.array(setupItem).optional(),
          incident: incidentOverrideSchema.optional().describe('Changes to the incident for this variant (pending: 2, …).'),
          workdir: z.string().optional(),
          inputs: z.record(inputName, z.union([z.string(), z.number(), z.boolean()])).optional(),
        }),
      )
      .optional(),
  })
  .refine((r) => !(r.setup && r.incident), { message: 'a rehearsal builds its state from setup SQL or from an incident recipe, not both', path: ['incident'] });

export const runbookSchema = z.strictObject({
  $schema: z.string().optional(),
  id: identifier,
  title: z.string().min(1),
  version: z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(1)),
  summary: z.string().optional(),
  tags: z.array(z.string()).optional(),
  severity: z.enum(['critical', 'high', 'medium', 'low']).optional(),
  inputs: z.record(inputName, inputSchema).optional(),
  databases: z.record(identifier, databaseSchema).optional(),
  phases: z.array(phaseSchema).min(1),
  rehearsal: rehearsalSchema.optional(),
});

export type RunbookInput = z.input<typeof runbookSchema>;
