/**
 * The postmortem report, rendered from the transcript's events alone: summary, timeline,
 * deviations, notes, command output and SQL results, the last hash. Markdown that pastes cleanly
 * into an issue or a postmortem doc; HTML and JSON from the same facts.
 */
import type { Recorded, RunEvent, TargetInfo } from './events.js';
import { formatEvent, formatTable } from './format.js';
import { firstOperatorAction } from './first-action.js';

type Sealed = Recorded & { hash?: string };

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
  const started = events.find((e) => e.type === 'run.started') as Extract<Sealed, { type: 'run.started' }> | undefined;
  const finished = [...events].reverse().find((e) => e.type === 'run.finished') as Extract<Sealed, { type: 'run.finished' }> | undefined;
  const lastResumeIdx = events.map((e) => e.type).lastIndexOf('run.resumed');
  const finishedIdx = finished ? events.indexOf(finished) : -1;
  const stillOpen = !finished || lastResumeIdx > finishedIdx;
  const start = started ? Date.parse(started.ts) : undefined;
  const since = (ts: string | undefined) => (ts && start !== undefined ? Date.parse(ts) - start : undefined);

  const firstAction = firstOperatorAction(events);
  const mitigated = events.find((e) => e.type === 'milestone' && e.name === 'mitigated') as Extract<Sealed, { type: 'milestone' }> | undefined;
  const resolved = events.find((e) => e.type === 'milestone' && e.name === 'resolved') as Extract<Sealed, { type: 'milestone' }> | undefined;

  const deviations: ReportFacts['deviations'] = [];
  for (const e of events) {
    const step = stepOf(e);
    switch (e.type) {
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
        deviations.push({ ts: e.ts, step: undefined, what: `run resumed by ${e.operator}${e.recovered ? `: ${e.recovered}` : ''}${e.runbookChanged ? '; the runbook file had changed' : ''}` });
        break;
      default:
        break;
    }
  }

  const last = events[events.length - 1];
  const end = stillOpen ? last?.ts : finished?.ts;
  return {
    runbook: started ? { ...started.runbook } : undefined,
    outcome: stillOpen ? 'in progress (no end recorded)' : finished!.outcome,
    outcomeReason: stillOpen ? undefined : finished?.reason,
    mode: started?.mode ?? '—',
    operators: [...new Set(events.map((e) => e.actor))],
    targets: started?.targets ?? [],
    startedAt: started?.ts,
    endedAt: end,
    durationMs: since(end),
    timeToFirstActionMs: since(firstAction?.ts),
    timeToMitigationMs: since(mitigated?.at),
    timeToRecoveryMs: since(resolved?.at ?? (finished?.outcome === 'completed' ? finished.ts : undefined)),
    deviations,
    notes: events.filter((e): e is Extract<Sealed, { type: 'note' }> => e.type === 'note').map((e) => ({ ts: e.ts, actor: e.actor, step: e.step, text: e.text })),
    milestones: events.filter((e): e is Extract<Sealed, { type: 'milestone' }> => e.type === 'milestone').map((e) => ({ name: e.name, at: e.at, logged: e.ts })),
    lastHash: last?.hash,
    events: events.length,
  };
}

