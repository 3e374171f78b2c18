import {
  AI_STYLE,
  type SubActionRequest,
  streamData,
  subActionRequest,
  subActionStream,
} from '../lib/sub-action-request.js';
import { VendorRequestError } from '../lib/vendor-request.js';
import type { SubActionContext } from '../sub-actions.js';
import { accessToken } from './credentials.js';
import {
  type Config,
  DEFAULT_TIMEOUT_MS,
  GenerateResponseSchema,
  type InvokeAIParams,
  RawResponseSchema,
  type Secrets,
} from './schema.js';

/**
 * Vertex AI's Gemini calls: `<apiUrl>/v1/projects/<project>/locations/<region>/publishers/google/
 * models/<model>:generateContent` (or `:streamGenerateContent?alt=sse`) with the service
 * account's bearer token.
 */

export type GeminiContext = SubActionContext<Config, Secrets>;

/** Kibana's wording of a Vertex AI failure. */
export function geminiMessage(failure: VendorRequestError): string {
  const response = failure.response;
  if (response === undefined) {
    return `Unexpected API Error: ${failure.code ?? ''} - ${failure.message || 'Unknown error'}`;
  }
  const data = (
    typeof response.data === 'object' && response.data !== null ? response.data : {}
  ) as {
    error?: { message?: unknown; status?: unknown };
    message?: unknown;
  };
  if (data.error) {
    const status = data.error.status ? `${String(data.error.status)}: ` : '';
    const message = data.error.message ? String(data.error.message) : '';
    return `API Error: ${status}${message}`;
  }
  const message = data.message ? String(data.message) : undefined;
  if (
    response.status === 400 &&
    message === 'The requested operation is not recognized by the service.'
  ) {
    return `API Error: ${message}`;
  }
  if (response.status === 401) return `Unauthorized API Error${message ? `: ${message}` : ''}`;
  return `API Error: ${response.statusText}${message ? ` - ${message}` : ''}`;
}

function modelUrl(ctx: GeminiContext, model: string | undefined, method: string): string {
  const { apiUrl, gcpProjectID, gcpRegion, defaultModel } = ctx.config;
  return `${apiUrl}/v1/projects/${gcpProjectID}/locations/${gcpRegion}/publishers/google/models/${model ?? defaultModel}:${method}`;
}

async function authorizedCall(
  ctx: GeminiContext,
  url: string,
  body: unknown,
  timeout: number | undefined,
): Promise<SubActionRequest> {
  const token = await accessToken(ctx);
  return {
    url,
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    data: body,
    timeoutMs: timeout ?? DEFAULT_TIMEOUT_MS,
  };
}

/** A token Google no longer accepts is forgotten, so the next run asks for a new one. */
function forgetRefusedToken(ctx: GeminiContext, err: unknown): unknown {
  if (err instanceof VendorRequestError && err.status === 401) ctx.tokens.delete();
  return err;
}

function readProperty(value: unknown, key: string | number): unknown {
  if (value === undefined || value === null) {
    throw new TypeError(`Cannot read properties of ${String(value)} (reading '${key}')`);
  }
  return (value as Record<string | number, unknown>)[key];
}

/** `candidates[0].content.parts[0].text`, failing as Kibana's plain property access fails. */
function firstText(candidates: unknown): unknown {
  const candidate = readProperty(candidates, 0);
  const content = readProperty(candidate, 'content');
  const parts = readProperty(content, 'parts');
  return readProperty(readProperty(parts, 0), 'text');
}

export interface RunInput {
  body: unknown;
  model?: string | undefined;
  timeout?: number | undefined;
  raw?: boolean | undefined;
}

/** `run` and `test`: the body sent as given; the first candidate's text and the usage. */
export async function runApi(ctx: GeminiContext, params: RunInput): Promise<unknown> {
  const url = modelUrl(ctx, params.model, 'generateContent');
  const call = await authorizedCall(ctx, url, params.body, params.timeout);
  let response: Awaited<ReturnType<typeof subActionRequest>>;
  try {
    response = await subActionRequest(
      ctx,
      { ...call, responseSchema: params.raw ? RawResponseSchema : GenerateResponseSchema },
      geminiMessage,
      AI_STYLE,
    );
  } catch (err) {
    throw forgetRefusedToken(ctx, err);
  }
  if (params.raw) return response.data;
  const answer = response.data as {
    candidates: unknown;
    usageMetadata: unknown;
  };
  return { completion: firstText(answer.candidates), usageMetadata: answer.usageMetadata };
}

