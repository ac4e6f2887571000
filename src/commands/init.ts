/**
 * `drillbook init`: a project's own runbooks folder. It finds the migration tool and folder
 * (src/drill/project.ts), writes there the shipped runbooks whose incident the project can hold,
 * adapted to it (their rehearsal runs on the project itself, their paths are its paths), the JSON
 * Schema beside them (so the `$schema` modeline works outside drillbook's repository) and a README
 * of what to do next. It never overwrites a file without asking: without a terminal it refuses,
 * naming each file, unless --force.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DrillbookError, UsageError, formatProblem } from '../core/errors.js';
import { visible } from '../core/sanitize.js';
import type { Tool } from '../core/migrations/types.js';
import { expandRunbookPaths, loadRunbookOrThrow, shippedRunbooksDir } from '../adapters/runbook-files.js';
import { parseRunbook } from '../core/load.js';
import { adaptRunbookText, checkTracking } from '../drill/adapt.js';
import { detectProject } from '../drill/project.js';
import { fitOf } from '../drill/project-seed.js';
import { runbookJsonSchema } from './schema.js';
import { VERSION } from '../version.js';

export interface InitOptions {
  tool?: string;
  force?: boolean;
  /** The folder to write, relative to the project (default: runbooks). */
  dir?: string;
}

const SCHEMA_FILE = 'runbook.schema.json';
const TOOL_NAME: Record<Tool, string> = { prisma: 'Prisma', drizzle: 'Drizzle', ecto: 'Ecto' };

async function confirmOverwrite(files: string[]): Promise<boolean> {
  const { confirm } = await import('@inquirer/prompts');
  return confirm({ message: `Overwrite ${files.length} existing file${files.length > 1 ? 's' : ''} (${files.join(', ')})?`, default: false });
}

function readme(projectName: string, tool: Tool, migrations: string, count: number, evidence: string, written: Array<{ id: string; title: string }>, skipped: Array<{ id: string; reason: string }>, dir: string): string {
  const lines = [
    `# Runbooks for ${projectName}`,
    '',
    `Written by \`drillbook init\` (drillbook ${VERSION}) from the shipped runbooks whose incident this project can hold: a ${TOOL_NAME[tool]} project (${evidence}) with ${count} migrations in \`${migrations}\`. Each one's rehearsal runs on this project's own migrations (\`rehearsal.workdir: ..\`), and its paths are this project's.`,
    '',
    '| runbook | incident | rehearse it |',
    '|---|---|---|',
    ...written.map((w) => `| [${w.id}](${w.id}.yaml) | ${w.title.replace(/\|/g, '\\|')} | \`drillbook drill ${w.id}\` |`),
    '',
  ];
  if (skipped.length) {
    lines.push('Not written, because this project cannot hold their incident (yet):', '');
    for (const s of skipped) lines.push(`- \`${s.id}\`: ${s.reason}`);
    lines.push('');
  }
  lines.push(
    '## What to do next',
    '',
    `1. \`drillbook validate ${dir}/\` checks them; \`drillbook list\` (from the project's root) shows them, in place of the shipped ones with the same id.`,
    '2. Rehearse each one from the project\'s root: `drillbook drill <id>` stages the incident on this project\'s migrations (applied by the real tool where it is installed, else a stand-in) in a throwaway PostgreSQL and a scratch copy of the project: the project itself is never written. `--auto` plays it unattended; `--rollback-after last-destructive` rehearses the rollback and proves the state comes back; `--variant <id>` stages another form of the incident. Transcripts and reports go to `./transcripts` (`--transcript-dir` to change it).',
    `3. Make them yours: the database's environment variable (\`databases.prod.url.env\`), the checklists (your channels, dashboards, approvals), your package runner (\`pnpm prisma …\` instead of \`npx prisma …\`), your backup command if production is not backed up with \`pg_dump\`. Keep the safety: every destructive step names its rollback, the backup comes first, inputs reach SQL only as parameters. Run \`drillbook validate ${dir}/\` after each change.`,
    '4. When replaying every migration is slow, or the history was squashed, seed the drill from production\'s schema instead: `pg_dump --schema-only "$DATABASE_URL" > schema.sql`, then `drillbook drill <id> --from-dump schema.sql` (a custom-format `pg_dump -Fc` works too).',
    `5. In CI, keep them working as the schema moves on: \`drillbook drill --all --auto --dir ${dir}\` and the same with \`--rollback\`.`,
    '',
    `Editors with the YAML language server check and complete each file as you type: its first line points at \`${SCHEMA_FILE}\`, the runbook format's JSON Schema (\`drillbook schema\` prints the one of your drillbook version). The format is described in docs/runbook-format.md of the drillbook package.`,
    '',
  );
  return lines.join('\n');
}

