/**
 * The postmortem report, rendered from the transcript's events alone: summary, timeline,
 * deviations, notes, command output and SQL results, the last hash. Markdown that pastes cleanly
 * into an issue or a postmortem doc; HTML and JSON from the same facts.
 *
 * Everything in a transcript is data, and data is hostile (a database error can hold
 * `<script>`, a command can print markup or terminal escapes). The report is built as a small
 * document of blocks whose text is data; each writer escapes that text for its format (Markdown
 * punctuation and HTML entities, or HTML entities under a Content-Security-Policy that allows no
 * script), and control characters are shown as visible escapes. Blocks are written to a sink one
 * by one, so a report is streamed rather than held whole, and each command's output is capped.
 */
import { createHash } from 'node:crypto';
import type { OutputDigest, Recorded, RunEvent, TargetInfo } from './events.js';
import { fillText } from './interpolate.js';
import { formatEvent, formatTable } from './format.js';
import { firstOperatorAction } from './first-action.js';
import { visible, visibleLine } from './sanitize.js';

type Sealed = Recorded & { hash?: string };

/** Receives the report a piece at a time. */
export type Sink = (chunk: string) => void;

export interface ReportFacts {
  runbook: { id: string; title: string; version: string; hash: string; path: string } | undefined;
  outcome: string;
  outcomeReason: string | undefined;
  mode: string;
  operators: string[];
  targets: TargetInfo[];
  startedAt: string | undefined;
  endedAt: string | undefined;
  durationMs: number | undefined;
  timeToFirstActionMs: number | undefined;
  timeToMitigationMs: number | undefined;
  timeToRecoveryMs: number | undefined;
  deviations: Array<{ ts: string; step: string | undefined; what: string }>;
  notes: Array<{ ts: string; actor: string; step: string | undefined; text: string }>;
  milestones: Array<{ name: string; at: string; logged: string }>;
  lastHash: string | undefined;
  events: number;
  /** A drill's tools: real or stand-in, and the version each reported. */
  tools: Array<{ tool: string; kind: string; version: string; detail?: string }>;
}

function stepOf(e: RunEvent): string | undefined {
  return 'step' in e && typeof e.step === 'string' ? e.step : undefined;
}

export function utc(ts: string | undefined): string {
  if (!ts) return '—';
  // The usual shape (toISOString), without regular expressions: reports of 100,000 events call this for each.
  if (ts.length === 24 && ts[10] === 'T' && ts[19] === '.' && ts[23] === 'Z') return `${ts.slice(0, 10)} ${ts.slice(11, 19)}`;
  return ts.replace('T', ' ').replace(/\.\d+Z$/, '').replace(/Z$/, '');
}

