import type { Static, TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { Settings } from '../config/settings.js';
import type { AllowedHosts } from '../http/allowed-hosts.js';
import type { OutboundRequest, OutboundResponse, OutboundStream } from '../http/client.js';
import type { ConnectorTokenScope } from './tokens.js';

/**
 * THE connector contract. A connector type is a plain object made with `defineConnector`: its
 * metadata (as GET /api/actions/connector_types shows it), strict TypeBox schemas for config,
 * secrets and params, optional rules a schema cannot say, and `execute`. It knows nothing of
 * routes, spaces or storage; everything it may touch arrives in the ExecuteContext.
 */

export type LicenseType = 'basic' | 'standard' | 'gold' | 'platinum' | 'enterprise' | 'trial';

export const FEATURE_IDS = [
  'alerting',
  'cases',
  'uptime',
  'siem',
  'generativeAIForSecurity',
  'generativeAIForObservability',
  'generativeAIForSearchPlayground',
  'endpointSecurity',
  'workflows',
  'agentBuilder',
] as const;
export type FeatureId = (typeof FEATURE_IDS)[number];

export type ErrorSource = 'user' | 'framework';

/**
 * `connectorId` is what the envelope reports as connector_id when a type reports something other
 * than the connector's own id, as Kibana's Slack API type does with its type id.
 */
export interface ConnectorResultOk {
  status: 'ok';
  data?: unknown;
  connectorId?: string;
}

export interface ConnectorResultError {
  status: 'error';
  message: string;
  serviceMessage?: string;
  /** true/false, or the moment the vendor said to try again (Retry-After). */
  retry?: boolean | Date;
  data?: unknown;
  errorSource?: ErrorSource;
  connectorId?: string;
}

export type ConnectorResult = ConnectorResultOk | ConnectorResultError;

/**
 * An error a connector throws on purpose, carrying where the fault lies and, when the connector
 * knows better than the default (true), whether the run is worth retrying.
 */
export class ConnectorError extends Error {
  readonly errorSource: ErrorSource;
  readonly retry: boolean | Date | undefined;
  constructor(
    message: string,
    errorSource: ErrorSource = 'framework',
    options: { retry?: boolean | Date } = {},
  ) {
    super(message);
    this.name = 'ConnectorError';
    this.errorSource = errorSource;
    this.retry = options.retry;
  }
}

/**
 * What Kibana calls the configuration utilities: the actions settings a connector may consult
 * while validating or running.
 */
export interface ConnectorEnv {
  readonly allowedHosts: AllowedHosts;
  /** A vendor base URL: `connectors.baseUrls[typeId]` when set, else the given default. */
  baseUrl(typeId: string, fallback: string): string;
  readonly settings: Settings;
}

/** Outbound HTTP bound to one execution: its abort signal and its allowed hosts. */
export interface ConnectorHttp {
  request(req: OutboundRequest): Promise<OutboundResponse>;
  stream(req: OutboundRequest): Promise<OutboundStream>;
}

/** The Elasticsearch `_bulk` answer, as the .index connector returns it. */
export interface BulkResponse {
  took: number;
  errors: boolean;
  items: Array<Record<string, Record<string, unknown>>>;
  [key: string]: unknown;
}

/** Where the .index connector writes: a real cluster or the embedded index. */
export interface IndexService {
  bulkCreate(
    index: string,
    documents: readonly Record<string, unknown>[],
    options: { refresh: boolean; signal: AbortSignal },
  ): Promise<BulkResponse>;
}

export interface ConnectorServices {
  index: IndexService;
}

export interface ExecuteContext<C = unknown, S = unknown, P = unknown> {
  connectorId: string;
  connectorName: string;
  spaceId: string;
  config: C;
  secrets: S;
  params: P;
  http: ConnectorHttp;
  log: Logger;
  /** Aborted when the caller goes away; pass it on to anything slow. */
  signal: AbortSignal;
  env: ConnectorEnv;
  services: ConnectorServices;
  /** OAuth tokens cached for this connector in this space. */
  tokens: ConnectorTokenScope;
}

export interface ConnectorSchemas<C extends TSchema, S extends TSchema, P extends TSchema> {
  config: C;
  secrets: S;
  params: P;
}

export interface ConnectorValidators<C, S, P> {
  /** Throw an Error with the reason; it is reported after the type-config prefix. */
  config?(config: C, env: ConnectorEnv): void;
  secrets?(secrets: S, env: ConnectorEnv): void;
  params?(params: P, env: ConnectorEnv): void;
  /** Cross-field rule: return the reason, or null when the pair is valid. */
  connector?(config: C, secrets: S): string | null;
}

export interface ConnectorType<
  CS extends TSchema = TSchema,
  SS extends TSchema = TSchema,
  PS extends TSchema = TSchema,
> {
  id: string;
  name: string;
  minimumLicenseRequired: LicenseType;
  supportedFeatureIds: readonly FeatureId[];
  /** e.g. 'endpointSecurity' for the EDR connectors. */
  subFeature?: string;
  /**
   * EDR types only (subFeature 'endpointSecurity'): the sub-actions an HTTP `_execute` may run
   * with the Endpoint Security execute privilege alone. Every other sub-action also needs the
   * response-actions privilege, which only superusers hold (Kibana's getKibanaPrivileges:
   * SentinelOne `getAgents`, CrowdStrike `getAgentDetails`, Defender `testConnector`).
   */
  readOnlySubActions?: readonly string[];
  isDeprecated?: boolean;
  schema: ConnectorSchemas<CS, SS, PS>;
  validate?: ConnectorValidators<Static<CS>, Static<SS>, Static<PS>>;
  execute(ctx: ExecuteContext<Static<CS>, Static<SS>, Static<PS>>): Promise<ConnectorResult>;
}

/** The registry's view of a type: schemas erased, values unknown. */
export interface AnyConnectorType {
  id: string;
  name: string;
  minimumLicenseRequired: LicenseType;
  supportedFeatureIds: readonly FeatureId[];
  subFeature?: string;
  readOnlySubActions?: readonly string[];
  isDeprecated?: boolean;
  schema: ConnectorSchemas<TSchema, TSchema, TSchema>;
  validate?: ConnectorValidators<never, never, never>;
  execute(ctx: ExecuteContext<never, never, never>): Promise<ConnectorResult>;
}

/** Checks a type against its own schemas, then erases them for the registry. */
export function defineConnector<CS extends TSchema, SS extends TSchema, PS extends TSchema>(
  type: ConnectorType<CS, SS, PS>,
): AnyConnectorType {
  return type as unknown as AnyConnectorType;
}
