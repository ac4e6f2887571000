/**
 * The report as HTML: every value escaped; a Content-Security-Policy allows the page's one stylesheet
 * and nothing else (no script, no images, no connections), so even a value that slipped through could
 * not run.
 */
import { createHash } from 'node:crypto';
import { visible } from '../sanitize.js';
import type { Block, BlockWriter, Inline, Sink } from './document.js';

const HTML_SPECIAL = /[&<>"']/;
const HTML_SPECIAL_ALL = /[&<>"']/g;
const HTML_ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  const v = visible(s);
  // One test for the usual text with nothing to escape, one pass for the rest.
  return HTML_SPECIAL.test(v) ? v.replace(HTML_SPECIAL_ALL, (c) => HTML_ENTITY[c]!) : v;
}

function htmlText(p: string): string {
  const e = escapeHtml(p);
  return e.includes('\n') ? e.replace(/\n/g, '<br>') : e;
}

export function htmlInline(parts: Inline[]): string {
  let out = '';
  for (const p of parts) out += typeof p === 'string' ? htmlText(p) : 'code' in p ? `<code>${escapeHtml(p.code)}</code>` : `<strong>${htmlInline(p.strong)}</strong>`;
  return out;
}

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2rem .5rem;text-align:left;vertical-align:top}pre{background:#f4f4f4;padding:.5rem;overflow:auto;white-space:pre-wrap}blockquote{margin:.2rem 0 .8rem 1rem;padding-left:.6rem;border-left:3px solid #ccc;white-space:pre-wrap}';

/** The page's policy: its own stylesheet (by hash) and nothing else. */
export const CONTENT_SECURITY_POLICY = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; img-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** The page's head, up to the opening of its body. */
export function htmlHead(title: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">\n<meta name="referrer" content="no-referrer">\n<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>\n`;
}

export const HTML_FOOT = '</body></html>\n';

export class HtmlWriter implements BlockWriter {
  private list = false;

  constructor(private readonly sink: Sink) {}

  /** A list left open ends before anything that is not part of it. */
  private closeList(): void {
    if (!this.list) return;
    this.sink('</ul>\n');
    this.list = false;
  }

  write(b: Block): void {
    const sink = this.sink;
    if (b.kind !== 'li' && b.kind !== 'note' && b.kind !== 'end-list') this.closeList();
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
        if (!this.list) sink('<ul>\n');
        this.list = true;
        sink(b.kind === 'li' ? `<li>${htmlInline(b.text)}</li>\n` : `<li>${htmlInline(b.head)}<blockquote>${escapeHtml(b.text)}</blockquote></li>\n`);
        break;
      case 'end-list':
        this.closeList();
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

  end(): void {
    this.closeList();
  }

  cell(text: string, strong = false): string {
    const t = htmlText(text);
    return strong ? `<strong>${t}</strong>` : t;
  }

  rawRow(cells: readonly string[]): void {
    this.closeList();
    this.sink(`<tr><td>${cells.join('</td><td>')}</td></tr>\n`);
  }
}
