/**
 * The postmortem report, rendered from the transcript's events alone: summary, timeline,
 * deviations, notes, command output and SQL results, the last hash. Markdown that pastes cleanly
 * into an issue or a postmortem doc; HTML and JSON from the same facts.
 *
 * Everything in a transcript is data, and data is hostile (a database error can hold
 * `<script>`, a command can print markup or terminal escapes). The report is a document of blocks
 * whose text is data; each writer escapes that text for its format (report/markdown.ts,
 * report/html.ts), and control characters are shown as visible escapes.
 *
 * A report is built as the transcript is read, one event at a time (ReportBuilder): the timeline and
 * the output are rendered as their events arrive, into buffers, and each command's output is capped;
 * the summary, which needs the whole run, is written at the end, ahead of them. No event is kept, so
 * a report of any transcript takes memory for the facts and the buffers only. A step's title is shown
 * as the run showed it then: the runbook's words with the input values given so far.
 */
import type { OutputDigest, RunEvent } from './events.js';
import { fillText } from './interpolate.js';
import { formatEvent, formatTable } from './format.js';
import { memoryBuffer, type Block, type BlockWriter, type Inline, type Sink, type TextBuffer } from './report/document.js';
import { duration, FactsGatherer, stepOf, utc, type ReportFacts, type Sealed } from './report/facts.js';
import { HTML_FOOT, htmlHead, HtmlWriter } from './report/html.js';
import { MarkdownWriter } from './report/markdown.js';

export type { Sink, TextBuffer } from './report/document.js';
export { duration, reportFacts, utc, type ReportFacts } from './report/facts.js';
export { mdEscape } from './report/markdown.js';
export { CONTENT_SECURITY_POLICY, escapeHtml } from './report/html.js';

export type ReportFormat = 'md' | 'html' | 'json';

/** What the report adds besides the events: a drill's debrief, and what is wrong with the file it was made from. */
export interface ReportExtra {
  score?: string;
  /** The transcript is damaged (a broken chain, a torn line): said at the top, so no reader misses it. */
  integrity?: string;
}

/** Output kept per command in a report: its head and its tail, the rest counted. */
export const REPORT_OUTPUT_CAP = 256 * 1024;

/** Steps whose phase is remembered from their start, at most; commands open at once, at most (one runs at a time). */
const MAX_STEPS = 100_000;
const MAX_OPEN = 16;

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

/** Each step's title with the run's (redacted) input values filled in: those given so far. */
class StepTitles {
  private readonly raw = new Map<string, string>();
  // No prototype: an input may be called "__proto__".
  private readonly values: Record<string, string> = Object.create(null) as Record<string, string>;
  private readonly filled = new Map<string, string>();

  start(e: Extract<Sealed, { type: 'run.started' }>): void {
    for (const [name, value] of Object.entries(e.inputs ?? {})) this.values[name] = value;
    for (const p of e.plan?.phases ?? []) for (const s of p.steps) this.raw.set(s.id, s.title);
    this.filled.clear();
  }

  input(name: string, value: string): void {
    this.values[name] = value;
    this.filled.clear();
  }

  get(step: string): string | undefined {
    let t = this.filled.get(step);
    if (t === undefined) {
      const raw = this.raw.get(step);
      if (raw === undefined) return undefined;
      t = fillText(raw, this.values);
      this.filled.set(step, t);
    }
    return t;
  }

  /** The step's id and, for a reader who was not there, its title. */
  named(step: string): Inline[] {
    const title = this.get(step);
    return [{ code: step }, ...(title ? [` (${title})`] : [])];
  }
}

/**
 * A report built as the events arrive: `add` each event in order, then `finish` writes the whole
 * report to a sink. Buffers for the timeline and the output come from `buffer` (in memory unless
 * the caller gives one that can move to disk).
 */
export class ReportBuilder {
  private readonly gathered = new FactsGatherer();
  private readonly titles = new StepTitles();
  private readonly phaseOfStep = new Map<string, string>();
  private readonly running = new Map<string, { command: string; out: OutputExcerpt }>();
  private readonly timeline: TextBuffer;
  private readonly output: TextBuffer | undefined;
  private readonly timelineWriter: BlockWriter | undefined;
  private readonly outputWriter: BlockWriter | undefined;
  private anyOutput = false;
  private startedSeen = false;
  private jsonCount = 0;

  constructor(
    readonly format: ReportFormat,
    buffer: () => TextBuffer = memoryBuffer,
  ) {
    this.timeline = buffer();
    if (format !== 'json') {
      this.output = buffer();
      this.timelineWriter = this.writerFor((s) => this.timeline.append(s));
      this.outputWriter = this.writerFor((s) => this.output!.append(s));
    }
  }

  private writerFor(sink: Sink, first = false): BlockWriter {
    return this.format === 'html' ? new HtmlWriter(sink) : new MarkdownWriter(sink, first);
  }

