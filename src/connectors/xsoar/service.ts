import { toNumber } from '../lib/case_schemas.js';
import { CASE_STYLE, type SubActionRequest, subActionRequest } from '../lib/sub-action-request.js';
import type { VendorRequestError } from '../lib/vendor-request.js';
import type { SubActionContext } from '../sub-actions.js';
import {
  PlaybooksResponseSchema,
  type RunParams,
  RunResponseSchema,
  type XsoarConfig,
  type XsoarSecrets,
} from './schema.js';

export const CLOUD_API_PATH = '/xsoar/public/v1';
/** Kibana gives the playbook search more time than other calls. */
export const PLAYBOOKS_TIMEOUT_MS = 15_000;

type Ctx = SubActionContext<XsoarConfig, XsoarSecrets>;

/** Kibana's getResponseErrorMessage for XSOAR: the status text, else the error itself. */
function describeFailure(err: VendorRequestError): string {
  if (err.response?.statusText) return `API Error: ${err.response.statusText}`;
  return `AxiosError: ${err.message}`;
}

export class XsoarService {
  private readonly base: string;

  constructor(private readonly ctx: Ctx) {
    this.base = this.isCloud ? `${ctx.config.url}${CLOUD_API_PATH}` : ctx.config.url;
  }

  private get isCloud(): boolean {
    return this.ctx.secrets.apiKeyID !== null && this.ctx.secrets.apiKeyID !== '';
  }

  private call(call: SubActionRequest) {
    const headers: Record<string, string | null> = { Authorization: this.ctx.secrets.apiKey };
    if (this.isCloud) headers['x-xdr-auth-id'] = this.ctx.secrets.apiKeyID;
    return subActionRequest(this.ctx, { ...call, headers }, describeFailure, CASE_STYLE);
  }

  /** The whole answer of the playbook search, as XSOAR gives it. */
  async getPlaybooks(): Promise<unknown> {
    const response = await this.call({
      url: `${this.base}/playbook/search`,
      method: 'post',
      data: {},
      responseSchema: PlaybooksResponseSchema,
      timeoutMs: PLAYBOOKS_TIMEOUT_MS,
    });
    return response.data;
  }

  /** Creates an incident: the fields of `body` (JSON text), with the run's own fields on top. */
  async run(params: RunParams): Promise<void> {
    const { body, isRuleSeverity: _isRuleSeverity, ...incident } = params;
    let extra: unknown;
    try {
      extra = JSON.parse(body || '{}');
    } catch (err) {
      throw new Error(`Error parsing Body: ${String(err)}`);
    }
    await this.call({
      url: `${this.base}/incident`,
      method: 'post',
      data: {
        ...(typeof extra === 'object' && extra !== null ? extra : {}),
        ...incident,
        severity: toNumber(incident.severity),
      },
      responseSchema: RunResponseSchema,
    });
  }
}
