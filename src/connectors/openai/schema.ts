import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StrictObject, StringEnum } from '../../schemas/common.js';

/** Kibana's defaults for the OpenAI connector. */
export const DEFAULT_MODEL = 'gpt-4.1';
/** Wait for a non-streamed answer up to 200 s, as Kibana does. */
export const DEFAULT_TIMEOUT_MS = 200_000;
/** OpenAI's API root, which Kibana hard-codes to recognise its streaming endpoints. */
export const OPENAI_API_BASE = 'https://api.openai.com/';

export const PROVIDERS = {
  openAi: 'OpenAI',
  azure: 'Azure OpenAI',
  other: 'Other',
} as const;

const Headers = Type.Optional(Type.Record(Type.String(), Type.String()));

const AzureConfig = StrictObject({
  apiProvider: Type.Literal(PROVIDERS.azure),
  apiUrl: Type.String(),
  defaultModel: Type.Optional(Type.String()),
  headers: Headers,
  contextWindowLength: Type.Optional(Type.Number()),
  temperature: Type.Optional(Type.Number()),
});

const OpenAiConfig = StrictObject({
  apiProvider: Type.Literal(PROVIDERS.openAi),
  apiUrl: Type.String(),
  organizationId: Type.Optional(Type.String()),
  projectId: Type.Optional(Type.String()),
  defaultModel: Type.String({ default: DEFAULT_MODEL }),
  headers: Headers,
  contextWindowLength: Type.Optional(Type.Number()),
  temperature: Type.Optional(Type.Number()),
});

const OtherConfig = StrictObject({
  apiProvider: Type.Literal(PROVIDERS.other),
  apiUrl: Type.String(),
  defaultModel: Type.String(),
  // Kibana declares a 'full' default but makes the key optional first, so none is applied.
  verificationMode: Type.Optional(StringEnum(['full', 'certificate', 'none'] as const)),
  headers: Headers,
  contextWindowLength: Type.Optional(Type.Number()),
  temperature: Type.Optional(Type.Number()),
  enableNativeFunctionCalling: Type.Optional(Type.Boolean()),
});

export const ConfigSchema = Type.Union([AzureConfig, OpenAiConfig, OtherConfig]);
export type Config = Static<typeof ConfigSchema>;

const NonEmpty = () => Type.Optional(Type.String({ minLength: 1 }));

export const SecretsSchema = Type.Union([
  StrictObject({ apiKey: Type.String() }),
  StrictObject({
    apiKey: NonEmpty(),
    certificateData: NonEmpty(),
    privateKeyData: NonEmpty(),
    caData: NonEmpty(),
  }),
]);
export type Secrets = Static<typeof SecretsSchema>;

const TelemetryMetadata = Type.Optional(
  StrictObject({
    pluginId: Type.Optional(Type.String()),
    aggregateBy: Type.Optional(Type.String()),
    useCase: Type.Optional(Type.String()),
  }),
);

/** Kibana's in-process abort signal; over HTTP it is accepted and ignored. */
const Signal = Type.Optional(Type.Unknown());

export const RunParamsSchema = StrictObject({
  body: Type.String(),
  signal: Signal,
  timeout: Type.Optional(Type.Number()),
  telemetryMetadata: TelemetryMetadata,
});
export type RunParams = Static<typeof RunParamsSchema>;

export const StreamParamsSchema = StrictObject({
  body: Type.String(),
  stream: Type.Boolean({ default: false }),
  signal: Signal,
  timeout: Type.Optional(Type.Number()),
  telemetryMetadata: TelemetryMetadata,
});
export type StreamParams = Static<typeof StreamParamsSchema>;

const FunctionCall = StrictObject({ arguments: Type.String(), name: Type.String() });

const Message = StrictObject({
  role: Type.String(),
  content: Type.String(),
  name: Type.Optional(Type.String()),
  function_call: Type.Optional(FunctionCall),
  tool_calls: Type.Optional(
    Type.Array(StrictObject({ id: Type.String(), function: FunctionCall, type: Type.String() })),
  ),
  tool_call_id: Type.Optional(Type.String()),
});

const Open = { additionalProperties: true } as const;

export const InvokeAIParamsSchema = StrictObject({
  messages: Type.Array(Message),
  model: Type.Optional(Type.String()),
  tools: Type.Optional(
    Type.Array(
      Type.Object(
        {
          type: Type.Literal('function'),
          function: Type.Object(
            {
              description: Type.Optional(Type.String()),
              name: Type.String(),
              parameters: Type.Object({}, Open),
              strict: Type.Optional(Type.Boolean()),
            },
            Open,
          ),
        },
        Open,
      ),
    ),
  ),
  tool_choice: Type.Optional(
    Type.Union([
      Type.Literal('none'),
      Type.Literal('auto'),
      Type.Literal('required'),
      Type.Object(
        {
          type: Type.Literal('function'),
          function: Type.Object({ name: Type.String() }, Open),
        },
        Open,
      ),
    ]),
  ),
  functions: Type.Optional(
    Type.Array(
      Type.Object(
        {
          name: Type.String(),
          description: Type.String(),
          parameters: Type.Object(
            {
              type: Type.String(),
              properties: Type.Object({}, Open),
              additionalProperties: Type.Boolean(),
              $schema: Type.String(),
            },
            Open,
          ),
        },
        Open,
      ),
    ),
  ),
  function_call: Type.Optional(
    Type.Union([
      Type.Literal('none'),
      Type.Literal('auto'),
      Type.Object({ name: Type.String() }, Open),
    ]),
  ),
  n: Type.Optional(Type.Number()),
  stop: Type.Optional(Nullable(Type.Union([Type.String(), Type.Array(Type.String())]))),
  temperature: Type.Optional(Type.Number()),
  response_format: Type.Optional(Type.Unknown()),
  signal: Signal,
  timeout: Type.Optional(Type.Number()),
  telemetryMetadata: TelemetryMetadata,
});
export type InvokeAIParams = Static<typeof InvokeAIParamsSchema>;

const Count = Type.Number();

/** What a chat completion must carry for Kibana to accept it. */
export const RunResponseSchema = Type.Object(
  {
    id: Type.Optional(Type.String()),
    object: Type.Optional(Type.String()),
    created: Type.Optional(Type.Number()),
    model: Type.Optional(Type.String()),
    usage: Type.Object(
      { prompt_tokens: Count, completion_tokens: Count, total_tokens: Count },
      Open,
    ),
    choices: Type.Array(
      Type.Object(
        {
          message: Type.Object(
            { role: Type.String(), content: Type.Optional(Nullable(Type.String())) },
            Open,
          ),
          finish_reason: Type.Optional(Type.String()),
          index: Type.Optional(Type.Number()),
        },
        Open,
      ),
    ),
  },
  Open,
);

export interface ChatCompletion {
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  choices: Array<{ message?: { role?: string; content?: string | null } }>;
}