export function duration(ms: number | undefined): string {
  if (ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}h ${m}m ${sec}s` : m ? `${m}m ${sec}s` : `${sec}s`;
}

export function reportFacts(events: readonly Sealed[]): ReportFacts {
  // One pass over the events (a transcript may hold hundreds of thousands).
  let started: Extract<Sealed, { type: 'run.started' }> | undefined;
  let finished: Extract<Sealed, { type: 'run.finished' }> | undefined;
  let finishedIdx = -1;
  let lastResumeIdx = -1;
  let mitigated: Extract<Sealed, { type: 'milestone' }> | undefined;
  let resolved: Extract<Sealed, { type: 'milestone' }> | undefined;
  const operators = new Set<string>();
  const deviations: ReportFacts['deviations'] = [];
  const notes: ReportFacts['notes'] = [];
  const milestones: ReportFacts['milestones'] = [];
  const tools: ReportFacts['tools'] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    operators.add(e.actor);
    const step = stepOf(e);
    switch (e.type) {
      case 'run.started':
        started ??= e;
        break;
      case 'run.finished':
        finished = e;
        finishedIdx = i;
        break;
      case 'milestone':
        if (e.name === 'mitigated') mitigated ??= e;
        if (e.name === 'resolved') resolved ??= e;
        milestones.push({ name: e.name, at: e.at, logged: e.ts });
        break;
      case 'note':
        notes.push({ ts: e.ts, actor: e.actor, step: e.step, text: e.text });
        break;
      case 'rehearsal.tool':
        tools.push({ tool: e.tool, kind: e.kind, version: e.version, ...(e.detail ? { detail: e.detail } : {}) });
        break;
      case 'step.skipped':
        deviations.push({ ts: e.ts, step, what: `skipped: ${e.reason}` });
        break;
      case 'step.override':
        deviations.push({ ts: e.ts, step, what: `failed check overridden: ${e.reason}` });
        break;
      case 'step.marked-done':
        deviations.push({ ts: e.ts, step, what: `marked done by hand: ${e.reason}` });
        break;
      case 'confirmation':
        if (!e.matched) deviations.push({ ts: e.ts, step, what: `confirmation did not match (typed "${e.typed}", target "${e.target}")` });
        break;
      case 'step.retry':
        deviations.push({ ts: e.ts, step, what: 'retried after a failure' });
        break;
      case 'step.finished':
        if (e.outcome === 'failed') deviations.push({ ts: e.ts, step, what: `failed: ${e.reason ?? ''}` });
        break;
      case 'rollback.started':
        deviations.push({ ts: e.ts, step: undefined, what: `rollback started: ${e.reason}` });
        break;
      case 'run.resumed':
        lastResumeIdx = i;
        deviations.push({ ts: e.ts, step: undefined, what: `run resumed by ${e.operator}${e.recovered ? `: ${e.recovered}` : ''}${e.runbookChanged ? '; the runbook file had changed' : ''}` });
        break;
      default:
        break;
    }
  }
  const stillOpen = !finished || lastResumeIdx > finishedIdx;
  const start = started ? Date.parse(started.ts) : undefined;
  const since = (ts: string | undefined) => (ts && start !== undefined ? Date.parse(ts) - start : undefined);
  const firstAction = firstOperatorAction(events);

  const last = events[events.length - 1];
  const end = stillOpen ? last?.ts : finished?.ts;
  return {
    runbook: started ? { ...started.runbook } : undefined,
    outcome: stillOpen ? 'in progress (no end recorded)' : finished!.outcome,
    outcomeReason: stillOpen ? undefined : finished?.reason,
    mode: started?.mode ?? '—',
    operators: [...operators],
    targets: started?.targets ?? [],
    startedAt: started?.ts,
    endedAt: end,
    durationMs: since(end),
    timeToFirstActionMs: since(firstAction?.ts),
    timeToMitigationMs: since(mitigated?.at),
    timeToRecoveryMs: since(resolved?.at ?? (finished?.outcome === 'completed' ? finished.ts : undefined)),
    deviations,
    notes,
    milestones,
    lastHash: last?.hash,
    events: events.length,
    tools,
  };
}

// ---------------------------------------------------------------------------------------------
// The report as a document. Strings in Inline and in pre blocks are data; writers escape them.

type Inline = string | { strong: Inline[] } | { code: string };

type Block =
  | { kind: 'h1' | 'h2'; text: Inline[] }
  | { kind: 'p'; text: Inline[] }
  | { kind: 'callout'; text: Inline[] }
  | { kind: 'table'; head: string[] }
  /** A cell is inline parts, or one plain string (most of a long timeline: no parts to build). */
  | { kind: 'row'; cells: Array<Inline[] | string> }
  | { kind: 'end-table' }
  | { kind: 'li'; text: Inline[] }
  | { kind: 'end-list' }
  | { kind: 'note'; head: Inline[]; text: string }
  | { kind: 'details'; summary: Inline[] }
  | { kind: 'pre'; text: string; lang: string }
  | { kind: 'end-details' }
  | { kind: 'hr' };

/** Output kept per command in a report: its head and its tail, the rest counted. */
export const REPORT_OUTPUT_CAP = 256 * 1024;

const ENV_WORD: Record<string, string> = { production: 'PRODUCTION', staging: 'STAGING', development: 'DEVELOPMENT', rehearsal: 'REHEARSAL' };

/** Head and tail of one command's output, as the report shows it. */
class OutputExcerpt {
  private head = '';
  private tail = '';
  private dropped = 0;
  add(text: string): void {
    const half = REPORT_OUTPUT_CAP / 2;
    if (this.head.length < half) {
      const take = text.slice(0, half - this.head.length);
      this.head += take;
      text = text.slice(take.length);
    }
    if (!text) return;
    this.tail += text;
    if (this.tail.length > half) {
      this.dropped += this.tail.length - half;
      this.tail = this.tail.slice(-half);
    }
  }
  marker(text: string): void {
    this.add(text);
  }
  toString(): string {
    return this.dropped ? `${this.head}\n… [${this.dropped} characters not shown in this report] …\n${this.tail}` : this.head + this.tail;
  }
}

function bytes(n: number): string {
  return n.toLocaleString('en-US');
}

function omittedNote(stream: string, e: Extract<RunEvent, { type: 'command.output' }>): string {
  return `\n… [${stream}: ${bytes(e.skipped ?? 0)} bytes not kept in the transcript] …\n`;
}

function digestLines(output: { stdout: OutputDigest; stderr: OutputDigest } | undefined): string[] {
  if (!output) return [];
  const lines: string[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    const d = output[stream];
    // Output kept whole in the transcript is all in the report: its digest adds nothing.
    if (!d || (!d.omitted && !d.file)) continue;
    lines.push(`${stream}: ${bytes(d.bytes)} bytes, sha256 ${d.sha256}${d.omitted ? `, ${bytes(d.omitted)} bytes between head and tail not kept` : ''}${d.file ? `, whole stream in ${d.file}` : ''}`);
  }
  return lines;
}

/** Each step's title, as the run showed it: the runbook's words with the run's (redacted) input values filled in. */
function stepTitles(events: readonly Sealed[]): Map<string, string> {
  const started = events.find((e): e is Extract<Sealed, { type: 'run.started' }> => e.type === 'run.started');
  const values: Record<string, string> = { ...(started?.inputs ?? {}) };
  for (const e of events) if (e.type === 'input.set') values[e.name] = e.value;
  const titles = new Map<string, string>();
  for (const p of started?.plan?.phases ?? []) for (const s of p.steps) titles.set(s.id, fillText(s.title, values));
  return titles;
}

/** What the report adds besides the events: a drill's debrief, and what is wrong with the file it was made from. */
export interface ReportExtra {
  score?: string;
  /** The transcript is damaged (a broken chain, a torn line): said at the top, so no reader misses it. */
  integrity?: string;
}

function* reportBlocks(events: readonly Sealed[], extra: ReportExtra): Generator<Block> {
  const f = reportFacts(events);
  yield { kind: 'h1', text: [`${f.runbook ? f.runbook.title : 'drillbook run'}: ${f.outcome}`] };
  if (extra.integrity) yield { kind: 'callout', text: [{ strong: ['DAMAGED TRANSCRIPT'] }, `: ${extra.integrity}`] };
  if (f.mode === 'rehearsal') yield { kind: 'callout', text: [{ strong: ['REHEARSAL'] }, ': a drill against a throwaway database, not an incident record.'] };
  if (f.mode === 'dry-run') yield { kind: 'callout', text: [{ strong: ['DRY RUN'] }, ': only read-only checks ran; nothing was changed.'] };
  yield { kind: 'table', head: ['', ''] };
  const row = (name: Inline[] | string, ...value: Inline[]) => ({ kind: 'row' as const, cells: [typeof name === 'string' ? [name] : name, value] });
  yield row('Runbook', { code: f.runbook?.id ?? '—' }, ` v${f.runbook?.version ?? '—'} (sha256 `, { code: f.runbook?.hash.slice(0, 12) ?? '—' }, ')');
  yield row('Outcome', { strong: [f.outcome] }, ...(f.outcomeReason ? [`: ${f.outcomeReason}`] : []));
  yield row('Mode', f.mode);
  yield row('Operator', f.operators.join(', '));
  for (const t of f.targets) {
    const facts = `${t.serverVersion ? `, PostgreSQL ${t.serverVersion}` : ''}${t.systemIdentifier ? `, system id ${t.systemIdentifier}` : ''}${t.inRecovery ? ', replica' : ''}${t.unreachable ? `, unreachable at start: ${t.unreachable}` : ''}`;
    yield row(['Target ', { code: t.name }], `${ENV_WORD[t.environment] ?? t.environment} `, { code: `${t.user ? `${t.user}@` : ''}${t.host}:${t.port}/${t.database}` }, facts);
  }
  if (f.tools.length) yield row('Tools', f.tools.map((t) => `${t.tool} ${t.kind === 'real' ? `${t.version} (real)` : `(stand-in, ${t.version})`}`).join(' · '));
  yield row('Started (UTC)', utc(f.startedAt));
  yield row('Ended (UTC)', utc(f.endedAt));
  yield row('Duration', duration(f.durationMs));
  yield row('Time to first action', duration(f.timeToFirstActionMs));
  yield row('Time to mitigation', duration(f.timeToMitigationMs));
  yield row('Time to recovery', duration(f.timeToRecoveryMs));
  yield { kind: 'end-table' };

  if (extra.score) {
    yield { kind: 'h2', text: ['Debrief'] };
    yield { kind: 'pre', text: extra.score, lang: 'text' };
  }

  const titles = stepTitles(events);
  const named = (step: string): Inline[] => [{ code: step }, ...(titles.get(step) ? [` (${titles.get(step)})`] : [])];

  yield { kind: 'h2', text: ['Timeline'] };
  yield { kind: 'table', head: ['Time (UTC)', 'Phase/Step', 'Event', 'Result'] };
  const phaseOfStep = new Map<string, string>();
  for (const e of events) if (e.type === 'step.started') phaseOfStep.set(e.step, e.phase);
  for (const e of events) {
    if (e.type === 'command.output') continue;
    const step = stepOf(e);
    const line = formatEvent(e) ?? '';
    // A reader who was not there needs the step's title beside its id.
    const where = step ? `${phaseOfStep.get(step) ?? '?'}/${step}${titles.get(step) ? ` (${titles.get(step)})` : ''}` : '';
    yield { kind: 'row', cells: [utc(e.ts), where, e.type, e.type === 'run.finished' ? [{ strong: [line] }] : line] };
  }
  yield { kind: 'end-table' };

  yield { kind: 'h2', text: ['Deviations'] };
  if (f.deviations.length === 0) yield { kind: 'p', text: ['None: every step ran as written.'] };
  for (const d of f.deviations) yield { kind: 'li', text: [utc(d.ts), ...(d.step ? [' ', ...named(d.step)] : []), `: ${d.what}`] };
  if (f.deviations.length) yield { kind: 'end-list' };

  yield { kind: 'h2', text: ['Operator notes'] };
  if (f.notes.length === 0) yield { kind: 'p', text: ['None.'] };
  for (const n of f.notes) yield { kind: 'note', head: [`${utc(n.ts)} ${n.actor}`, ...(n.step ? [' at ', { code: n.step }] : []), ':'], text: n.text };
  if (f.notes.length) yield { kind: 'end-list' };
  if (f.milestones.length) {
    yield { kind: 'h2', text: ['Milestones'] };
    yield { kind: 'table', head: ['Milestone', 'Happened (UTC)', 'Logged (UTC)'] };
    for (const m of f.milestones) yield { kind: 'row', cells: [[m.name], [utc(m.at)], [utc(m.logged)]] };
    yield { kind: 'end-table' };
  }

  yield { kind: 'h2', text: ['Output and results'] };
  // One pass: each command's output is collected from its start to its end, capped.
  const running = new Map<string, { command: string; out: OutputExcerpt }>();
  let any = false;
  for (const e of events) {
    if (e.type === 'command.started') running.set(e.step, { command: e.command, out: new OutputExcerpt() });
    else if (e.type === 'command.output') {
      const r = running.get(e.step) ?? { command: '', out: new OutputExcerpt() };
      running.set(e.step, r);
      if (e.skipped) r.out.marker(omittedNote(e.stream, e));
      r.out.add(e.text);
    } else if (e.type === 'command.exited') {
      const r = running.get(e.step);
      running.delete(e.step);
      const digest = digestLines(e.output);
      yield { kind: 'details', summary: [...named(e.step), `: ${formatEvent(e) ?? ''}`] };
      yield { kind: 'pre', text: `$ ${r?.command ?? ''}\n${r?.out.toString() ?? ''}`, lang: 'console' };
      if (digest.length) yield { kind: 'pre', text: digest.join('\n'), lang: 'text' };
      yield { kind: 'end-details' };
      any = true;
    } else if (e.type === 'check.result' || e.type === 'sql.result') {
      const body = `${e.sql}${e.params.length ? `\n-- params: ${e.params.map((p, i) => `$${i + 1} = ${JSON.stringify(p)}`).join(', ')}` : ''}`;
      const res = e.result ? formatTable(e.result, 50) : e.error ? `error: ${e.error}` : '';
      yield { kind: 'details', summary: [...named(e.step), `: ${formatEvent(e) ?? ''}`] };
      yield { kind: 'pre', text: body, lang: 'sql' };
      yield { kind: 'pre', text: res, lang: 'text' };
      yield { kind: 'end-details' };
      any = true;
    }
  }
  if (!any) yield { kind: 'p', text: ['No commands or queries ran.'] };

  yield { kind: 'hr' };
  yield { kind: 'p', text: [`Transcript: ${f.events} events. Last event hash: `, { code: f.lastHash ?? '—' }, ' (check it with ', { code: 'drillbook verify' }, ').'] };
}

// ---------------------------------------------------------------------------------------------
// Markdown: data is escaped so that neither Markdown nor raw HTML in it can render.

/** Text for a Markdown line: HTML-significant characters as entities, Markdown punctuation escaped. */
export function mdEscape(text: string): string {
  return mdEscapeVisible(visibleLine(text));
}

const MD_SPECIAL = /[\\`*_[\]~&<>]/g;
const MD_ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** One pass: Markdown punctuation backslashed, HTML-significant characters as entities. */
function mdEscapeVisible(text: string): string {
  return text.replace(MD_SPECIAL, (c) => MD_ENTITY[c] ?? `\\${c}`);
}

/** The longest run of backticks in the text, counted in one pass (no array of matches, no spread). */
function longestBacktickRun(text: string): number {
  let longest = 0;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 96) {
      run++;
      if (run > longest) longest = run;
    } else run = 0;
  }
  return longest;
}

