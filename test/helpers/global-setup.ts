/**
 * Once per test run: build the bundle from the current sources (the CLI tests run it), and start one
 * real PostgreSQL (the drill database adapter) that the database tests share, each in a database of its own.
 */
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { startDrillDatabase, type DrillDatabase } from '../../src/adapters/drill-db.js';

let db: DrillDatabase | undefined;

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgPassword: string;
    pgPort: number;
  }
}

export async function setup(project: TestProject): Promise<void> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  db = await startDrillDatabase();
  project.provide('pgAdminUrl', db.url('postgres'));
  project.provide('pgPassword', db.password);
  project.provide('pgPort', db.port);
}

export async function teardown(): Promise<void> {
  await db?.stop();
}
