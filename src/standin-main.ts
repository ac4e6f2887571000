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

async function main(): Promise<number> {
  io.out(BANNER(tool ?? '?'));
  switch (tool) {
    case 'prisma':
      return (await import('./standin/prisma.js')).prismaStandin(args, io);
    case 'drizzle-kit':
      return (await import('./standin/drizzle-kit.js')).drizzleKitStandin(args, io);
    case 'mix':
      return (await import('./standin/mix.js')).mixStandin(args, io);
    default:
      io.err(`unknown stand-in "${tool}": expected prisma, drizzle-kit or mix\n`);
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