/** Text that starts a line: also defuse what Markdown reads at the start of a line (#, >, -, 1.). */
function mdLineStart(text: string): string {
  return mdEscape(text).replace(/^(\s*)([#>+=-]|\d+(?=[.)]))/, (_m, sp: string, c: string) => `${sp}${/\d/.test(c) ? `${c}\\` : `\\${c}`}`);
}

/** An inline code span no content can close early. */
function mdCode(text: string): string {
  const t = visibleLine(text).replace(/\|/g, '\\|');
  const longest = longestBacktickRun(t);
  const ticks = '`'.repeat(longest + 1);
  const pad = t.startsWith('`') || t.endsWith('`') || t === '' ? ' ' : '';
  return `${ticks}${pad}${t}${pad}${ticks}`;
}

/** Inline text on one Markdown line: a newline in the data becomes a <br>; in a table, a pipe is escaped too. */
function mdInlineLine(t: string, inTable: boolean): string {
  const escaped = mdEscapeVisible(t.replace(/\t/g, '\\t'));
  return inTable ? escaped.replace(/\|/g, '\\|') : escaped;
}

/**
 * Text that needs no escaping at all: no control or bidi character, no Markdown or HTML punctuation,
 * no pipe. Most of a report is such text; one test finds it, instead of a pass for each kind of escape.
 */
const MD_PLAIN = /^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\\`*_[\]~&<>|]*$/;

/** Plain text inline: escaped, a newline as <br>. */
function mdText(p: string, inTable: boolean): string {
  if (MD_PLAIN.test(p)) return p;
  const v = visible(p);
  return v.includes('\n') ? v.split('\n').map((l) => mdInlineLine(l, inTable)).join('<br>') : mdInlineLine(v, inTable);
}

function mdInline(parts: Inline[], inTable = false): string {
  let out = '';
  for (const p of parts) out += typeof p === 'string' ? mdText(p, inTable) : 'code' in p ? mdCode(p.code) : `**${mdInline(p.strong, inTable)}**`;
  return out;
}

/** A table row. */
function mdRow(cells: Array<Inline[] | string>): string {
  let out = '|';
  for (const c of cells) out += ` ${typeof c === 'string' ? mdText(c, true) : mdInline(c, true)} |`;
  return `${out}\n`;
}

/** A fenced block that no content can close early. */
function mdFence(text: string, lang: string): string {
  const t = visible(text).replace(/\n$/, '');
  const longest = Math.max(2, longestBacktickRun(t));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${t}\n${f}`;
}

function writeMarkdownBlocks(blocks: Iterable<Block>, sink: Sink): void {
  // Blocks are separated by one blank line, written lazily so the file ends with a single newline.
  let gap = false;
  const block = (text: string) => {
    sink(gap ? `\n${text}` : text);
    gap = true;
  };
  const line = (text: string) => {
    sink(text);
    gap = false;
  };
  let inDetails = false;
  for (const b of blocks) {
    switch (b.kind) {
      case 'h1':
        block(`# ${mdInline(b.text)}\n`);
        break;
      case 'h2':
        block(`## ${mdInline(b.text)}\n`);
        break;
      case 'p':
        block(`${mdLineStart(typeof b.text[0] === 'string' ? b.text[0] : '')}${mdInline(b.text.slice(typeof b.text[0] === 'string' ? 1 : 0))}\n`);
        break;
      case 'callout':
        block(`> ${mdInline(b.text)}\n`);
        break;
      case 'table':
        block(`|${b.head.map((h) => ` ${mdEscape(h)} `.replace(/^  $/, ' ')).join('|')}|\n|${b.head.map(() => '---').join('|')}|\n`);
        gap = false;
        break;
      case 'row':
        line(mdRow(b.cells));
        break;
      case 'li':
        if (gap) line('\n');
        line(`- ${mdInline(b.text)}\n`);
        break;
      case 'note':
        block(`- ${mdInline(b.head)}\n\n${visible(b.text).split('\n').map((l) => `  > ${mdLineStart(l)}`).join('\n')}\n`);
        break;
      case 'end-table':
      case 'end-list':
        gap = true;
        break;
      case 'details':
        inDetails = true;
        // HTML in Markdown: entities for the characters Markdown would read, too.
        block(`<details><summary>${htmlInline(b.summary).replace(/[[\]*_`~|\\]/g, (c) => `&#${c.charCodeAt(0)};`)}</summary>\n`);
        break;
      case 'pre':
        block(`${mdFence(b.text, b.lang)}\n`);
        break;
      case 'end-details':
        inDetails = false;
        block('</details>\n');
        break;
      case 'hr':
        block('---\n');
        break;
    }
  }
  if (inDetails) block('</details>\n');
}

/** Stream the Markdown report to a sink. */
export function writeMarkdown(events: readonly Sealed[], sink: Sink, extra: ReportExtra = {}): void {
  writeMarkdownBlocks(reportBlocks(events, extra), sink);
}

export function renderMarkdown(events: readonly Sealed[], extra: ReportExtra = {}): string {
  const parts: string[] = [];
  writeMarkdown(events, (s) => void parts.push(s), extra);
  return parts.join('');
}

export function renderJson(events: readonly Sealed[], extra: Pick<ReportExtra, 'integrity'> = {}): string {
  return `${JSON.stringify({ ...(extra.integrity ? { integrity: extra.integrity } : {}), ...reportFacts(events), timeline: events.filter((e) => e.type !== 'command.output') }, null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
// HTML: every value escaped; a Content-Security-Policy allows the page's one stylesheet and nothing
// else (no script, no images, no connections), so even a value that slipped through could not run.

export function escapeHtml(s: string): string {
  return visible(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function htmlText(p: string): string {
  return escapeHtml(p).replace(/\n/g, '<br>');
}

function htmlInline(parts: Inline[]): string {
  return parts.map((p) => (typeof p === 'string' ? htmlText(p) : 'code' in p ? `<code>${escapeHtml(p.code)}</code>` : `<strong>${htmlInline(p.strong)}</strong>`)).join('');
}

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2rem .5rem;text-align:left;vertical-align:top}pre{background:#f4f4f4;padding:.5rem;overflow:auto;white-space:pre-wrap}blockquote{margin:.2rem 0 .8rem 1rem;padding-left:.6rem;border-left:3px solid #ccc;white-space:pre-wrap}';

/** The page's policy: its own stylesheet (by hash) and nothing else. */
export const CONTENT_SECURITY_POLICY = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; img-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

function writeHtmlBlocks(blocks: Iterable<Block>, sink: Sink, title: string): void {
  sink(`<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">\n<meta name="referrer" content="no-referrer">\n<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>\n`);
  let list = false;
  for (const b of blocks) {
    if (list && b.kind !== 'li' && b.kind !== 'note' && b.kind !== 'end-list') {
      sink('</ul>\n');
      list = false;
    }
    switch (b.kind) {
      case 'h1':
      case 'h2':
        sink(`<${b.kind}>${htmlInline(b.text)}</${b.kind}>\n`);
        break;
      case 'p':
        sink(`<p>${htmlInline(b.text)}</p>\n`);
        break;
      case 'callout':
        sink(`<blockquote>${htmlInline(b.text)}</blockquote>\n`);
        break;
      case 'table':
        sink(`<table>\n<tr>${b.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>\n`);
        break;
      case 'row':
        sink(`<tr>${b.cells.map((c) => `<td>${typeof c === 'string' ? htmlText(c) : htmlInline(c)}</td>`).join('')}</tr>\n`);
        break;
      case 'end-table':
        sink('</table>\n');
        break;
      case 'li':
      case 'note':
        if (!list) sink('<ul>\n');
        list = true;
        sink(b.kind === 'li' ? `<li>${htmlInline(b.text)}</li>\n` : `<li>${htmlInline(b.head)}<blockquote>${escapeHtml(b.text)}</blockquote></li>\n`);
        break;
      case 'end-list':
        if (list) sink('</ul>\n');
        list = false;
        break;
      case 'details':
        sink(`<details><summary>${htmlInline(b.summary)}</summary>\n`);
        break;
      case 'pre':
        sink(`<pre>${escapeHtml(b.text.replace(/\n$/, ''))}</pre>\n`);
        break;
      case 'end-details':
        sink('</details>\n');
        break;
      case 'hr':
        sink('<hr>\n');
        break;
    }
  }
  if (list) sink('</ul>\n');
  sink('</body></html>\n');
}

/** Stream the HTML report to a sink: a self-contained page (tables and details render without a Markdown viewer). */
export function writeHtml(events: readonly Sealed[], sink: Sink, extra: ReportExtra = {}): void {
  const started = events.find((e) => e.type === 'run.started');
  const title = started?.type === 'run.started' ? `drillbook report: ${started.runbook.title}` : 'drillbook report';
  writeHtmlBlocks(reportBlocks(events, extra), sink, title);
}

export function renderHtml(events: readonly Sealed[], extra: ReportExtra = {}): string {
  const parts: string[] = [];
  writeHtml(events, (s) => void parts.push(s), extra);
  return parts.join('');
}
