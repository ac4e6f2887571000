/** The run screen's static first frame (see first-frame.ts): laid out as the full-screen interface lays it out. */
import { parseDatabaseUrl } from '../core/conn.js';
import type { Environment, Mode } from '../core/events.js';
import { buildPlan } from '../core/plan.js';
import type { Runbook } from '../core/runbook.js';
import { cell, pad, showFirstFrame, terminalFor, widthOf, wrap, type Terminal } from './first-frame.js';
import { listHeight, listWidth as listColumns, phaseListRows, STAGE_MARK } from './phase-window.js';
import { ENV_COLOR, ENV_WORD } from './environment.js';


export interface FrameTarget {
  name: string;
  environment: Environment;
  /** user@host:port/database, or what is happening to the target. */
  where: string;
}

/**
 * The run screen before it starts: the banner, the phase list and the first step, laid out as the
 * full-screen interface lays them out (the interface then adds the server's facts and the keys).
 */
export function runFrame(rb: Runbook, mode: Mode, targets: readonly FrameTarget[], operator: string, t: Terminal): string[] {
  const inner = t.columns - 4;
  const modeWord = mode === 'rehearsal' ? 'REHEARSAL' : mode === 'dry-run' ? 'DRY RUN (read-only checks only)' : 'INCIDENT';
  const right = cell(t, operator ? `${operator} · 00:00` : '00:00', inner - 12); // like the banner: the title gives way first
  const mark = cell(t, modeWord, inner - widthOf(right) - 1, 'bold', mode === 'incident' ? 'red' : 'blue');
  const heading = `${mark}${cell(t, ` · ${rb.title}`, Math.max(0, inner - widthOf(right) - 1 - widthOf(mark)), 'bold')}`;
  const lines = [`┌${'─'.repeat(t.columns - 2)}┐`, `│ ${pad(heading, inner - widthOf(right))}${right} │`];
  for (const target of targets.length ? targets : [undefined]) {
    if (!target) {
      lines.push(`│ ${pad('no database target', inner)} │`);
      continue;
    }
    const word = cell(t, ` ${ENV_WORD[target.environment] ?? target.environment} `, inner, 'inverse', ENV_COLOR[target.environment] ?? 'gray', 'bold');
    lines.push(`│ ${pad(`${word}${cell(t, ` ${target.name}: ${target.where}`, inner - widthOf(word))}`, inner)} │`);
  }
  lines.push(`└${'─'.repeat(t.columns - 2)}┘`);

  const plan = buildPlan(rb, mode, {});
  const first = plan.main[0] ? plan.steps[plan.main[0]] : undefined;
  // The phase list, as the interface sizes it (a third of the width, 38 to 64 columns, a column of
  // it left blank; its height from the terminal's).
  const height = listHeight(t.rows, targets.length);
  const columns = listColumns(t.columns);
  const listWidth = columns - 1;
  const list = phaseListRows(plan, first?.id, height).map((row) => {
    if (row.kind === 'more') return cell(t, `     … ${row.count} more ${row.where}`, listWidth, 'dim');
    if (row.kind === 'phase') {
      const phase = plan.phases[row.index]!;
      const here = phase.id === first?.phase.id;
      return cell(t, `${here ? '▶' : ' '} ${row.index + 1}. ${phase.title} (0/${phase.steps.length}${phase.kind === 'rollback' ? ', rollback' : ''})`, listWidth, ...(here ? ['cyan', 'bold'] : ['gray']));
    }
    const here = row.id === first?.id;
    return cell(t, `${here ? '  ❯ ' : '    '}${STAGE_MARK.pending} ${plan.steps[row.id]!.title}`, listWidth, ...(here ? ['bold'] : []));
  });

  const bodyWidth = t.columns - columns - 1;
  const body: string[] = [];
  if (first) {
    const s = first.step;
    body.push(cell(t, `${STAGE_MARK.pending} ${first.title}`, bodyWidth, 'bold'));
    const meta = `${first.id} · ${first.action} · ${first.effect}${first.database ? ` · on ${first.database}` : ''}${first.rollback ? ` · rollback: ${first.rollback}` : first.irreversible ? ' · irreversible' : ''}`;
    body.push(cell(t, meta, bodyWidth, 'dim'));
    if (s.notes) {
      body.push('');
      for (const para of s.notes.trim().split(/\n\s*\n/)) {
        for (const l of wrap(para.replace(/`|\*\*/g, ''), bodyWidth)) body.push(cell(t, l, bodyWidth));
      }
    }
    body.push('');
    if (s.checklist) s.checklist.forEach((item, i) => body.push(cell(t, `${i === 0 ? '❯' : ' '} [ ] ${item}`, bodyWidth)));
    else if (s.run !== undefined) body.push(cell(t, `$ ${s.run.split('\n')[0]}`, bodyWidth, 'cyan'));
    else if (s.check !== undefined || s.sql !== undefined) for (const l of (s.check ?? s.sql ?? '').trim().split('\n')) body.push(cell(t, l, bodyWidth, 'cyan'));
    else if (s.ask !== undefined) body.push(cell(t, `Asks for the value of ${s.ask}.`, bodyWidth));
  }
  for (let i = 0; i < Math.max(list.length, body.length); i++) {
    const l = list[i];
    lines.push(`${pad(list[i] ?? '', columns)}${body[i] ?? ''}`.trimEnd());
  }
  return lines.slice(0, t.rows - 1);
}

/** The run screen's static frame, when the terminal suits it: targets as their URLs name them, until the server is asked. */
export function showRunFrame(rb: Runbook, mode: Mode, targets: readonly FrameTarget[], operator: string): void {
  const t = terminalFor(process.stdout, process.stdin, process.env);
  if (t) showFirstFrame(runFrame(rb, mode, targets, operator, t));
}

/** The targets of a run as their connection URLs name them (the banner says what the server says once it answers). */
export function urlTargets(rb: Runbook, urls: Readonly<Record<string, string>>): FrameTarget[] {
  return Object.entries(rb.databases ?? {}).map(([name, spec]) => {
    const p = urls[name] ? parseDatabaseUrl(urls[name]) : undefined;
    return { name, environment: spec.environment, where: p ? `${p.user ? `${p.user}@` : ''}${p.host}:${p.port}/${p.database} · connecting…` : 'connecting…' };
  });
}
