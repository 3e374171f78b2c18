import type { TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import { formatFailure, validate } from '../schemas/validate.js';
import { fail } from './result.js';
import type { ConnectorTokenScope } from './tokens.js';
import type {
  AnyConnectorType,
  ConnectorEnv,
  ConnectorHttp,
  ConnectorResult,
  ConnectorResultError,
  ConnectorServices,
  ExecuteContext,
} from './types.js';

/**
 * A run's context. What most runs never touch (outbound HTTP, the abort signal, OAuth tokens) is
 * made on first use behind getters; they live on the class, as an object literal with getters
 * costs about a microsecond to make. The checked config, secrets and params are filled in by
 * runConnector.
 */
export class RunContext {
  config: unknown = undefined;
  secrets: unknown = undefined;
  params: unknown = undefined;
  private madeHttp: ConnectorHttp | undefined;

  constructor(
    readonly log: Logger,
    readonly connectorId: string,
    readonly connectorName: string,
    readonly spaceId: string,
    readonly env: ConnectorEnv,
    readonly services: ConnectorServices,
    private readonly makeHttp: () => ConnectorHttp,
    private readonly signalOf: () => AbortSignal,
    private readonly tokensOf: () => ConnectorTokenScope,
  ) {}

  get http(): ConnectorHttp {
    this.madeHttp ??= this.makeHttp();
    return this.madeHttp;
  }

  get signal(): AbortSignal {
    return this.signalOf();
  }

  get tokens(): ConnectorTokenScope {
    return this.tokensOf();
  }
}

/**
 * Validation of a type's config, secrets and params (the same rules for create, update and every
 * run), and one run of a connector: params first, then the stored config and secrets, then the
 * executor, whose exceptions become Kibana's generic error result.
 */

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

export const MESSAGES = {
  params: 'error validating action params: ',
  config: 'error validating connector type config: ',
  secrets: 'error validating connector type secrets: ',
  connector: 'error validating action type connector: ',
  thrown: 'an error occurred while running the action',
} as const;

function check<T>(
  schema: TSchema,
  value: unknown,
  prefix: string,
  rule: ((v: T) => void) | undefined,
): Checked<T> {
  const result = validate<T>(schema, value);
  if (!result.ok) return { ok: false, message: prefix + formatFailure(result) };
  try {
    rule?.(result.value);
  } catch (err) {
    return { ok: false, message: prefix + (err as Error).message };
  }
  return { ok: true, value: result.value };
}

type Rules = {
  config?: (v: unknown, env: ConnectorEnv) => void;
  secrets?: (v: unknown, env: ConnectorEnv) => void;
  params?: (v: unknown, env: ConnectorEnv) => void;
  connector?: (config: unknown, secrets: unknown) => string | null;
};

function rules(type: AnyConnectorType): Rules {
  return (type.validate ?? {}) as Rules;
}

export function checkConfig(type: AnyConnectorType, config: unknown, env: ConnectorEnv) {
  const rule = rules(type).config;
  return check<Record<string, unknown>>(
    type.schema.config,
    config,
    MESSAGES.config,
    rule && ((v) => rule(v, env)),
  );
}

export function checkSecrets(type: AnyConnectorType, secrets: unknown, env: ConnectorEnv) {
  const rule = rules(type).secrets;
  return check<Record<string, unknown>>(
    type.schema.secrets,
    secrets,
    MESSAGES.secrets,
    rule && ((v) => rule(v, env)),
  );
}

export function checkParams(type: AnyConnectorType, params: unknown, env: ConnectorEnv) {
  const rule = rules(type).params;
  return check<unknown>(type.schema.params, params, MESSAGES.params, rule && ((v) => rule(v, env)));
}

/** The cross-field rule; returns the full message when the pair is refused. */
export function checkConnector(
  type: AnyConnectorType,
  config: unknown,
  secrets: unknown,
): string | undefined {
  const reason = rules(type).connector?.(config, secrets);
  return reason ? MESSAGES.connector + reason : undefined;
}

export interface RunInput {
  type: AnyConnectorType;
  /** Stored config and decrypted secrets, validated again before every run. */
  config: unknown;
  secrets: unknown;
  params: unknown;
  /** Made for this run only: it receives the checked config, secrets and params. */
  context: RunContext;
  /**
   * Where the checks of this connector's config and secrets are kept between runs. They only
   * change when the connector does (and a changed connector gets a fresh memo), so they are made
   * once; the checked values are frozen, as every run shares them.
   */
  memo?: ConnectorChecks;
}

export interface ConnectorChecks {
  config?: Checked<Record<string, unknown>>;
  secrets?: Checked<Record<string, unknown>>;
  refused?: string | undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

function frozen<T>(checked: Checked<T>): Checked<T> {
  if (checked.ok) deepFreeze(checked.value);
  return checked;
}

export async function runConnector({
  type,
  config,
  secrets,
  params,
  context,
  memo = {},
}: RunInput): Promise<ConnectorResult> {
  const checkedParams = checkParams(type, params, context.env);
  if (!checkedParams.ok) {
    return fail(checkedParams.message, { retry: false, errorSource: 'user' });
  }
  memo.config ??= frozen(checkConfig(type, config, context.env));
  const checkedConfig = memo.config;
  if (!checkedConfig.ok)
    return fail(checkedConfig.message, { retry: false, errorSource: 'framework' });
  memo.secrets ??= frozen(checkSecrets(type, secrets, context.env));
  const checkedSecrets = memo.secrets;
  if (!checkedSecrets.ok)
    return fail(checkedSecrets.message, { retry: false, errorSource: 'framework' });
  if (!('refused' in memo))
    memo.refused = checkConnector(type, checkedConfig.value, checkedSecrets.value);
  if (memo.refused) return fail(memo.refused, { retry: false, errorSource: 'framework' });

  let result: ConnectorResult | undefined;
  try {
    // The run's own context object, filled in place: its getters (the abort signal) stay lazy.
    context.config = checkedConfig.value;
    context.secrets = checkedSecrets.value;
    context.params = checkedParams.value;
    result = await type.execute(context as unknown as ExecuteContext<never, never, never>);
  } catch (err) {
    const e = err as {
      message?: string;
      errorSource?: ConnectorResultError['errorSource'];
      retry?: unknown;
    };
    // A thrown error may name its own retry moment (a vendor's Retry-After); otherwise retry.
    const retry = e.retry instanceof Date || typeof e.retry === 'boolean' ? e.retry : true;
    return fail(MESSAGES.thrown, {
      serviceMessage: e.message ?? String(err),
      retry,
      errorSource: e.errorSource ?? 'framework',
    });
  }
  if (result == null) return { status: 'ok' };
  if (result.status === 'error') return { ...result, errorSource: result.errorSource ?? 'user' };
  return result;
}
