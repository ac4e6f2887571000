/**
 * Entry point of the migration-tool stand-ins (dist/standin.js): `node standin.js <tool> args…`.
 * The drill puts shims named prisma, drizzle-kit and mix first on PATH that call it.
 */
import { BANNER } from './standin/io.js';

const [tool, ...args] = process.argv.slice(2);
const io = {
  cwd: process.cwd(),
  env: process.env,
  out: (t: string) => void process.stdout.write(t),
  err: (t: string) => void process.stderr.write(t),
};

function readStdin(): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d: string) => (data += d));
    process.stdin.on('end', () => resolve(data));
  });
}

async function main(): Promise<number> {
  io.err(BANNER(tool ?? '?'));
  switch (tool) {
    case 'pg_dump':
      return (await import('./standin/pg-tools.js')).pgDumpStandin(args, io);
    case 'pg_restore':
      return (await import('./standin/pg-tools.js')).pgRestoreStandin(args, io, readStdin);
    case 'psql':
      return (await import('./standin/pg-tools.js')).psqlStandin(args, io, readStdin);
    case 'prisma':
      return (await import('./standin/prisma.js')).prismaStandin(args, io);
    case 'drizzle-kit':
      return (await import('./standin/drizzle-kit.js')).drizzleKitStandin(args, io);
    case 'mix':
      return (await import('./standin/mix.js')).mixStandin(args, io);
    default:
      io.err(`unknown stand-in "${tool}": expected prisma, drizzle-kit, mix, pg_dump, pg_restore or psql\n`);
      return 2;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const err = e as { message?: string };
    io.err(`Error: ${err.message ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
