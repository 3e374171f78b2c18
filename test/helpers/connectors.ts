import { expect } from 'vitest';
import type { Api, TestServer } from './server.js';

/** Shortcuts for connector tests: create one, run it, and check nothing secret leaked. */

export interface CreateInput {
  name?: string;
  connector_type_id: string;
  config?: Record<string, unknown>;
  secrets?: Record<string, unknown>;
}

export async function createConnector(
  api: Api,
  input: CreateInput,
  spacePrefix = '',
): Promise<string> {
  const res = await api<{ id: string }>('POST', `${spacePrefix}/api/actions/connector`, {
    body: { name: input.name ?? `test ${input.connector_type_id}`, ...input },
  });
  if (res.status !== 200) throw new Error(`create failed: ${res.status} ${res.text}`);
  return res.body.id;
}

export interface ExecuteEnvelope {
  status: 'ok' | 'error';
  connector_id: string;
  data?: unknown;
  message?: string;
  service_message?: string;
  retry?: boolean | string | null;
  errorSource?: 'user' | 'framework';
}

export async function execute(
  api: Api,
  id: string,
  params: unknown,
  spacePrefix = '',
): Promise<ExecuteEnvelope> {
  const res = await api<ExecuteEnvelope>(
    'POST',
    `${spacePrefix}/api/actions/connector/${id}/_execute`,
    {
      body: { params },
    },
  );
  if (res.status !== 200) throw new Error(`execute answered ${res.status}: ${res.text}`);
  return res.body;
}

/** No secret may appear in any log line or in the given reply texts. */
export function expectNoSecrets(
  server: TestServer,
  secrets: readonly string[],
  replies: readonly unknown[] = [],
): void {
  const logs = server.logs.join('\n');
  const texts = replies.map((r) => (typeof r === 'string' ? r : JSON.stringify(r)));
  for (const secret of secrets) {
    expect(logs, `a log line contains the secret ${secret.slice(0, 3)}…`).not.toContain(secret);
    for (const text of texts) expect(text, 'a reply contains a secret').not.toContain(secret);
  }
}

/** Kibana's message for a run whose executor threw. */
export const RUN_FAILED = 'an error occurred while running the action';

/**
 * The envelope of a run whose executor threw: Kibana's generic message, the thrown error's own
 * text, the retry decision and where the fault lies.
 */
export function thrownEnvelope(
  connectorId: string,
  serviceMessage: string,
  retry: boolean | string,
  errorSource: string,
) {
  return {
    status: 'error',
    connector_id: connectorId,
    message: RUN_FAILED,
    service_message: serviceMessage,
    retry,
    errorSource,
  };
}

/** A Retry-After date about `seconds` from now, as the envelope carries it. */
export function expectRetryAt(retry: unknown, seconds: number): void {
  expect(typeof retry).toBe('string');
  const at = Date.parse(retry as string);
  expect(at).toBeGreaterThan(Date.now() + (seconds - 5) * 1000);
  expect(at).toBeLessThan(Date.now() + (seconds + 5) * 1000);
}
