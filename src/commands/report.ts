/** `drillbook report <transcript>`: the postmortem report, from the transcript alone, streamed to its destination. */
import { renderJson, writeHtml, writeMarkdown, type Sink } from '../core/report.js';
import { chunked, writeStreamDurably } from '../app/report-file.js';
import { integrityNote, readTranscript } from '../app/transcript-file.js';

export function reportCommand(transcript: string, opts: { format: 'md' | 'html' | 'json'; output?: string }, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  const t = readTranscript(transcript);
  if (!t.chain.ok) err.write(`drillbook: warning: the transcript's hash chain breaks at line ${t.chain.line} (${t.chain.reason}); the report covers the ${t.chain.events.length} events before it\n`);
  if (t.torn) err.write('drillbook: warning: the last line is torn (a write cut short); it is left out\n');
  // The document says it too: a report is read far from the terminal that printed the warning.
  const integrity = integrityNote(t);
  const extra = integrity ? { integrity } : {};
  const produce = (sink: Sink) => {
    if (opts.format === 'html') writeHtml(t.chain.events, sink, extra);
    else if (opts.format === 'json') sink(renderJson(t.chain.events, extra));
    else writeMarkdown(t.chain.events, sink, extra);
  };
  if (opts.output) writeStreamDurably(opts.output, produce);
  else {
    const o = chunked((text) => void out.write(text));
    produce(o.sink);
    o.end();
  }
  return t.chain.ok ? 0 : 1;
}
