import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier } from 'pg';

/**
 * A fresh PostgreSQL database per test file, created and dropped by the file.
 *
 * Under CI (.ci/run), KCS_TEST_POSTGRES_URL names a database made for the run: the files make
 * theirs beside it, named after it, and an unreachable server fails them. Without it, the local
 * server (postgres user, trust auth, 127.0.0.1:5432) is used when it answers, and the files skip
 * with a message when it does not.
 */

export const POSTGRES_URL_ENV = 'KCS_TEST_POSTGRES_URL';
const LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const CONNECT_TIMEOUT_MS = 3000;

const configured = process.env[POSTGRES_URL_ENV];
const adminUrl = configured ?? LOCAL_URL;

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({
    connectionString: adminUrl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Whether the PostgreSQL tests can run: true when the server answers; false (with a message)
 * when it does not and no CI database was given; a thrown error when one was given.
 */
export async function postgresAvailable(): Promise<boolean> {
  try {
    await admin((client) => client.query('SELECT 1'));
    return true;
  } catch (err) {
    const reason = `PostgreSQL at ${new URL(adminUrl).host} is unreachable: ${(err as Error).message}`;
    if (configured !== undefined) throw new Error(`${POSTGRES_URL_ENV} is set, but ${reason}`);
    console.warn(
      `${reason}; skipping the PostgreSQL tests (set ${POSTGRES_URL_ENV} to require them)`,
    );
    return false;
  }
}

function databaseUrl(name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

export async function createDatabase(): Promise<TestDatabase> {
  const base = configured !== undefined ? new URL(configured).pathname.slice(1) : 'kcs_test';
  const name = `${decodeURIComponent(base)}_${randomBytes(5).toString('hex')}`.slice(0, 63);
  await admin((client) => client.query(`CREATE DATABASE ${escapeIdentifier(name)}`));
  return {
    name,
    url: databaseUrl(name),
    drop: () =>
      admin((client) =>
        client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`),
      ).then(() => undefined),
  };
}

/** Run SQL in a test database as the admin user. */
export async function inDatabase<T>(url: string, work: (client: Client) => Promise<T>) {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
