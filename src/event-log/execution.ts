import type { ConnectorResult } from '../connectors/types.js';
import type { Principal } from '../security/principal.js';
import type { EventDoc, StoredEvent } from '../store/types.js';

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
  start: Date;
  end: Date;
  /** Measured with the monotonic clock. */
  durationNs: bigint;
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
 * A run as stored: Kibana's `execute` document, which holds everything its `execute-start`
 * document says too (see startDocOf), so one row is written per run.
 */
export function executionEvent(record: ExecutionRecord): StoredEvent {
  const { connector, spaceId, principal } = record;
  const label = `${connector.typeId}:${connector.id}: ${connector.name}`;
  const savedObject: Record<string, unknown> = {
    rel: 'primary',
    type: 'action',
    id: connector.id,
    type_id: connector.typeId,
  };
  if (spaceId !== 'default') savedObject.namespace = spaceId;
  if (connector.isInMemory) savedObject.space_agnostic = true;
  const kibana: Record<string, unknown> = {
    server_uuid: record.serverUuid,
    version: record.version,
    saved_objects: [savedObject],
    space_ids: [spaceId],
    action: {
      name: connector.name,
      id: connector.id,
      type_id: connector.typeId,
      execution: { uuid: record.executionId, source: 'http_request' },
    },
  };
  if (principal.apiKey) {
    kibana.user_api_key = { id: principal.apiKey.id, name: principal.apiKey.name };
  }
  const failure = failureText(record.result);
  const doc: EventDoc = {
    '@timestamp': record.end.toISOString(),
    event: {
      provider: 'actions',
      action: 'execute',
      kind: 'action',
      start: record.start.toISOString(),
      end: record.end.toISOString(),
      duration: record.durationNs.toString(),
      outcome: failure === undefined ? 'success' : 'failure',
    },
    message:
      failure === undefined ? `action executed: ${label}` : `action execution failure: ${label}`,
    ...(failure === undefined ? {} : { error: { message: failure } }),
    kibana,
    user: { name: principal.username },
    ecs: { version: '1.8.0' },
  };
  return { spaceId, savedObjectId: connector.id, action: 'execute', doc };
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
