/**
 * A drill's banner says, for each stand-in, why the real tool is not used and what to do, from the
 * reason the drill records (src/drill/tools.ts words it; these tests take it from there).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseTools, toolEvents } from '../../src/drill/tools.js';
import { Banner } from '../../src/ui/banner.js';
import { ThemeContext } from '../../src/ui/theme.js';
import type { ToolUse } from '../../src/ui/tools-line.js';
import { renderSized } from '../helpers/ink-sized.js';
import { words } from '../helpers/frames.js';

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
const scratch = (prefix: string) => {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(d);
  return d;
};

/** A folder with pg_dump and pg_restore that report the given version, as the real ones do. */
function fakeClients(version: string): string {
  const dir = scratch('drillbook-clients-');
  for (const tool of ['pg_dump', 'pg_restore']) {
    writeFileSync(path.join(dir, tool), `#!/bin/sh\necho "${tool} (PostgreSQL) ${version}"\n`);
    chmodSync(path.join(dir, tool), 0o755);
  }
  return dir;
}

function banner(tools: readonly ToolUse[], columns: number): string {
  const ui = renderSized(
    <ThemeContext.Provider value={{ color: false }}>
      <Banner title="Resolve a failed Prisma migration (P3009)" mode="rehearsal" targets={[]} startedAt={undefined} operator="maintainers" rollingBack={false} tools={tools} now={() => 0} />
    </ThemeContext.Provider>,
    { columns, rows: 24 },
  );
  const f = ui.lastFrame() ?? '';
  ui.unmount();
  return f;
}

describe('the banner\'s tools', () => {
  it('says why a real pg_dump is not used (15 refuses the PostgreSQL 17 drill server) and what to do (--pg-version 15)', () => {
    const choices = chooseTools(['pg_dump', 'pg_restore'], 'auto', { nodeSearch: [], projectDir: tmpdir(), serverMajor: 17, envPath: fakeClients('15.18') });
    expect(choices.map((c) => c.kind)).toEqual(['stand-in', 'stand-in']);
    for (const columns of [120, 80]) {
      const f = banner(toolEvents(choices) as ToolUse[], columns);
      expect(f.split('\n').every((l) => l.length <= columns), f).toBe(true);
      expect(words(f)).toContain('tools: pg_dump (stand-in) · pg_restore (stand-in)');
      expect(words(f)).toContain("pg_dump and pg_restore 15.18 here are older than the drill's PostgreSQL 17: rehearse with --pg-version 15 to use them");
    }
  });

  it('says when the real tool is not installed, and says nothing more of a real tool', () => {
    const missing = chooseTools(['pg_dump'], 'auto', { nodeSearch: [], projectDir: tmpdir(), serverMajor: 17, envPath: scratch('drillbook-empty-') });
    expect(words(banner(toolEvents(missing) as ToolUse[], 100))).toContain('pg_dump: not installed here, so the stand-in runs');
    const real = chooseTools(['pg_dump'], 'auto', { nodeSearch: [], projectDir: tmpdir(), serverMajor: 15, envPath: fakeClients('15.18') });
    const f = banner(toolEvents(real) as ToolUse[], 100);
    expect(words(f)).toContain('tools: pg_dump 15.18 (real)');
    expect(f).not.toContain('stand-in');
  });

  it('a reason the interface does not word itself is shown in the drill\'s words, and the transcript records it structured', () => {
    const bin = scratch('drillbook-mix-');
    writeFileSync(path.join(bin, 'mix'), '#!/bin/sh\necho "Mix 1.17.2 (compiled with Erlang/OTP 27)"\n');
    chmodSync(path.join(bin, 'mix'), 0o755);
    const choices = chooseTools(['mix'], 'auto', { nodeSearch: [], projectDir: scratch('drillbook-nodeps-'), serverMajor: 17, envPath: bin });
    const [event] = toolEvents(choices) as ToolUse[];
    expect(event!.cause).toEqual({ kind: 'other', text: `mix at ${path.join(bin, 'mix')}, but the project has no fetched ecto_sql (deps/ecto_sql): a drill never fetches dependencies` });
    expect(words(banner([event!], 200))).toContain(`mix: mix at ${path.join(bin, 'mix')}, but the project has no fetched ecto_sql`);
    expect((toolEvents(chooseTools(['psql'], 'stand-in', { nodeSearch: [], projectDir: tmpdir(), serverMajor: 17, envPath: bin })) as ToolUse[])[0]!.cause).toEqual({ kind: 'asked' });
  });
});