  add(e: Sealed): void {
    this.gathered.add(e);
    if (e.type === 'run.started' && !this.startedSeen) {
      this.startedSeen = true;
      this.titles.start(e);
      for (const p of e.plan?.phases ?? []) for (const s of p.steps) this.phaseOfStep.set(s.id, p.id);
      this.whereCells.clear();
    } else if (e.type === 'input.set') {
      this.titles.input(e.name, e.value);
      this.whereCells.clear();
    } else if (e.type === 'step.started') {
      // Bounded whatever the transcript holds (a runbook's steps are far fewer).
      if (this.phaseOfStep.size < MAX_STEPS || this.phaseOfStep.has(e.step)) this.phaseOfStep.set(e.step, e.phase);
      this.whereCells.delete(e.step);
    }

    if (this.format === 'json') {
      if (e.type !== 'command.output') this.timeline.append(this.jsonItem(e));
      return;
    }
    if (e.type !== 'command.output') this.timelineRow(e);
    this.outputOf(e);
  }

  /** One timeline item of the JSON report, indented as inside the report's object. */
  private jsonItem(e: Sealed): string {
    return `${this.jsonCount++ ? ',\n' : ''}    ${JSON.stringify(e, null, 2).replace(/\n/g, '\n    ')}`;
  }

  /** A timeline row: the time, the phase and step with its title, the event's kind, what it says. */
  private timelineRow(e: Sealed): void {
    const w = this.timelineWriter!;
    const step = stepOf(e);
    const ts = utc(e.ts);
    w.rawRow([
      w.cell(ts),
      step ? this.whereCell(step) : '',
      this.cached(this.typeCells, e.type, () => w.cell(e.type)),
      w.cell(formatEvent(e) ?? '', e.type === 'run.finished'),
    ]);
  }

  /** Escaped cells that repeat: a step's place and title (until a step starts again or an input changes a title), each kind of event. */
  private readonly whereCells = new Map<string, string>();
  private readonly typeCells = new Map<string, string>();

  private whereCell(step: string): string {
    return this.cached(this.whereCells, step, () => {
      const title = this.titles.get(step);
      return this.timelineWriter!.cell(`${this.phaseOfStep.get(step) ?? '?'}/${step}${title ? ` (${title})` : ''}`);
    });
  }

  private cached(cells: Map<string, string>, key: string, make: () => string): string {
    let c = cells.get(key);
    if (c === undefined) {
      // Bounded, whatever the transcript holds.
      if (cells.size >= 10_000) cells.clear();
      cells.set(key, (c = make()));
    }
    return c;
  }

  /** Each command's output is collected from its start to its end, capped; a query's result as it comes. */
  private outputOf(e: Sealed): void {
    const w = this.outputWriter!;
    if (e.type === 'command.started') {
      // One command runs at a time, and one cut short by drillbook stopping is shown when the run
      // resumes: another still open here has no place in a run (a hand-made transcript). Dropped, so
      // that what is kept stays bounded.
      this.running.clear();
      this.running.set(e.step, { command: e.command, out: new OutputExcerpt() });
    } else if (e.type === 'run.resumed') this.closeOpenCommands();
    else if (e.type === 'command.output') {
      let r = this.running.get(e.step);
      if (!r) {
        if (this.running.size >= MAX_OPEN) this.running.clear();
        this.running.set(e.step, (r = { command: '', out: new OutputExcerpt() }));
      }
      if (e.skipped) r.out.add(omittedNote(e.stream, e));
      r.out.add(e.text);
    } else if (e.type === 'command.exited') {
      const r = this.running.get(e.step);
      this.running.delete(e.step);
      this.writeCommand(e.step, r, formatEvent(e) ?? '', digestLines(e.output));
    } else if (e.type === 'check.result' || e.type === 'sql.result') {
      const body = `${e.sql}${e.params.length ? `\n-- params: ${e.params.map((p, i) => `$${i + 1} = ${JSON.stringify(p)}`).join(', ')}` : ''}`;
      const res = e.result ? formatTable(e.result, 50) : e.error ? `error: ${e.error}` : '';
      w.write({ kind: 'details', summary: [...this.titles.named(e.step), `: ${formatEvent(e) ?? ''}`] });
      w.write({ kind: 'pre', text: body, lang: 'sql' });
      w.write({ kind: 'pre', text: res, lang: 'text' });
      w.write({ kind: 'end-details' });
      this.anyOutput = true;
    }
  }

  private writeCommand(step: string, r: { command: string; out: OutputExcerpt } | undefined, how: string, digest: string[]): void {
    const w = this.outputWriter!;
    w.write({ kind: 'details', summary: [...this.titles.named(step), `: ${how}`] });
    w.write({ kind: 'pre', text: `$ ${r?.command ?? ''}\n${r?.out.toString() ?? ''}`, lang: 'console' });
    if (digest.length) w.write({ kind: 'pre', text: digest.join('\n'), lang: 'text' });
    w.write({ kind: 'end-details' });
    this.anyOutput = true;
  }

  /** Commands whose end the transcript does not record: their output is shown all the same, said so. */
  private closeOpenCommands(): void {
    for (const [step, r] of this.running) this.writeCommand(step, r, 'no end recorded (still running, or drillbook stopped while it ran)', []);
    this.running.clear();
  }

