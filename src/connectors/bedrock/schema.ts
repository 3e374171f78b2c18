import { type Static, Type } from '@sinclair/typebox';
import { StrictObject, StringEnum } from '../../schemas/common.js';
import { withCheck } from '../../schemas/validate.js';

/** Kibana's defaults for the Amazon Bedrock connector. */
export const DEFAULT_MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
/** Wait for a non-streamed answer up to 200 s, as Kibana does. */
export const DEFAULT_TIMEOUT_MS = 200_000;
/** Kibana's max_tokens when the caller gives none. */
export const DEFAULT_TOKEN_LIMIT = 8191;
/** Messages API version Bedrock expects for Anthropic models. https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages.html */
export const ANTHROPIC_VERSION = 'bedrock-2023-05-31';

export const ConfigSchema = StrictObject({
  apiUrl: Type.String(),
  region: Type.Optional(Type.String()),
  defaultModel: Type.String({ default: DEFAULT_MODEL }),
  contextWindowLength: Type.Optional(Type.Number()),
  temperature: Type.Optional(Type.Number()),
});
export type Config = Static<typeof ConfigSchema>;

export const SecretsSchema = StrictObject({
  accessKey: Type.String(),
  secret: Type.String(),
});
export type Secrets = Static<typeof SecretsSchema>;

const TelemetryMetadata = Type.Optional(
  StrictObject({
    pluginId: Type.Optional(Type.String()),
    aggregateBy: Type.Optional(Type.String()),
  }),
);

/** Kibana's in-process abort signal; over HTTP it is accepted and ignored. */
const Signal = Type.Optional(Type.Unknown());
const Open = { additionalProperties: true } as const;

export const RunParamsSchema = StrictObject({
  body: Type.String(),
  model: Type.Optional(Type.String()),
  signal: Signal,
  timeout: Type.Optional(Type.Number()),
  raw: Type.Optional(Type.Boolean()),
  telemetryMetadata: TelemetryMetadata,
});
export type RunParams = Static<typeof RunParamsSchema>;

const Message = withCheck(
  StrictObject({
    role: Type.String(),
    content: Type.Optional(Type.String()),
    rawContent: Type.Optional(Type.Array(Type.Unknown())),
  }),
  (value) => {
    const message = value as { content?: unknown; rawContent?: unknown };
    if (message.content === undefined && message.rawContent === undefined) {
      return 'Must specify either content or rawContent';
    }
    if (message.content !== undefined && message.rawContent !== undefined) {
      return 'content and rawContent can not be used at the same time';
    }
    return undefined;
  },
);
export type BedrockMessage = Static<typeof Message>;

const ToolChoice = StrictObject({
  type: StringEnum(['auto', 'any', 'tool'] as const),
  name: Type.Optional(Type.String()),
});
export type ToolChoice = Static<typeof ToolChoice>;

const Tools = Type.Optional(
  Type.Array(
    StrictObject({
      name: Type.String(),
      description: Type.String(),
      input_schema: Type.Object({}, Open),
    }),
  ),
);

export const InvokeAIParamsSchema = StrictObject({
  messages: Type.Array(Message),
  model: Type.Optional(Type.String()),
  temperature: Type.Optional(Type.Number()),
  stopSequences: Type.Optional(Type.Array(Type.String())),
  system: Type.Optional(Type.String()),
  maxTokens: Type.Optional(Type.Number()),
  signal: Signal,
  timeout: Type.Optional(Type.Number()),
  anthropicVersion: Type.Optional(Type.String()),
  tools: Tools,
  toolChoice: Type.Optional(ToolChoice),
  telemetryMetadata: TelemetryMetadata,
});
export type InvokeAIParams = Static<typeof InvokeAIParamsSchema>;

export const InvokeAIRawParamsSchema = StrictObject({
  messages: Type.Array(StrictObject({ role: Type.String(), content: Type.Unknown() })),
  model: Type.Optional(Type.String()),
  temperature: Type.Optional(Type.Number()),
  stopSequences: Type.Optional(Type.Array(Type.String())),
  system: Type.Optional(Type.String()),
  maxTokens: Type.Optional(Type.Number()),
  signal: Signal,
  anthropicVersion: Type.Optional(Type.String()),
  timeout: Type.Optional(Type.Number()),
  tools: Tools,
  toolChoice: Type.Optional(ToolChoice),
  telemetryMetadata: TelemetryMetadata,
});
export type InvokeAIRawParams = Static<typeof InvokeAIRawParamsSchema>;

/** Converse params pass through: Bedrock validates them itself. */
export const ConverseParamsSchema = Type.Object(
  {
    messages: Type.Array(Type.Unknown()),
    model: Type.Optional(Type.String()),
    system: Type.Optional(Type.Array(Type.Unknown())),
    temperature: Type.Optional(Type.Number()),
    maxTokens: Type.Optional(Type.Number()),
    stopSequences: Type.Optional(Type.Array(Type.String())),
    tools: Type.Optional(Type.Array(Type.Unknown())),
    toolChoice: Type.Optional(Type.Unknown()),
    signal: Signal,
    timeout: Type.Optional(Type.Number()),
    maxContentLength: Type.Optional(Type.Number()),
    telemetryMetadata: TelemetryMetadata,
    connectorUsageCollector: Type.Optional(Type.Unknown()),
  },
  Open,
);
export type ConverseParams = Static<typeof ConverseParamsSchema>;

const Usage = Type.Optional(
  Type.Object(
    {
      input_tokens: Type.Number(),
      output_tokens: Type.Number(),
      cache_creation_input_tokens: Type.Optional(Type.Number()),
    },
    Open,
  ),
);

/** A Messages API answer. */
export const MessagesResponseSchema = Type.Object(
  {
    stop_reason: Type.Optional(Type.String()),
    usage: Usage,
    content: Type.Array(
      Type.Object({ type: Type.String(), text: Type.Optional(Type.String()) }, Open),
    ),
  },
  Open,
);

export interface MessagesResponse {
  stop_reason?: string;
  usage?: unknown;
  content: Array<{ type: string; text?: string }>;
}

/** A legacy text-completion answer (a body with `prompt`). */
export const CompletionResponseSchema = Type.Object(
  {
    completion: Type.String(),
    stop_reason: Type.Optional(Type.String()),
    usage: Usage,
  },
  Open,
);

export const RawResponseSchema = Type.Object({}, Open);

export const ConverseResponseSchema = Type.Object(
  {
    output: Type.Object({ message: Type.Optional(Type.Object({}, Open)) }, Open),
    stopReason: Type.Optional(Type.String()),
    usage: Type.Object(
      {
        inputToken: Type.Optional(Type.Number()),
        outputTokens: Type.Optional(Type.Number()),
        totalTokens: Type.Optional(Type.Number()),
      },
      Open,
    ),
  },
  Open,
);
