import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseQueryString } from 'node:querystring';
import { getHeapStatistics } from 'node:v8';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import underPressure from '@fastify/under-pressure';
import type { TSchema } from '@sinclair/typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import type { Settings } from './config/settings.js';
import { ConnectorsClient } from './connectors/client.js';
import { CONNECTOR_TYPES, ConnectorTypeRegistry } from './connectors/registry.js';
import { ConnectorTokens } from './connectors/tokens.js';
import type { AnyConnectorType, ConnectorEnv, IndexService } from './connectors/types.js';
import { atEndOfTurn } from './end-of-turn.js';
import { HttpError, INTERNAL_ERROR_MESSAGE, toEnvelope } from './errors.js';
import { ElasticsearchIndex } from './es/elasticsearch.js';
import { EmbeddedIndex } from './es/embedded.js';
import { EventLogRetention } from './event-log/retention.js';
import { EventLogWriter } from './event-log/writer.js';
import { AllowedHosts } from './http/allowed-hosts.js';
import { HttpClient } from './http/client.js';
import { EgressGuard } from './http/egress.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import type { TypedApp } from './routes/common.js';
import { connectorRoutes } from './routes/connectors.js';
import { embeddedIndexRoutes } from './routes/embedded-index.js';
import { encryptedSavedObjectsRoutes } from './routes/encrypted-saved-objects.js';
import { eventLogRoutes } from './routes/event-log.js';
import { metricsRoutes } from './routes/metrics.js';
import { securityRoutes } from './routes/security.js';
import { spacesRoutes } from './routes/spaces.js';
import { statusRoutes } from './routes/status.js';
import { relaxDefaults } from './schemas/openapi.js';
import { formatFailure, validate } from './schemas/validate.js';
import { ApiKeyService } from './security/api-keys.js';
import { type AuditAppender, createAuditLogger } from './security/audit.js';
import { Authenticator, builtinUser } from './security/authenticator.js';
import { KibanaAuthorization } from './security/authorization.js';
import { registerSecurityHooks } from './security/hooks.js';
import { SUPERUSER_ROLE } from './security/principal.js';
import { Roles } from './security/roles.js';
import { Users } from './security/users.js';
import { rewriteSpaceUrl, spaceIdOf } from './spaces/rewrite.js';
import { SpacesService } from './spaces/service.js';
import { SecretsCipher } from './store/crypto.js';
import { SecretsRotation } from './store/secrets-rotation.js';
import { openSqliteStore } from './store/sqlite.js';
import type { Store } from './store/types.js';
import { KIBANA_VERSION } from './version.js';

export const DEFAULT_ELASTIC_PASSWORD = 'changeme';
const DOCS_PREFIX = '/api/docs';
/** How often event-loop delay and heap use are sampled for load shedding. */
const LOAD_SAMPLE_INTERVAL_MS = 250;
const MAX_PARAM_LENGTH = 65_536;

export interface AppOptions {
  settings: Settings;
  /** Defaults to a pino logger at logging.root.level on stdout. */
  logger?: Logger;
  /** Where ELASTIC_PASSWORD is read from. Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Register the OpenAPI document (app.swagger()) whatever docs.enabled says. */
  openapi?: boolean;
  /** Connector types to serve; defaults to every registered type. */
  connectorTypes?: readonly AnyConnectorType[];
}

/** The server uuid Kibana keeps in its data folder, created on first start. */
function serverUuid(dataDir: string): string {
  const file = join(dataDir, 'uuid');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const uuid = randomUUID();
    writeFileSync(file, uuid, { mode: 0o600 });
    return uuid;
  }
}

/** The configured encryption key, or one generated once and kept under path.data. */
function encryptionKey(settings: Settings, dataDir: string, logger: Logger): string {
  const configured = settings['xpack.encryptedSavedObjects.encryptionKey'];
  if (configured !== undefined) return configured;
  if (settings['store.engine'] !== 'sqlite') {
    throw new Error(
      '[xpack.encryptedSavedObjects.encryptionKey]: must be set when store.engine is not sqlite, so every instance shares it',
    );
  }
  const file = join(dataDir, 'encryption.key');
  let key: string;
  try {
    key = readFileSync(file, 'utf8').trim();
  } catch {
    key = randomBytes(32).toString('hex');
    writeFileSync(file, key, { mode: 0o600 });
  }
  logger
    .child({ name: 'plugins.encryptedSavedObjects' })
    .warn(
      `xpack.encryptedSavedObjects.encryptionKey is not set: using a generated key kept in ${file}. Set the key to keep connector secrets readable if the data folder is moved or lost.`,
    );
  return key;
}

