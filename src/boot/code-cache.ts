/**
 * The file format of V8's code cache for the bundled CLI. Pure: bytes in, bytes out.
 *
 * A cache file is trusted only when it names this exact bundle (its key: drillbook's version, Node's
 * version and architecture, and a hash of the bundle's bytes) and its checksum holds. Anything else
 * (another bundle, a torn write, flipped bytes) decodes to undefined and is ignored. V8 then makes
 * its own checks (its version and flags) and may still reject the data (`cachedDataRejected`).
 */
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';

const MAGIC = 'drillbook-code-cache 1\n';

/** A short, fast hash of bytes: CRC-32 where Node has it (20.15+), else SHA-1. */
export function digest(data: Uint8Array): string {
  const crc32 = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  if (crc32) return `c${crc32(data).toString(16).padStart(8, '0')}${data.length.toString(16)}`;
  return `s${createHash('sha1').update(data).digest('hex').slice(0, 16)}`;
}

/** What a cache must match: a change to any part makes every older cache file stale. */
export function cacheKey(parts: { version: string; node: string; arch: string; bundle: Uint8Array }): string {
  return digest(Buffer.from(`${parts.version}\0${parts.node}\0${parts.arch}\0${digest(parts.bundle)}`));
}

export interface CacheHeader {
  key: string;
  /** Whether the run that wrote it reached the command's interface (or finished its work): its cache covers that code. */
  warm: boolean;
}

/** MAGIC, then one line `key warm checksum`, then V8's data. */
export function encodeCache(header: CacheHeader, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${MAGIC}${header.key} ${header.warm ? 1 : 0} ${digest(data)}\n`), data]);
}

/** V8's data, if the file is whole and made for `key`; otherwise undefined. */
export function decodeCache(file: Uint8Array, key: string): { data: Buffer; warm: boolean } | undefined {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < MAGIC.length || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
  const eol = buf.indexOf(10, MAGIC.length);
  if (eol < 0 || eol - MAGIC.length > 200) return undefined;
  const [k, warm, sum, ...rest] = buf.toString('latin1', MAGIC.length, eol).split(' ');
  if (rest.length || k !== key || (warm !== '0' && warm !== '1')) return undefined;
  const data = buf.subarray(eol + 1);
  if (data.length === 0 || digest(data) !== sum) return undefined;
  return { data, warm: warm === '1' };
}

/** The cache files of one command of one bundle (the commands exercise different code) start alike. */
function prefix(bundlePath: string, command: string): string {
  return `${digest(Buffer.from(bundlePath))}-${command}-`;
}

export function cacheFileName(bundlePath: string, command: string, key: string): string {
  return `${prefix(bundlePath, command)}${key}.v8`;
}

/** Older cache files of the same bundle path and command (another key): removed when a new one is written. */
export function isStaleSibling(name: string, bundlePath: string, command: string, key: string): boolean {
  return name.startsWith(prefix(bundlePath, command)) && name.endsWith('.v8') && name !== cacheFileName(bundlePath, command, key);
}

/** The command a cache is kept for: the first argument when it names one, else a catch-all. */
export function commandOf(argv: readonly string[], commands: readonly string[]): string {
  const first = argv[2];
  return first !== undefined && commands.includes(first) ? first : 'other';
}
