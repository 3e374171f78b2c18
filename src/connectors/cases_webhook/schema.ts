import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StrictObject, StringEnum } from '../../schemas/common.js';
import { withCheck } from '../../schemas/validate.js';
import { NullableString, PushComments } from '../lib/case_schemas.js';

export const AUTH_TYPES = {
  basic: 'webhook-authentication-basic',
  ssl: 'webhook-authentication-ssl',
  oauth2ClientCredentials: 'webhook-oauth2-client-credentials',
  queryParam: 'http-authentication-query-param',
} as const;

const Headers = () => Nullable(Type.Record(Type.String(), Type.String()), { default: null });

export const ConfigSchema = StrictObject({
  createIncidentUrl: Type.String(),
  createIncidentMethod: StringEnum(['post', 'put'] as const, { default: 'post' }),
  createIncidentJson: Type.String(),
  createIncidentResponseKey: Type.String(),
  getIncidentMethod: StringEnum(['get', 'post'] as const, { default: 'get' }),
  getIncidentUrl: Type.String(),
  getIncidentJson: NullableString(),
  getIncidentResponseExternalTitleKey: Type.String(),
  viewIncidentUrl: Type.String(),
  updateIncidentUrl: Type.String(),
  updateIncidentMethod: StringEnum(['post', 'patch', 'put'] as const, { default: 'put' }),
  updateIncidentJson: Type.String(),
  createCommentUrl: NullableString(),
  createCommentMethod: Type.Union(
    [Type.Literal('post'), Type.Literal('put'), Type.Literal('patch'), Type.Null()],
    { default: 'put' },
  ),
  createCommentJson: NullableString(),
  headers: Headers(),
  hasAuth: Type.Boolean({ default: true }),
  authType: Type.Optional(
    Type.Union([
      Type.Literal(AUTH_TYPES.basic),
      Type.Literal(AUTH_TYPES.ssl),
      Type.Literal(AUTH_TYPES.oauth2ClientCredentials),
      Type.Literal(AUTH_TYPES.queryParam),
      Type.Null(),
    ]),
  ),
  certType: Type.Optional(StringEnum(['ssl-crt-key', 'ssl-pfx'] as const)),
  ca: Type.Optional(Type.String()),
  verificationMode: Type.Optional(StringEnum(['none', 'certificate', 'full'] as const)),
  accessTokenUrl: Type.Optional(Type.String()),
  clientId: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  additionalFields: Type.Optional(Nullable(Type.String())),
});
export type CasesWebhookConfig = Static<typeof ConfigSchema>;

type SecretValues = {
  user: string | null;
  password: string | null;
  crt: string | null;
  key: string | null;
  pfx: string | null;
  clientSecret: string | null;
};

/** The credential combinations the webhook connectors accept (all empty is fine too). */
export function secretsRule(s: SecretValues): string | undefined {
  const { user, password, crt, key, pfx, clientSecret } = s;
  const none = !password && !user && !crt && !key && !pfx && !clientSecret;
  const basic = password && user && !crt && !key && !pfx && !clientSecret;
  const crtKey = crt && key && !user && !pfx && !clientSecret;
  const pfxOnly = !crt && !key && !user && pfx && !clientSecret;
  const oauth = !password && !user && !crt && !key && !pfx && clientSecret;
  if (none || basic || crtKey || pfxOnly || oauth) return undefined;
  return 'must specify one of the following schemas: user and password; crt and key (with optional password); pfx (with optional password); or clientSecret (for OAuth2)';
}

export const SecretsSchema = withCheck(
  StrictObject({
    user: NullableString(),
    password: NullableString(),
    crt: NullableString(),
    key: NullableString(),
    pfx: NullableString(),
    clientSecret: NullableString(),
    secretHeaders: Headers(),
  }),
  (value) => secretsRule(value as SecretValues),
);
export type CasesWebhookSecrets = Static<typeof SecretsSchema>;

export const IncidentSchema = StrictObject({
  title: Type.String(),
  description: NullableString(),
  id: NullableString(),
  severity: NullableString(),
  status: NullableString(),
  externalId: NullableString(),
  tags: Nullable(Type.Array(Type.String()), { default: null }),
});
export type Incident = Static<typeof IncidentSchema>;

export const PushToServiceParamsSchema = StrictObject({
  incident: IncidentSchema,
  comments: PushComments(),
});
export type PushToServiceParams = Static<typeof PushToServiceParamsSchema>;

/** The cases webhook has one sub-action; the schema refuses any other name. */
export const ParamsSchema = StrictObject({
  subAction: Type.Literal('pushToService'),
  subActionParams: PushToServiceParamsSchema,
});
export type CasesWebhookParams = Static<typeof ParamsSchema>;
export type SubAction = CasesWebhookParams['subAction'];
