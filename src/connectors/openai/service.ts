import type { TlsOptions } from '../../http/client.js';
import {
  AI_STYLE,
  type SubActionRequest,
  streamData,
  subActionRequest,
  subActionStream,
} from '../lib/sub-action-request.js';
import type { VendorRequestError } from '../lib/vendor-request.js';
import type { SubActionContext } from '../sub-actions.js';
import type { ConnectorEnv } from '../types.js';
import {
  type ChatCompletion,
  type Config,
  DEFAULT_TIMEOUT_MS,
  type InvokeAIParams,
  OPENAI_API_BASE,
  PROVIDERS,
  RunResponseSchema,
  type Secrets,
} from './schema.js';

/**
 * The OpenAI connector's calls: one POST to the configured `apiUrl` with the body the caller
 * wrote, rewritten as Kibana rewrites it per provider (stream flag, default model, tool options).
 */

export type OpenAIContext = SubActionContext<Config, Secrets>;

const AZURE_STREAMING_PATHS = [
  /\/openai\/deployments\/[^/]+\/chat\/completions/,
  /\/openai\/deployments\/[^/]+\/completions/,
  /\/openai\/deployments\/[^/]+\/extensions\/chat\/completions/,
];

/** OpenAI's endpoints that take a `stream` flag, under a base that tests may point elsewhere. */
function openAiStreamingUrls(env: ConnectorEnv): Set<string> {
  const base = env.baseUrl('.gen-ai', OPENAI_API_BASE).replace(/\/?$/, '/');
  return new Set([`${base}v1/chat/completions`, `${base}v1/completions`]);
}

type Json = Record<string, unknown>;

function parseObject(body: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Json)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Tool options without tools are refused by several OpenAI-compatible services. */
function dropUnusedToolOptions(json: Json): void {
  if (!Array.isArray(json.tools) || json.tools.length === 0) {
    delete json.tool_choice;
    delete json.parallel_tool_calls;
  }
  if (!Array.isArray(json.functions) || json.functions.length === 0) delete json.function_call;
}

/**
 * The body sent to the vendor. `stream` is only set where the endpoint accepts it; a body that
 * is not a JSON object goes out as written.
 */
export function vendorBody(
  config: Config,
  env: ConnectorEnv,
  body: string,
  stream: boolean,
  forStreamSubAction: boolean,
): string {
  const json = parseObject(body);
  if (json === undefined) return body;
  switch (config.apiProvider) {
    case PROVIDERS.openAi: {
      if (openAiStreamingUrls(env).has(config.apiUrl)) {
        json.stream = stream;
        if (stream) json.stream_options = { include_usage: true };
      }
      json.model = json.model || config.defaultModel;
      dropUnusedToolOptions(json);
      return JSON.stringify(json);
    }
    case PROVIDERS.azure: {
      if (!AZURE_STREAMING_PATHS.some((path) => path.test(config.apiUrl))) return body;
      json.stream = stream;
      if (stream) json.stream_options = { include_usage: true };
      if (config.defaultModel && !json.model) json.model = config.defaultModel;
      return JSON.stringify(json);
    }
    case PROVIDERS.other: {
      json.stream = stream;
      // Kibana fills in the model for the stream sub-action only.
      if (forStreamSubAction && config.defaultModel && !json.model)
        json.model = config.defaultModel;
      return JSON.stringify(json);
    }
  }
}

function apiKeyOf(secrets: Secrets): string {
  return 'apiKey' in secrets && secrets.apiKey ? secrets.apiKey : '';
}

function headersFor(config: Config, secrets: Secrets): Record<string, string | undefined> {
  const auth =
    config.apiProvider === PROVIDERS.azure
      ? { 'api-key': apiKeyOf(secrets) }
      : { Authorization: `Bearer ${apiKeyOf(secrets)}` };
  return {
    ...config.headers,
    ...('organizationId' in config ? { 'OpenAI-Organization': config.organizationId } : {}),
    ...('projectId' in config ? { 'OpenAI-Project': config.projectId } : {}),
    ...auth,
    'content-type': 'application/json',
  };
}

/** PEM text from the base64 a user uploads, with its body re-wrapped at 64 columns. */
function pemFrom(base64: string, type: 'CERTIFICATE' | 'PRIVATE KEY'): Buffer {
  const text = Buffer.from(base64, 'base64').toString();
  const header = `-----BEGIN ${type}-----`;
  const footer = `-----END ${type}-----`;
  const flat = text.replace(/\s+/g, ' ').trim();
  if (!flat.startsWith(header) || !flat.endsWith(footer)) return Buffer.from(text);
  const content = flat.slice(header.length, flat.length - footer.length).replace(/\s+/g, '');
  const lines = content.match(/.{1,64}/g)?.join('\n') ?? content;
  return Buffer.from(`${header}\n${lines}\n${footer}`);
}