function cell(text: string): string {
  if (!text.includes('|') && !text.includes('\n')) return text;
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** A fenced block that no content can close early. */
function fence(text: string, lang = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${text.replace(/\n$/, '')}\n${f}`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const ENV_WORD: Record<string, string> = { production: 'PRODUCTION', staging: 'STAGING', development: 'DEVELOPMENT', rehearsal: 'REHEARSAL' };

export function renderMarkdown(events: readonly Sealed[], extra: { score?: string } = {}): string {
  const f = reportFacts(events);
  const lines: string[] = [];
  lines.push(`# ${f.runbook ? f.runbook.title : 'drillbook run'}: ${f.outcome}`);
  lines.push('');
  if (f.mode === 'rehearsal') lines.push('> **REHEARSAL**: a drill against a throwaway database, not an incident record.\n');
  if (f.mode === 'dry-run') lines.push('> **DRY RUN**: only read-only checks ran; nothing was changed.\n');
  lines.push('| | |', '|---|---|');
  lines.push(`| Runbook | \`${f.runbook?.id ?? '—'}\` v${f.runbook?.version ?? '—'} (sha256 \`${f.runbook?.hash.slice(0, 12) ?? '—'}\`) |`);
  lines.push(`| Outcome | **${f.outcome}**${f.outcomeReason ? `: ${cell(f.outcomeReason)}` : ''} |`);
  lines.push(`| Mode | ${f.mode} |`);
  lines.push(`| Operator | ${cell(f.operators.join(', '))} |`);
  for (const t of f.targets) {
    lines.push(`| Target \`${t.name}\` | ${ENV_WORD[t.environment] ?? t.environment} \`${t.user ? `${t.user}@` : ''}${t.host}:${t.port}/${t.database}\`${t.serverVersion ? `, PostgreSQL ${t.serverVersion}` : ''}${t.systemIdentifier ? `, system id ${t.systemIdentifier}` : ''}${t.inRecovery ? ', replica' : ''}${t.unreachable ? `, unreachable at start: ${cell(t.unreachable)}` : ''} |`);
  }
  lines.push(`| Started (UTC) | ${utc(f.startedAt)} |`);
  lines.push(`| Ended (UTC) | ${utc(f.endedAt)} |`);
  lines.push(`| Duration | ${duration(f.durationMs)} |`);
  lines.push(`| Time to first action | ${duration(f.timeToFirstActionMs)} |`);
  lines.push(`| Time to mitigation | ${duration(f.timeToMitigationMs)} |`);
  lines.push(`| Time to recovery | ${duration(f.timeToRecoveryMs)} |`);
  lines.push('');

  if (extra.score) lines.push('## Debrief', '', extra.score, '');

  lines.push('## Timeline', '', '| Time (UTC) | Phase/Step | Event | Result |', '|---|---|---|---|');
  const phaseOfStep = new Map<string, string>();
  for (const e of events) if (e.type === 'step.started') phaseOfStep.set(e.step, e.phase);
  for (const e of events) {
    if (e.type === 'command.output') continue;
    const step = stepOf(e);
    const line = formatEvent(e) ?? '';
    const where = step ? `${phaseOfStep.get(step) ?? '?'}/${step}` : '';
    lines.push(`| ${utc(e.ts)} | ${cell(where)} | ${cell(e.type)} | ${cell(e.type === 'run.finished' ? `**${line}**` : line)} |`);
  }
  lines.push('');

  lines.push('## Deviations', '');
  if (f.deviations.length === 0) lines.push('None: every step ran as written.');
  for (const d of f.deviations) lines.push(`- ${utc(d.ts)}${d.step ? ` \`${d.step}\`` : ''}: ${d.what}`);
  lines.push('');

  lines.push('## Operator notes', '');
  if (f.notes.length === 0) lines.push('None.');
  for (const n of f.notes) lines.push(`- ${utc(n.ts)} ${n.actor}${n.step ? ` at \`${n.step}\`` : ''}:`, '', `${n.text.split('\n').map((l) => `  > ${l}`).join('\n')}`, '');
  lines.push('');
  if (f.milestones.length) {
    lines.push('## Milestones', '', '| Milestone | Happened (UTC) | Logged (UTC) |', '|---|---|---|');
    for (const m of f.milestones) lines.push(`| ${m.name} | ${utc(m.at)} | ${utc(m.logged)} |`);
    lines.push('');
  }

  lines.push('## Output and results', '');
  const outputs = new Map<string, string>();
  for (const e of events) if (e.type === 'command.output') outputs.set(e.step, (outputs.get(e.step) ?? '') + e.text);
  // The command each exit belongs to: the step's latest command.started before it (one pass, not a search per exit).
  const lastStarted = new Map<string, Extract<Sealed, { type: 'command.started' }>>();
  let any = false;
  for (const e of events) {
    if (e.type === 'command.started') lastStarted.set(e.step, e);
    if (e.type === 'command.exited') {
      const started = lastStarted.get(e.step);
      const out = outputs.get(e.step) ?? '';
      lines.push(`<details><summary><code>${escapeHtml(e.step)}</code>: ${escapeHtml(formatEvent(e) ?? '')}</summary>`, '', fence(`$ ${started?.command ?? ''}\n${out}`, 'console'), '', '</details>', '');
      any = true;
    }
    if (e.type === 'check.result' || e.type === 'sql.result') {
      const body = `${e.sql}${e.params.length ? `\n-- params: ${e.params.map((p, i) => `$${i + 1} = ${JSON.stringify(p)}`).join(', ')}` : ''}`;
      const res = e.result ? formatTable(e.result, 50) : e.error ? `error: ${e.error}` : '';
      lines.push(`<details><summary><code>${escapeHtml(e.step)}</code>: ${escapeHtml(formatEvent(e) ?? '')}</summary>`, '', fence(body, 'sql'), '', fence(res, 'text'), '', '</details>', '');
      any = true;
    }
  }
  if (!any) lines.push('No commands or queries ran.', '');

  lines.push('---', '', `Transcript: ${f.events} events. Last event hash: \`${f.lastHash ?? '—'}\` (check it with \`drillbook verify\`).`, '');
  return lines.join('\n');
}

