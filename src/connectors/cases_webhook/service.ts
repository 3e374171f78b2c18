import type { TlsOptions } from '../../http/client.js';
import type { PushResult } from '../lib/case_schemas.js';
import {
  actionErrorMessage,
  assertUrl,
  basicAuthorization,
  ensureUrlAllowed,
  isEmptyValue,
  mergeHeaders,
  normalizeUrl,
  type RequestMethod,
  retryOf,
  URL_NOT_ALLOWED,
  type VendorResponse,
  vendorRequest,
  withoutTrailingSlash,
} from '../lib/vendor-request.js';
import { type ConnectorEnv, ConnectorError, type ConnectorHttp } from '../types.js';
import { renderNoEscape } from './mustache.js';
import {
  AUTH_TYPES,
  type CasesWebhookConfig,
  type CasesWebhookSecrets,
  type Incident,
  type PushToServiceParams,
} from './schema.js';

export const CONNECTOR_NAME = 'Webhook - Case Management';

/**
 * A failed step of a push, worded as Kibana words it. Like Kibana (which rewrites the message of
 * the same axios error at every level) it keeps the vendor's answer, so each level that wraps it
 * repeats that answer's body and reason.
 */
export class CasesWebhookError extends Error {
  readonly response: VendorResponse | undefined;
  readonly retry: boolean | Date;
  constructor(message: string, response: VendorResponse | undefined, retry: boolean | Date) {
    super(message);
    this.name = 'CasesWebhookError';
    this.response = response;
    this.retry = retry;
  }
}

function addServiceMessage(err: unknown, context: string): CasesWebhookError {
  const response = (err as { response?: VendorResponse }).response;
  const body = response?.data ? JSON.stringify(response.data) : '';
  const reason = response !== undefined ? `Reason: ${response.statusText}` : '';
  return new CasesWebhookError(
    actionErrorMessage(
      CONNECTOR_NAME,
      `${context}. Error: ${(err as Error).message}. ${body} ${reason}`,
    ),
    response,
    retryOf(err),
  );
}

