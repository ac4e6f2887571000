/** Reading a transcript file: its events, whether its chain holds, and a torn last line if a crash left one. */
import { readFileSync } from 'node:fs';
import { verifyChain, type ChainCheck } from '../core/chain.js';
import { DrillbookError } from '../core/errors.js';

export interface TranscriptRead {
  path: string;
  lines: string[];
  chain: ChainCheck;
  /** The last line, when it is incomplete (no newline at the end of the file): a write cut short. */
  torn: string | undefined;
}

export function readTranscript(file: string): TranscriptRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DrillbookError(`cannot read transcript ${file}: ${code === 'ENOENT' ? 'no such file' : code}`, { exitCode: 2 });
  }
  const parts = text.split('\n');
  const tail = parts.pop() ?? '';
  const lines = parts.filter((l, i) => l !== '' || i < parts.length - 1);
  const torn = tail === '' ? undefined : tail;
  return { path: file, lines, chain: verifyChain(lines), torn };
}

/** What is wrong with the file, in the words the report opens with; undefined when nothing is. */
export function integrityNote(t: TranscriptRead): string | undefined {
  const problems: string[] = [];
  if (!t.chain.ok) problems.push(`its hash chain breaks at line ${t.chain.line} (${t.chain.reason}): this report covers only the ${t.chain.events.length} events before it, and what follows cannot be trusted`);
  if (t.torn) problems.push('its last line is torn (a write cut short) and is left out');
  return problems.length ? `the transcript was altered or damaged: ${problems.join('; ')}. Check it with drillbook verify.` : undefined;
}
