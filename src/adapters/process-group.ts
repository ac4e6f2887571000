/**
 * Process groups of commands, seen from outside: is a group recorded in a transcript still running
 * (a command left behind when drillbook was killed), and stopping one. Linux reads /proc, so
 * zombies waiting for a reaper do not count as running; elsewhere, signal 0 to the group.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { processStart } from './run-lock.js';

/** The state and process group of a process, from /proc/<pid>/stat. */
function statOf(pid: string): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

/** Whether any process of the group is still running (not a zombie). `start`: the leader's recorded start time. */
export function groupAlive(pgid: number, start?: string): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  // A leader alive with another start time: the pid was reused, the group recorded is long gone.
  const leaderStart = processStart(pgid);
  if (start && leaderStart && leaderStart !== start) return false;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  return pids.some((p) => {
    const s = statOf(p);
    return s !== undefined && s.pgrp === pgid && s.state !== 'Z' && s.state !== 'X';
  });
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** Wait until the group has ended; `stop` (Ctrl-C) ends the wait by killing it (TERM, then KILL after a grace). */
export async function waitForGroup(pgid: number, start: string | undefined, stop: AbortSignal, graceMs = 3000): Promise<'ended' | 'killed'> {
  let killedAt: number | undefined;
  for (;;) {
    if (!groupAlive(pgid, start)) return killedAt === undefined ? 'ended' : 'killed';
    if (stop.aborted) {
      if (killedAt === undefined) {
        killedAt = Date.now();
        signalGroup(pgid, 'SIGTERM');
      } else if (Date.now() - killedAt > graceMs) signalGroup(pgid, 'SIGKILL');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
