import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type AppOptions, buildApp } from '../../src/app.js';
import { loadSettings } from '../../src/config/load.js';
import type { SettingKey } from '../../src/config/settings.js';
import { loggerOptions } from '../../src/logger.js';
import type { TypedApp } from '../../src/routes/common.js';

/**
 * A real server on 127.0.0.1, port 0, with its own temporary data folder and a log captured in
 * memory (so tests can assert what was, and was not, logged).
 */

export const ELASTIC_PASSWORD = 'test-password-Kq9';
export const ENCRYPTION_KEY = 'a-test-encryption-key-that-is-32-chars-or-more';

export interface TestServer {
  url: string;
  app: TypedApp;
  dataDir: string;
  /** Every log line written so far, raw JSON text. */
  logs: string[];
  api: Api;
  close(): Promise<void>;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  /** Raw body text, sent as is. */
  rawBody?: string;
  headers?: Record<string, string>;
  /** 'elastic' (default), 'none', or a full Authorization header value. */
  auth?: string;
  /** Send kbn-xsrf on unsafe methods (default true). */
  xsrf?: boolean;
}

export type Api = <T = unknown>(
  method: string,
  path: string,
  options?: RequestOptions,
) => Promise<ApiResponse<T>>;

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export const ELASTIC_AUTH = basicAuth('elastic', ELASTIC_PASSWORD);

export function makeApi(baseUrl: string): Api {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    const auth = options.auth ?? 'elastic';
    if (auth === 'elastic') headers.authorization = ELASTIC_AUTH;
    else if (auth !== 'none') headers.authorization = auth;
    if (options.xsrf !== false && method !== 'GET') headers['kbn-xsrf'] ??= 'true';
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(baseUrl + path, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed as never, text };
  };
}

export function tempDir(prefix = 'kcs-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface StartOptions extends Omit<AppOptions, 'settings' | 'logger' | 'env'> {
  settings?: Partial<Record<SettingKey, unknown>>;
  env?: NodeJS.ProcessEnv;
  /** Reuse a data folder (a restart); it is then not removed on close. */
  dataDir?: string;
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? tempDir();
  const settings = loadSettings({
    overrides: {
      'server.port': 0,
      'server.host': '127.0.0.1',
      'path.data': dataDir,
      'xpack.encryptedSavedObjects.encryptionKey': ENCRYPTION_KEY,
      ...options.settings,
    },
  });
  const logs: string[] = [];
  const logger = pino(
    { ...loggerOptions('debug') },
    { write: (line: string) => void logs.push(line) },
  );
  const { settings: _s, env, dataDir: _d, ...rest } = options;
  const app = await buildApp({ settings, logger, env: env ?? { ELASTIC_PASSWORD }, ...rest });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    app,
    dataDir,
    logs,
    api: makeApi(url),
    async close() {
      await app.close();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A server with these options for the length of `use`, closed after it, even when it throws. */
export async function withServer<T>(
  options: StartOptions,
  use: (server: TestServer) => Promise<T>,
): Promise<T> {
  const server = await startServer(options);
  try {
    return await use(server);
  } finally {
    await server.close();
  }
}
