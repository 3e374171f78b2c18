import type { ConnectorResult } from '../connectors/types.js';
import type { Principal } from '../security/principal.js';
import type { EventDoc, StoredEvent } from '../store/types.js';
import { isoOf } from '../time.js';

/**
 * The two event-log documents Kibana writes for each run (provider `actions`): `execute-start`
 * and `execute`, with timing, outcome, the space and the caller.
 */

export interface ExecutionRecord {
  connector: { id: string; name: string; typeId: string; isInMemory: boolean };
  spaceId: string;
  principal: Principal;
  executionId: string;
  serverUuid: string;
  version: string;
  /** Epoch milliseconds. */
  start: number;
  /** Epoch milliseconds. */
  end: number;
  /** Measured with the monotonic clock. */
  durationNs: number;
  result: ConnectorResult;
}

/** `message: serviceMessage; retry at <date>`, as Kibana composes error.message. */
export function failureText(result: ConnectorResult): string | undefined {
  if (result.status !== 'error') return undefined;
  let text = result.message || 'unknown error running action';
  if (result.serviceMessage) text += `: ${result.serviceMessage}`;
  if (result.retry instanceof Date) text += `; retry at ${result.retry.toISOString()}`;
  else if (result.retry === true) text += '; retry: true';
  return text;
}

/**
 * A run as stored: the values of Kibana's `execute` document that differ from run to run, in a
 * fixed order. Stored compact, it costs a run little to record; the document is built from it
 * when read (executionDoc). The leading 1 is the format, for any later change of layout.
 */
export type ExecutionRow = [
  format: 1,
  start: string,
  end: string,
  durationNs: string,
  connectorId: string,
  connectorName: string,
  typeId: string,
  isInMemory: boolean,
  spaceId: string,
  serverUuid: string,
  version: string,
  executionId: string,
  username: string | null,
  failure: string | null,
  apiKeyId: string | null,
  apiKeyName: string | null,
];

export function executionEvent(record: ExecutionRecord): StoredEvent {
  const { connector, spaceId, principal } = record;
  const start = isoOf(record.start);
  const end = isoOf(record.end);
  const row: ExecutionRow = [
    1,
    start,
    end,
    String(Math.round(record.durationNs)),
    connector.id,
    connector.name,
    connector.typeId,
    connector.isInMemory,
    spaceId,
    record.serverUuid,
    record.version,
    record.executionId,
    principal.username ?? null,
    failureText(record.result) ?? null,
    principal.apiKey?.id ?? null,
    principal.apiKey?.name ?? null,
  ];
  return { ts: end, spaceId, savedObjectId: connector.id, action: 'execute', doc: row };
}

function isExecutionRow(doc: unknown): doc is ExecutionRow {
  return Array.isArray(doc) && doc[0] === 1;
}

/** Kibana's `execute` document of a stored run (a stored document is returned as it is). */
export function executionDoc(stored: unknown): EventDoc {
  if (!isExecutionRow(stored)) return stored as EventDoc;
  const [
    ,
    start,
    end,
    duration,
    id,
    name,
    typeId,
    isInMemory,
    spaceId,
    serverUuid,
    version,
    executionId,
    username,
    failure,
    apiKeyId,
    apiKeyName,
  ] = stored;
  const label = `${typeId}:${id}: ${name}`;
  const savedObject: Record<string, unknown> = {
    rel: 'primary',
    type: 'action',
    id,
    type_id: typeId,
  };
  if (spaceId !== 'default') savedObject.namespace = spaceId;
  if (isInMemory) savedObject.space_agnostic = true;
  const kibana: Record<string, unknown> = {
    server_uuid: serverUuid,
    version,
    saved_objects: [savedObject],
    space_ids: [spaceId],
    action: { name, id, type_id: typeId, execution: { uuid: executionId, source: 'http_request' } },
  };
  if (apiKeyId !== null) kibana.user_api_key = { id: apiKeyId, name: apiKeyName };
  return {
    '@timestamp': end,
    event: {
      provider: 'actions',
      action: 'execute',
      kind: 'action',
      start,
      end,
      duration,
      outcome: failure === null ? 'success' : 'failure',
    },
    message: failure === null ? `action executed: ${label}` : `action execution failure: ${label}`,
    ...(failure === null ? {} : { error: { message: failure } }),
    kibana,
    user: username === null ? {} : { name: username },
    ecs: { version: '1.8.0' },
  };
}

interface ExecuteDoc extends EventDoc {
  event: { start: string };
  kibana: { action: { id: string; name: string; type_id: string } };
}

/** The `execute-start` document Kibana writes before a run, rebuilt from its `execute` one. */
export function startDocOf(doc: EventDoc): EventDoc {
  const { event, kibana, user, ecs } = doc as ExecuteDoc;
  const { id, name, type_id: typeId } = kibana.action;
  return {
    '@timestamp': event.start,
    event: { provider: 'actions', action: 'execute-start', kind: 'action', start: event.start },
    message: `action started: ${typeId}:${id}: ${name}`,
    kibana,
    user,
    ecs,
  };
}
