/**
 * Plain mode's output: one line per event, no redraws, no colour, nothing but text a screen reader
 * or a CI log can follow. Everything printed comes from redacted events, and passes through
 * visible() on its way out: data never reaches the terminal as control characters.
 */
import type { Recorded } from '../core/events.js';
import { formatEvent, formatTable } from '../core/format.js';
import type { RunState } from '../core/machine.js';
import type { Plan } from '../core/plan.js';
import { visible } from '../core/sanitize.js';
import { shownHost } from '../core/target.js';
import { ENV_WORD } from './environment.js';

export interface Printer {
  (state: RunState, event: Recorded | undefined): void;
  /**
   * Print a step's header and notes now, before the operator is asked about it: the question
   * comes after the explanation, and step.started does not print them again.
   */
  announce(stepId: string, rollingBack?: boolean): void;
}


export function targetLines(state: RunState): string[] {
  return state.targets.map((t) => {
    const facts = [
      t.identified === false ? 'not yet confirmed by the server' : undefined,
      t.serverVersion ? `PostgreSQL ${t.serverVersion}` : undefined,
      t.systemIdentifier ? `cluster ${t.systemIdentifier}` : undefined,
      t.inRecovery ? 'REPLICA (read-only)' : undefined,
      t.unreachable ? `UNREACHABLE: ${t.unreachable}` : undefined,
    ].filter(Boolean);
    return `TARGET ${t.name}: ${ENV_WORD[t.environment] ?? t.environment}  ${t.user ? `${t.user}@` : ''}${shownHost(t)}:${t.port}/${t.database}${facts.length ? `  (${facts.join(', ')})` : ''}`;
  });
}

export function indent(text: string, prefix = '   '): string {
  return text.split('\n').map((l) => `${prefix}${l}`).join('\n');
}

/** A partial line of output longer than this is printed without waiting for its newline. */
const MAX_PENDING_LINE = 16 * 1024;

export function plainPrinter(plan: Plan, rawWrite: (s: string) => void, transcript?: string, title: (id: string) => string = (id) => plan.steps[id]?.title ?? id, fill: (text: string) => string = (t) => t): Printer {
  const write = (s: string) => rawWrite(visible(s));
  let lastPhase: string | undefined;
  let lastStep: string | undefined;
  const pending: Record<string, string> = {};
  // Steps whose output went past the head: it was printed live, so the recorded tail is not printed again.
  const live = new Set<string>();
  const flushOutput = (step: string) => {
    const rest = pending[step];
    if (rest) write(`${indent(rest, '   | ')}\n`);
    delete pending[step];
  };
  let announced: string | undefined;
  const header = (ps: Plan['steps'][string], rollingBack: boolean) => {
    if (ps.phase.id !== lastPhase) {
      lastPhase = ps.phase.id;
      const n = plan.phases.findIndex((p) => p.id === ps.phase.id) + 1;
      write(`\n== Phase ${n}/${plan.phases.length}: ${ps.phase.title} [${ps.phase.kind}]${rollingBack ? ' (ROLLBACK)' : ''}\n`);
    }
    lastStep = ps.id;
    write(`-- ${ps.id}: ${title(ps.id)}  [${ps.action}, ${ps.effect}${ps.database ? ` on ${ps.database}` : ''}]\n`);
    if (ps.step.notes) write(`${indent(fill(ps.step.notes).trim())}\n`);
  };
  const printer = (state: RunState, e: Recorded | undefined): void => {
    if (!e) return;
    if (e.type === 'run.started') {
      write(`drillbook ${e.drillbook}: ${e.runbook.title} (${e.runbook.id} v${e.runbook.version})\n`);
      write(`mode: ${e.mode.toUpperCase()}   operator: ${e.operator}\n`);
      for (const line of targetLines(state)) write(`${line}\n`);
      if (transcript) write(`transcript: ${transcript}\n`);
      return;
    }
    if (e.type === 'run.resumed') {
      write(`${formatEvent(e)}\n`);
      for (const line of targetLines(state)) write(`${line}\n`);
      if (transcript) write(`transcript: ${transcript}\n`);
      return;
    }
    const stepId = 'step' in e && typeof e.step === 'string' ? e.step : undefined;
    const ps = stepId ? plan.steps[stepId] : undefined;
    if (ps && e.type === 'step.started') {
      // Announced before its question: the header is already on screen, unless something came between.
      if (announced !== ps.id || lastStep !== ps.id) header(ps, state.status === 'rolling-back');
      announced = undefined;
    }
    if (e.type === 'command.started') live.delete(e.step);
    if (e.type === 'command.output') {
      if (e.live) live.add(e.step);
      else if (e.skipped !== undefined && live.has(e.step)) return;
      const text = (pending[e.step] ?? '') + e.text;
      const cut = text.lastIndexOf('\n');
      if (cut >= 0) write(`${indent(text.slice(0, cut), '   | ')}\n`);
      const rest = text.slice(cut + 1);
      if (rest.length > MAX_PENDING_LINE) {
        write(`${indent(rest, '   | ')}\n`);
        delete pending[e.step];
      } else pending[e.step] = rest;
      return;
    }
    if (stepId && e.type === 'command.exited') flushOutput(stepId);
    const line = formatEvent(e);
    if (line === undefined) return;
    const prefix = stepId && stepId !== lastStep && e.type !== 'step.started' ? `   [${stepId}] ` : '   ';
    if (e.type === 'step.started') return;
    write(`${prefix}${line}\n`);
    if (e.type === 'check.result' && e.result) write(`${indent(formatTable(e.result))}\n`);
    if (e.type === 'check.result' && e.error) write(`   error: ${e.error}\n`);
    if (e.type === 'migrations.result' && e.table.length) {
      write(`${indent(formatTable({ columns: ['migration', 'state', 'evidence'], rows: e.table.map((r) => [r.name, r.state, r.evidence]), rowCount: e.table.length }, 200))}\n`);
    }
  };
  return Object.assign(printer, {
    announce(stepId: string, rollingBack = false) {
      const ps = plan.steps[stepId];
      if (!ps || (announced === stepId && lastStep === stepId)) return;
      header(ps, rollingBack);
      announced = stepId;
    },
  });
}
