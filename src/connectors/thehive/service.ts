import { type PushResult, toNumber } from '../lib/case_schemas.js';
import { CASE_STYLE, type SubActionRequest, subActionRequest } from '../lib/sub-action-request.js';
import { type VendorRequestError, withoutTrailingSlash } from '../lib/vendor-request.js';
import type { SubActionContext } from '../sub-actions.js';
import {
  AlertResponseSchema,
  AnyResponseSchema,
  CaseResponseSchema,
  CommentResponseSchema,
  type CreateAlertParams,
  type PushToServiceParams,
  type TheHiveConfig,
  type TheHiveSecrets,
} from './schema.js';

export const API_VERSION = 'v1';

type Ctx = SubActionContext<TheHiveConfig, TheHiveSecrets>;

/** Kibana's getResponseErrorMessage for TheHive: its error body is `{type, message}`. */
function describeFailure(err: VendorRequestError): string {
  const response = err.response;
  if (!response?.status) return 'Unknown API Error';
  const data = response.data as { type?: unknown; message?: unknown } | null;
  const field = (key: 'type' | 'message') =>
    typeof data === 'object' && data !== null ? String(data[key]) : 'undefined';
  return `API Error: ${field('type')} - ${field('message')}`;
}

export class TheHiveService {
  private readonly url: string;
  private readonly urlWithoutTrailingSlash: string;

  constructor(private readonly ctx: Ctx) {
    this.url = ctx.config.url;
    this.urlWithoutTrailingSlash = withoutTrailingSlash(this.url);
  }

  private call(call: SubActionRequest) {
    return subActionRequest(
      this.ctx,
      {
        ...call,
        headers: {
          Authorization: `Bearer ${this.ctx.secrets.apiKey}`,
          'X-Organisation': this.ctx.config.organisation,
        },
      },
      describeFailure,
      CASE_STYLE,
    );
  }

  private caseUrl(id: string): string {
    return `${this.urlWithoutTrailingSlash}/cases/${id}/details`;
  }

  /** Kibana's CaseConnector.pushToService: create or update the case, then one call per comment. */
  async pushToService(params: PushToServiceParams): Promise<PushResult> {
    const { externalId, ...rest } = params.incident;
    const incident = {
      title: rest.title,
      description: rest.description,
      severity: rest.severity === null ? null : toNumber(rest.severity),
      tlp: rest.tlp === null ? null : toNumber(rest.tlp),
      tags: rest.tags,
    };
    let result: PushResult;
    if (externalId != null) {
      await this.call({
        url: `${this.url}/api/${API_VERSION}/case/${externalId}`,
        method: 'patch',
        data: incident,
        responseSchema: AnyResponseSchema,
      });
      result = {
        id: externalId,
        title: incident.title,
        url: this.caseUrl(externalId),
        pushedDate: new Date().toISOString(),
      };
    } else {
      const response = await this.call({
        url: `${this.url}/api/${API_VERSION}/case`,
        method: 'post',
        data: incident,
        responseSchema: CaseResponseSchema,
      });
      const created = response.data as { _id: string; title: string; _createdAt: number | string };
      result = {
        id: created._id,
        title: created.title,
        url: this.caseUrl(created._id),
        pushedDate: new Date(toNumber(created._createdAt)).toISOString(),
      };
    }
    const comments = params.comments ?? [];
    if (comments.length > 0) {
      result.comments = [];
      for (const comment of comments) {
        await this.call({
          url: `${this.url}/api/${API_VERSION}/case/${result.id}/comment`,
          method: 'post',
          data: { message: comment.comment },
          responseSchema: CommentResponseSchema,
        });
        result.comments.push({ commentId: comment.commentId, pushedDate: result.pushedDate });
      }
    }
    return result;
  }

  /**
   * The alert is sent as given, without `body` and `isRuleSeverity`, with the fields of `body`
   * (JSON text) on top.
   */
  async createAlert(params: CreateAlertParams): Promise<void> {
    const { body, isRuleSeverity: _isRuleSeverity, ...alert } = params;
    const extra: unknown = JSON.parse(body ?? '{}');
    const data = {
      ...alert,
      severity: alert.severity === null ? null : toNumber(alert.severity),
      tlp: alert.tlp === null ? null : toNumber(alert.tlp),
      ...(typeof extra === 'object' && extra !== null ? extra : {}),
    };
    await this.call({
      url: `${this.url}/api/${API_VERSION}/alert`,
      method: 'post',
      data,
      responseSchema: AlertResponseSchema,
    });
  }
}