export function renderJson(events: readonly Sealed[]): string {
  return `${JSON.stringify({ ...reportFacts(events), timeline: events.filter((e) => e.type !== 'command.output') }, null, 2)}\n`;
}

/** A self-contained HTML page of the same report (tables and details render without a Markdown viewer). */
export function renderHtml(events: readonly Sealed[], extra: { score?: string } = {}): string {
  const md = renderMarkdown(events, extra);
  const out: string[] = [];
  const lines = md.split('\n');
  let i = 0;
  let inFence: string | undefined;
  let table: string[][] = [];
  const flushTable = () => {
    if (!table.length) return;
    const [head, , ...body] = table;
    out.push('<table>', `<tr>${head!.map((c) => `<th>${inline(c)}</th>`).join('')}</tr>`, ...body.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`), '</table>');
    table = [];
  };
  function inline(s: string): string {
    return escapeHtml(s.replace(/\\\|/g, '|')).replace(/&lt;br&gt;/g, '<br>').replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>').replace(/`([^`]+)`/g, '<code>$1</code>');
  }
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    if (inFence !== undefined) {
      if (l === inFence) {
        out.push('</pre>');
        inFence = undefined;
      } else out.push(escapeHtml(l));
      continue;
    }
    const fenceOpen = /^(`{3,})\w*$/.exec(l);
    if (fenceOpen) {
      flushTable();
      inFence = fenceOpen[1];
      out.push('<pre>');
      continue;
    }
    if (l.startsWith('|')) {
      table.push(l.replace(/^\||\|$/g, '').split(/(?<!\\)\|/).map((c) => c.trim()));
      continue;
    }
    flushTable();
    if (l.startsWith('<details>') || l.startsWith('</details>')) out.push(l);
    else if (l.startsWith('# ')) out.push(`<h1>${inline(l.slice(2))}</h1>`);
    else if (l.startsWith('## ')) out.push(`<h2>${inline(l.slice(3))}</h2>`);
    else if (l.startsWith('> ')) out.push(`<blockquote>${inline(l.slice(2))}</blockquote>`);
    else if (l.startsWith('  > ')) out.push(`<blockquote>${inline(l.slice(4))}</blockquote>`);
    else if (l.startsWith('- ')) out.push(`<li>${inline(l.slice(2))}</li>`);
    else if (l === '---') out.push('<hr>');
    else if (l.trim()) out.push(`<p>${inline(l)}</p>`);
  }
  flushTable();
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>drillbook report</title><style>body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2rem .5rem;text-align:left;vertical-align:top}pre{background:#f4f4f4;padding:.5rem;overflow:auto}</style></head><body>\n${out.join('\n')}\n</body></html>\n`;
}
