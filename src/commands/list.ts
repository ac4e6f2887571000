/** `drillbook list`: the shipped runbooks and those under ./runbooks. */
import path from 'node:path';
import { formatProblem } from '../core/errors.js';
import { visibleLine } from '../core/sanitize.js';
import { listRunbooks } from '../adapters/runbook-files.js';

export function listCommand(opts: { json?: boolean }, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  const { entries, problems } = listRunbooks();
  if (opts.json) {
    out.write(`${JSON.stringify(entries.map(({ id, title, tags, path: p, severity, origin }) => ({ id, title, tags, path: p, severity, origin })), null, 2)}\n`);
  } else if (entries.length === 0) {
    out.write('no runbooks found (shipped runbooks, or ./runbooks/*.yaml)\n');
  } else {
    const rows = entries.map((e) => [e.id, e.title, e.tags.join(','), path.relative(process.cwd(), e.path) || e.path].map(visibleLine));
    const header = ['ID', 'TITLE', 'TAGS', 'PATH'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cols: string[]) => cols.map((c, i) => (i === cols.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
    out.write(`${line(header)}\n${rows.map(line).join('\n')}\n`);
  }
  for (const p of problems) err.write(`${formatProblem(p)} (skipped; run drillbook validate)\n`);
  return 0;
}