/** lodash's `get` for the keys the config names (`id`, `data.key`, `issues[0].key`). */
export function valueAt(data: unknown, path: string): unknown {
  if (typeof data !== 'object' || data === null) return undefined;
  const segments =
    Object.hasOwn(data, path) || !/[.[]/.test(path)
      ? [path]
      : [...path.matchAll(/[^.[\]]+|\[(?:(\d+)|(["'])(.*?)\2)\]/g)].map(
          (m) => m[1] ?? m[3] ?? m[0],
        );
  let current: unknown = data;
  for (const segment of segments) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** The value at `path` as text (`${value}`), or undefined. */
export function valueAsString(data: unknown, path: string): string | undefined {
  const value = valueAt(data, path);
  return value === undefined ? undefined : String(value);
}

/** Kibana's checks of a cases webhook answer: JSON, an object, holding the keys it must. */
function checkResponse(response: VendorResponse, required: readonly string[] = []): void {
  const contentType = response.headers['content-type'];
  if (response.status === 204 && isEmptyValue(response.data) && required.length === 0) return;
  const where = `${response.method} ${response.url}`;
  if (contentType === undefined) {
    throw new Error(
      `Missing content type header in ${where}. Supported content types: application/json`,
    );
  }
  if (!contentType.includes('application/json')) {
    throw new Error(
      `Unsupported content type: ${contentType} in ${where}. Supported content types: application/json`,
    );
  }
  const data = response.data;
  if (!isEmptyValue(data) && (typeof data !== 'object' || data === null)) {
    throw new Error('Response is not a valid JSON');
  }
  const missing = required.filter((key) => valueAsString(data, key) === undefined);
  if (missing.length > 0) {
    throw new Error(
      `Response is missing the expected ${missing.length > 1 ? 'fields' : 'field'}: ${missing.join(', ')}`,
    );
  }
}

/** A rendered URL: http(s) with a host, allowed, then normalised; else `Invalid <what>: Error: ...`. */
function checkedUrl(url: string, env: ConnectorEnv, what: string): string {
  try {
    // Without assertURL's `URL Error: ` prefix: this type's texts never carried it.
    assertUrl(url, '');
    ensureUrlAllowed(env, url, URL_NOT_ALLOWED.configuring);
    return normalizeUrl(url);
  } catch (err) {
    throw new Error(`Invalid ${what}: ${String(err)}`);
  }
}

function checkedJson(json: string, what: string): string {
  try {
    JSON.parse(json);
  } catch {
    throw new Error(`JSON Error: ${what} must be valid JSON`);
  }
  return json;
}

/** The `case` variables of a body template: every value JSON-encoded, absent ones as "". */
function caseVariables(incident: Omit<Incident, 'externalId'>) {
  const values = {
    description: incident.description ?? '',
    id: incident.id ?? '',
    severity: incident.severity ?? '',
    status: incident.status ?? '',
    tags: incident.tags ?? [],
    title: incident.title,
  };
  return {
    case: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, JSON.stringify(v)])),
  };
}

export class CasesWebhookService {
  private readonly headers: Record<string, string>;
  private readonly tls: TlsOptions | undefined;

  constructor(
    private readonly http: ConnectorHttp,
    private readonly env: ConnectorEnv,
    private readonly config: CasesWebhookConfig,
    secrets: CasesWebhookSecrets,
  ) {
    const { hasAuth, authType, verificationMode, ca } = config;
    const isBasic = hasAuth && (authType === AUTH_TYPES.basic || !authType);
    const basic =
      isBasic && typeof secrets.user === 'string' && typeof secrets.password === 'string'
        ? { username: secrets.user, password: secrets.password }
        : undefined;
    let certificate: TlsOptions = {};
    if (hasAuth && authType === AUTH_TYPES.ssl) {
      if (typeof secrets.pfx === 'string') {
        certificate = {
          pfx: Buffer.from(secrets.pfx, 'base64'),
          ...(typeof secrets.password === 'string' ? { passphrase: secrets.password } : {}),
        };
      } else if (typeof secrets.crt === 'string' && typeof secrets.key === 'string') {
        certificate = {
          cert: Buffer.from(secrets.crt, 'base64'),
          key: Buffer.from(secrets.key, 'base64'),
          ...(typeof secrets.password === 'string' ? { passphrase: secrets.password } : {}),
        };
      }
    }
    const tls: TlsOptions = {
      ...certificate,
      ...(verificationMode ? { verificationMode } : {}),
      ...(ca ? { ca: Buffer.from(ca, 'base64') } : {}),
    };
    if (
      (isBasic && (!basic?.password || !basic.username)) ||
      (authType === AUTH_TYPES.ssl && Object.keys(tls).length === 0)
    ) {
      throw new ConnectorError(`[Action]${CONNECTOR_NAME}: Wrong configuration.`);
    }
    if (
      !config.getIncidentUrl ||
      !config.createIncidentUrl ||
      !config.viewIncidentUrl ||
      !config.updateIncidentUrl
    ) {
      throw new ConnectorError(`[Action]${CONNECTOR_NAME}: Wrong configuration.`);
    }
    this.tls = Object.keys(tls).length > 0 ? tls : undefined;
    this.headers = mergeHeaders(
      { 'content-type': 'application/json' },
      config.headers,
      secrets.secretHeaders,
      basic ? { Authorization: basicAuthorization(basic.username, basic.password) } : undefined,
    );
  }

  private send(url: string, method: RequestMethod, data?: string | null) {
    return vendorRequest(this.http, {
      url,
      method,
      headers: this.headers,
      ...(data ? { data } : {}),
      ...(this.tls !== undefined ? { tls: this.tls } : {}),
    });
  }

  private viewUrl(id: string, title: string): string {
    const url = renderNoEscape(this.config.viewIncidentUrl, {
      external: { system: { id: encodeURIComponent(id), title: encodeURIComponent(title) } },
    });
    return checkedUrl(url, this.env, 'View case URL');
  }

  async getIncident(id: string): Promise<{ id: string; title: string }> {
    try {
      const url = checkedUrl(
        renderNoEscape(this.config.getIncidentUrl, {
          external: { system: { id: encodeURIComponent(id) } },
        }),
        this.env,
        'Get case URL',
      );
      const json =
        this.config.getIncidentMethod === 'post' && this.config.getIncidentJson
          ? checkedJson(
              renderNoEscape(this.config.getIncidentJson, {
                external: { system: { id: JSON.stringify(id) } },
              }),
              'Get case JSON body',
            )
          : null;
      const response = await this.send(url, this.config.getIncidentMethod, json);
      const titleKey = this.config.getIncidentResponseExternalTitleKey;
      checkResponse(response, [titleKey]);
      return { id, title: valueAsString(response.data, titleKey) ?? '' };
    } catch (err) {
      throw addServiceMessage(err, `Unable to get case with id ${id}`);
    }
  }

  async createIncident(incident: Omit<Incident, 'externalId'>): Promise<PushResult> {
    try {
      const url = checkedUrl(
        withoutTrailingSlash(this.config.createIncidentUrl),
        this.env,
        'Create case URL',
      );
      const json = checkedJson(
        renderNoEscape(this.config.createIncidentJson, caseVariables(incident)),
        'Create case JSON body',
      );
      const response = await this.send(url, this.config.createIncidentMethod, json);
      const key = this.config.createIncidentResponseKey;
      checkResponse(response, [key]);
      const externalId = valueAsString(response.data, key) ?? '';
      const created = await this.getIncident(externalId);
      return {
        id: externalId,
        title: created.title,
        url: this.viewUrl(externalId, created.title),
        pushedDate: new Date().toISOString(),
      };
    } catch (err) {
      throw addServiceMessage(err, 'Unable to create case');
    }
  }

  async updateIncident(
    incidentId: string,
    incident: Omit<Incident, 'externalId'>,
  ): Promise<PushResult> {
    try {
      const url = checkedUrl(
        renderNoEscape(this.config.updateIncidentUrl, {
          external: { system: { id: encodeURIComponent(incidentId) } },
        }),
        this.env,
        'Update case URL',
      );
      const json = checkedJson(
        renderNoEscape(this.config.updateIncidentJson, {
          ...caseVariables(incident),
          external: { system: { id: JSON.stringify(incidentId) } },
        }),
        'Update case JSON body',
      );
      const response = await this.send(url, this.config.updateIncidentMethod, json);
      checkResponse(response);
      const updated = await this.getIncident(incidentId);
      return {
        id: incidentId,
        title: updated.title,
        url: this.viewUrl(incidentId, updated.title),
        pushedDate: new Date().toISOString(),
      };
    } catch (err) {
      throw addServiceMessage(err, `Unable to update case with id ${incidentId}`);
    }
  }

  async createComment(incidentId: string, comment: string): Promise<void> {
    const { createCommentUrl, createCommentJson, createCommentMethod } = this.config;
    try {
      // Without all three, comments are not sent (but still reported as pushed).
      if (!createCommentUrl || !createCommentJson || !createCommentMethod) return;
      const url = checkedUrl(
        renderNoEscape(createCommentUrl, {
          external: { system: { id: encodeURIComponent(incidentId) } },
        }),
        this.env,
        'Create comment URL',
      );
      const json = checkedJson(
        renderNoEscape(createCommentJson, {
          case: { comment: JSON.stringify(comment) },
          external: { system: { id: JSON.stringify(incidentId) } },
        }),
        'Create comment JSON body',
      );
      checkResponse(await this.send(url, createCommentMethod, json));
    } catch (err) {
      throw addServiceMessage(err, `Unable to create comment at case with id ${incidentId}`);
    }
  }

  async pushToService(params: PushToServiceParams): Promise<PushResult> {
    const { externalId, ...incident } = params.incident;
    const result =
      externalId != null
        ? await this.updateIncident(externalId, incident)
        : await this.createIncident(incident);
    const comments = params.comments ?? [];
    if (comments.length > 0) {
      result.comments = [];
      for (const comment of comments) {
        // Comments without text are neither sent nor reported.
        if (!comment.comment) continue;
        await this.createComment(result.id, comment.comment);
        result.comments.push({ commentId: comment.commentId, pushedDate: result.pushedDate });
      }
    }
    return result;
  }
}
