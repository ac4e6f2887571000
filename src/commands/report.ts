/** `drillbook report <transcript>`: the postmortem report, from the transcript alone, built as it is read and streamed to its destination. */
import { buildReport, chunked, writeStreamDurably } from '../app/report-file.js';
import { DrillbookError } from '../core/errors.js';

/** A failure to write (a full disk, a folder that cannot be written): the transcript is untouched, the report can be made again. */
function cannotWrite(e: unknown, output: string | undefined): DrillbookError {
  if (e instanceof DrillbookError) return e;
  return new DrillbookError(`cannot write the report${output ? ` ${output}` : ''}: ${(e as Error).message}`, { exitCode: 1, hint: 'free disk space (the report may use a temporary file in TMPDIR) or choose another place with -o, then run drillbook report again', cause: e });
}

export function reportCommand(transcript: string, opts: { format: 'md' | 'html' | 'json'; output?: string }, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  let built: ReturnType<typeof buildReport>;
  try {
    built = buildReport(transcript, opts.format);
  } catch (e) {
    throw cannotWrite(e, opts.output);
  }
  const { read: t, produce } = built;
  if (!t.chain.ok) err.write(`drillbook: warning: the transcript's hash chain breaks at line ${t.chain.line} (${t.chain.reason}); the report covers the ${t.chain.count} events before it\n`);
  if (t.torn) err.write('drillbook: warning: the last line is torn (a write cut short); it is left out\n');
  // The document says it too (buildReport puts it at the top): a report is read far from the terminal that printed the warning.
  try {
    if (opts.output) writeStreamDurably(opts.output, produce);
    else {
      const o = chunked((text) => void out.write(text));
      produce(o.sink);
      o.end();
    }
  } catch (e) {
    throw cannotWrite(e, opts.output);
  }
  return t.chain.ok ? 0 : 1;
}
