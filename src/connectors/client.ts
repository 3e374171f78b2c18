import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { PreconfiguredConnector } from '../config/settings.js';
import { badRequest, forbidden, savedObjectConflict, savedObjectNotFound } from '../errors.js';
import { executionEvent } from '../event-log/execution.js';
import type { EventLogWriter } from '../event-log/writer.js';
import { type Cancellation, type HttpClient, OutboundError } from '../http/client.js';
import { answerClass, type Metrics, type TypeMetrics, type VendorAnswer } from '../metrics.js';
import {
  type AuditLogger,
  type AuditRequest,
  type ConnectorAuditAction,
  connectorAuditEvent,
  type EventOutcome,
} from '../security/audit.js';
import { type Authorization, executePrivileges } from '../security/authorization.js';
import type { Principal } from '../security/principal.js';
import { connectorAad, DecryptionError, type SecretsCipher } from '../store/crypto.js';
import { type Store, StoreConflictError, type StoredConnector } from '../store/types.js';
import { ConnectorCache } from './cache.js';
import type { ConnectorTypeRegistry } from './registry.js';
import { fail } from './result.js';
import {
  type ConnectorChecks,
  checkConfig,
  checkConnector,
  checkSecrets,
  RunContext,
  runConnector,
} from './run.js';
import type { ConnectorTokens } from './tokens.js';
import type {
  AnyConnectorType,
  ConnectorEnv,
  ConnectorHttp,
  ConnectorResult,
  ConnectorServices,
  FeatureId,
} from './types.js';

/**
 * The actions client: every connector operation, with Kibana's checks in Kibana's order
 * (authorization, preconfigured and type rules, validation, enablement, storage). Routes call it
 * with a caller and a space; it speaks camelCase and throws HttpErrors.
 */

/** A run's cancellation, and the AbortSignal of it for what needs one (made on first use). */
export interface RunCancellation extends Cancellation {
  readonly signal: AbortSignal;
}

export interface Caller {
  principal: Principal;
  spaceId: string;
  /** The request, for audit records. */
  request?: AuditRequest;
}

export interface Connector {
  id: string;
  name: string;
  typeId: string;
  config?: Record<string, unknown>;
  isPreconfigured: boolean;
  isSystemAction: boolean;
  isDeprecated: boolean;
  isMissingSecrets?: boolean;
  isConnectorTypeDeprecated: boolean;
}

export interface ListedConnector extends Connector {
  referencedByCount: number;
}

export interface ConnectorTypeInfo {
  id: string;
  name: string;
  enabled: boolean;
  enabledInConfig: boolean;
  enabledInLicense: boolean;
  minimumLicenseRequired: string;
  supportedFeatureIds: readonly FeatureId[];
  isSystemActionType: boolean;
  isDeprecated: boolean;
  subFeature?: string;
}

export interface ExecutionOutcome {
  connectorId: string;
  result: ConnectorResult;
}

export interface ConnectorsClientDeps {
  store: Store;
  registry: ConnectorTypeRegistry;
  preconfigured: readonly PreconfiguredConnector[];
  cipher: SecretsCipher;
  authorization: Authorization;
  env: ConnectorEnv;
  http: HttpClient;
  services: ConnectorServices;
  eventLog: EventLogWriter;
  tokens: ConnectorTokens;
  metrics?: Metrics;
  /** The root logger: each connector type logs through a child named after it. */
  logger: Logger;
  audit: AuditLogger;
  serverUuid: string;
  version: string;
}

/** ServiceNow ITSM and SecOps connectors not using the table API are reported deprecated. */
export function isConnectorDeprecated(typeId: string, config: unknown): boolean {
  if (typeId !== '.servicenow' && typeId !== '.servicenow-sir') return false;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return false;
  if (!Object.hasOwn(config, 'usesTableApi')) return true;
  return Boolean((config as { usesTableApi?: unknown }).usesTableApi);
}

export const notEnabledMessage = (typeId: string) =>
  `action type "${typeId}" is not enabled in the Kibana config xpack.actions.enabledActionTypes`;

