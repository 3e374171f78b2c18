import { createHash } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import { subActionRequest, urlAllowListValidator } from '../lib/sub-action-request.js';
import type { VendorRequestError } from '../lib/vendor-request.js';
import { defineSubActionConnector, type SubActionContext, subAction } from '../sub-actions.js';
import {
  ALIAS_MAX_LENGTH,
  CloseAlertParamsSchema,
  ConfigSchema,
  CreateAlertParamsSchema,
  MESSAGE_MAX_LENGTH,
  ResponseSchema,
  SecretsSchema,
} from './schema.js';

type Config = Static<typeof ConfigSchema>;
type Secrets = Static<typeof SecretsSchema>;
type Ctx = SubActionContext<Config, Secrets>;

/** An alias Opsgenie would refuse as too long becomes a stable hash of it. */
export function opsgenieAlias(alias: string): string {
  if (alias.length <= ALIAS_MAX_LENGTH) return alias;
  return `sha-${createHash('sha256').update(alias).digest('hex')}`;
}

/** Opsgenie's `message`, and its per-field `errors` when it sends them. */
function errorMessage(error: VendorRequestError): string {
  const data = error.response?.data;
  const body =
    typeof data === 'object' && data !== null
      ? (data as { message?: unknown; errors?: unknown })
      : undefined;
  const main = (body?.message as string | undefined) ?? error.message ?? 'unknown error';
  if (body?.errors != null) {
    const detail = JSON.stringify(body.errors);
    if (detail && detail !== '{}' && detail !== '[]' && detail !== '""')
      return `${main}: ${detail}`;
  }
  return main;
}

function post(ctx: Ctx, path: string, data: unknown, query?: Record<string, string>) {
  // Resolved like a relative link: a path in apiUrl without a trailing slash is replaced.
  const url = new URL(path, ctx.config.apiUrl);
  for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
  return subActionRequest(
    ctx,
    {
      url: url.toString(),
      method: 'POST',
      data,
      headers: { Authorization: `GenieKey ${ctx.secrets.apiKey}` },
      responseSchema: ResponseSchema,
    },
    errorMessage,
  );
}

export const opsgenieConnector = defineSubActionConnector({
  id: '.opsgenie',
  name: 'Opsgenie',
  minimumLicenseRequired: 'platinum',
  supportedFeatureIds: ['alerting', 'uptime', 'siem', 'workflows'],
  schema: { config: ConfigSchema, secrets: SecretsSchema },
  validate: { config: urlAllowListValidator('apiUrl') },
  subActionNames: ['createAlert', 'closeAlert'],
  subActions: {
    createAlert: subAction<Config, Secrets, typeof CreateAlertParamsSchema>(
      CreateAlertParamsSchema,
      async (ctx, params) => {
        if (params.message.length > MESSAGE_MAX_LENGTH) {
          ctx.log.warn(
            `connector "${ctx.connectorId}" message length ${params.message.length} exceeds ${MESSAGE_MAX_LENGTH} and has been truncated`,
          );
        }
        const res = await post(ctx, 'v2/alerts', {
          ...params,
          message: params.message.slice(0, MESSAGE_MAX_LENGTH),
          ...(params.alias ? { alias: opsgenieAlias(params.alias) } : {}),
        });
        return res.data;
      },
    ),
    closeAlert: subAction<Config, Secrets, typeof CloseAlertParamsSchema>(
      CloseAlertParamsSchema,
      async (ctx, params) => {
        const { alias, ...rest } = params;
        const res = await post(ctx, `v2/alerts/${opsgenieAlias(alias)}/close`, rest, {
          identifierType: 'alias',
        });
        return res.data;
      },
    ),
  },
});