export async function initCommand(target: string | undefined, opts: InitOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  if (opts.tool !== undefined && !['prisma', 'drizzle', 'ecto'].includes(opts.tool)) throw new UsageError(`--tool ${opts.tool}: expected prisma, drizzle or ecto`);
  const projectDir = path.resolve(target ?? '.');
  const project = detectProject(projectDir, opts.tool ? { tool: opts.tool as Tool } : {});
  checkTracking(project);
  const dirName = opts.dir ?? 'runbooks';
  const runbooksDir = path.resolve(projectDir, dirName);
  const rel = path.relative(projectDir, runbooksDir);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new UsageError(`--dir ${dirName}: the runbooks folder goes inside the project`);

  // Which shipped runbooks fit, and their adapted text: all computed before anything is written.
  const files = new Map<string, string>();
  const written: Array<{ id: string; title: string }> = [];
  const skipped: Array<{ id: string; reason: string }> = [];
  const workdir = path.relative(runbooksDir, projectDir) || '.';
  for (const file of expandRunbookPaths(shippedRunbooksDir())) {
    const loaded = loadRunbookOrThrow(file);
    const rb = loaded.runbook;
    const incident = rb.rehearsal?.incident;
    if (!incident || incident.tool !== project.tool) continue;
    const fit = fitOf(loaded, projectDir);
    if (!fit.fits) {
      skipped.push({ id: rb.id, reason: fit.reason.replace(`${rb.id} cannot be staged on ${projectDir}: `, '') });
      continue;
    }
    const text = adaptRunbookText(readFileSync(file, 'utf8'), project, {
      workdir,
      schema: SCHEMA_FILE,
      header: [`Adapted by drillbook init (drillbook ${VERSION}) from the shipped runbook ${rb.id}: its rehearsal runs on this project.`],
    });
    files.set(`${rb.id}.yaml`, text);
    written.push({ id: rb.id, title: rb.title });
  }
  if (written.length === 0) {
    throw new DrillbookError(`none of the shipped runbooks fits ${projectDir} (${project.tool}, ${project.local.length} migrations in ${project.migrations})`, {
      exitCode: 1,
      hint: skipped.length ? skipped.map((s) => `${s.id}: ${s.reason}`).join('; ') : `drillbook ships no ${TOOL_NAME[project.tool]} runbook with an incident recipe`,
    });
  }
  files.set(SCHEMA_FILE, `${JSON.stringify(runbookJsonSchema(), null, 2)}\n`);
  files.set('README.md', readme(path.basename(projectDir), project.tool, project.migrations, project.local.length, project.evidence, written, skipped, rel.split(path.sep).join('/')));

  const existing = [...files.keys()].filter((f) => existsSync(path.join(runbooksDir, f)));
  const shown = existing.map((f) => path.join(rel, f));
  if (existing.length && !opts.force) {
    const interactive = process.stdin.isTTY && process.stdout.isTTY && !process.env.CI;
    if (!interactive || !(await confirmOverwrite(shown))) {
      throw new DrillbookError(`${shown.length === 1 ? 'this file exists' : 'these files exist'} and would be overwritten: ${shown.join(', ')}; nothing was written`, {
        exitCode: 2,
        hint: interactive ? 'move them aside, or run again with --force to overwrite them' : 'no terminal to ask: move them aside, or run again with --force to overwrite them',
      });
    }
  }

  // Each file is checked before it is written: init never leaves a runbook that does not validate.
  for (const [name, text] of files) {
    if (!name.endsWith('.yaml')) continue;
    const probe = path.join(runbooksDir, name);
    const r = parseRunbook(text, probe);
    const errors = r.problems.filter((p) => p.severity === 'error');
    if (errors.length) throw new DrillbookError(`adapting ${name} went wrong (a bug in drillbook init; nothing was written):\n${errors.map(formatProblem).join('\n')}`, { exitCode: 70 });
  }
  mkdirSync(runbooksDir, { recursive: true });
  for (const [name, text] of files) writeFileSync(path.join(runbooksDir, name), text);

  out.write(visible(`${TOOL_NAME[project.tool]} project ${projectDir} (${project.evidence}): ${project.local.length} migrations in ${project.migrations}\n`));
  out.write(visible(`wrote ${rel}/: ${written.map((w) => `${w.id}.yaml`).join(', ')}, ${SCHEMA_FILE}, README.md${existing.length ? ` (overwrote ${existing.join(', ')})` : ''}\n`));
  for (const s of skipped) out.write(visible(`not written: ${s.id}: ${s.reason}\n`));
  out.write(`next: drillbook validate ${rel}/, then rehearse one on this project: drillbook drill ${written[0]!.id} (see ${rel}/README.md)\n`);
  return 0;
}
