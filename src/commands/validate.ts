/** `drillbook validate <file|dir>...`: load and lint runbooks without running anything. */
import { formatProblem } from '../core/errors.js';
import { hasErrors } from '../core/load.js';
import { duplicateIdProblems, expandRunbookPaths, readRunbookFile } from '../adapters/runbook-files.js';

export interface ValidateOptions {
  json?: boolean;
}

export function validateCommand(targets: string[], opts: ValidateOptions, out: NodeJS.WritableStream = process.stdout): number {
  const files = targets.flatMap(expandRunbookPaths);
  const results = files.map(readRunbookFile);
  // Two files with one id: an error on each, naming the other.
  for (const p of duplicateIdProblems(results.map((r) => ({ file: r.file, id: r.runbook?.id }))).problems) results.find((r) => r.file === p.file)?.problems.push(p);
  const invalid = results.filter((r) => hasErrors(r.problems));
  if (opts.json) {
    const report = results.map((r) => ({
      file: r.file,
      id: r.runbook?.id ?? null,
      valid: !hasErrors(r.problems),
      problems: r.problems,
    }));
    out.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const r of results) for (const p of r.problems) out.write(`${formatProblem(p)}\n`);
    const warnings = results.reduce((n, r) => n + r.problems.filter((p) => p.severity === 'warning').length, 0);
    const summary = `${files.length} runbook${files.length === 1 ? '' : 's'} checked: ${files.length - invalid.length} valid, ${invalid.length} invalid` +
      (warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : '');
    out.write(`${files.length === 0 ? 'no runbook files (*.yaml, *.yml) found' : summary}\n`);
  }
  if (files.length === 0) return 1;
  return invalid.length ? 1 : 0;
}
