import { type TLiteral, type TNull, Type } from '@sinclair/typebox';
import { Nullable, StrictObject, StringEnum } from '../../schemas/common.js';
import { withCheck } from '../../schemas/validate.js';

export const WEBHOOK_METHODS = ['post', 'put', 'patch', 'get', 'delete'] as const;
export type WebhookMethod = (typeof WEBHOOK_METHODS)[number];

export const AUTH_TYPE = {
  basic: 'webhook-authentication-basic',
  ssl: 'webhook-authentication-ssl',
  oauth2ClientCredentials: 'webhook-oauth2-client-credentials',
} as const;

export const CERT_TYPE = { crtKey: 'ssl-crt-key', pfx: 'ssl-pfx' } as const;

const HeadersSchema = Type.Record(Type.String(), Type.String());

/** config-schema's oneOf of literals with null among them: one flat list of alternatives. */
const AuthTypeSchema = Type.Union([
  ...Object.values(AUTH_TYPE).map((v) => Type.Literal(v)),
  Type.Null(),
] as Array<TLiteral<string> | TNull>);

export const ConfigSchema = StrictObject({
  url: Type.String(),
  method: StringEnum(WEBHOOK_METHODS, { default: 'post' }),
  headers: Nullable(HeadersSchema, { default: null }),
  hasAuth: Type.Boolean({ default: true }),
  authType: Type.Optional(AuthTypeSchema),
  certType: Type.Optional(StringEnum([CERT_TYPE.crtKey, CERT_TYPE.pfx])),
  ca: Type.Optional(Type.String()),
  verificationMode: Type.Optional(StringEnum(['none', 'certificate', 'full'])),
  accessTokenUrl: Type.Optional(Type.String()),
  clientId: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  additionalFields: Type.Optional(Nullable(Type.String())),
});

export const INVALID_SECRETS =
  'must specify one of the following schemas: user and password; crt and key (with optional password); pfx (with optional password); or clientSecret (for OAuth2)';

interface SecretFields {
  user?: string | null;
  password?: string | null;
  crt?: string | null;
  key?: string | null;
  pfx?: string | null;
  clientSecret?: string | null;
}

/** Exactly one way to authenticate, or none at all (empty strings count as absent). */
export function secretsCombinationError(s: SecretFields): string | undefined {
  const has = {
    user: Boolean(s.user),
    password: Boolean(s.password),
    crt: Boolean(s.crt),
    key: Boolean(s.key),
    pfx: Boolean(s.pfx),
    clientSecret: Boolean(s.clientSecret),
  };
  const none = !Object.values(has).some(Boolean);
  const basic = has.user && has.password && !has.crt && !has.key && !has.pfx && !has.clientSecret;
  const crtKey = has.crt && has.key && !has.user && !has.pfx && !has.clientSecret;
  const pfx = has.pfx && !has.crt && !has.key && !has.user && !has.clientSecret;
  const oauth = has.clientSecret && !has.user && !has.password && !has.crt && !has.key && !has.pfx;
  return none || basic || crtKey || pfx || oauth ? undefined : INVALID_SECRETS;
}

const nullableSecret = () => Nullable(Type.String(), { default: null });

export const SecretsSchema = withCheck(
  StrictObject({
    user: nullableSecret(),
    password: nullableSecret(),
    crt: nullableSecret(),
    key: nullableSecret(),
    pfx: nullableSecret(),
    clientSecret: nullableSecret(),
    secretHeaders: Nullable(HeadersSchema, { default: null }),
  }),
  (value) => secretsCombinationError(value as SecretFields),
);

export const ParamsSchema = StrictObject({
  body: Type.Optional(Type.String()),
});
