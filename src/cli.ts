/**
 * The command line: parses arguments, loads heavy modules only for the command that needs them,
 * and turns errors into messages and exit codes. A DrillbookError is the operator's to act on;
 * anything else is a bug and says so.
 */
import { Command, CommanderError, Option } from 'commander';
import { DrillbookError } from './core/errors.js';
import { visible } from './core/sanitize.js';
import { VERSION } from './version.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The options of a run against real databases, shared by run and resume. */
function withSessionOptions(cmd: Command): Command {
  return cmd
    .option('--db <name=url>', 'connection URL of a database the runbook declares (repeatable)', collect)
    .option('--var <name=value>', 'value of an input (repeatable)', collect)
    .option('--plain', 'line-by-line prompts instead of the full-screen interface (automatic without a TTY or with CI set)')
    .option('--auto', 'run unattended: tick checklists, run steps, never prompt')
    .option('--confirm-target <name>', 'with --auto: the database name destructive steps may run against')
    .option('--operator <name>', 'who is at the keyboard (default: git user.name, else $USER)')
    .option('--transcript-dir <dir>', 'where transcripts are written', 'transcripts')
    .option('--full-output', "also write each command's whole output to files beside the transcript (which keeps its head and tail)");
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('drillbook')
    .description('Walks an operator through a database-migration incident runbook, and rehearses it on a throwaway PostgreSQL.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addHelpCommand('help [command]', 'show help for a command')
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: (str, write) => write(str) })
    .exitOverride();

  program
    .command('drill')
    .description('rehearse a runbook against a throwaway PostgreSQL seeded with the incident (no argument: pick one)')
    .argument('[runbook]', 'a runbook id or path (default: choose from a list)')
    .option('--auto', 'run unattended; destructive steps are confirmed against the drill database only')
    .option('--plain', 'line-by-line prompts instead of the full-screen interface')
    .option('--variant <id>', 'rehearse one of the runbook\'s rehearsal variants')
    .option('--fault <name>', `inject a fault (repeatable): ${Object.keys({ 'db-restart': 1, 'statement-hang': 1, 'command-fails-once': 1 }).join(', ')}`, collect)
    .option('--keep', 'keep the drill database running at the end and print how to connect')
    .option('--rollback-after <step>', 'run forward through this step (or last-destructive), then rehearse the rollback and compare the database with its state before the first step')
    .addOption(new Option('--tools <which>', 'the tools the commands call: real (refuse to start without them), stand-in, or auto (each real one where installed and usable, else its stand-in)').choices(['real', 'stand-in', 'auto']).default('auto'))
    .option('--stand-ins', 'the same as --tools stand-in')
    .option('--pg-version <major>', 'the drill server\'s PostgreSQL major version, as production runs (default: the newest installed)')
    .option('--project <dir>', 'rehearse on this project\'s own migrations (Prisma, Drizzle or Ecto) instead of the runbook\'s fixture; the project is only read')
    .option('--from-dump <file>', 'seed the applied migrations from a dump of production (pg_dump --schema-only, plain or custom format, with or without its tracking table\'s rows)')
    .option('--all', 'with --auto: rehearse every runbook (and variant) in turn; exit 1 if any fails')
    .option('--rollback', 'with --all: rehearse each rollback after its last destructive step; exit 1 unless every one restores the state')
    .option('--dir <folder>', 'with --all: the runbooks of this folder instead of the shipped ones')
    .option('--var <name=value>', 'value of an input (repeatable)', collect)
    .option('--db <name=url>', 'refused: a drill only uses its own throwaway database', collect)
    .option('--operator <name>', 'who is rehearsing (default: git user.name, else $USER)')
    .option('--transcript-dir <dir>', 'where transcripts are written', 'transcripts')
    .action(async (ref: string | undefined, opts: Record<string, unknown>) => {
      if (ref === undefined && !opts.all && !opts.plain) {
        // The picker, as text, before the drill machinery and inquirer load (they replace it in place).
        const [{ showPickerFrame }, { quickRunbookTitles }] = await Promise.all([import('./ui/first-frame.js'), import('./adapters/runbook-titles.js')]);
        showPickerFrame(quickRunbookTitles());
      }
      const { drillCommand } = await import('./commands/drill.js');
      process.exitCode = await drillCommand(ref, opts as never);
    });


  const run = withSessionOptions(
    program
      .command('run')
      .description('walk through a runbook against real databases')
      .argument('[runbook]', 'a runbook id (see drillbook list) or a path to a runbook file')
      .option('--dry-run', 'walk every step, run only read-only checks, record what would have run')
      .option('--run-read-only-commands', 'with --dry-run: also run the commands labelled read-only, in a database session forced read-only (it cannot stop a program that undoes that, writes files or reaches other systems)'),
  )
    .option('--resume <transcript>', 'continue the run recorded in this transcript')
    .option('--allow-changed', 'with --resume: continue even if the runbook file changed since (the change is recorded)')
    .addOption(new Option('--on-unknown <decision>', 'with --resume --auto: what to do with a step whose outcome is unknown after a crash').choices(['rerun', 'mark-done']));
  run.action(async (ref: string | undefined, opts: Record<string, unknown>) => {
    const { runCommand } = await import('./commands/run.js');
    process.exitCode = await runCommand(ref, opts as never);
  });

  withSessionOptions(
    program
      .command('resume')
      .description('continue the newest unfinished run in the transcript folder')
      .argument('[transcript]', 'a transcript file (default: the newest unfinished one)'),
  )
    .option('--allow-changed', 'continue even if the runbook file changed since (the change is recorded)')
    .addOption(new Option('--on-unknown <decision>', 'with --auto: what to do with a step whose outcome is unknown after a crash').choices(['rerun', 'mark-done']))
    .action(async (transcript: string | undefined, opts: Record<string, unknown>) => {
      const { resumeCommand } = await import('./commands/run.js');
      process.exitCode = await resumeCommand(transcript, opts as never);
    });

  program
    .command('diagnose')
    .description('compare a migrations folder with its tracking table, and check the schema for half-done migrations (read-only)')
    .option('--tool <tool>', 'prisma, drizzle or ecto (default: from the folder layout)')
    .option('--migrations <dir>', 'the migrations folder (default: the tool\'s usual folder; Drizzle: out in drizzle.config.*)')
    .option('--db <url>', 'the database (default: $DATABASE_URL)')
    .option('--table <[schema.]name>', 'the tracking table, when not the tool default (Drizzle: default from drizzle.config.*)')
    .option('--schema <schema>', 'schema of the tracking table, when not the tool default')
    .option('--config <file>', 'the drizzle config to read (default: drizzle.config.ts, .js or .json, as drizzle-kit looks)')
    .option('--json', 'print the result as one JSON object (on error: {"error": ...})')
    .action(async (opts: Record<string, unknown>) => {
      const { diagnoseCommand } = await import('./commands/diagnose.js');
      process.exitCode = await diagnoseCommand(opts as never);
    });

  program
    .command('init')
    .description("write runbooks/ into a project: the shipped runbooks that fit it (adapted to its paths, rehearsed on its own migrations), the JSON Schema for editors, and a README of what to do next")
    .argument('[project]', 'the project folder (default: the current folder)')
    .option('--tool <tool>', 'prisma, drizzle or ecto, when the project uses several')
    .option('--dir <folder>', 'the runbooks folder, inside the project', 'runbooks')
    .option('--force', 'overwrite files that exist (without it, init asks on a terminal and refuses elsewhere)')
    .action(async (project: string | undefined, opts: Record<string, unknown>) => {
      const { initCommand } = await import('./commands/init.js');
      process.exitCode = await initCommand(project, opts as never);
    });

  program
    .command('report')
    .description('render the postmortem report of a transcript')
    .argument('<transcript>', 'a transcript (.jsonl)')
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'html', 'json']).default('md'))
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action(async (transcript: string, opts: { format: 'md' | 'html' | 'json'; output?: string }) => {
      const { reportCommand } = await import('./commands/report.js');
      process.exitCode = reportCommand(transcript, opts);
    });

  program
    .command('verify')
    .description("check a transcript's hash chain and its closing seal; print its last hash")
    .argument('<transcript>', 'a transcript (.jsonl)')
    .option('--hash <hash>', 'the last hash recorded outside the file (the incident ticket): the file must contain it')
    .action(async (transcript: string, opts: { hash?: string }) => {
      const { verifyCommand } = await import('./commands/verify.js');
      process.exitCode = verifyCommand(transcript, opts);
    });

  program
    .command('validate')
    .description('check runbook files (or folders of *.yaml) without running anything')
    .argument('<paths...>', 'runbook files or folders')
    .option('--json', 'print the result as JSON')
    .action(async (paths: string[], opts: { json?: boolean }) => {
      const { validateCommand } = await import('./commands/validate.js');
      process.exitCode = validateCommand(paths, opts);
    });

  program
    .command('list')
    .description('list the shipped runbooks and those under ./runbooks')
    .option('--json', 'print the list as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { listCommand } = await import('./commands/list.js');
      process.exitCode = listCommand(opts);
    });

  program
    .command('schema')
    .description('print the JSON Schema of the runbook format')
    .action(async () => {
      const { schemaCommand } = await import('./commands/schema.js');
      process.exitCode = schemaCommand();
    });

  return program;
}

function printError(err: DrillbookError): void {
  // Messages may quote data (a database's error text, a file's content): shown, never obeyed.
  process.stderr.write(visible(`drillbook: ${err.message}\n`));
  if (err.hint) process.stderr.write(visible(`hint: ${err.hint}\n`));
}

export async function main(argv: string[]): Promise<void> {
  // A terminal that went away (ssh dropped, tmux closed) must not crash the run before it cleans up.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  const program = buildProgram();
  if (argv.length <= 2) {
    process.stdout.write(program.helpInformation());
    process.exitCode = 0;
    return;
  }
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        process.exitCode = 0;
      } else {
        process.stderr.write("Run 'drillbook help' for usage.\n");
        process.exitCode = 2;
      }
      return;
    }
    if (err instanceof DrillbookError) {
      printError(err);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(visible(`drillbook: unexpected error (this is a bug in drillbook, please report it):\n${(err as Error)?.stack ?? String(err)}\n`));
    process.exitCode = 70;
  }
}
