/** Mounts the full-screen run, drives it to the end, and always gives the terminal back. */
import { render } from 'ink';
import { markWarm } from '../boot/warm.js';
import type { RunOutcome } from '../core/events.js';
import type { Operator } from '../core/ports.js';
import type { Run } from '../core/runner.js';
import { App, InkBridge } from './app.js';
import { takeOverFirstFrame } from './first-frame.js';
import { colorEnabled, ThemeContext } from './theme.js';

export async function runInk(run: Run, setOperator: (op: Operator) => void, interrupt: () => void): Promise<RunOutcome> {
  const bridge = new InkBridge();
  setOperator({ request: (req) => bridge.request(req) });
  const unsubscribe = run.subscribe(() => bridge.bump());
  // Start the run before the first frame, so that frame shows it started (targets, operator), not an empty run.
  const outcome = run.execute();
  takeOverFirstFrame();
  const ink = render(
    <ThemeContext.Provider value={{ color: colorEnabled() }}>
      <App run={run} bridge={bridge} interrupt={interrupt} />
    </ThemeContext.Provider>,
    { exitOnCtrlC: false, patchConsole: false },
  );
  markWarm();
  try {
    return await outcome;
  } finally {
    unsubscribe();
    // Let the last frame (the outcome) be drawn, then hand the terminal back.
    await new Promise((r) => setTimeout(r, 50));
    ink.unmount();
    await ink.waitUntilExit().catch(() => undefined);
  }
}
