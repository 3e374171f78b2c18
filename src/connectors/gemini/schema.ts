import { type Static, Type } from '@sinclair/typebox';
import { StrictObject, StringEnum } from '../../schemas/common.js';

/** Kibana's defaults for the Google Gemini connector. */
export const DEFAULT_MODEL = 'gemini-2.5-pro';
/** Wait for an answer up to 180 s, as Kibana does. */
export const DEFAULT_TIMEOUT_MS = 180_000;
/** Google's OAuth root; the token endpoint is `<root>token`. https://developers.google.com/identity/protocols/oauth2/service-account#httprest */
export const GOOGLE_OAUTH_BASE = 'https://oauth2.googleapis.com/';
/** The scope Vertex AI calls need. https://cloud.google.com/vertex-ai/docs/authentication */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** Kibana keeps a Google access token for 3500 s (they live an hour). */
export const TOKEN_LIFETIME_S = 3500;
/** Google refuses assertions that live longer than an hour. https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests */
export const ASSERTION_LIFETIME_S = 3600;

export const ConfigSchema = StrictObject({
  apiUrl: Type.String(),
  defaultModel: Type.String({ default: DEFAULT_MODEL }),
  gcpRegion: Type.String(),
  gcpProjectID: Type.String(),
  contextWindowLength: Type.Optional(Type.Number()),
  temperature: Type.Optional(Type.Number()),
});
export type Config = Static<typeof ConfigSchema>;

export const SecretsSchema = StrictObject({ credentialsJson: Type.String() });
export type Secrets = Static<typeof SecretsSchema>;

const TelemetryMetadata = Type.Optional(
  StrictObject({
    pluginId: Type.Optional(Type.String()),
    aggregateBy: Type.Optional(Type.String()),
  }),
);

/** Kibana's in-process abort signal; over HTTP it is accepted and ignored. */
const Signal = Type.Optional(Type.Unknown());

export const RunParamsSchema = StrictObject({
  body: Type.Unknown(),
  model: Type.Optional(Type.String()),
  signal: Signal,
  timeout: Type.Optional(Type.Number()),
  temperature: Type.Optional(Type.Number()),
  stopSequences: Type.Optional(Type.Array(Type.String())),
  raw: Type.Optional(Type.Boolean()),
  telemetryMetadata: TelemetryMetadata,
});
export type RunParams = Static<typeof RunParamsSchema>;

export const InvokeAIParamsSchema = StrictObject({
  maxOutputTokens: Type.Optional(Type.Number()),
  messages: Type.Unknown(),
  systemInstruction: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  temperature: Type.Optional(Type.Number()),
  stopSequences: Type.Optional(Type.Array(Type.String())),
  signal: Signal,
  timeout: Type.Optional(Type.Number()),
  tools: Type.Optional(Type.Array(Type.Unknown())),
  toolConfig: Type.Optional(
    StrictObject({
      mode: StringEnum(['AUTO', 'ANY', 'NONE'] as const),
      allowedFunctionNames: Type.Optional(Type.Array(Type.String())),
    }),
  ),
  telemetryMetadata: TelemetryMetadata,
});
export type InvokeAIParams = Static<typeof InvokeAIParamsSchema>;

const Open = { additionalProperties: true } as const;

/** A generateContent answer Kibana can read a completion from. */
export const GenerateResponseSchema = Type.Object(
  {
    candidates: Type.Unknown(),
    usageMetadata: Type.Object(
      {
        promptTokenCount: Type.Number(),
        candidatesTokenCount: Type.Number(),
        totalTokenCount: Type.Number(),
      },
      Open,
    ),
  },
  Open,
);

export const RawResponseSchema = Type.Unknown();
