import { Type } from '@sinclair/typebox';
import { Nullable, StrictObject } from '../../schemas/common.js';

/** The services Kibana handles itself; any other name is looked up among nodemailer's. */
export const SERVICES = {
  other: 'other',
  elasticCloud: 'elastic_cloud',
  exchange: 'exchange_server',
  /** Test-only: nodemailer's JSON transport, nothing leaves the process. */
  json: '__json',
} as const;

/** Text and HTML of every email a person runs by hand through _execute (Kibana 9.x). */
export const TEST_MESSAGE = 'This is a test email from Kibana';

export const DEFAULT_FOOTER_TEXT = 'Go to Elastic';

/** The largest port number; https://www.rfc-editor.org/rfc/rfc6335#section-6 */
export const PORT_MAX = 65_535;

/** Kibana's own limits on the address lists of one email (its params schema). */
export const MAX_RECIPIENTS = 100;
export const MAX_REPLY_TO = 10;
export const MAX_ADDRESS_LENGTH = 512;

/**
 * xpack.actions.email.maximum_body_length, default and ceiling (25 MB of text);
 * https://www.elastic.co/docs/reference/kibana/configuration-reference/alerting-and-action-settings
 */
export const MAX_EMAIL_BODY_LENGTH = 25 * 1000 * 1000;

export const ConfigSchema = StrictObject({
  service: Type.String({ default: SERVICES.other }),
  host: Nullable(Type.String(), { default: null }),
  port: Nullable(Type.Number({ minimum: 1, maximum: PORT_MAX }), { default: null }),
  secure: Nullable(Type.Boolean(), { default: null }),
  from: Type.String(),
  hasAuth: Type.Boolean({ default: true }),
  tenantId: Nullable(Type.String(), { default: null }),
  clientId: Nullable(Type.String(), { default: null }),
  oauthTokenUrl: Nullable(Type.String(), { default: null }),
});

export const SecretsSchema = StrictObject({
  user: Nullable(Type.String(), { default: null }),
  password: Nullable(Type.String(), { default: null }),
  clientSecret: Nullable(Type.String(), { default: null }),
});

const Addresses = (maxItems: number, options: { default?: string[] } = {}) =>
  Type.Array(Type.String({ maxLength: MAX_ADDRESS_LENGTH }), { maxItems, ...options });

export const AttachmentSchema = StrictObject({
  content: Type.String(),
  contentType: Type.Optional(Type.String()),
  filename: Type.String(),
  encoding: Type.Optional(Type.String()),
});

export const ParamsSchema = StrictObject({
  to: Addresses(MAX_RECIPIENTS, { default: [] }),
  cc: Addresses(MAX_RECIPIENTS, { default: [] }),
  bcc: Addresses(MAX_RECIPIENTS, { default: [] }),
  replyTo: Type.Optional(Addresses(MAX_REPLY_TO)),
  subject: Type.String(),
  message: Type.String(),
  messageHTML: Nullable(Type.String(), { default: null }),
  kibanaFooterLink: StrictObject(
    {
      path: Type.String({ default: '/' }),
      text: Type.String({ default: DEFAULT_FOOTER_TEXT }),
    },
    { default: { path: '/', text: DEFAULT_FOOTER_TEXT } },
  ),
  attachments: Type.Optional(Type.Array(AttachmentSchema)),
});
