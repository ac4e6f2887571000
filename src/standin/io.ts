/** What a stand-in gets from the process: arguments aside, its environment, folder and output. */
export interface StandinIO {
  cwd: string;
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
}

export const BANNER = (tool: string) => `drillbook stand-in for ${tool}: rehearsal only, not the real tool (no network, same rows and messages)\n`;
