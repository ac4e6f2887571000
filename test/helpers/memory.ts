/** Memory a child process takes, as the kernel counts it. */
import { readFileSync } from 'node:fs';

/** Peak resident memory (VmHWM, in MiB) of a running process, read every 20 ms until stopped. */
export function watchPeak(pid: number): { stop(): number } {
  let peak = 0;
  const read = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      // exited
    }
  };
  const timer = setInterval(read, 20);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** A child process awaited, with its peak resident memory (in MiB; 0 if it could not be read). */
export async function withPeak<R>(child: Promise<R> & { pid?: number }): Promise<{ result: R; peakMiB: number }> {
  const peak = watchPeak(child.pid!);
  try {
    return { result: await child, peakMiB: peak.stop() };
  } finally {
    peak.stop();
  }
}
