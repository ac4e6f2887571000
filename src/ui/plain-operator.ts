/**
 * The operator in plain mode: line prompts (@inquirer/prompts) over the same engine. The only
 * module that uses @inquirer/prompts; also asks for missing inputs before a full-screen run mounts.
 */
import { checkbox, input, password, select } from '@inquirer/prompts';
import type { DecisionOption } from '../core/machine.js';
import { parseWhen } from '../core/when.js';
import type { Operator, OperatorAnswer, OperatorRequest, Session } from '../core/ports.js';
import { visible, visibleLine } from '../core/sanitize.js';
import { PICKER_PAGE_SIZE, takeOverFirstFrame } from './first-frame.js';
import { envWord } from './environment.js';
import { indent } from './plain-printer.js';

export interface PromptIO {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

/** Aborted when the input ends: a prompt on a closed stdin would otherwise wait forever. */
let inputGone: AbortController | undefined;

function watchInput(io: PromptIO): AbortSignal {
  if (!inputGone) {
    inputGone = new AbortController();
    const stream = (io.input ?? process.stdin) as NodeJS.ReadableStream & { readableEnded?: boolean };
    const abort = () => inputGone?.abort();
    if (stream.readableEnded) abort();
    stream.once('end', abort);
    stream.once('close', abort);
  }
  return inputGone.signal;
}

/** Aborted when the run is interrupted (a signal): the prompt on screen goes, and with it its hold on the input. */
let interrupted = new AbortController();

function ctx(io: PromptIO) {
  return { ...(io.input ? { input: io.input } : {}), ...(io.output ? { output: io.output } : {}), signal: AbortSignal.any([watchInput(io), interrupted.signal]) };
}

/** Inquirer throws when the operator presses Ctrl-C or the input closes: both mean quit. */
function isExit(e: unknown): boolean {
  return e instanceof Error && (e.name === 'ExitPromptError' || e.name === 'AbortPromptError' || /User force closed|closed/i.test(e.message));
}

const DECISION_LABEL: Record<DecisionOption, string> = {
  retry: 'Retry the step',
  skip: 'Skip it (give a reason)',
  override: 'Count the check as passed (give a reason)',
  rollback: 'Start rollback',
  'mark-done': 'Mark it done: it did take effect (give a reason)',
  quit: 'Quit (the run can be resumed)',
};

/** Quitting, in words that are true: a run can be resumed; a drill ends (its database is gone) and is rehearsed again. */
export function quitLabel(drill: string | undefined): string {
  return drill === undefined ? DECISION_LABEL.quit : `Quit (the drill ends here; rehearse again with drillbook drill ${drill})`;
}

export interface PlainOptions {
  /** In a rehearsal: the runbook's id (a drill is never resumed, it is rehearsed again). */
  drill?: string | undefined;
  /** Print the step's header and notes before asking whether to run it (the printer's announce). */
  announce?: (stepId: string) => void;
}

export function plainOperator(io: PromptIO = {}, rawWrite: (s: string) => void = (s) => process.stdout.write(s), options: PlainOptions = {}): Operator {
  const quit = quitLabel(options.drill);
  // Previews, failures and errors carry data (input values, database errors): shown, never obeyed.
  const write = (s: string) => rawWrite(visible(s));
  const reason = async (what: string): Promise<string> =>
    (await input({ message: `${what}: why?`, validate: (v) => (v.trim() ? true : 'a reason is required: it goes into the transcript') }, ctx(io))).trim();

  const ask = async (req: OperatorRequest, session: Session): Promise<OperatorAnswer> => {
    switch (req.kind) {
      case 'go': {
        options.announce?.(req.step.id);
        if (req.note) write(`   ${req.note}\n`);
        write(`${indent(req.dryRun ? `[dry run] would run:\n${req.preview}` : `will run:\n${req.preview}`)}\n`);
        if (req.rollback) write(`   rollback: ${req.rollback}\n`);
        for (;;) {
          const choice = await select(
            {
              message: req.dryRun ? 'Continue?' : `Run step ${req.step.id}?`,
              choices: [
                { name: req.dryRun ? 'Continue (nothing runs)' : 'Run it', value: 'go' },
                { name: 'Skip it (give a reason)', value: 'skip' },
                ...(req.canRollBack ? [{ name: req.rehearsal ? 'Rehearse the rollback from here (then compare the database with its state before the first step)' : 'Start rollback (undo what was done, newest first)', value: 'rollback' }] : []),
                { name: 'Add a note', value: 'note' },
                { name: 'Mark a milestone (mitigated, resolved)', value: 'milestone' },
                { name: quit, value: 'quit' },
              ],
            },
            ctx(io),
          );
          if (choice === 'note') {
            session.note(await input({ message: 'Note:' }, ctx(io)));
            continue;
          }
          if (choice === 'milestone') {
            const name = await select({ message: 'Which milestone?', choices: [{ name: 'mitigated (users are no longer hurt)', value: 'mitigated' as const }, { name: 'resolved (fully fixed)', value: 'resolved' as const }] }, ctx(io));
            const when = await input({ message: 'When? (Enter = now, HH:MM UTC, "15m ago")', validate: (v) => (parseWhen(v, new Date()) ? true : 'Enter for now, HH:MM (UTC), "15m ago", or an ISO time in the past') }, ctx(io));
            session.milestone(name, parseWhen(when, new Date()));
            continue;
          }
          if (choice === 'skip') return { kind: 'skip', reason: await reason('Skip') };
          if (choice === 'rollback') return { kind: 'rollback' };
          return choice === 'go' ? { kind: 'go' } : { kind: 'quit' };
        }
      }
      case 'confirm': {
        write(`\n   !! ${req.step.effect.toUpperCase()} step ${req.step.id} on ${req.environment ? `${envWord(req.environment)} ` : ''}"${req.word}"\n${req.server ? `   the server says it is: ${req.server}\n` : ''}${indent(req.preview, '   > ')}\n`);
        write(`   rollback: ${req.rollback ?? 'none declared'}\n`);
        write(`   latest backup: ${req.backup ?? 'none taken in this run'}\n`);
        const typed = await input({ message: `Type the ${req.environment ? `${envWord(req.environment)} ` : ''}database name (${req.word}) to run it, or leave empty to cancel:` }, ctx(io));
        return { kind: 'typed', text: typed };
      }
      case 'checklist': {
        for (;;) {
          const ticked = await checkbox(
            { message: `${visibleLine(req.step.title)}: tick what is done (space to tick, enter to submit)`, choices: req.items.map((item, i) => ({ name: visibleLine(item), value: i })) },
            ctx(io),
          );
          req.items.forEach((_, i) => session.tick(req.step.id, i, ticked.includes(i)));
          if (ticked.length === req.items.length) return { kind: 'done' };
          const next = await select(
            {
              message: `${req.items.length - ticked.length} item(s) not ticked.`,
              choices: [
                { name: 'Tick the rest', value: 'again' },
                { name: 'Skip the checklist (give a reason)', value: 'skip' },
                { name: quit, value: 'quit' },
              ],
            },
            ctx(io),
          );
          if (next === 'skip') return { kind: 'skip', reason: await reason('Skip') };
          if (next === 'quit') return { kind: 'quit' };
        }
      }
      case 'ask': {
        if (req.error) write(`   ${req.error}\n`);
        const message = visibleLine(`${req.input.description ?? req.input.name}${req.input.pattern ? ` (${req.input.pattern})` : ''}:`);
        const value = req.input.secret ? await password({ message, mask: '*' }, ctx(io)) : await input({ message }, ctx(io));
        return { kind: 'value', value };
      }
      case 'decide': {
        write(`\n   !! ${req.unknown ? 'UNKNOWN OUTCOME' : 'FAILED'}: ${req.step.id}: ${req.failure}\n`);
        if (req.transient === false) write('   Retrying runs the same statement, which fails the same way: fix the cause first.\n');
        const choice = await select({ message: 'What now?', choices: req.options.map((o) => ({ name: o === 'quit' ? quit : o === 'rollback' && options.drill !== undefined ? 'Rehearse the rollback from here (then compare the database with its state before the first step)' : DECISION_LABEL[o], value: o })) }, ctx(io));
        switch (choice) {
          case 'retry':
            return { kind: 'retry' };
          case 'skip':
            return { kind: 'skip', reason: await reason('Skip') };
          case 'override':
            return { kind: 'override', reason: await reason('Override') };
          case 'mark-done':
            return { kind: 'mark-done', reason: await reason('Mark done') };
          case 'rollback':
            return { kind: 'rollback' };
          default:
            return { kind: 'quit' };
        }
      }
    }
  };

  return {
    cancel() {
      interrupted.abort();
      interrupted = new AbortController();
    },
    async request(req, session) {
      try {
        return await ask(req, session);
      } catch (e) {
        if (inputGone?.signal.aborted) {
          const stdin = io.input ?? process.stdin;
          const tty = (stdin as NodeJS.ReadStream).isTTY === true;
          const at = `the input ended at step ${req.step.id}`;
          return { kind: 'quit', reason: tty ? at : `${at}: it is not a terminal, so nobody can answer (an unattended run takes --auto)` };
        }
        if (isExit(e)) return { kind: 'quit' };
        throw e;
      }
    },
  };
}

/** Ask for inputs that have no value, before anything else is drawn. Returns undefined if the operator quit. */
export async function askMissingInputs(
  names: readonly string[],
  specs: Readonly<Record<string, { description?: string | undefined; secret?: boolean | undefined; pattern?: string | undefined }>>,
  io: PromptIO = {},
): Promise<Record<string, string> | undefined> {
  const out: Record<string, string> = {};
  try {
    for (const name of names) {
      const spec = specs[name] ?? {};
      const re = spec.pattern ? new RegExp(`^(?:${spec.pattern})$`) : undefined;
      const validate = (v: string) => (re && !re.test(v) ? `must match ${spec.pattern}` : v === '' ? 'a value is required' : true);
      const message = visibleLine(`${name}${spec.description ? `: ${spec.description}` : ''}`);
      out[name] = spec.secret ? await password({ message, mask: '*', validate }, ctx(io)) : await input({ message, validate }, ctx(io));
    }
  } catch (e) {
    if (isExit(e)) return undefined;
    throw e;
  }
  return out;
}

/** The drill picker: the runbooks to rehearse, by title. Returns undefined if the operator quit. */
export async function pickRunbook(entries: ReadonlyArray<{ id: string; title: string; summary?: string | undefined }>, io: PromptIO = {}): Promise<string | undefined> {
  takeOverFirstFrame();
  try {
    return await select(
      {
        message: 'Which incident do you want to rehearse?',
        choices: entries.map((e) => ({ name: visibleLine(`${e.title}  (${e.id})`), value: e.id, ...(e.summary ? { description: visible(e.summary) } : {}) })),
        pageSize: PICKER_PAGE_SIZE,
      },
      ctx(io),
    );
  } catch (e) {
    if (isExit(e)) return undefined;
    throw e;
  }
}