/** Client-certificate TLS for the "Other" provider, when it has PKI material and a mode. */
export function pkiTls(config: Config, secrets: Secrets): TlsOptions | undefined {
  if (config.apiProvider !== PROVIDERS.other || config.verificationMode === undefined) {
    return undefined;
  }
  if (!('certificateData' in secrets || 'privateKeyData' in secrets || 'caData' in secrets)) {
    return undefined;
  }
  const { certificateData, privateKeyData, caData } = secrets;
  if (!certificateData && !privateKeyData && !caData) return undefined;
  return {
    verificationMode: config.verificationMode,
    ...(certificateData ? { cert: pemFrom(certificateData, 'CERTIFICATE') } : {}),
    ...(privateKeyData ? { key: pemFrom(privateKeyData, 'PRIVATE KEY') } : {}),
    ...(caData ? { ca: pemFrom(caData, 'CERTIFICATE') } : {}),
  };
}

function textOf(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

/** Kibana's wording of an OpenAI failure. */
export function openAiMessage(failure: VendorRequestError): string {
  const response = failure.response;
  if (response === undefined) {
    return `Unexpected API Error: ${failure.code ?? ''} - ${failure.message || 'Unknown error'}`;
  }
  const data = response.data as { error?: { message?: unknown } | string } | undefined;
  const error = typeof data === 'object' && data !== null ? data.error : undefined;
  // LM Studio and others answer `error` as a plain string.
  const detail = textOf(
    typeof error === 'object' && error !== null ? (error.message ?? error) : error,
  );
  if (response.status === 401) return `Unauthorized API Error${detail ? ` - ${detail}` : ''}`;
  return `API Error: ${response.statusText}${detail ? ` - ${detail}` : ''}`;
}

/** TLS failures of a PKI connection, reworded as Kibana rewords them. */
function withPkiAdvice(err: unknown): unknown {
  const message = (err as Error | undefined)?.message ?? '';
  if (message.includes('UNABLE_TO_VERIFY_LEAF_SIGNATURE')) {
    return new Error(
      `Certificate error: ${message}. Please check if your PKI certificates are valid or adjust SSL verification mode.`,
    );
  }
  if (message.includes('ERR_TLS_CERT_ALTNAME_INVALID') || message.includes('ERR_TLS_HANDSHAKE')) {
    return new Error(
      `TLS handshake failed: ${message}. Verify server certificate hostname and CA configuration.`,
    );
  }
  return err;
}

function call(ctx: OpenAIContext, data: string, timeoutMs: number | undefined): SubActionRequest {
  const tls = pkiTls(ctx.config, ctx.secrets);
  return {
    url: ctx.config.apiUrl,
    method: 'POST',
    headers: headersFor(ctx.config, ctx.secrets),
    data,
    responseSchema: RunResponseSchema,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(tls !== undefined ? { tls } : {}),
  };
}

/** `run` and `test`: the body sent with stream off, the chat completion returned as sent. */
export async function runApi(
  ctx: OpenAIContext,
  params: { body: string; timeout?: number | undefined },
): Promise<unknown> {
  const body = vendorBody(ctx.config, ctx.env, params.body, false, false);
  try {
    const response = await subActionRequest(
      ctx,
      call(ctx, body, params.timeout ?? DEFAULT_TIMEOUT_MS),
      openAiMessage,
      AI_STYLE,
    );
    return response.data;
  } catch (err) {
    throw withPkiAdvice(err);
  }
}

/** `stream`: with `stream: true` the vendor's server-sent events, else as `run`. */
export async function streamApi(
  ctx: OpenAIContext,
  params: { body: string; stream: boolean; timeout?: number | undefined },
): Promise<unknown> {
  const body = vendorBody(ctx.config, ctx.env, params.body, params.stream, true);
  try {
    if (!params.stream) {
      const response = await subActionRequest(
        ctx,
        call(ctx, body, params.timeout),
        openAiMessage,
        AI_STYLE,
      );
      return response.data;
    }
    const response = await subActionStream(
      ctx,
      call(ctx, body, params.timeout),
      openAiMessage,
      AI_STYLE,
    );
    return streamData(response, 'text/event-stream');
  } catch (err) {
    throw withPkiAdvice(err);
  }
}

/** The chat request written from invokeAI params: everything but Kibana's own fields. */
export function chatBody(params: InvokeAIParams): string {
  const { signal: _signal, timeout: _timeout, telemetryMetadata: _telemetry, ...rest } = params;
  return JSON.stringify(rest);
}

export const UNRECOGNIZED_ANSWER =
  'An error occurred sending your message. \n\nAPI Error: The response from OpenAI was in an unrecognized format.';

/** `invokeAI`: the first choice's text and the token usage. */
export function invokeAIData(completion: ChatCompletion): { message: string; usage: unknown } {
  const content = completion.choices[0]?.message?.content;
  if (content) return { message: content.trim(), usage: completion.usage };
  return {
    message: UNRECOGNIZED_ANSWER,
    usage: completion.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}