export const notRegisteredMessage = (typeId: string) =>
  `Action type "${typeId}" is not registered.`;

interface Loaded {
  id: string;
  name: string;
  typeId: string;
  config: Record<string, unknown>;
  secrets: unknown;
  isPreconfigured: boolean;
  /** Config and secrets checks, made on the first run and kept with the loaded connector. */
  checks: ConnectorChecks;
  /** What GET answers for a stored connector. */
  view?: Connector;
}

export class ConnectorsClient {
  private readonly preconfigured: ReadonlyMap<string, PreconfiguredConnector>;
  private readonly cache: ConnectorCache<Loaded>;
  private readonly preconfiguredLoaded = new Map<string, Loaded>();
  private readonly typeLoggers = new Map<string, Logger>();

  constructor(private readonly deps: ConnectorsClientDeps) {
    this.preconfigured = new Map(deps.preconfigured.map((c) => [c.id, c]));
    this.cache = new ConnectorCache(deps.store.changes);
  }

  private type(typeId: string): AnyConnectorType | undefined {
    return this.deps.registry.get(typeId);
  }

  private isTypeDeprecated(typeId: string): boolean {
    return this.type(typeId)?.isDeprecated === true;
  }

  /** Secrets this server cannot open (sealed with a key it lacks, or damaged) count as missing. */
  private secretsMissing(c: StoredConnector): boolean {
    if (c.isMissingSecrets) return true;
    if (c.secrets === null) return false;
    return (
      this.deps.cipher.problemWith(c.secrets, connectorAad(c.spaceId, c.typeId, c.id)) !== undefined
    );
  }

  private fromStored(c: StoredConnector): Connector {
    return {
      id: c.id,
      name: c.name,
      typeId: c.typeId,
      config: c.config,
      isPreconfigured: false,
      isSystemAction: false,
      isDeprecated: isConnectorDeprecated(c.typeId, c.config),
      isMissingSecrets: this.secretsMissing(c),
      isConnectorTypeDeprecated: this.isTypeDeprecated(c.typeId),
    };
  }

  private audit(
    caller: Caller,
    action: ConnectorAuditAction,
    options: { id?: string; outcome?: EventOutcome; error?: Error } = {},
  ): void {
    if (!this.deps.audit.enabled) return;
    this.deps.audit.log(connectorAuditEvent(action, options), {
      principal: caller.principal,
      ...(caller.request !== undefined ? { request: caller.request } : {}),
    });
  }

  /** Authorization, with the audit record Kibana writes when it is refused. */
  private authorize(
    caller: Caller,
    audit: { action: ConnectorAuditAction; id?: string },
    check: () => void,
  ): void {
    try {
      check();
    } catch (err) {
      this.audit(caller, audit.action, {
        ...(audit.id !== undefined ? { id: audit.id } : {}),
        error: err as Error,
      });
      throw err;
    }
  }

  private fromPreconfigured(c: PreconfiguredConnector, withConfig: boolean): Connector {
    return {
      id: c.id,
      name: c.name,
      typeId: c.actionTypeId,
      ...(withConfig ? { config: c.config } : {}),
      isPreconfigured: true,
      isSystemAction: false,
      isDeprecated: isConnectorDeprecated(c.actionTypeId, c.config),
      isConnectorTypeDeprecated: this.isTypeDeprecated(c.actionTypeId),
    };
  }

  /** Validated config and encrypted secrets for a type, or Kibana's 400/403. */
  private prepare(
    type: AnyConnectorType,
    caller: Caller,
    id: string,
    config: unknown,
    secrets: unknown,
  ) {
    const env = this.deps.env;
    const checkedConfig = checkConfig(type, config, env);
    if (!checkedConfig.ok) throw badRequest(checkedConfig.message);
    const checkedSecrets = checkSecrets(type, secrets, env);
    if (!checkedSecrets.ok) throw badRequest(checkedSecrets.message);
    const refused = checkConnector(type, checkedConfig.value, checkedSecrets.value);
    if (refused) throw badRequest(refused);
    if (!this.deps.registry.isEnabledInConfig(type.id)) throw forbidden(notEnabledMessage(type.id));
    return {
      config: checkedConfig.value,
      secrets: this.deps.cipher.encrypt(
        checkedSecrets.value,
        connectorAad(caller.spaceId, type.id, id),
      ),
    };
  }

