/** Plain mode through the real CLI, as a screen reader or a dumb terminal gets it. */
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, drillbook } from '../helpers/cli.js';
import { freshDatabase, sql } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';

describe('plain mode', () => {
  it('explains a step (its phase, title and notes) before asking whether to run it, and only once', async () => {
    const cwd = tempDir('plain');
    writeFileSync(
      path.join(cwd, 'rb.yaml'),
      `id: plain
title: Plain
version: 1
phases:
  - id: look
    title: Look around
    kind: verify
    steps:
      - id: first
        title: Print the first word
        notes: This only prints a word; nothing changes.
        run: echo one
        effect: read-only
      - id: second
        title: Print the second word
        run: echo two
        effect: read-only
`,
    );
    const child = execa(process.execPath, [BIN, 'run', 'rb.yaml', '--plain'], { cwd, env: { CI: 'true', NO_COLOR: '1' }, reject: false, stdin: 'pipe' });
    let out = '';
    let answered = 0;
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      // Enter ("Run it") once per question, as it appears.
      const asked = out.split(/Run step \w+\?/).length - 1;
      while (answered < asked) {
        answered++;
        child.stdin?.write('\n');
      }
    });
    const r = await child;
    expect(r.exitCode, out + r.stderr).toBe(0);
    const plain = out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    const phase = plain.indexOf('== Phase 1/1: Look around');
    const header = plain.indexOf('-- first: Print the first word');
    const notes = plain.indexOf('This only prints a word; nothing changes.');
    const question = plain.indexOf('Run step first?');
    expect(phase, plain).toBeGreaterThanOrEqual(0);
    expect(phase).toBeLessThan(header);
    expect(header).toBeLessThan(notes);
    expect(notes).toBeLessThan(question);
    expect(plain.indexOf('-- second: Print the second word')).toBeLessThan(plain.indexOf('Run step second?'));
    // Said once: not again when the step starts.
    expect(plain.split('-- first: Print the first word').length - 1).toBe(1);
    expect(plain.split('This only prints a word').length - 1).toBe(1);
    expect(plain.split('== Phase 1/1').length - 1).toBe(1);
    expect(plain).toMatch(/\| one/);
    expect(plain).toMatch(/\| two/);
  }, 60_000);

  it('an input that is not a terminal and ends: the run stops, resumable, saying why and what to use instead', async () => {
    const cwd = tempDir('plain');
    writeFileSync(path.join(cwd, 'rb.yaml'), 'id: x\ntitle: X\nversion: 1\nphases:\n  - id: p\n    title: P\n    kind: verify\n    steps:\n      - {id: a, title: A, run: "echo hi", effect: read-only}\n');
    const r = await drillbook(['run', 'rb.yaml'], { cwd, input: '' });
    expect(r.exitCode).toBe(130);
    expect(r.stdout).toContain('run aborted: the input ended at step a: it is not a terminal, so nobody can answer (an unattended run takes --auto)');
    expect(r.stdout).toContain('Continue it with: drillbook resume');
    expect(r.stdout).not.toContain('| hi');
  }, 60_000);

  it('the gate names the environment in words beside the database the server reports, and runs only once it is typed', async () => {
    const { url, name } = await freshDatabase('plaingate');
    await sql(url, 'CREATE TABLE marks (what text)');
    const cwd = tempDir('plain');
    writeFileSync(
      path.join(cwd, 'rb.yaml'),
      `id: gate
title: Gate
version: 1
databases:
  prod: {url: {env: DATABASE_URL}, environment: production, default: true}
phases:
  - id: fix
    title: Fix
    kind: deploy
    steps:
      - {id: mark, title: Write a mark, sql: "INSERT INTO marks VALUES ('done')", effect: destructive, irreversible: true}
`,
    );
    const child = execa(process.execPath, [BIN, 'run', 'rb.yaml', '--plain'], { cwd, env: { CI: 'true', NO_COLOR: '1', DATABASE_URL: url }, reject: false, stdin: 'pipe' });
    let out = '';
    const answered = new Set<string>();
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      // Inquirer wraps its questions at the terminal's width: compare words.
      const plain = out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\s+/g, ' ');
      // Go at the step's question; at the gate, the database name the server reported.
      if (/Run step mark\?/.test(plain) && !answered.has('go')) {
        answered.add('go');
        child.stdin?.write('\n');
      }
      if (/to run it, or leave empty to cancel:/.test(plain) && !answered.has('gate')) {
        answered.add('gate');
        child.stdin?.write(`${name}\n`);
      }
    });
    const r = await child;
    const plain = out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\s+/g, ' ');
    expect(r.exitCode, plain + r.stderr).toBe(0);
    expect(plain).toContain(`!! DESTRUCTIVE step mark on PRODUCTION "${name}"`);
    expect(plain).toContain(`Type the PRODUCTION database name (${name}) to run it`);
    expect((await sql(url, 'SELECT what FROM marks')).rows).toEqual([{ what: 'done' }]);
  }, 60_000);
});
