import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { TargetInfo } from '../../src/core/events.js';
import type { Operator } from '../../src/core/ports.js';
import { App, InkBridge } from '../../src/ui/app.js';
import { plainPrinter } from '../../src/ui/plain-printer.js';
import { ThemeContext } from '../../src/ui/theme.js';
import { ROOT } from '../helpers/cli.js';
import { makeRun, rows, ScriptedDb, ScriptedShell } from '../helpers/engine.js';
import { CONTROL, HOSTILE } from '../helpers/hostile.js';

const PAYLOAD = Object.values(HOSTILE).join(' | ');

const RUNBOOK = `
id: hostile
title: Hostile data
version: 1
databases:
  prod: {url: {env: DATABASE_URL}, environment: production, default: true}
phases:
  - id: fix
    title: Fix
    kind: verify
    steps:
      - {id: work, title: Print things, run: ./print.sh, effect: read-only}
      - {id: count, title: Rows are there, check: SELECT n FROM t, expect: {value: 4}}
`;

const target: TargetInfo = { name: 'prod', environment: 'production', url: 'postgresql://app:[REDACTED]@db:5432/shop', host: 'db', port: '5432', database: 'shop', user: 'app', serverVersion: `16.4 ${HOSTILE.title}` };

function hostileRun(operator?: Operator) {
  const shell = new ScriptedShell({ './print.sh': { output: `${PAYLOAD}\nlast line ${HOSTILE.osc52}\n` } });
  const db = new ScriptedDb({ 'SELECT n FROM t': [rows([`3 ${HOSTILE.badge}`])] });
  return makeRun(RUNBOOK, { shell, db, targets: [target], ...(operator ? { operator } : {}) });
}

describe('data never reaches the terminal as control characters', () => {
  it('plain mode: command output, check values and failures are printed with visible escapes', async () => {
    const r = hostileRun();
    let printed = '';
    r.run.subscribe(plainPrinter(r.plan, (s) => void (printed += s)));
    await r.run.execute();
    expect(printed).toContain('\\x1b]52;c;cm0gLXJmIH4K\\x07');
    expect(printed).toContain('ok\\x0dmode: REHEARSAL');
    expect(printed).toContain('\\x1b[44;97m REHEARSAL \\x1b[0m');
    expect(printed).not.toMatch(CONTROL);
    // The transcript keeps the data as it was (JSON escapes it); only the screen shows it defused.
    expect(r.journal.lines.join('\n')).toContain('\\u001b]52;c;');
  });

  it('the full-screen interface: every frame is free of control characters from the data', async () => {
    const bridge = new InkBridge();
    const r = hostileRun({ request: (req) => bridge.request(req) });
    r.run.subscribe(() => bridge.bump());
    const ui = render(
      <ThemeContext.Provider value={{ color: false }}>
        <App run={r.run} bridge={bridge} interrupt={() => undefined} now={() => Date.parse('2026-11-22T10:00:05Z')} />
      </ThemeContext.Provider>,
    );
    void r.run.execute();
    const waitFor = async (test: (f: string) => boolean) => {
      for (let i = 0; i < 300; i++) {
        if (test(ui.lastFrame() ?? '')) return ui.lastFrame() ?? '';
        await new Promise((res) => setTimeout(res, 10));
      }
      throw new Error(`timed out; last frame:\n${ui.lastFrame()}`);
    };
    // Every command waits for the operator's go, read-only label or not.
    await waitFor((f) => f.includes('Enter: run it'));
    ui.stdin.write('\r');
    const failed = await waitFor((f) => f.includes('FAILED'));
    expect(failed).toContain('\\x1b[44;97m');
    expect(failed).toContain('16.4 \\x1b]0;pwned\\x07');
    expect(ui.frames.some((f) => f.includes('last line \\x1b]52;c;'))).toBe(true);
    // The review (v) of the command's whole output and of the failed check: data shown, never obeyed.
    ui.stdin.write('v');
    const review = await waitFor((f) => f.includes('Steps so far: 1 of 2'));
    expect(review).toContain('last line \\x1b]52;c;');
    ui.stdin.write('\x1b[C');
    await waitFor((f) => f.includes('Steps so far: 2 of 2') && f.includes('\\x1b[44;97m'));
    for (const frame of ui.frames) expect(frame).not.toMatch(CONTROL);
    ui.unmount();
  });

  it('every component takes Text from the sanitising wrapper, never from ink directly', () => {
    const dir = path.join(ROOT, 'src', 'ui');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.tsx') && x !== 'text.tsx')) {
      const src = readFileSync(path.join(dir, f), 'utf8');
      expect(src, f).not.toMatch(/import\s*{[^}]*\bText\b[^}]*}\s*from\s*'ink'/);
    }
  });
});
