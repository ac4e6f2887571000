/**
 * A report is opened by people who were not there: nothing in the transcript's data may render as
 * markup, run as script, or act on a terminal.
 */
import { describe, expect, it } from 'vitest';
import { autoOperator } from '../../src/core/auto-operator.js';
import { verifyChain } from '../../src/core/chain.js';
import type { Operator } from '../../src/core/ports.js';
import { CONTENT_SECURITY_POLICY, renderHtml, renderMarkdown } from '../../src/core/report.js';
import { makeRun, ScriptedDb, ScriptedShell } from '../helpers/engine.js';
import { CONTROL, HOSTILE, MARKUP } from '../helpers/hostile.js';

const EVIL = [...Object.values(MARKUP), ...Object.values(HOSTILE)].join('\n');

const RUNBOOK = `
id: hostile-report
title: "Fix <b>it</b> \`now\`"
version: 1
databases:
  prod: {url: {env: DATABASE_URL}, environment: production, default: true}
phases:
  - id: p
    title: P
    kind: verify
    steps:
      - {id: out, title: Output, run: ./print.sh, effect: read-only}
      - {id: chk, title: Check, check: SELECT v FROM t, expect: {value: ok}}
      - {id: bad, title: Bad, check: SELECT broken, expect: {value: ok}}
`;

async function hostileEvents() {
  const shell = new ScriptedShell({ './print.sh': { output: `${EVIL}\n`, exitCode: 3 } });
  const db = new ScriptedDb({
    'SELECT v FROM t': [{ ok: true, result: { columns: [MARKUP.img], rows: [[EVIL]], rowCount: 1 }, rowCount: 1 }],
    'SELECT broken': [{ ok: false, error: `ERROR: syntax error at or near "${MARKUP.script}" ${HOSTILE.osc52}` }],
  });
  const auto = autoOperator({ confirmTarget: 'shop', values: {} });
  let noted = false;
  const operator: Operator = {
    async request(req, session) {
      if (!noted) {
        noted = true;
        session.note(EVIL);
      }
      // Skip every failure with a reason that is itself hostile.
      if (req.kind === 'decide') return { kind: 'skip', reason: MARKUP.details };
      return auto.request(req, session);
    },
  };
  const r = makeRun(RUNBOOK, { shell, db, operator, targets: [{ name: 'prod', environment: 'production', url: 'x', host: 'db', port: '5432', database: 'shop', user: 'app', serverVersion: MARKUP.script }] });
  await r.run.execute();
  const chain = verifyChain(r.journal.lines);
  if (!chain.ok) throw new Error(chain.reason);
  return chain.events;
}

/** The lines of Markdown outside fenced code blocks (what a renderer reads as Markdown and HTML), and inside. */
function fences(md: string): { outside: string[]; inside: string[] } {
  const outside: string[] = [];
  const inside: string[] = [];
  let fence: string | undefined;
  for (const line of md.split('\n')) {
    if (fence === undefined) {
      const open = /^(`{3,})/.exec(line);
      if (open) fence = open[1];
      else outside.push(line);
    } else if (line.startsWith(fence) && /^`+$/.test(line)) fence = undefined;
    else inside.push(line);
  }
  expect(fence, 'every fence is closed').toBeUndefined();
  return { outside, inside };
}

function outsideFences(md: string): string {
  return fences(md).outside.join('\n');
}

describe('the Markdown report escapes data', () => {
  it('no raw HTML from data: every tag outside code blocks is one drillbook writes', async () => {
    const md = renderMarkdown(await hostileEvents());
    const text = outsideFences(md);
    const tags = [...text.matchAll(/<\/?([A-Za-z][\w-]*)[^>]*>/g)].map((m) => m[0]);
    expect(tags.length).toBeGreaterThan(0);
    for (const t of tags) expect(['<details>', '</details>', '<summary>', '</summary>', '<code>', '</code>', '<br>']).toContain(t);
    expect(text).toContain('&lt;script&gt;');
    expect(text).toContain('&lt;img src=x onerror=');
  });

  it('no links, headings or emphasis from data; fences cannot be closed by data', async () => {
    const md = renderMarkdown(await hostileEvents());
    const text = outsideFences(md);
    // Only drillbook's own headings.
    expect(text.split('\n').filter((l) => /^#{1,6}\s/.test(l))).toEqual([
      '# Fix &lt;b&gt;it&lt;/b&gt; \\`now\\`: completed',
      '## Timeline',
      '## Deviations',
      '## Operator notes',
      '## Output and results',
    ]);
    expect(text).not.toMatch(/(?<!\\)\[[^\]\n]*(?<!\\)\]\(/);
    expect(text).not.toContain('**bold**');
    // The fake fence in the command output stayed inside the real one.
    const { inside } = fences(md);
    expect(inside).toContain('# not a heading');
    expect(inside).toContain('</code></summary></details><h1>forged</h1>');
  });

  it('tables stay tables: every timeline row has its four cells', async () => {
    const md = renderMarkdown(await hostileEvents());
    const rows = md.split('\n').filter((l) => l.startsWith('| 2026'));
    expect(rows.length).toBeGreaterThan(5);
    for (const line of rows) expect(line.replace(/\\\\/g, '').split(/(?<!\\)\|/).length).toBe(6);
  });

  it('no control characters reach the report', async () => {
    const md = renderMarkdown(await hostileEvents());
    expect(md).not.toMatch(CONTROL);
    expect(md).toContain('\\x1b]52;c;');
  });
});

describe('the HTML report escapes every value and forbids script', () => {
  it('has a Content-Security-Policy that allows no script, no images, no connections', async () => {
    const html = renderHtml(await hostileEvents());
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`);
    expect(CONTENT_SECURITY_POLICY).toMatch(/default-src 'none'/);
    expect(CONTENT_SECURITY_POLICY).toMatch(/script-src 'none'/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline/);
  });

  it('every tag is one drillbook writes, with no event handler attribute', async () => {
    const html = renderHtml(await hostileEvents());
    const allowed = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'p', 'blockquote', 'table', 'tr', 'th', 'td', 'ul', 'li', 'details', 'summary', 'pre', 'code', 'strong', 'br', 'hr']);
    const body = html.replace(/<style>[^<]*<\/style>/, '<style></style>');
    for (const m of body.matchAll(/<\/?([A-Za-z][\w-]*)([^>]*)>/g)) {
      expect(allowed, m[0]).toContain(m[1]!.toLowerCase());
      if (!['html', 'meta'].includes(m[1]!)) expect(m[2], m[0]).toBe('');
    }
    expect(body).not.toMatch(/<script|<img/i);
    expect(html).toContain('&lt;script&gt;alert(document.cookie)&lt;/script&gt;');
    expect(html).toContain('&lt;/code&gt;&lt;/summary&gt;&lt;/details&gt;&lt;h1&gt;forged&lt;/h1&gt;');
    expect(html).not.toMatch(CONTROL);
  });
});