  /** Drops what was rendered (a temporary file a buffer moved to is closed). */
  discard(): void {
    this.timeline.drain(() => undefined);
    this.output?.drain(() => undefined);
  }

  /** The facts gathered so far (all of them once every event is added). */
  facts(): ReportFacts {
    return this.gathered.facts();
  }

  /** Writes the report: the summary first, then what was rendered as the events came. */
  finish(sink: Sink, extra: ReportExtra = {}): void {
    const f = this.facts();
    if (this.format === 'json') return this.finishJson(f, sink, extra);
    this.closeOpenCommands();
    if (this.format === 'html') sink(htmlHead(f.runbook ? `drillbook report: ${f.runbook.title}` : 'drillbook report'));
    const w = this.writerFor(sink, true);
    for (const b of summaryBlocks(f, extra)) w.write(b);
    w.write({ kind: 'h2', text: ['Timeline'] });
    w.write({ kind: 'table', head: ['Time (UTC)', 'Phase/Step', 'Event', 'Result'] });
    this.timelineWriter!.end();
    this.timeline.drain(sink);
    w.write({ kind: 'end-table' });

    w.write({ kind: 'h2', text: ['Deviations'] });
    if (f.deviations.length === 0) w.write({ kind: 'p', text: ['None: every step ran as written.'] });
    for (const d of f.deviations) w.write({ kind: 'li', text: [utc(d.ts), ...(d.step ? [' ', ...this.titles.named(d.step)] : []), `: ${d.what}`] });
    if (f.deviations.length) w.write({ kind: 'end-list' });

    w.write({ kind: 'h2', text: ['Operator notes'] });
    if (f.notes.length === 0) w.write({ kind: 'p', text: ['None.'] });
    for (const n of f.notes) w.write({ kind: 'note', head: [`${utc(n.ts)} ${n.actor}`, ...(n.step ? [' at ', { code: n.step }] : []), ':'], text: n.text });
    if (f.notes.length) w.write({ kind: 'end-list' });
    if (f.milestones.length) {
      w.write({ kind: 'h2', text: ['Milestones'] });
      w.write({ kind: 'table', head: ['Milestone', 'Happened (UTC)', 'Logged (UTC)'] });
      for (const m of f.milestones) w.write({ kind: 'row', cells: [[m.name], [utc(m.at)], [utc(m.logged)]] });
      w.write({ kind: 'end-table' });
    }

    w.write({ kind: 'h2', text: ['Output and results'] });
    this.outputWriter!.end();
    this.output!.drain(sink);
    if (!this.anyOutput) w.write({ kind: 'p', text: ['No commands or queries ran.'] });

    w.write({ kind: 'hr' });
    w.write({ kind: 'p', text: [`Transcript: ${f.events} events. Last event hash: `, { code: f.lastHash ?? '—' }, ' (check it with ', { code: 'drillbook verify' }, ').'] });
    w.end();
    if (this.format === 'html') sink(HTML_FOOT);
  }

  /** The facts, then the timeline (every event but command output, as recorded) as the last key. */
  private finishJson(f: ReportFacts, sink: Sink, extra: ReportExtra): void {
    const head = JSON.stringify({ ...(extra.integrity ? { integrity: extra.integrity } : {}), ...f, timeline: [] }, null, 2);
    if (this.jsonCount === 0) return sink(`${head}\n`);
    // The object ends with `"timeline": []\n}`: open the array there and put the items in.
    sink(`${head.slice(0, -'[]\n}'.length)}[\n`);
    this.timeline.drain(sink);
    sink('\n  ]\n}\n');
  }
}

function* summaryBlocks(f: ReportFacts, extra: ReportExtra): Generator<Block> {
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
}

/** A report of events already in memory. */
function build(format: ReportFormat, events: readonly Sealed[]): ReportBuilder {
  const b = new ReportBuilder(format);
  for (const e of events) b.add(e);
  return b;
}

/** Stream the Markdown report to a sink. */
export function writeMarkdown(events: readonly Sealed[], sink: Sink, extra: ReportExtra = {}): void {
  build('md', events).finish(sink, extra);
}

function collect(write: (sink: Sink) => void): string {
  let out = '';
  write((s) => void (out += s));
  return out;
}

export function renderMarkdown(events: readonly Sealed[], extra: ReportExtra = {}): string {
  return collect((sink) => writeMarkdown(events, sink, extra));
}

/** Stream the HTML report to a sink: a self-contained page (tables and details render without a Markdown viewer). */
export function writeHtml(events: readonly Sealed[], sink: Sink, extra: ReportExtra = {}): void {
  build('html', events).finish(sink, extra);
}

export function renderHtml(events: readonly Sealed[], extra: ReportExtra = {}): string {
  return collect((sink) => writeHtml(events, sink, extra));
}

export function renderJson(events: readonly Sealed[], extra: Pick<ReportExtra, 'integrity'> = {}): string {
  return collect((sink) => build('json', events).finish(sink, extra));
}
