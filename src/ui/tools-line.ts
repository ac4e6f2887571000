/**
 * The drill's tools in the banner, and for each stand-in why the real tool is not used and what to
 * do about it, in a few words. The reason is the `cause` the drill records with each tool
 * (src/drill/tools.ts decides it); a tool recorded without one says nothing more.
 */
import type { StandInCause } from '../core/events.js';

export interface ToolUse {
  tool: string;
  kind: string;
  version: string;
  detail?: string | undefined;
  cause?: StandInCause | undefined;
}

/** The tools line: each tool, real (with its version) or stand-in. */
export function toolsLine(tools: readonly ToolUse[]): string {
  return `tools: ${tools.map((t) => `${t.tool} ${t.kind === 'real' ? `${t.version} (real)` : '(stand-in)'}`).join(' · ')}`;
}

type Why = { key: string; text: (tools: string[]) => string };

function reason(t: ToolUse): Why | undefined {
  if (t.kind === 'real' || !t.cause) return undefined;
  const c = t.cause;
  switch (c.kind) {
    case 'asked':
      return { key: 'asked', text: (ts) => `${ts.join(', ')}: stand-in${ts.length > 1 ? 's' : ''}, as asked (--tools stand-in)` };
    case 'older': {
      const major = /^\d+/.exec(c.version)?.[0] ?? c.version;
      return {
        key: `older ${c.version} ${c.server}`,
        text: (ts) => `${ts.join(' and ')} ${c.version} here ${ts.length > 1 ? 'are' : 'is'} older than the drill's PostgreSQL ${c.server}: rehearse with --pg-version ${major} to use ${ts.length > 1 ? 'them' : 'it'}`,
      };
    }
    case 'missing':
      return { key: 'missing', text: (ts) => `${ts.join(' and ')}: not installed here, so the stand-in${ts.length > 1 ? 's run' : ' runs'}` };
    case 'other':
      return { key: `other ${t.tool}`, text: (ts) => `${ts.join(', ')}: ${c.text}` };
  }
}

/** Why the stand-ins stand in: one line per reason, the tools that share it together. */
export function standInNotes(tools: readonly ToolUse[]): string[] {
  const groups = new Map<string, { why: Why; tools: string[] }>();
  for (const t of tools) {
    const why = reason(t);
    if (!why) continue;
    const g = groups.get(why.key);
    if (g) g.tools.push(t.tool);
    else groups.set(why.key, { why, tools: [t.tool] });
  }
  return [...groups.values()].map((g) => g.why.text(g.tools));
}