  async create(
    caller: Caller,
    input: { id?: string; name: string; typeId: string; config: unknown; secrets: unknown },
  ): Promise<Connector> {
    const id = input.id ?? randomUUID();
    this.authorize(caller, { action: 'connector_create', id }, () =>
      this.deps.authorization.ensureActions(
        caller.principal,
        caller.spaceId,
        'create',
        input.typeId,
      ),
    );
    if (this.preconfigured.has(id))
      throw badRequest(`This ${id} already exists in a preconfigured action.`);
    const type = this.type(input.typeId);
    if (type === undefined) throw badRequest(notRegisteredMessage(input.typeId));
    const prepared = this.prepare(type, caller, id, input.config, input.secrets);
    this.audit(caller, 'connector_create', { id, outcome: 'unknown' });
    const now = new Date().toISOString();
    const stored: StoredConnector = {
      id,
      spaceId: caller.spaceId,
      typeId: type.id,
      name: input.name,
      config: prepared.config,
      secrets: prepared.secrets,
      isMissingSecrets: false,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.deps.store.connectors.create(stored);
    } catch (err) {
      if (err instanceof StoreConflictError) throw savedObjectConflict('action', id);
      throw err;
    }
    return this.fromStored(stored);
  }

  async get(caller: Caller, id: string): Promise<Connector> {
    this.authorize(caller, { action: 'connector_get', id }, () =>
      this.deps.authorization.ensureActions(caller.principal, caller.spaceId, 'get'),
    );
    const pre = this.preconfigured.get(id);
    if (pre !== undefined) return this.fromPreconfigured(pre, pre.exposeConfig);
    const view = (await this.loadStored(caller.spaceId, id))?.view;
    if (view === undefined) throw savedObjectNotFound('action', id);
    this.audit(caller, 'connector_get', { id });
    return view;
  }

  async list(caller: Caller): Promise<ListedConnector[]> {
    this.authorize(caller, { action: 'connector_find' }, () =>
      this.deps.authorization.ensureActions(caller.principal, caller.spaceId, 'get'),
    );
    const stored = await this.deps.store.connectors.list(caller.spaceId);
    for (const c of stored) this.audit(caller, 'connector_find', { id: c.id });
    const all: ListedConnector[] = [
      ...stored.map((c) => ({ ...this.fromStored(c), referencedByCount: 0 })),
      ...[...this.preconfigured.values()].map((c) => ({
        ...this.fromPreconfigured(c, false),
        referencedByCount: 0,
      })),
    ];
    return all.sort((a, b) => a.name.localeCompare(b.name));
  }

  async update(
    caller: Caller,
    id: string,
    input: { name: string; config: unknown; secrets: unknown },
  ): Promise<Connector> {
    this.authorize(caller, { action: 'connector_update', id }, () =>
      this.deps.authorization.ensureActions(caller.principal, caller.spaceId, 'update'),
    );
    if (this.preconfigured.has(id))
      throw badRequest(`Preconfigured action ${id} can not be updated.`);
    const existing = await this.deps.store.connectors.get(caller.spaceId, id);
    if (existing === undefined) throw savedObjectNotFound('action', id);
    const type = this.type(existing.typeId);
    if (type === undefined) throw badRequest(notRegisteredMessage(existing.typeId));
    const prepared = this.prepare(type, caller, id, input.config, input.secrets);
    this.audit(caller, 'connector_update', { id, outcome: 'unknown' });
    const updated = await this.deps.store.connectors.update(caller.spaceId, id, {
      name: input.name,
      config: prepared.config,
      secrets: prepared.secrets,
    });
    // Its OAuth tokens are forgotten through the store's change feed, on every instance.
    if (updated === undefined) throw savedObjectNotFound('action', id);
    return this.fromStored(updated);
  }

