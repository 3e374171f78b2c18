import { afterAll, beforeAll } from 'vitest';
import {
  type CreateInput,
  createConnector,
  type ExecuteEnvelope,
  execute,
  subActionCall,
} from './connectors.js';
import { type StartOptions, startServer, type TestServer } from './server.js';

/**
 * The set-up most connector tests share: a vendor simulator, a server whose settings may name
 * it, and a connector of the type under test pointing at it, all started before the file's
 * tests and closed after them. Every envelope `run` answers is kept in `replies`, for the check
 * that no secret appears in any of them.
 */

export type Settings = NonNullable<StartOptions['settings']>;

/**
 * Short limits, so that a vendor that never answers or answers too much fails quickly: the
 * envelopes then read `timeout of 300ms exceeded` and `maxContentLength size of 1024 exceeded`.
 */
export const SHORT_LIMITS = {
  'xpack.actions.responseTimeout': '300ms',
  'xpack.actions.maxResponseContentLength': '1kb',
} as const satisfies Settings;

/** A connector of the harness's type, as `POST /api/actions/connector` takes it. */
export type ConnectorFields = Omit<CreateInput, 'connector_type_id'>;

interface Closable {
  close(): Promise<void>;
}

export interface HarnessOptions<S extends Closable> {
  /** The connector type under test; `create` makes connectors of it. */
  type: string;
  simulator: () => Promise<S>;
  /** The server's settings (none unless given). */
  settings?: (sim: S) => Settings;
  /** The connector `id` names; without it the harness creates none. */
  connector?: (sim: S) => ConnectorFields;
  /**
   * A second server with these settings and a connector on it (the same as `connector` unless
   * given): for failures that need other limits than the tests on the first server.
   */
  limited?: {
    settings: (sim: S) => Settings;
    connector?: (sim: S) => ConnectorFields;
  };
  /** Where to keep the replies, when several harnesses of a file share one list. */
  replies?: unknown[];
}

export interface ServerConnector {
  readonly server: TestServer;
  readonly id: string;
}

export interface ConnectorHarness<S> {
  readonly sim: S;
  readonly server: TestServer;
  /** The connector made from `options.connector`. */
  readonly id: string;
  /** The second server and its connector, when `options.limited` is given. */
  readonly limited: ServerConnector;
  /** Every reply kept so far; tests may add the bodies of other replies. */
  readonly replies: unknown[];
  /** Runs a connector (the harness's by default) and keeps the envelope. */
  run(params: unknown, connectorId?: string, on?: TestServer): Promise<ExecuteEnvelope>;
  /** Creates a connector of the harness's type and answers its id. */
  create(fields?: ConnectorFields, on?: TestServer): Promise<string>;
}

function ready<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not there before beforeAll has run`);
  return value;
}

export function connectorHarness<S extends Closable>(
  options: HarnessOptions<S>,
): ConnectorHarness<S> {
  let sim: S | undefined;
  let server: TestServer | undefined;
  let id: string | undefined;
  let limited: ServerConnector | undefined;
  const replies = options.replies ?? [];

  const harness: ConnectorHarness<S> = {
    get sim() {
      return ready(sim, 'the simulator');
    },
    get server() {
      return ready(server, 'the server');
    },
    get id() {
      return ready(id, 'the connector');
    },
    get limited() {
      return ready(limited, 'the limited server');
    },
    replies,
    async run(params, connectorId = harness.id, on = harness.server) {
      const envelope = await execute(on.api, connectorId, params);
      replies.push(envelope);
      return envelope;
    },
    create(fields = {}, on = harness.server) {
      return createConnector(on.api, { connector_type_id: options.type, ...fields });
    },
  };

  beforeAll(async () => {
    const started = await options.simulator();
    sim = started;
    server = await startServer({ settings: options.settings?.(started) ?? {} });
    if (options.connector !== undefined) {
      id = await harness.create(options.connector(started));
    }
    if (options.limited !== undefined) {
      const other = await startServer({ settings: options.limited.settings(started) });
      const fields = (options.limited.connector ?? options.connector)?.(started) ?? {};
      limited = { server: other, id: await harness.create(fields, other) };
    }
  });
  afterAll(async () => {
    await server?.close();
    await limited?.server.close();
    await sim?.close();
  });

  return harness;
}

/** A run of one sub-action of a connector on the harness's server, the envelope kept. */
export function subActionRunner<S>(harness: ConnectorHarness<S>) {
  return (id: string, subAction: string, subActionParams?: unknown): Promise<ExecuteEnvelope> =>
    harness.run(subActionCall(subAction, subActionParams), id);
}