async function openStore(settings: Settings, dataDir: string, logger: Logger): Promise<Store> {
  if (settings['store.engine'] === 'sqlite') return openSqliteStore(dataDir);
  const url = settings['store.postgres.url'];
  if (url === undefined) {
    throw new Error(
      '[store.postgres.url]: must be set (or DATABASE_URL) when store.engine is postgres',
    );
  }
  // Loaded only for this engine: the pg client adds to every embedded start otherwise.
  const { openPostgresStore } = await import('./store/postgres.js');
  try {
    return await openPostgresStore({
      url,
      poolSize: settings['store.postgres.pool.max'],
      statementTimeoutMs: settings['store.postgres.statementTimeout'],
      connectionTimeoutMs: settings['store.postgres.connectionTimeout'],
      logger: logger.child({ name: 'store.postgres' }),
    });
  } catch (err) {
    // The URL may hold a password: name the server, never the URL.
    throw new Error(
      `Unable to open the PostgreSQL store at ${hostOf(url)}: ${(err as Error).message}`,
    );
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host || 'the configured server';
  } catch {
    return 'the configured server';
  }
}

/** xpack.security.audit.*: undefined when the audit log is off. */
function auditAppender(settings: Settings, dataDir: string): AuditAppender | undefined {
  if (!settings['xpack.security.audit.enabled']) return undefined;
  const type = settings['xpack.security.audit.appender.type'];
  if (type === 'console') return { type: 'console' };
  const fileName = settings['xpack.security.audit.appender.fileName'];
  if (type === 'file' && fileName === undefined) {
    throw new Error(
      '[xpack.security.audit.appender.fileName]: expected value of type [string] but got [undefined]',
    );
  }
  return { type: 'file', fileName: resolve(fileName ?? join(dataDir, 'audit.log')) };
}

/**
 * Deeper JSON than any connector, space or identity body needs is refused as unparsable, so
 * nothing downstream (validation, storage, serialization) recurses without bound.
 */
const MAX_JSON_DEPTH = 1000;

function tooDeep(value: unknown): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [item, depth] = next;
    if (typeof item !== 'object' || item === null) continue;
    if (depth > MAX_JSON_DEPTH) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Fastify's own errors, mapped to what Kibana (hapi) answers for the same fault. */
function errorEnvelope(err: FastifyError, maxPayload: number) {
  if (err instanceof HttpError) return toEnvelope(err.statusCode, err.message, err.attributes);
  switch (err.code) {
    case 'FST_ERR_VALIDATION':
      return toEnvelope(400, err.message);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return toEnvelope(413, `Payload content length greater than maximum allowed: ${maxPayload}`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return toEnvelope(415);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return toEnvelope(400, 'Bad Request');
    default:
      if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
        return toEnvelope(err.statusCode, err.message);
      }
      return undefined;
  }
}

/** One line per request, after the answer: method, path, space, status and time; no headers. */
class OneLinePerRequest extends LogController {
  /**
   * One line per answered request at debug level, under Kibana's `http.server.response` logger:
   * like Kibana, a server on the default `info` level does not log every request. The lines
   * carry only fixed, non-secret fields.
   */
  constructor(private readonly lines: Logger) {
    super();
  }

  override incomingRequest(): void {}