  async delete(caller: Caller, id: string): Promise<void> {
    this.authorize(caller, { action: 'connector_delete', id }, () =>
      this.deps.authorization.ensureActions(caller.principal, caller.spaceId, 'delete'),
    );
    if (!this.preconfigured.has(id)) {
      this.audit(caller, 'connector_delete', { id, outcome: 'unknown' });
    }
    const deleted = await this.deps.store.connectors.delete(caller.spaceId, id);
    if (deleted) return;
    if (this.preconfigured.has(id))
      throw badRequest(`Preconfigured action ${id} is not allowed to delete.`);
    throw savedObjectNotFound('action', id);
  }

  listTypes(featureId?: string): ConnectorTypeInfo[] {
    const registry = this.deps.registry;
    return registry
      .list()
      .filter(
        (t) =>
          featureId === undefined ||
          (t.supportedFeatureIds as readonly string[]).includes(featureId),
      )
      .map((t) => {
        const enabledInConfig = registry.isEnabledInConfig(t.id);
        return {
          id: t.id,
          name: t.name,
          enabled: enabledInConfig,
          enabledInConfig,
          enabledInLicense: true,
          minimumLicenseRequired: t.minimumLicenseRequired,
          supportedFeatureIds: t.supportedFeatureIds,
          isSystemActionType: false,
          isDeprecated: t.isDeprecated === true,
          ...(t.subFeature !== undefined ? { subFeature: t.subFeature } : {}),
        };
      });
  }

  /** The connector a run needs, secrets decrypted; stored ones come from the cache. */
  private async load(caller: Caller, id: string): Promise<Loaded | undefined> {
    const pre = this.preconfigured.get(id);
    if (pre !== undefined) {
      let loaded = this.preconfiguredLoaded.get(id);
      if (loaded === undefined) {
        loaded = {
          id,
          name: pre.name,
          typeId: pre.actionTypeId,
          config: pre.config,
          secrets: pre.secrets,
          isPreconfigured: true,
          checks: {},
        };
        this.preconfiguredLoaded.set(id, loaded);
      }
      return loaded;
    }
    return this.loadStored(caller.spaceId, id);
  }

  /** The connector as load() gives it, when that needs no wait: preconfigured or cached. */
  private loadedNow(caller: Caller, id: string): Loaded | undefined {
    if (this.preconfigured.has(id)) return this.preconfiguredLoaded.get(id);
    return this.cache.peek(caller.spaceId, id);
  }

  /** A stored connector, decrypted, from the cache or the store. */
  private loadStored(spaceId: string, id: string): Promise<Loaded | undefined> {
    return this.cache.get(spaceId, id, async () => {
      const stored = await this.deps.store.connectors.get(spaceId, id);
      if (stored === undefined) return undefined;
      let secrets: unknown = {};
      if (stored.secrets !== null) {
        try {
          secrets = this.deps.cipher.decrypt(
            stored.secrets,
            connectorAad(stored.spaceId, stored.typeId, stored.id),
          );
        } catch (err) {
          if (!(err instanceof DecryptionError)) throw err;
          secrets = undefined;
        }
      }
      return {
        id,
        name: stored.name,
        // The registry's own string where the type is known: every run looks its type up by it,
        // and that string matches the registry's key by identity, where each connector's own copy
        // read from the store was compared byte by byte (and, among many connectors, cold).
        typeId: this.type(stored.typeId)?.id ?? stored.typeId,
        config: stored.config,
        secrets,
        isPreconfigured: false,
        checks: {},
        view: this.fromStored(stored),
      };
    });
  }

  /** The logger a type's runs write to, named as Kibana names it (plugins.actions.server-log). */
  private typeLogger(typeId: string): Logger {
    let log = this.typeLoggers.get(typeId);
    if (log === undefined) {
      log = this.deps.logger.child({ name: `plugins.actions.${typeId.replace(/^\./, '')}` });
      this.typeLoggers.set(typeId, log);
    }
    return log;
  }

