/**
 * The command line: parses arguments, loads heavy modules only for the command that needs them,
 * and turns errors into messages and exit codes. A DrillbookError is the operator's to act on;
 * anything else is a bug and says so.
 */
import { Command, CommanderError } from 'commander';
import { DrillbookError } from './core/errors.js';
import { VERSION } from './version.js';

function buildProgram(): Command {
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
  process.stderr.write(`drillbook: ${err.message}\n`);
  if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
}

export async function main(argv: string[]): Promise<void> {
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
    process.stderr.write(`drillbook: unexpected error (this is a bug in drillbook, please report it):\n${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 70;
  }
}
