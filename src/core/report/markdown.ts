/** The report in Markdown: data is escaped so that neither Markdown nor raw HTML in it can render. */
import { visible, visibleLine } from '../sanitize.js';
import type { Block, BlockWriter, Inline, Sink } from './document.js';
import { htmlInline } from './html.js';

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

const MD_IN_HTML = /[[\]*_`~|\\]/;
const MD_IN_HTML_ALL = /[[\]*_`~|\\]/g;

/** HTML inside Markdown: the characters Markdown would read as entities too. */
function mdHtml(html: string): string {
  return MD_IN_HTML.test(html) ? html.replace(MD_IN_HTML_ALL, (c) => `&#${c.charCodeAt(0)};`) : html;
}

export class MarkdownWriter implements BlockWriter {
  /** Blocks are separated by one blank line, written lazily so the file ends with a single newline. */
  private gap: boolean;
  private inDetails = false;

  /** `first`: the writer begins the document (no blank line before its first block). */
  constructor(
    private readonly sink: Sink,
    first = false,
  ) {
    this.gap = !first;
  }

  private block(text: string): void {
    this.sink(this.gap ? `\n${text}` : text);
    this.gap = true;
  }

  private line(text: string): void {
    this.sink(text);
    this.gap = false;
  }

  write(b: Block): void {
    switch (b.kind) {
      case 'h1':
        this.block(`# ${mdInline(b.text)}\n`);
        break;
      case 'h2':
        this.block(`## ${mdInline(b.text)}\n`);
        break;
      case 'p':
        this.block(`${mdLineStart(typeof b.text[0] === 'string' ? b.text[0] : '')}${mdInline(b.text.slice(typeof b.text[0] === 'string' ? 1 : 0))}\n`);
        break;
      case 'callout':
        this.block(`> ${mdInline(b.text)}\n`);
        break;
      case 'table':
        this.block(`|${b.head.map((h) => ` ${mdEscape(h)} `.replace(/^  $/, ' ')).join('|')}|\n|${b.head.map(() => '---').join('|')}|\n`);
        this.gap = false;
        break;
      case 'row':
        this.line(mdRow(b.cells));
        break;
      case 'li':
        if (this.gap) this.line('\n');
        this.line(`- ${mdInline(b.text)}\n`);
        break;
      case 'note':
        this.block(`- ${mdInline(b.head)}\n\n${visible(b.text).split('\n').map((l) => `  > ${mdLineStart(l)}`).join('\n')}\n`);
        break;
      case 'end-table':
      case 'end-list':
        this.gap = true;
        break;
      case 'details':
        this.inDetails = true;
        // HTML in Markdown: entities for the characters Markdown would read, too.
        this.block(`<details><summary>${mdHtml(htmlInline(b.summary))}</summary>\n`);
        break;
      case 'pre':
        this.block(`${mdFence(b.text, b.lang)}\n`);
        break;
      case 'end-details':
        this.inDetails = false;
        this.block('</details>\n');
        break;
      case 'hr':
        this.block('---\n');
        break;
    }
  }

  end(): void {
    if (this.inDetails) this.block('</details>\n');
    this.inDetails = false;
  }

  cell(text: string, strong = false): string {
    const t = mdText(text, true);
    return strong ? `**${t}**` : t;
  }

  rawRow(cells: readonly string[]): void {
    let row = '|';
    for (const c of cells) row += ` ${c} |`;
    this.line(`${row}\n`);
  }
}
