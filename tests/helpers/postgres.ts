/**
 * A real, throw-away PostgreSQL server for the tests: `initdb` into a temp dir, `postgres` on a free
 * 127.0.0.1 port (and a unix socket in the same dir), removed after. Debian's `postgresql` package
 * (deploy/setup.sh --test) provides the binaries under /usr/lib/postgresql/<version>/bin. The server
 * itself is src/central/localPostgres.ts (`storepulse central --demo` starts the same one).
 */
import { afterAll, beforeAll } from 'vitest';
import { LocalPostgres, postgresUnavailable, type LocalPostgresOptions } from '../../src/central/localPostgres.js';

export { POSTGRES_SUPERUSER, postgresBinDir, postgresUnavailable } from '../../src/central/localPostgres.js';
export { LocalPostgres as Postgres };
export type PostgresOptions = LocalPostgresOptions;

/**
 * One server for a describe block: started before its tests, removed after. Wrap the block in
 * `describe.skipIf(postgresUnavailable())`; the reason is printed once so a skip is never silent.
 */
export function usePostgres(options: PostgresOptions = {}): () => LocalPostgres {
  let server: LocalPostgres | undefined;
  beforeAll(async () => {
    server = await LocalPostgres.start(options);
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
  });
  return () => server!;
}

const unavailable = postgresUnavailable();
if (unavailable) console.warn(`PostgreSQL tests skipped: ${unavailable}`);
