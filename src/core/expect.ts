/** Comparing a check's rows with what the runbook expects. Pure. */
import type { CheckRows } from './events.js';
import type { Expect } from './runbook.js';

type Scalar = string | number | boolean | null;

/** Values from PostgreSQL arrive as text here; compare the way an operator reads them. */
export function sameValue(actual: string | null, expected: Scalar): boolean {
  if (expected === null) return actual === null;
  if (actual === null) return false;
  if (typeof expected === 'boolean') return ['t', 'true', '1', 'yes', 'on'].includes(actual.toLowerCase()) === expected;
  if (typeof expected === 'number') return actual.trim() !== '' && Number(actual) === expected;
  return actual === expected;
}

function show(v: Scalar): string {
  return v === null ? 'NULL' : typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** Every expectation that does not hold, in words; an empty list means the check passes. */
export function evaluateExpect(expect: Expect | undefined, result: CheckRows): string[] {
  const failures: string[] = [];
  if (!expect) return failures;
  const n = result.rowCount;
  if (expect.rows !== undefined) {
    if (typeof expect.rows === 'number') {
      if (n !== expect.rows) failures.push(`expected ${expect.rows} row(s), got ${n}`);
    } else {
      const c = expect.rows;
      const checks: Array<[number | undefined, (x: number) => boolean, string]> = [
        [c.eq, (x) => n === x, '='],
        [c.ne, (x) => n !== x, '≠'],
        [c.gt, (x) => n > x, '>'],
        [c.gte, (x) => n >= x, '≥'],
        [c.lt, (x) => n < x, '<'],
        [c.lte, (x) => n <= x, '≤'],
      ];
      for (const [bound, ok, sym] of checks) if (bound !== undefined && !ok(bound)) failures.push(`expected row count ${sym} ${bound}, got ${n}`);
    }
  }
  if (expect.empty !== undefined) {
    if (expect.empty && n !== 0) failures.push(`expected no rows, got ${n}`);
    if (!expect.empty && n === 0) failures.push('expected at least one row, got none');
  }
  if (expect.value !== undefined) {
    const first = result.rows[0]?.[0];
    if (first === undefined) failures.push(`expected the value ${show(expect.value)}, got no rows`);
    else if (!sameValue(first, expect.value)) failures.push(`expected the value ${show(expect.value)}, got ${first === null ? 'NULL' : JSON.stringify(first)}`);
  }
  if (expect.rows_equal !== undefined) {
    const want = expect.rows_equal;
    if (want.length !== n) failures.push(`expected exactly ${want.length} row(s), got ${n}`);
    want.forEach((row, i) => {
      const got = result.rows[i];
      if (!got) return;
      for (const [col, value] of Object.entries(row)) {
        const idx = result.columns.indexOf(col);
        if (idx === -1) failures.push(`row ${i + 1}: no column "${col}" in the result`);
        else if (!sameValue(got[idx] ?? null, value)) failures.push(`row ${i + 1}: ${col} expected ${show(value)}, got ${got[idx] === null ? 'NULL' : JSON.stringify(got[idx])}`);
      }
    });
  }
  return failures;
}

/** A short description of the expectation, for the screen and the transcript. */
export function describeExpect(expect: Expect | undefined): string {
  if (!expect) return 'runs without error';
  const parts: string[] = [];
  if (typeof expect.rows === 'number') parts.push(`${expect.rows} row(s)`);
  else if (expect.rows) {
    const symbols: Record<string, string> = { eq: '=', ne: '≠', gt: '>', gte: '≥', lt: '<', lte: '≤' };
    for (const [k, v] of Object.entries(expect.rows)) if (v !== undefined) parts.push(`rows ${symbols[k]} ${v}`);
  }
  if (expect.empty !== undefined) parts.push(expect.empty ? 'no rows' : 'at least one row');
  if (expect.value !== undefined) parts.push(`value = ${show(expect.value)}`);
  if (expect.rows_equal) parts.push(`exactly ${expect.rows_equal.length} given row(s)`);
  return parts.join(', ');
}
