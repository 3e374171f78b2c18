import type { Static } from '@sinclair/typebox';
import type { OutboundResponse } from '../../http/client.js';
import { ensureUrlAllowed } from '../lib/vendor-request.js';
import { fail, ok } from '../result.js';
import { type ConnectorEnv, defineConnector } from '../types.js';
import {
  ConfigSchema,
  convertTimestamp,
  customDetailsOf,
  type EventAction,
  ParamsSchema,
  SecretsSchema,
  timestampMillis,
} from './schema.js';

/** Kibana's default: https://developer.pagerduty.com/docs/events-api-v2/overview/ */
export const PAGER_DUTY_API_URL = 'https://events.pagerduty.com/v2/enqueue';
/** The only answer PagerDuty gives to an accepted event. */
const ACCEPTED = 202;

type Params = Static<typeof ParamsSchema>;

function apiUrl(config: { apiUrl: string | null }, env: ConnectorEnv): string {
  return config.apiUrl || env.baseUrl('.pagerduty', PAGER_DUTY_API_URL);
}

interface EventBody {
  event_action: EventAction;
  dedup_key?: string;
  payload?: Record<string, unknown>;
  links?: Array<{ href: string; text: string }>;
}

export function eventBody(connectorId: string, params: Params): EventBody {
  const eventAction = params.eventAction ?? 'trigger';
  const body: EventBody = { event_action: eventAction };
  if (params.dedupKey) body.dedup_key = params.dedupKey;
  // Acknowledge and resolve only name the incident.
  if (eventAction !== 'trigger') return body;

  const converted = convertTimestamp(params.timestamp);
  const customDetails = customDetailsOf(params.customDetails);
  body.payload = {
    summary: params.summary || 'No summary provided.',
    source: params.source || `Kibana Action ${connectorId}`,
    severity: params.severity || 'info',
    ...(converted !== undefined
      ? { timestamp: new Date(timestampMillis(converted)).toISOString() }
      : {}),
    ...(params.component !== undefined ? { component: params.component } : {}),
    ...(params.group !== undefined ? { group: params.group } : {}),
    ...(params.class !== undefined ? { class: params.class } : {}),
    ...(customDetails ? { custom_details: customDetails } : {}),
  };
  if (params.links) body.links = params.links;
  return body;
}

export const pagerDutyConnector = defineConnector({
  id: '.pagerduty',
  name: 'PagerDuty',
  minimumLicenseRequired: 'gold',
  supportedFeatureIds: ['alerting', 'uptime', 'siem', 'workflows'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  validate: {
    config(config, env) {
      ensureUrlAllowed(env, apiUrl(config, env), 'error configuring pagerduty action: ');
    },
  },
  async execute({ connectorId, config, secrets, params, http, env, log }) {
    let res: OutboundResponse;
    try {
      res = await http.request({
        url: apiUrl(config, env),
        method: 'POST',
        // The routing key travels in this header only, never in the body.
        headers: { 'Content-Type': 'application/json', 'X-Routing-Key': secrets.routingKey },
        body: JSON.stringify(eventBody(connectorId, params)),
      });
    } catch (err) {
      log.warn(`error thrown posting pagerduty event: ${(err as Error).message}`);
      return fail('error posting pagerduty event', { serviceMessage: (err as Error).message });
    }
    log.debug(`response posting pagerduty event: ${res.status}`);
    if (res.status === ACCEPTED) return ok(res.json() ?? res.text());
    if (res.status === 429 || res.status >= 500) {
      return fail(`error posting pagerduty event: http status ${res.status}, retry later`, {
        retry: true,
      });
    }
    return fail(`error posting pagerduty event: unexpected status ${res.status}`);
  },
});
