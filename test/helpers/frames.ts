/** Reading the full-screen interface's frames in tests (ink-testing-library). */

/** Wait (up to about `tries` × 10 ms) for a frame that passes `test`; fails naming `what`, with the last frame. */
export async function until(frame: () => string | undefined, test: (f: string) => boolean, what: string, tries = 300): Promise<string> {
  for (let i = 0; i < tries; i++) {
    const f = frame() ?? '';
    if (test(f)) return f;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`timed out waiting for ${what}; last frame:\n${frame()}`);
}

/** A frame's words, whatever the wrapping: borders and line breaks become single spaces. */
export const words = (f: string): string => f.replace(/[│║]/g, ' ').replace(/\s+/g, ' ');
