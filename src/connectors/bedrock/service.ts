import type { TSchema } from '@sinclair/typebox';
import {
  AI_STYLE,
  type SubActionRequest,
  streamData,
  subActionRequest,
  subActionStream,
} from '../lib/sub-action-request.js';
import type { VendorRequestError } from '../lib/vendor-request.js';
import type { SubActionContext } from '../sub-actions.js';
import {
  ANTHROPIC_VERSION,
  type BedrockMessage,
  CompletionResponseSchema,
  type Config,
  type ConverseParams,
  ConverseResponseSchema,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TOKEN_LIMIT,
  type InvokeAIParams,
  type InvokeAIRawParams,
  type MessagesResponse,
  MessagesResponseSchema,
  RawResponseSchema,
  type Secrets,
  type ToolChoice,
} from './schema.js';
import { signV4 } from './sigv4.js';

/**
 * Amazon Bedrock runtime calls: every request signed with SigV4 (service `bedrock`) over the
 * exact body sent, to `<apiUrl>/model/<model>/<operation>`.
 */

export type BedrockContext = SubActionContext<Config, Secrets>;

const EVENT_STREAM = 'application/vnd.amazon.eventstream';
const NOT_RECOGNIZED = 'The requested operation is not recognized by the service.';

/** The region in `https://<service>.<region>.amazonaws.com`, as Kibana reads it. */
export function regionOf(config: Config): string {
  const match = /https:\/\/.*?\.([a-z\-0-9]+)\.amazonaws\.com/.exec(config.apiUrl);
  return config.region ?? match?.[1] ?? 'us-east-1';
}

/** The model path segment: decoded first so an already encoded inference-profile ARN stays once-encoded. */
function modelPath(ctx: BedrockContext, model: string | undefined, operation: string): string {
  const id = model ?? ctx.config.defaultModel;
  if (!id) throw new Error('No model specified. Please configure a default model.');
  return `/model/${encodeURIComponent(decodeURIComponent(id))}/${operation}`;
}

