import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { Principal } from './principal.js';

/**
 * Kibana's audit log (`xpack.security.audit.*`): one ECS JSON document per line, to its own
 * destination (a file, or the console), apart from the server log. Events carry who (user, roles,
 * API key), where (space, client address, request id), what (event.action and the saved object)
 * and the outcome; never a request body, a header or a secret.
 */

export const ECS_VERSION = '8.11.0';

export type EventOutcome = 'success' | 'failure' | 'unknown';

export interface AuditEvent {
  message: string;
  event: {
    action: string;
    category: string[];
    type?: string[];
    outcome: EventOutcome;
  };
  kibana?: {
    saved_object?: { type: string; id: string };
    authentication_provider?: string;
    authentication_type?: string;
  };
  /** For failed logins: the name the credentials claimed. */
  user?: { name: string };
  error?: { code: string; message: string };
}

/** The request an event belongs to. */
export interface AuditRequest {
  id: string;
  ip: string;
  method: string;
  path: string;
  spaceId: string;
}

export interface AuditContext {
  principal?: Principal;
  request?: AuditRequest;
}

export interface AuditLogger {
  readonly enabled: boolean;
  log(event: AuditEvent, context: AuditContext): void;
  /** Resolves once every event logged so far has been written. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export type AuditAppender =
  | { type: 'file'; fileName: string }
  | { type: 'console'; write?: (line: string) => void };

export function auditRecord(
  event: AuditEvent,
  { principal, request }: AuditContext,
  now = new Date(),
): Record<string, unknown> {
  const user =
    principal !== undefined
      ? { name: principal.username, roles: [...principal.roles] }
      : event.user !== undefined
        ? { name: event.user.name }
        : undefined;
  const kibana: Record<string, unknown> = {};
  if (request !== undefined) kibana.space_id = request.spaceId;
  if (event.kibana?.saved_object !== undefined) kibana.saved_object = event.kibana.saved_object;
  if (event.kibana?.authentication_provider !== undefined) {
    kibana.authentication_provider = event.kibana.authentication_provider;
  }
  if (event.kibana?.authentication_type !== undefined) {
    kibana.authentication_type = event.kibana.authentication_type;
  }
  if (principal?.apiKey !== undefined) {
    kibana.authentication_type = 'api_key';
    kibana.api_key = { id: principal.apiKey.id, name: principal.apiKey.name };
  }
  return {
    event: {
      action: event.event.action,
      category: event.event.category,
      ...(event.event.type !== undefined ? { type: event.event.type } : {}),
      outcome: event.event.outcome,
    },
    ...(user !== undefined ? { user } : {}),
    kibana,
    ...(request !== undefined
      ? {
          trace: { id: request.id },
          client: { ip: request.ip },
          http: { request: { method: request.method.toLowerCase() } },
          url: { path: request.path },
        }
      : {}),
    ...(event.error !== undefined ? { error: event.error } : {}),
    ecs: { version: ECS_VERSION },
    '@timestamp': now.toISOString(),
    message: event.message,
    log: { level: 'INFO', logger: 'plugins.security.audit.ecs' },
    process: { pid: process.pid },
  };
}

class DisabledAuditLogger implements AuditLogger {
  readonly enabled = false;
  log(): void {}
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

class FileAuditLogger implements AuditLogger {
  readonly enabled = true;
  private readonly stream: WriteStream;
  private pending = 0;
  private waiters: Array<() => void> = [];

  constructor(fileName: string) {
    mkdirSync(dirname(fileName), { recursive: true });
    this.stream = createWriteStream(fileName, { flags: 'a', mode: 0o600 });
  }

  log(event: AuditEvent, context: AuditContext): void {
    this.pending += 1;
    this.stream.write(`${JSON.stringify(auditRecord(event, context))}\n`, () => {
      this.pending -= 1;
      if (this.pending === 0) for (const done of this.waiters.splice(0)) done();
    });
  }

  flush(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}

class ConsoleAuditLogger implements AuditLogger {
  readonly enabled = true;
  constructor(private readonly write: (line: string) => void) {}
  log(event: AuditEvent, context: AuditContext): void {
    this.write(`${JSON.stringify(auditRecord(event, context))}\n`);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

export function createAuditLogger(appender: AuditAppender | undefined): AuditLogger {
  if (appender === undefined) return new DisabledAuditLogger();
  if (appender.type === 'file') return new FileAuditLogger(appender.fileName);
  return new ConsoleAuditLogger(appender.write ?? ((line) => void process.stdout.write(line)));
}

/** Kibana's connector audit actions, with the verbs its messages use. */
const CONNECTOR_VERBS = {
  connector_create: ['create', 'creating', 'created', 'creation'],
  connector_get: ['access', 'accessing', 'accessed', 'access'],
  connector_update: ['update', 'updating', 'updated', 'change'],
  connector_delete: ['delete', 'deleting', 'deleted', 'deletion'],
  connector_find: ['access', 'accessing', 'accessed', 'access'],
  connector_execute: ['execute', 'executing', 'executed', undefined],
} as const;

export type ConnectorAuditAction = keyof typeof CONNECTOR_VERBS;

/** Kibana's connector audit event: `User is creating connector [id=x]`, `User has accessed ...`. */
export function connectorAuditEvent(
  action: ConnectorAuditAction,
  options: { id?: string; outcome?: EventOutcome; error?: Error } = {},
): AuditEvent {
  const [present, progressive, past, type] = CONNECTOR_VERBS[action];
  const doc = options.id !== undefined ? `connector [id=${options.id}]` : 'a connector';
  const message = options.error
    ? `Failed attempt to ${present} ${doc}`
    : options.outcome === 'unknown'
      ? `User is ${progressive} ${doc}`
      : `User has ${past} ${doc}`;
  return {
    message,
    event: {
      action,
      category: ['database'],
      ...(type !== undefined ? { type: [type] } : {}),
      outcome: options.outcome ?? (options.error ? 'failure' : 'success'),
    },
    ...(options.id !== undefined
      ? { kibana: { saved_object: { type: 'action', id: options.id } } }
      : {}),
    ...(options.error
      ? {
          error: {
            // Kibana's refusals are Boom errors, whose name is plain `Error`.
            code: options.error.name === 'HttpError' ? 'Error' : options.error.name,
            message: options.error.message,
          },
        }
      : {}),
  };
}

/** A failed authentication of an HTTP request (Kibana's `user_login` with outcome failure). */
export function loginFailureEvent(error: Error, claimedUsername?: string): AuditEvent {
  return {
    message: 'Failed attempt to login using http provider [name=__http__]',
    event: { action: 'user_login', category: ['authentication'], outcome: 'failure' },
    kibana: { authentication_provider: '__http__', authentication_type: 'http' },
    ...(claimedUsername !== undefined ? { user: { name: claimedUsername } } : {}),
    error: { code: 'ResponseError', message: error.message },
  };
}
