/**
 * The static first frame: drawn only where the full-screen interface will draw, never wider or
 * taller than the terminal (so it can be erased exactly), without input values, and replaced in
 * place: the interface's first write erases exactly its lines, other output stays readable.
 */
import { spawn, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRunbook } from '../../src/core/load.js';
import { pickerFrame, showFirstFrame, takeOverFirstFrame, terminalFor, type Terminal } from '../../src/ui/first-frame.js';
import { runFrame, urlTargets } from '../../src/ui/run-frame.js';
import { listWidth } from '../../src/ui/phase-window.js';
import { BIN, ROOT } from '../helpers/cli.js';

const plain: Terminal = { columns: 100, rows: 30, color: false };
const ESC = /\x1b\[/;

function runbook(file: string) {
  const { runbook: rb } = parseRunbook(readFileSync(path.join(ROOT, file), 'utf8'), file);
  return rb!;
}

/** Columns a line takes on screen (wide characters count two), escapes aside. */
function width(line: string): number {
  let w = 0;
  for (const ch of line.replace(/\x1b\[[0-9;]*m/g, '')) w += ch.codePointAt(0)! >= 0x1100 && !'─│┌┐└┘❯▶·…✓✗↷↺'.includes(ch) ? 2 : 1;
  return w;
}

class FakeTty extends EventEmitter {
  out = '';
  isTTY = true;
  columns = 100;
  rows = 30;
  write(chunk: string | Buffer): boolean {
    this.out += String(chunk);
    return true;
  }
}

describe('the static first frame', () => {
  it('lays out the banner, the phase list and the first step, within the terminal', () => {
    const rb = runbook('runbooks/prisma-failed-migration.yaml');
    for (const t of [plain, { columns: 60, rows: 12, color: true }, { columns: 200, rows: 60, color: true }]) {
      const lines = runFrame(rb, 'incident', urlTargets(rb, { prod: 'postgresql://app:s3cret@db.internal:5432/shop' }), 'Ada', t);
      expect(lines.length).toBeLessThan(t.rows);
      for (const l of lines) expect(width(l), l).toBeLessThanOrEqual(t.columns);
      expect(ESC.test(lines.join('\n'))).toBe(t.color);
    }
    const text = runFrame(rb, 'incident', urlTargets(rb, { prod: 'postgresql://app:s3cret@db.internal:5432/shop' }), 'Ada', plain).join('\n');
    expect(text).toContain('INCIDENT · Resolve a failed Prisma migration (P3009)');
    expect(text).toContain(' PRODUCTION  prod: app@db.internal:5432/shop · connecting…');
    expect(text).toContain('▶ 1. See what Prisma sees (0/2)');
    expect(text).toContain('  ❯ · The failed migration is record…');
    expect(text).toContain('failed-rows · check · read-only · on prod');
    expect(text).not.toContain('s3cret');
  });

  it('places the first step where the interface draws it: beside a phase list a third of the width wide', () => {
    const rb = runbook('runbooks/prisma-failed-migration.yaml');
    for (const columns of [80, 120, 150, 240]) {
      const lines = runFrame(rb, 'incident', urlTargets(rb, {}), 'Ada', { columns, rows: 40, color: false });
      const title = lines.find((l) => l.includes('· The failed migration is rec') && !l.includes('❯'));
      expect(title?.indexOf('· The failed migration is rec'), `${columns}\n${lines.join('\n')}`).toBe(listWidth(columns));
    }
  });

  it('cuts wide text instead of letting a line wrap (the erase counts lines)', () => {
    const rb = runbook('runbooks/prisma-failed-migration.yaml');
    rb.title = '事故対応'.repeat(40);
    rb.phases[0]!.steps[1]!.title = '🚨'.repeat(80);
    const t = { columns: 50, rows: 20, color: true };
    for (const l of runFrame(rb, 'rehearsal', [{ name: 'prod', environment: 'rehearsal', where: 'starting…' }], 'x'.repeat(200), t)) expect(width(l)).toBeLessThanOrEqual(50);
  });

  it('shows no input value: the runbook\'s text only', () => {
    const { runbook: rb } = parseRunbook('id: s\ntitle: Rotate ${token}\nversion: 1\ninputs:\n  token: {secret: true}\nphases:\n  - id: p\n    title: P\n    kind: other\n    steps:\n      - {id: a, title: "Use ${token}", run: \'echo "$token"\'}\n', 's.yaml');
    const text = runFrame(rb!, 'incident', [], 'op', plain).join('\n');
    expect(text).toContain('Use ${token}');
    expect(text).toContain('$ echo "$token"');
  });

  it('draws the drill picker as inquirer does (first choice selected), at most a page of it', () => {
    const entries = Array.from({ length: 20 }, (_, i) => ({ id: `r${i}`, title: `Runbook ${i}` }));
    const lines = pickerFrame(entries, 12, plain);
    expect(lines).toEqual(['? Which incident do you want to rehearse?', '❯ Runbook 0  (r0)', ...entries.slice(1, 12).map((e) => `  ${e.title}  (${e.id})`)]);
  });

  it('belongs only on a terminal that gets the full-screen interface', () => {
    const tty = new FakeTty() as unknown as NodeJS.WriteStream;
    const stdin = { isTTY: true } as unknown as NodeJS.ReadStream;
    expect(terminalFor(tty, stdin, {})).toEqual({ columns: 100, rows: 30, color: true });
    expect(terminalFor(tty, stdin, { NO_COLOR: '1' })?.color).toBe(false);
    expect(terminalFor(tty, stdin, { TERM: 'dumb' })).toBeUndefined();
    expect(terminalFor(tty, stdin, { CI: 'true' })).toBeUndefined();
    expect(terminalFor(tty, { isTTY: false } as unknown as NodeJS.ReadStream, {})).toBeUndefined();
    expect(terminalFor(Object.assign(new FakeTty(), { isTTY: false }) as unknown as NodeJS.WriteStream, stdin, {})).toBeUndefined();
    expect(terminalFor(Object.assign(new FakeTty(), { rows: 5 }) as unknown as NodeJS.WriteStream, stdin, {})).toBeUndefined();
  });
});

describe('replacing the static first frame', () => {
  let io: { stdout: FakeTty; stderr: FakeTty };
  const show = (lines: string[]) => showFirstFrame(lines, io as unknown as { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream });
  afterEach(() => {
    // Leave no frame armed for the next test.
    io.stderr.write('');
  });

  it('the interface\'s first write erases exactly the frame\'s lines, inside its synchronized update; later writes pass untouched', () => {
    io = { stdout: new FakeTty(), stderr: new FakeTty() };
    show(['one', 'two', 'three']);
    expect(io.stdout.out).toBe('one\ntwo\nthree\n');
    takeOverFirstFrame();
    io.stdout.write('\x1b[?2026hFRAME\x1b[?2026l');
    io.stdout.write('NEXT');
    expect(io.stdout.out).toBe('one\ntwo\nthree\n\x1b[?2026h\r\x1b[3A\x1b[JFRAME\x1b[?2026lNEXT');
  });

  it('keeps a line written before the interface readable, above the frame drawn again', () => {
    io = { stdout: new FakeTty(), stderr: new FakeTty() };
    show(['a', 'b']);
    io.stdout.write('drill: database ready\n');
    expect(io.stdout.out).toBe('a\nb\n\r\x1b[2A\x1b[Jdrill: database ready\na\nb\n');
    takeOverFirstFrame();
    io.stdout.write('UI');
    expect(io.stdout.out.endsWith('a\nb\n\r\x1b[2A\x1b[JUI')).toBe(true);
  });

  it('an error on stderr erases the frame for good', () => {
    io = { stdout: new FakeTty(), stderr: new FakeTty() };
    show(['a', 'b']);
    io.stderr.write('drillbook: it failed\n');
    io.stdout.write('after\n');
    expect(io.stdout.out).toBe('a\nb\n\r\x1b[2A\x1b[Jafter\n');
    expect(io.stderr.out).toBe('drillbook: it failed\n');
  });
});

const hasScript = spawnSync('script', ['--version']).status === 0;

/**
 * The environment of a person at a colour terminal: this process's, without what the CI running the
 * tests sets (CI=true would rightly choose the plain interface) or a NO_COLOR of whoever runs them.
 * Each case then sets what it is about.
 */
function terminalEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  delete env.CI;
  delete env.NO_COLOR;
  return env;
}

describe.skipIf(!hasScript)('the CLI on a real terminal (a pty from script(1))', () => {
  /**
   * Everything the CLI draws on a 100×30 pty until `until` holds for what it has drawn (then the whole
   * terminal session is killed), or 30 seconds pass. Waiting for what the test needs, not a fixed time,
   * keeps it honest on a loaded machine, where start-up alone can take seconds.
   */
  function onPty(args: string, env: Record<string, string>, until: (out: string) => boolean): Promise<string> {
    return new Promise((resolve) => {
      const child = spawn('script', ['-qfec', `stty cols 100 rows 30; exec ${process.execPath} ${BIN} ${args}`, '/dev/null'], { cwd: ROOT, env: { ...terminalEnv(), ...env }, detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
      let out = '';
      let settled = false;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
        resolve(out);
      };
      const deadline = setTimeout(finish, 30_000);
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        out += chunk;
        // Let the CLI draw a little more once the condition holds: a frame erased late must show up too.
        if (until(out)) setTimeout(finish, 300);
      });
      child.on('close', finish);
    });
  }

  it('drill: the picker appears first as text, then inquirer draws it in place', async () => {
    // The frame: the question and one line per shipped runbook; then exactly those lines erased, and inquirer's own.
    const lines = 1 + readdirSync(path.join(ROOT, 'runbooks')).filter((f) => f.endsWith('.yaml')).length;
    const out = await onPty('drill', {}, (o) => /\r\x1b\[\d+A\x1b\[J[^]*navigate/.test(o));
    const erase = out.indexOf(`\r\x1b[${lines}A\x1b[J`);
    expect(erase, out).toBeGreaterThan(0);
    expect(out.slice(0, erase)).toContain('Which incident do you want to rehearse?');
    expect(out.slice(erase)).toContain('Which incident do you want to rehearse?');
    expect(out.slice(erase)).toContain('navigate');
  });

  it('run: the first step appears first as text, then the interface draws over exactly those lines', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drillbook-first-frame-'));
    try {
      const file = path.join(dir, 'r.yaml');
      writeFileSync(file, 'id: r\ntitle: Frame probe\nversion: 1\nphases:\n  - id: p\n    title: Probe\n    kind: verify\n    steps:\n      - {id: ready, title: Ready to go, checklist: [the team is told]}\n');
      const out = await onPty(`run ${file} --dry-run --transcript-dir ${dir}/t`, { NO_COLOR: '1' }, (o) => /\r\x1b\[\d+A\x1b\[J[^]*Space: tick/.test(o));
      const m = /\r\x1b\[(\d+)A\x1b\[J/.exec(out);
      expect(m, out).not.toBeNull();
      const frame = out.slice(0, m!.index);
      expect(frame).toContain('DRY RUN (read-only checks only) · Frame probe');
      expect(frame).toContain('[ ] the team is told');
      expect(frame.split('\n').length - 1).toBe(Number(m![1]));
      expect(out.slice(m!.index)).toContain('Space: tick');
      const plain = await onPty(`run ${file} --dry-run --plain --transcript-dir ${dir}/t`, {}, (o) => o.includes('the team is told'));
      expect(plain).toContain('the team is told');
      expect(plain).not.toMatch(/\r\x1b\[\d+A\x1b\[J/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['--plain', 'drill --plain', {}],
    ['TERM=dumb', 'drill', { TERM: 'dumb' }],
    ['CI', 'drill', { CI: 'true' }],
  ])('draws no static frame with %s', async (_what, args, env) => {
    const out = await onPty(args, env, (o) => o.includes('navigate'));
    expect(out).toContain('Which incident do you want to rehearse?');
    expect(out).not.toMatch(/\r\x1b\[\d+A\x1b\[J/);
  });
});