function signedCall(
  ctx: BedrockContext,
  path: string,
  body: string,
  streamHeaders: boolean,
  timeoutMs: number | undefined,
): SubActionRequest {
  const headers = signV4({
    method: 'POST',
    host: new URL(ctx.config.apiUrl).host,
    path,
    headers: streamHeaders
      ? {
          accept: EVENT_STREAM,
          'Content-Type': 'application/json',
          'x-amzn-bedrock-accept': '*/*',
        }
      : { 'Content-Type': 'application/json', Accept: '*/*' },
    body,
    region: regionOf(ctx.config),
    service: 'bedrock',
    credentials: { accessKeyId: ctx.secrets.accessKey, secretAccessKey: ctx.secrets.secret },
  });
  return {
    url: `${ctx.config.apiUrl}${path}`,
    method: 'POST',
    headers,
    data: body,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}

/** Kibana's wording of a Bedrock failure. */
export function bedrockMessage(failure: VendorRequestError): string {
  const response = failure.response;
  if (response === undefined) {
    return `Unexpected API Error: ${failure.code ?? ''} - ${failure.message || 'Unknown error'}`;
  }
  const data = response.data;
  const raw =
    typeof data === 'object' && data !== null ? (data as { message?: unknown }).message : undefined;
  const message = raw === undefined || raw === null || raw === '' ? undefined : String(raw);
  if (response.status === 400 && message === NOT_RECOGNIZED) {
    return `API Error: ${message}\n\nThe Kibana Connector in use may need to be reconfigured with an updated Amazon Bedrock endpoint, like \`bedrock-runtime\`.`;
  }
  if (response.status === 401) return `Unauthorized API Error${message ? `: ${message}` : ''}`;
  return `API Error: ${response.statusText}${message ? ` - ${message}` : ''}`;
}

/** One signed call whose answer must have the given shape; its data as the vendor sent it. */
async function invoke(ctx: BedrockContext, call: SubActionRequest, schema: TSchema) {
  const response = await subActionRequest(
    ctx,
    { ...call, responseSchema: schema },
    bedrockMessage,
    AI_STYLE,
  );
  return response.data;
}

/** One signed call whose answer is Bedrock's event stream, passed on as it arrives. */
async function invokeStreaming(ctx: BedrockContext, call: SubActionRequest) {
  return streamData(await subActionStream(ctx, call, bedrockMessage, AI_STYLE), EVENT_STREAM);
}

/** One text, or every text block on its own line, as Kibana joins them. */
export function joinContent(content: MessagesResponse['content']): string {
  const [only] = content;
  if (content.length === 1 && only?.type === 'text' && only.text) return only.text;
  if (content.length > 1) {
    return content.reduce((acc, { text }) => (text ? `${acc}\n${text}` : acc), '');
  }
  return '';
}

/** Legacy Claude 2 text-completion bodies carry a `prompt`. */
function isLegacyBody(body: string): boolean {
  const parsed = JSON.parse(body) as { prompt?: unknown } | null;
  return parsed?.prompt !== undefined && parsed?.prompt !== null;
}

export interface RunInput {
  body: string;
  model?: string | undefined;
  timeout?: number | undefined;
  raw?: boolean | undefined;
}

/** `run` and `test`: the body invoked as written. */
export async function runApi(ctx: BedrockContext, params: RunInput): Promise<unknown> {
  const path = modelPath(ctx, params.model, 'invoke');
  const call = signedCall(ctx, path, params.body, false, params.timeout ?? DEFAULT_TIMEOUT_MS);
  if (params.raw) return invoke(ctx, call, RawResponseSchema);
  if (isLegacyBody(params.body)) return invoke(ctx, call, CompletionResponseSchema);
  const answer = (await invoke(ctx, call, MessagesResponseSchema)) as MessagesResponse;
  // Shaped like a Claude 2 answer, with the usage for token accounting.
  return {
    completion: joinContent(answer.content),
    stop_reason: answer.stop_reason,
    usage: answer.usage,
  };
}

interface FormattedMessage {
  role: string;
  content: string | unknown[] | undefined;
}

/**
 * Bedrock refuses two messages of one role in a row: system messages join the system prompt,
 * roles other than assistant become user, and consecutive text messages are merged.
 */
export function formatMessages(
  messages: readonly BedrockMessage[],
  systemPrompt?: string,
): { system?: string; messages: FormattedMessage[] } {
  let system = systemPrompt ?? '';
  const out: FormattedMessage[] = [];
  for (const m of messages) {
    if (m.role === 'system') {
      system = `${system.length ? `${system}\n` : ''}${m.content}`;
      continue;
    }
    const role = m.role === 'assistant' || m.role === 'ai' ? 'assistant' : 'user';
    if (m.rawContent) {
      out.push({ role, content: m.rawContent });
      continue;
    }
    const last = out.at(-1);
    // Kibana compares the caller's role with the previous (already mapped) role.
    if (last !== undefined && last.role === m.role && typeof last.content === 'string') {
      out[out.length - 1] = { content: `${last.content}\n${m.content}`, role: m.role };
      continue;
    }
    out.push({ content: m.content, role });
  }
  return system.length ? { system, messages: out } : { messages: out };
}

export function messagesBody(params: {
  messages: readonly BedrockMessage[];
  stopSequences?: string[] | undefined;
  temperature?: number | undefined;
  system?: string | undefined;
  maxTokens?: number | undefined;
  tools?: unknown;
  toolChoice?: ToolChoice | undefined;
}): string {
  return JSON.stringify({
    anthropic_version: ANTHROPIC_VERSION,
    ...formatMessages(params.messages, params.system),
    max_tokens: params.maxTokens ?? DEFAULT_TOKEN_LIMIT,
    stop_sequences: params.stopSequences,
    temperature: params.temperature ?? 0,
    tools: params.tools,
    tool_choice: params.toolChoice,
  });
}

export async function invokeAI(ctx: BedrockContext, params: InvokeAIParams) {
  const answer = (await runApi(ctx, {
    body: messagesBody(params),
    model: params.model,
    timeout: params.timeout,
  })) as { completion: string; usage?: unknown };
  return { message: answer.completion.trim(), usage: answer.usage };
}

/** `invokeStream`: the vendor's event stream, unchanged. Kibana sends no maxTokens here. */
export async function invokeStream(ctx: BedrockContext, params: InvokeAIParams) {
  const { maxTokens: _ignored, ...rest } = params;
  const path = modelPath(ctx, params.model, 'invoke-with-response-stream');
  const call = signedCall(ctx, path, messagesBody(rest), true, params.timeout);
  return invokeStreaming(ctx, call);
}

export async function invokeAIRaw(ctx: BedrockContext, params: InvokeAIRawParams) {
  const body = JSON.stringify({
    messages: params.messages,
    stop_sequences: params.stopSequences,
    system: params.system,
    temperature: params.temperature,
    max_tokens: params.maxTokens ?? DEFAULT_TOKEN_LIMIT,
    tools: params.tools,
    tool_choice: params.toolChoice,
    anthropic_version: params.anthropicVersion,
  });
  return runApi(ctx, { body, model: params.model, timeout: params.timeout, raw: true });
}

function converseBody(ctx: BedrockContext, params: ConverseParams): string {
  const toolConfig =
    params.tools !== undefined || params.toolChoice !== undefined
      ? { tools: params.tools, toolChoice: params.toolChoice }
      : undefined;
  return JSON.stringify({
    messages: params.messages,
    inferenceConfig: {
      temperature: params.temperature,
      stopSequences: params.stopSequences,
      maxTokens: params.maxTokens,
    },
    ...(toolConfig ? { toolConfig } : {}),
    system: params.system,
    modelId: params.model ?? ctx.config.defaultModel,
  });
}

/** `converse`: Bedrock's model-neutral chat API. Kibana signs it with the stream headers. */
export async function converse(ctx: BedrockContext, params: ConverseParams) {
  const path = modelPath(ctx, params.model, 'converse');
  const call = signedCall(
    ctx,
    path,
    converseBody(ctx, params),
    true,
    params.timeout ?? DEFAULT_TIMEOUT_MS,
  );
  return invoke(ctx, call, ConverseResponseSchema);
}

/** `converseStream`: the vendor's event stream, unchanged. */
export async function converseStream(ctx: BedrockContext, params: ConverseParams) {
  const path = modelPath(ctx, params.model, 'converse-stream');
  const call = signedCall(
    ctx,
    path,
    converseBody(ctx, params),
    true,
    params.timeout ?? DEFAULT_TIMEOUT_MS,
  );
  return invokeStreaming(ctx, call);
}