interface Part {
  text: string;
}
interface Content {
  role: string;
  parts: Part[];
}

/**
 * The generateContent payload from chat messages: `assistant` becomes `model`, anything else
 * `user`; consecutive user turns are joined (Gemini wants turns to alternate); messages that
 * already carry `parts` go as they are.
 */
export function geminiPayload(params: {
  messages: unknown;
  maxOutputTokens?: number | undefined;
  systemInstruction?: string | undefined;
  temperature: number;
  toolConfig?: InvokeAIParams['toolConfig'];
}): Record<string, unknown> {
  const contents: Content[] = [];
  if (!Array.isArray(params.messages)) throw new TypeError('messages is not iterable');
  let previousRole: string | null = null;
  for (const row of params.messages as Array<{
    role?: unknown;
    content?: unknown;
    parts?: unknown;
  }>) {
    const role = row.role === 'assistant' ? 'model' : 'user';
    if (row.parts) {
      contents.push(row as unknown as Content);
    } else if (role === 'user' && previousRole === 'user') {
      const first = readProperty(readProperty(contents.at(-1), 'parts'), 0) as Part;
      first.text += ` ${String(row.content)}`;
    } else {
      contents.push({ role, parts: [{ text: row.content as string }] });
    }
    previousRole = role;
  }
  return {
    contents,
    generation_config: {
      temperature: params.temperature,
      maxOutputTokens: params.maxOutputTokens,
    },
    ...(params.systemInstruction
      ? { system_instruction: { parts: [{ text: params.systemInstruction }] } }
      : {}),
    ...(params.toolConfig
      ? {
          tool_config: {
            function_calling_config: {
              mode: params.toolConfig.mode,
              allowed_function_names: params.toolConfig.allowedFunctionNames,
            },
          },
        }
      : {}),
    // Without it Gemini blocks answers about suspicious alerts.
    safety_settings: [
      { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', threshold: 'BLOCK_ONLY_HIGH' },
    ],
  };
}

export async function invokeAI(ctx: GeminiContext, params: InvokeAIParams) {
  const payload = geminiPayload({ ...params, temperature: params.temperature ?? 0 });
  const answer = (await runApi(ctx, {
    body: JSON.stringify(payload),
    model: params.model,
    timeout: params.timeout,
  })) as { completion: unknown; usageMetadata: unknown };
  return { message: answer.completion, usageMetadata: answer.usageMetadata };
}

/** `invokeAIRaw`: the payload with tools, Kibana leaving toolConfig out; the raw answer. */
export async function invokeAIRaw(ctx: GeminiContext, params: InvokeAIParams) {
  const { toolConfig: _ignored, ...rest } = params;
  const payload = geminiPayload({ ...rest, temperature: params.temperature ?? 0 });
  return runApi(ctx, {
    body: JSON.stringify({ ...payload, tools: params.tools }),
    model: params.model,
    timeout: params.timeout,
    raw: true,
  });
}

/** `invokeStream`: Vertex AI's server-sent events, unchanged. */
export async function invokeStream(ctx: GeminiContext, params: InvokeAIParams) {
  const payload = geminiPayload({ ...params, temperature: params.temperature ?? 0 });
  const url = `${modelUrl(ctx, params.model, 'streamGenerateContent')}?alt=sse`;
  const call = await authorizedCall(
    ctx,
    url,
    JSON.stringify({ ...payload, tools: params.tools }),
    params.timeout,
  );
  try {
    const response = await subActionStream(ctx, call, geminiMessage, AI_STYLE);
    return streamData(response, 'text/event-stream');
  } catch (err) {
    throw forgetRefusedToken(ctx, err);
  }
}
