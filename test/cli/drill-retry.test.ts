/** An unattended drill retries only what can change (issue 16): never a deterministic SQL error. */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { drillbook } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const RUNBOOK = `id: retry-probe
title: A step that fails the same way every time
version: 1
databases:
  prod: {url: {env: DATABASE_URL}, environment: production, default: true}
phases:
  - id: p
    title: P
    kind: verify
    steps:
      - id: typo
        title: A check with a misspelt column
        check: SELECT emial FROM users
      - id: dup
        title: An insert that breaks a unique key
        sql: INSERT INTO users (id, email) VALUES (1, 'again@example.com')
        irreversible: true
rehearsal:
  setup:
    - sql: CREATE TABLE users (id int PRIMARY KEY, email text); INSERT INTO users VALUES (1, 'a@example.com')
  success:
    - {id: never, title: Never, check: SELECT 1 WHERE false, expect: {rows: 1}}
`;

describe('drill --auto retries', () => {
  it('does not retry a deterministic SQL error: the same statement would fail the same way', async () => {
    const cwd = tempDir('retry');
    writeFileSync(path.join(cwd, 'rb.yaml'), RUNBOOK);
    const r = await drillbook(['drill', 'rb.yaml', '--auto'], { cwd, env: { CI: 'true' } });
    expect(r.exitCode).toBe(1);
    const t = path.join(cwd, 'transcripts');
    const events = readFileSync(path.join(t, readdirSync(t).find((f) => f.endsWith('.jsonl'))!), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; step?: string; code?: string });
    expect(events.filter((e) => e.type === 'check.result').map((e) => e.code)).toEqual(['42703']);
    expect(events.filter((e) => e.type === 'step.retry')).toEqual([]);
  });
});
