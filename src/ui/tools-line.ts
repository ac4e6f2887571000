/**
 * The drill's tools in the banner, and for each stand-in why the real tool is not used and what to
 * do about it, in a few words. The reason comes from the drill's `rehearsal.tool` event (its
 * detail, as src/drill/tools.ts words it); what this cannot read is shown as it is.
 */
export interface ToolUse {
  tool: string;
  kind: string;
  version: string;
  detail?: string | undefined;
}

/** The tools line: each tool, real (with its version) or stand-in. */
export function toolsLine(tools: readonly ToolUse[]): string {
  return `tools: ${tools.map((t) => `${t.tool} ${t.kind === 'real' ? `${t.version} (real)` : '(stand-in)'}`).join(' · ')}`;
}

type Why = { key: string; text: (tools: string[]) => string };

function reason(t: ToolUse): Why | undefined {
  if (t.kind === 'real' || !t.detail) return undefined;
  const cut = t.detail.lastIndexOf('; modelled on ');
  const why = cut >= 0 ? t.detail.slice(0, cut) : t.detail;
  if (why === 'chosen with --tools stand-in') return { key: 'asked', text: (ts) => `${ts.join(', ')}: stand-in${ts.length > 1 ? 's' : ''}, as asked (--tools stand-in)` };
  const real = new RegExp(`^real ${t.tool.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}: `).exec(why);
  const rest = real ? why.slice(real[0].length) : why;
  // "pg_dump 15.18 at /usr/bin/pg_dump is older than the drill server (PostgreSQL 17): ..."
  const older = /^\S+ ((\d+)[\w.+-]*) at .+ is older than the drill server \(PostgreSQL (\d+)\)/.exec(rest);
  if (older) {
    const [, version, major, server] = older;
    return {
      key: `older ${version} ${server}`,
      text: (ts) => `${ts.join(' and ')} ${version} here ${ts.length > 1 ? 'are' : 'is'} older than the drill's PostgreSQL ${server}: rehearse with --pg-version ${major} to use ${ts.length > 1 ? 'them' : 'it'}`,
    };
  }
  if (/^not installed/.test(rest)) return { key: 'missing', text: (ts) => `${ts.join(' and ')}: not installed here, so the stand-in${ts.length > 1 ? 's run' : ' runs'}` };
  return { key: `other ${t.tool}`, text: (ts) => `${ts.join(', ')}: ${rest}` };
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