  override requestCompleted(
    _error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (!this.lines.isLevelEnabled('debug')) return;
    this.lines.debug(
      {
        method: request.method,
        path: request.url,
        space: request.spaceId,
        statusCode: reply.statusCode,
        responseTime: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request completed',
    );
  }
}

/**
 * Response serializers are compiled on a route's first answer instead of at start-up: compiling
 * every route's schemas up front is most of the time the server takes to become ready.
 */
const defaultSerializers = SerializerSelector();
function lazySerializers(externalSchemas: unknown, options: unknown) {
  const compile = defaultSerializers(externalSchemas as never, options as never);
  return (route: Parameters<typeof compile>[0]) => {
    let serialize: ((data: unknown) => string) | undefined;
    return (data: unknown) => {
      serialize ??= compile(route) as (data: unknown) => string;
      return serialize(data);
    };
  };
}

const PART_NAMES: Record<string, string> = {
  body: 'request body',
  querystring: 'request query',
  params: 'request params',
  headers: 'request headers',
};

export async function buildApp(options: AppOptions): Promise<TypedApp> {
  const { settings } = options;
  const logger = options.logger ?? createLogger(settings['logging.root.level']);
  const env = options.env ?? process.env;
  const dataDir = resolve(settings['path.data']);
  mkdirSync(dataDir, { recursive: true });

  const uuid = serverUuid(dataDir);
  const cipher = new SecretsCipher(
    encryptionKey(settings, dataDir, logger),
    settings['xpack.encryptedSavedObjects.keyRotation.decryptionOnlyKeys'],
  );
  const audit = createAuditLogger(auditAppender(settings, dataDir));
  const store = await openStore(settings, dataDir, logger);

  const elasticPassword = env.ELASTIC_PASSWORD;
  if (elasticPassword === undefined || elasticPassword === DEFAULT_ELASTIC_PASSWORD) {
    logger
      .child({ name: 'plugins.security' })
      .warn(
        `The built-in superuser "elastic" uses the default password "${DEFAULT_ELASTIC_PASSWORD}". Set ELASTIC_PASSWORD before exposing this server.`,
      );
  }
  const roles = new Roles(store.roles);
  const authenticator = new Authenticator({
    builtinUsers: [
      builtinUser('elastic', elasticPassword ?? DEFAULT_ELASTIC_PASSWORD, [SUPERUSER_ROLE]),
    ],
    users: store.users,
    apiKeys: store.apiKeys,
    roles,
  });
  const authorization = new KibanaAuthorization();
  const tokens = new ConnectorTokens();
  // Writes made on another instance sharing the store reach this one's caches too.
  store.changes.subscribe((change) => {
    switch (change.kind) {
      case 'apiKey':
        authenticator.forgetApiKey(change.id);
        break;
      case 'user':
      case 'role':
        authenticator.forgetAll();
        break;
      case 'connector':
        tokens.forget(change.spaceId, change.id);
        break;
      case 'space':
        tokens.forgetSpace(change.id);
        break;
      case 'all':
        authenticator.forgetAll();
        tokens.forgetAll();
        break;
    }
  });

  const allowedHosts = new AllowedHosts(settings['xpack.actions.allowedHosts']);
  const baseUrls = settings['connectors.baseUrls'];
  const connectorEnv: ConnectorEnv = {
    allowedHosts,
    settings,
    baseUrl: (typeId, fallback) => baseUrls[typeId] ?? fallback,
  };
  const http = new HttpClient({
    egress: new EgressGuard(allowedHosts, settings['xpack.actions.egress.deny']),
    responseTimeoutMs: settings['xpack.actions.responseTimeout'],
    maxContentLength: settings['xpack.actions.maxResponseContentLength'],
    verificationMode: settings['xpack.actions.ssl.verificationMode'],
    logger: logger.child({ name: 'plugins.actions.http' }),
  });
  const embedded =
    settings['elasticsearch.hosts'] === undefined ? new EmbeddedIndex(store.indices) : undefined;
  const elasticsearch = embedded === undefined ? new ElasticsearchIndex(settings) : undefined;
  const index: IndexService = embedded ?? (elasticsearch as ElasticsearchIndex);
  const eventLogLogger = logger.child({ name: 'plugins.eventLog' });
  const eventLog = new EventLogWriter(store.events, eventLogLogger);
  const retention = new EventLogRetention(
    store.events,
    settings['xpack.eventLog.retention'],
    eventLogLogger,
  );
  const metrics = settings['metrics.enabled']
    ? new Metrics({ pools: () => http.poolCounts(), eventLogQueue: () => eventLog.queueLength })
    : undefined;
  const registry = new ConnectorTypeRegistry(
    options.connectorTypes ?? CONNECTOR_TYPES,
    settings['xpack.actions.enabledActionTypes'],
  );
  const connectors = new ConnectorsClient({
    store,
    registry,
    preconfigured: settings['xpack.actions.preconfigured'],
    cipher,
    authorization,
    env: connectorEnv,
    http,
    services: { index },
    eventLog,
    tokens,
    ...(metrics !== undefined ? { metrics } : {}),
    logger,
    audit,
    serverUuid: uuid,
    version: KIBANA_VERSION,
  });
  const spaces = new SpacesService(store.spaces, authorization, settings['xpack.spaces.maxSpaces']);
  const apiKeys = new ApiKeyService(store.apiKeys, roles, authenticator);
  const users = new Users(store.users, authenticator);
  const rotation = new SecretsRotation(
    store,
    cipher,
    logger.child({ name: 'plugins.encryptedSavedObjects' }),
  );

  const maxPayload = settings['server.maxPayload'];
  const app = Fastify({
    loggerInstance: logger.child({ name: 'http.server.Kibana' }) as FastifyBaseLogger,
    logController: new OneLinePerRequest(logger.child({ name: 'http.server.response' })),
    // Handlers log through the server logger itself: no logger is made per request.
    childLoggerFactory: (base) => base,
    bodyLimit: maxPayload,
    rewriteUrl: rewriteSpaceUrl,
    // hapi has no limit of its own: a long id or name reaches validation and gets its 400 there
    // (a request line is bounded by Node's header size anyway).
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // A malformed URL (bad percent-encoding) is a 400 in Kibana's envelope, like every error.
    frameworkErrors: (_err, _request, reply) => {
      (reply as unknown as FastifyReply).code(400).send(toEnvelope(400));
    },
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } },
    schemaController: { compilersFactory: { buildSerializer: lazySerializers } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorateRequest('principal', undefined);
  app.decorateRequest('spaceId', 'default');

  // Every request part is validated with config-schema's messages: `[request body.x]: ...`.
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const prefix = PART_NAMES[httpPart ?? 'body'] ?? 'request';
    const coerceScalars = httpPart === 'querystring' || httpPart === 'params';
    return (data: unknown) => {
      const value = httpPart === 'body' && data === null ? null : data;
      const result = validate(schema as TSchema, value, { coerceScalars });
      if (result.ok) return { value: result.value };
      const error = new Error(formatFailure(result, prefix)) as FastifyError;
      error.code = 'FST_ERR_VALIDATION';
      return { error };
    };
  });