  /** Outbound HTTP for one run: bound to its cancellation, and counted per connector type. */
  private executionHttp(
    metrics: TypeMetrics | undefined,
    cancel: RunCancellation,
    onAnswer: (answer: VendorAnswer) => void,
  ): ConnectorHttp {
    const http = this.deps.http;
    if (metrics === undefined) {
      return {
        request: (req) => http.request(req, cancel),
        stream: (req) => http.stream(req, cancel),
      };
    }
    const measure = async <T extends { status: number }>(call: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      let answer: VendorAnswer = 'network';
      try {
        const response = await call();
        answer = answerClass(response.status);
        return response;
      } catch (err) {
        if (err instanceof OutboundError) answer = err.code;
        throw err;
      } finally {
        onAnswer(answer);
        metrics.vendorAnswered(answer, (performance.now() - started) / 1000);
      }
    };
    return {
      request: (req) => measure(() => http.request(req, cancel)),
      stream: (req) => measure(() => http.stream(req, cancel)),
    };
  }

  async execute(
    caller: Caller,
    id: string,
    params: unknown,
    /** Set when the caller goes away: vendor calls stop, and the run's signal aborts. */
    cancel: RunCancellation,
  ): Promise<ExecutionOutcome> {
    // Most runs find their connector in memory and need not wait for it.
    const connector = this.loadedNow(caller, id) ?? (await this.load(caller, id));
    const type = connector === undefined ? undefined : this.type(connector.typeId);
    const extra = type === undefined ? [] : executePrivileges(type, params);
    this.authorize(caller, { action: 'connector_execute', id }, () =>
      this.deps.authorization.ensureActions(
        caller.principal,
        caller.spaceId,
        'execute',
        connector?.typeId,
        extra,
      ),
    );
    this.audit(caller, 'connector_execute', { id });
    if (connector === undefined) throw savedObjectNotFound('action', id);
    if (!connector.isPreconfigured && !this.deps.registry.isEnabledInConfig(connector.typeId)) {
      throw forbidden(notEnabledMessage(connector.typeId));
    }
    if (type === undefined) throw badRequest(notRegisteredMessage(connector.typeId));

    const executionId = randomUUID();
    const start = Date.now();
    const startedAt = performance.now();
    const log = () => this.typeLogger(type.id);
    const metrics = this.deps.metrics?.forType(type.id);
    metrics?.started();
    let lastAnswer: VendorAnswer | undefined;
    let result: ConnectorResult;
    if (connector.secrets === undefined) {
      result = fail(
        'Unable to decrypt the connector secrets; update the connector to store them again',
        {
          retry: false,
          errorSource: 'framework',
        },
      );
    } else {
      result = await runConnector({
        type,
        config: connector.config,
        secrets: connector.secrets,
        params,
        memo: connector.checks,
        // What most runs never touch (vendor calls, the signal, OAuth tokens) is made on use.
        context: new RunContext(
          log(),
          id,
          connector.name,
          caller.spaceId,
          this.deps.env,
          this.deps.services,
          () =>
            this.executionHttp(metrics, cancel, (answer) => {
              lastAnswer = answer;
            }),
          () => cancel.signal,
          () => this.deps.tokens.scope(caller.spaceId, id),
        ),
      });
    }
    const durationMs = performance.now() - startedAt;
    metrics?.finished(result, lastAnswer, durationMs / 1e3);
    this.deps.eventLog.write([
      executionEvent({
        // The stored connector's id string, one per connector, rather than the request's copy:
        // grouping a batch's records by connector then matches strings by identity.
        connector: {
          id: connector.id,
          name: connector.name,
          typeId: type.id,
          isInMemory: connector.isPreconfigured,
        },
        spaceId: caller.spaceId,
        principal: caller.principal,
        executionId,
        serverUuid: this.deps.serverUuid,
        version: this.deps.version,
        start,
        end: Date.now(),
        durationNs: durationMs * 1e6,
        result,
      }),
    ]);
    if (result.status === 'error' && this.deps.logger.isLevelEnabled('debug')) {
      log().debug(
        { connectorId: id, outcome: 'failure', message: result.message },
        'connector run failed',
      );
    }
    return { connectorId: id, result };
  }
}
