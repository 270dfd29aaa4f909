import type { MigrationInterface } from 'typeorm';

/**
 * Every migration, oldest first, listed by class rather than found by a
 * file glob: the same list works from src/ (tests) and dist/, and a stray
 * file can never run. To add one: `npx typeorm migration:create
 * src/database/migrations/<Name>`, fill in up() and down(), import the class
 * here and append it.
 *
 * Empty so far: the jobs live in Redis and the database holds no tables yet.
 */
export const MIGRATIONS: ReadonlyArray<new () => MigrationInterface> = [];
