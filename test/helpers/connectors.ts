import { expect, it } from 'vitest';
import type { Api, TestServer } from './server.js';

/**
 * Shortcuts for connector tests: create one, run it, check how it is listed, how it answers each
 * class of vendor failure, and that nothing secret leaked.
 */

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

/** The params of a sub-action run; without `subActionParams` when none are given. */
export function subActionCall(subAction: string, subActionParams?: unknown) {
  return subActionParams === undefined ? { subAction } : { subAction, subActionParams };
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

/** The fields of a `GET /api/actions/connector_types` entry that differ between types. */
export interface ListedType {
  id: string;
  name: string;
  minimum_license_required: string;
  supported_feature_ids: string[];
  sub_feature?: string;
}

/**
 * The type's entry in the connector types list equals Kibana's: the given fields, enabled
 * everywhere, neither a system action nor deprecated. With `featureId`, the type is also listed
 * under that feature.
 */
export async function expectListedType(
  server: TestServer,
  entry: ListedType,
  featureId?: string,
): Promise<void> {
  const res = await server.api<Array<{ id: string }>>('GET', '/api/actions/connector_types');
  const { sub_feature, ...fields } = entry;
  expect(res.body.find((t) => t.id === entry.id)).toEqual({
    ...fields,
    enabled: true,
    enabled_in_config: true,
    enabled_in_license: true,
    is_system_action_type: false,
    is_deprecated: false,
    ...(sub_feature !== undefined ? { sub_feature } : {}),
  });
  if (featureId !== undefined) {
    const listed = await server.api<Array<{ id: string }>>(
      'GET',
      `/api/actions/connector_types?feature_id=${featureId}`,
    );
    expect(listed.body.map((t) => t.id)).toContain(entry.id);
  }
}

/**
 * The exact envelope a failure class must answer, built when its test runs (the connector id is
 * known only then). Only `retryAt` reads the reply, for the date the envelope must carry.
 */
export type ExpectedEnvelope = (reply: ExecuteEnvelope) => unknown;

/**
 * One test per row, named by its input: runs the connector with it (a magic word that makes the
 * simulator fail as the vendor fails) and checks the envelope equals the row's exactly.
 */
export function failureClassTests(
  run: (input: string) => Promise<ExecuteEnvelope>,
  rows: Readonly<Record<string, ExpectedEnvelope>>,
): void {
  for (const [input, expected] of Object.entries(rows)) {
    it(input, async () => {
      const reply = await run(input);
      expect(reply).toEqual(expected(reply));
    });
  }
}

/**
 * A row for a failure retried at the vendor's Retry-After date: the date must be about `seconds`
 * from now, and the envelope, which carries it, is built from it.
 */
export function retryAt(seconds: number, envelope: (date: string) => unknown): ExpectedEnvelope {
  return (reply) => {
    expectRetryAt(reply.retry, seconds);
    return envelope(reply.retry as string);
  };
}

/** Kibana's error body for a request it refused as bad. */
export function badRequest(message: string) {
  return { statusCode: 400, error: 'Bad Request', message };
}

/** Creating this connector is refused with Kibana's 400 and this message; answers the reply. */
export async function expectCreateRefused(
  api: Api,
  body: Record<string, unknown>,
  message: string,
): Promise<unknown> {
  const res = await api('POST', '/api/actions/connector', { body });
  expect(res.status).toBe(400);
  expect(res.body).toEqual(badRequest(message));
  return res.body;
}
