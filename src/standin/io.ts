/** What a stand-in gets from the process: arguments aside, its environment, folder and output. */
export interface StandinIO {
  cwd: string;
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
}

/** The real versions the stand-ins are modelled on (and compared with by the fidelity test). */
export const MODELLED_ON: Record<string, string> = {
  prisma: 'prisma 7.10.1',
  'drizzle-kit': 'drizzle-kit 0.31.11',
  mix: 'ecto_sql 3.14 (mix ecto.migrate, ecto.migrations)',
  psql: 'psql 15-18',
  pg_dump: 'pg_dump 15-18 (plain format, and a custom format of its own)',
  pg_restore: 'pg_restore 15-18 (reads the stand-in pg_dump custom format)',
};

/** Every stand-in announces itself first, on stderr (stdout is the tool's results, or a dump). */
export const BANNER = (tool: string) => `drillbook stand-in for ${tool} (modelled on ${MODELLED_ON[tool] ?? tool}): rehearsal only, not the real tool\n`;
