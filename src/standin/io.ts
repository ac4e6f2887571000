/** What a stand-in gets from the process: arguments aside, its environment, folder and output. */
export interface StandinIO {
  cwd: string;
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
}

export const BANNER = (tool: string) =>
  ['pg_dump', 'pg_restore', 'psql'].includes(tool)
    ? `drillbook stand-in for ${tool}: rehearsal only, not the real tool (plain SQL dumps for drill databases)\n`
    : `drillbook stand-in for ${tool}: rehearsal only, not the real tool (no network, same rows and messages)\n`;
