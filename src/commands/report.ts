/** `drillbook report <transcript>`: the postmortem report, from the transcript alone. */
import { renderHtml, renderJson, renderMarkdown } from '../core/report.js';
import { writeFileDurably } from '../app/report-file.js';
import { readTranscript } from '../app/transcript-file.js';

export function reportCommand(transcript: string, opts: { format: 'md' | 'html' | 'json'; output?: string }, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  const t = readTranscript(transcript);
  if (!t.chain.ok) err.write(`drillbook: warning: the transcript's hash chain breaks at line ${t.chain.line} (${t.chain.reason}); the report covers the ${t.chain.events.length} events before it\n`);
  if (t.torn) err.write('drillbook: warning: the last line is torn (a write cut short); it is left out\n');
  const text = opts.format === 'html' ? renderHtml(t.chain.events) : opts.format === 'json' ? renderJson(t.chain.events) : renderMarkdown(t.chain.events);
  if (opts.output) writeFileDurably(opts.output, text);
  else out.write(text);
  return t.chain.ok ? 0 : 1;
}
