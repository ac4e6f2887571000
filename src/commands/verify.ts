/**
 * `drillbook verify <transcript>`: what the file itself can prove, and no more.
 *
 * It proves that the events form one unbroken hash chain from the first (run.started) to the last,
 * and whether drillbook sealed the file when it stopped (a cut tail is reported as incomplete). It
 * cannot prove the file was not rewritten whole: anyone can recompute a chain. That takes an anchor
 * kept elsewhere, the last hash pasted into the incident ticket: `--hash` checks the file against it.
 */
import { readTranscript } from '../app/transcript-file.js';
import type { Recorded } from '../core/events.js';
import { visibleLine } from '../core/sanitize.js';

export interface VerifyOptions {
  /** A hash recorded outside the file (the incident ticket): the chain must contain it. */
  hash?: string;
}

type Sealed = Recorded & { hash: string };

function sessions(events: readonly Sealed[]): string[] {
  const notes: string[] = [];
  events.forEach((e, i) => {
    if (e.type !== 'run.resumed') return;
    const before = events[i - 1];
    notes.push(before?.type === 'transcript.sealed' ? `resumed at seq ${e.seq} after a sealed stop` : `resumed at seq ${e.seq} after an unsealed stop (a crash or a kill: the session before it ended at seq ${before?.seq ?? 0})`);
  });
  return notes;
}

export function verifyCommand(transcript: string, opts: VerifyOptions = {}, out: NodeJS.WritableStream = process.stdout): number {
  const t = readTranscript(transcript);
  const events = t.chain.events as Sealed[];
  const w = (s: string) => void out.write(`${s}\n`);
  if (t.lineCount === 0 && t.torn === undefined) {
    w('EMPTY: the file holds no events. A drillbook transcript always starts with run.started: this one was emptied, or is not a transcript.');
    return 1;
  }
  if (!t.chain.ok) {
    w(`BROKEN at line ${t.chain.line}: ${t.chain.reason}`);
    w(`${events.length} events before it verify; their last hash: ${t.chain.lastGoodHash}`);
    return 1;
  }
  if (events.length > 0 && events[0]!.type !== 'run.started') {
    w(`NOT A TRANSCRIPT: its first event is ${events[0]!.type}, not run.started (the head of the file was cut)`);
    return 1;
  }
  let code = 0;
  const last = events[events.length - 1];
  if (t.torn !== undefined) {
    w(`BROKEN at line ${t.lineCount + 1}: a torn last line (a write cut short by a crash); drillbook resume moves it aside`);
    w(`${events.length} events before it verify; their last hash: ${t.chain.lastHash}`);
    code = 1;
  } else if (last?.type === 'transcript.sealed') {
    w(`OK: ${events.length} events, chain intact, sealed at seq ${last.seq} (run ${last.outcome})`);
  } else {
    w(`INCOMPLETE: ends at seq ${last?.seq ?? 0} without drillbook's closing seal: the end of the file was cut off, or drillbook was killed before it could seal it (drillbook resume continues such a run)`);
    w(`the ${events.length} events there are form an intact chain`);
    code = 1;
  }
  for (const s of sessions(events)) w(`  ${s}`);
  if (code === 0 || t.torn === undefined) w(`last hash: ${t.chain.lastHash}`);
  if (opts.hash) {
    const want = opts.hash.trim().toLowerCase();
    const at = events.find((e) => e.hash === want);
    const full = events[0]?.hash.length ?? 64;
    if (!at && !/^[0-9a-f]+$/.test(want)) {
      w(`NOT CHECKED: "${visibleLine(opts.hash.trim()).slice(0, 80)}" is not a hash: a hash is ${full} hex digits (0-9, a-f), as printed at the end of the run ("Last hash: …")`);
      code = 1;
    } else if (!at && want.length < full) {
      // A prefix proves little (a forger can search for one): the whole hash is required.
      const matches = events.filter((e) => e.hash.startsWith(want));
      w(`NOT CHECKED: the hash given has ${want.length} hex digits; a full one has ${full}. Paste all of it (a shortened hash is too easy to forge)${matches.length ? `; ${matches.length === 1 ? `event ${matches[0]!.seq} begins with it` : `${matches.length} events begin with it`}` : '; no event begins with it either'}`);
      code = 1;
    } else if (at) w(`ANCHORED: the hash from the ticket is event ${at.seq} of ${events.length}: events 1–${at.seq} are the ones it was taken from${at.seq < events.length ? `; ${events.length - at.seq} came after` : ''}`);
    else {
      w(`NOT ANCHORED: no event has the hash ${want}: this file is not the one that hash was taken from (rewritten, re-sealed, or another run)`);
      code = 1;
    }
  } else if (code === 0) {
    w('The chain shows no line was edited, removed or reordered, short of rewriting the whole file: compare the last hash with the one pasted into the incident ticket (drillbook verify --hash <it>).');
  }
  return code;
}
