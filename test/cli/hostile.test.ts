/** Hostile output through the real CLI: escapes on the terminal, markup in reports, a huge single line. */
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, drillbook } from '../helpers/cli.js';
import { CONTROL } from '../helpers/hostile.js';
import { tempDir } from '../helpers/tmp.js';

function project(runbook: string): string {
  const cwd = tempDir('hostile');
  writeFileSync(path.join(cwd, 'rb.yaml'), runbook);
  return cwd;
}

const PRINTS = String.raw`printf 'clipboard \033]52;c;cm0gLXJmIH4K\007 title \033]0;pwned\007 badge \033[44;97m REHEARSAL \033[0m\rmode: REHEARSAL\n<script>alert(1)</script> <img src=x onerror=alert(2)>\n'`;

describe('hostile output through the CLI', () => {
  it('plain mode shows escapes as text; the reports neither render markup nor run script', async () => {
    const cwd = project(`id: hostile
title: Hostile output
version: 1
phases:
  - id: p
    title: P
    kind: verify
    steps:
      - {id: print, title: Print, run: "${PRINTS.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}", effect: read-only}
`);
    const r = await drillbook(['run', 'rb.yaml', '--auto'], { cwd, env: { CI: 'true' } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('clipboard \\x1b]52;c;cm0gLXJmIH4K\\x07 title \\x1b]0;pwned\\x07');
    expect(r.stdout).toContain('\\x0dmode: REHEARSAL');
    expect(r.stdout).not.toMatch(CONTROL);
    const dir = path.join(cwd, 'transcripts');
    const md = readFileSync(path.join(dir, readdirSync(dir).find((f) => f.endsWith('.md'))!), 'utf8');
    expect(md).not.toMatch(CONTROL);
    const transcript = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.jsonl'))!);
    const html = (await drillbook(['report', transcript, '--format', 'html'])).stdout;
    expect(html).toContain('Content-Security-Policy');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).not.toMatch(CONTROL);
  });

  it('Ctrl-C stops a command right after it printed a 512 KiB single line (redaction does not hold the run up)', async () => {
    const cwd = project(`id: long-line
title: One long line
version: 1
phases:
  - id: p
    title: P
    kind: verify
    steps:
      - {id: line, title: Print one long line, run: "head -c 524288 /dev/zero | tr '\\\\0' a; echo; echo printed; sleep 60", effect: read-only}
`);
    const child = execa(process.execPath, [BIN, 'run', 'rb.yaml', '--plain'], { cwd, env: { CI: 'true', NO_COLOR: '1' }, reject: false, stdin: 'pipe' });
    let out = '';
    let interrupted = false;
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (!interrupted && out.includes('| printed')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stdin?.write('\n'); // "Run it"
    const r = await child;
    expect(interrupted, out.slice(-500)).toBe(true);
    expect(r.exitCode, out.slice(-500) + r.stderr).toBe(130);
    expect(out).toContain('Run aborted.');
    const dir = path.join(cwd, 'transcripts');
    expect(existsSync(dir)).toBe(true);
    const events = readFileSync(path.join(dir, readdirSync(dir).find((f) => f.endsWith('.jsonl'))!), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; cancelled?: boolean });
    expect(events.find((e) => e.type === 'command.exited')).toMatchObject({ cancelled: true });
  }, 60_000);
});
