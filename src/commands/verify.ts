/** `drillbook verify <transcript>`: check the hash chain; print the last hash for the incident ticket. */
import { readTranscript } from '../app/transcript-file.js';

export function verifyCommand(transcript: string, out: NodeJS.WritableStream = process.stdout): number {
  const t = readTranscript(transcript);
  if (!t.chain.ok) {
    out.write(`BROKEN at line ${t.chain.line}: ${t.chain.reason}\n`);
    out.write(`${t.chain.events.length} events before it verify; their last hash: ${t.chain.lastGoodHash}\n`);
    return 1;
  }
  if (t.torn !== undefined) {
    out.write(`BROKEN at line ${t.lines.length + 1}: a torn last line (a write cut short by a crash); drillbook resume moves it aside\n`);
    out.write(`${t.chain.events.length} events before it verify; their last hash: ${t.chain.lastHash}\n`);
    return 1;
  }
  out.write(`OK: ${t.chain.events.length} events, chain intact\n`);
  out.write(`last hash: ${t.chain.lastHash}\n`);
  return 0;
}