  // JSON bodies: an empty body is no body; __proto__ and constructor.prototype are refused.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    // Nesting deeper than MAX_JSON_DEPTH takes more than that many opening brackets, so a
    // shorter body cannot be too deep and is not walked.
    const text = body as string;
    jsonParser(request, text, (err, parsed) =>
      err || (text.length > MAX_JSON_DEPTH && tooDeep(parsed))
        ? done(new HttpError(400, 'Invalid request payload JSON format'))
        : done(null, parsed),
    );
  });
  // What hapi makes of forms and text, so a request Kibana refuses with 400 gets the same here.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, body, done) => done(null, { ...parseQueryString(body as string) }),
  );
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) =>
    done(null, body),
  );

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const body = errorEnvelope(err, maxPayload);
    if (body !== undefined) return reply.code(body.statusCode).send(body);
    request.log.error({ err }, 'unhandled error');
    return reply.code(500).send(toEnvelope(500, INTERNAL_ERROR_MESSAGE));
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(toEnvelope(404)));

  const serverName = settings['server.name'];
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    request.spaceId = spaceIdOf(request.raw);
    reply.header('kbn-name', serverName);
    done();
  });
  // Every answer, error or not, is written at the end of the loop turn that made it, or once the
  // oldest held answer has waited a millisecond in a long turn (see atEndOfTurn). A throw while
  // writing takes fastify's own error path, as a send that throws in a handler does.
  app.addHook('onSend', (_request, _reply, payload, done) => {
    atEndOfTurn(() => {
      try {
        done(null, payload);
      } catch (err) {
        done(err as Error);
      }
    });
  });
  if (settings['loadShedding.enabled']) {
    const retryAfterSeconds = Math.max(1, Math.round(settings['loadShedding.retryAfter'] / 1000));
    await app.register(underPressure, {
      maxEventLoopDelay: settings['loadShedding.maxEventLoopDelay'],
      maxHeapUsedBytes: Math.floor(
        getHeapStatistics().heap_size_limit * settings['loadShedding.maxHeapUsedRatio'],
      ),
      retryAfter: retryAfterSeconds,
      sampleInterval: LOAD_SAMPLE_INTERVAL_MS,
      customError: class Overloaded extends HttpError {
        constructor() {
          super(503, `The server is overloaded; retry in ${retryAfterSeconds} seconds.`);
        }
      },
    });
  }
  registerSecurityHooks(app, {
    authenticator,
    settings,
    version: KIBANA_VERSION,
    publicPrefixes: [DOCS_PREFIX],
    audit,
  });

  // Per credential (the authenticated user or API key; the client address when anonymous),
  // after authentication so a caller cannot spend another's allowance.
  if (settings['server.rateLimiter.enabled']) {
    // Loaded only when turned on: most servers never need it.
    const { default: rateLimit } = await import('@fastify/rate-limit');
    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      max: settings['server.rateLimiter.max'],
      timeWindow: settings['server.rateLimiter.timeWindow'],
      allowList: (request) => request.url.startsWith(DOCS_PREFIX),
      keyGenerator: (request) => {
        const principal = request.principal;
        if (principal === undefined) return `ip:${request.ip}`;
        return principal.apiKey !== undefined
          ? `api_key:${principal.apiKey.id}`
          : `user:${principal.realm}:${principal.username}`;
      },
      errorResponseBuilder: (_request, context) =>
        new HttpError(429, `Rate limit exceeded, retry in ${context.after}`),
    });
  }

  if (settings['docs.enabled'] || options.openapi === true) {
    // The OpenAPI document and Swagger UI are loaded only when asked for: they are a large part
    // of what a server takes to start.
    const [{ default: swagger }, { default: swaggerUi }] = await Promise.all([
      import('@fastify/swagger'),
      import('@fastify/swagger-ui'),
    ]);
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'Kibana connectors API',
          description:
            'Kibana-compatible Actions (connectors) API. Every path also works under `/s/{space_id}` for a space other than the default one. Unsafe methods need a `kbn-xsrf` header.',
          version: KIBANA_VERSION,
        },
        components: {
          securitySchemes: {
            basicAuth: { type: 'http', scheme: 'basic' },
            apiKeyAuth: { type: 'apiKey', in: 'header', name: 'Authorization' },
          },
        },
        security: [{ basicAuth: [] }, { apiKeyAuth: [] }],
      },
      transform: ({ schema, url }) => ({ schema: relaxDefaults(schema) as typeof schema, url }),
    });
    await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  }

  connectorRoutes(app, connectors);
  spacesRoutes(app, spaces);
  securityRoutes(app, { apiKeys, users, roles, authenticator });
  encryptedSavedObjectsRoutes(app, rotation, authorization);
  eventLogRoutes(app, connectors, eventLog);
  statusRoutes(app, {
    settings,
    uuid,
    version: KIBANA_VERSION,
    buildHash: 'standalone',
    buildDate: new Date(0).toISOString(),
  });
  if (embedded !== undefined) embeddedIndexRoutes(app, embedded);
  if (metrics !== undefined) metricsRoutes(app, metrics, settings['metrics.allowAnonymous']);

  // Keep-alive connections that finish their last request while closing are let go at once,
  // rather than after the keep-alive timeout.
  let reaper: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    reaper = setInterval(() => app.server.closeIdleConnections(), 50);
    reaper.unref();
  });
  app.addHook('onReady', async () => {
    retention.start();
    void retention.sweep();
  });
  app.addHook('onClose', async () => {
    clearInterval(reaper);
    await retention.stop();
    await eventLog.flush();
    await Promise.all([http.close(), elasticsearch?.close(), audit.close()]);
    await store.close();
  });
  return app;
}
