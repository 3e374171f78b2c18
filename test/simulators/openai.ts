import type { ServerResponse } from 'node:http';
import {
  type RecordedRequest,
  type Simulator,
  type SimulatorOptions,
  sendJson,
  sendText,
  startSimulator,
} from './base.js';
import { createHolds, type HoldingSimulator, withHolds } from './hold.js';
import { answerMagic, type MagicScript, magicIn } from './magic.js';

/**
 * OpenAI's chat completions API (`POST /v1/chat/completions`, Bearer key) and Azure OpenAI's
 * (`POST /openai/deployments/{deployment}/chat/completions?api-version=...`, `api-key` header),
 * answering as they answer: the completion with its token usage, or server-sent events when the
 * body says `stream: true` (with a usage chunk when `stream_options.include_usage` is set), and
 * their error bodies. Any other path is OpenAI's "Invalid URL".
 *
 * Magic words in any message content script a failure: `respond-with-400`, `-401`, `-404`,
 * `-422`, `-429` (no Retry-After), `-429-retry-after` (Retry-After: 30), `-500`, `-502` (an HTML
 * gateway page), `-503`, `-timeout` (answers after 2 s), `-reset` (drops the connection),
 * `-large` (a 64 KiB answer), `-bad-shape` (a 200 without usage). `hold-stream` sends the first
 * event of a stream and waits for `release()`.
 */

export const COMPLETION_TEXT = 'Hello there! How may I assist you today?';
export const COMPLETION_ID = 'chatcmpl-7Gruzw7iTrb9X5mmQ533cSOGZU5Kh';
export const CREATED = 1684254865;
export const USAGE = { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 };
const STREAM_PIECES = ['Hello', ' there!', ' How may I', ' assist you today?'];

export type OpenAISimulator = Simulator & HoldingSimulator;

export interface OpenAISimulatorOptions extends SimulatorOptions {
  /** The key OpenAI and "Other" requests must carry as `Authorization: Bearer`. */
  apiKey: string;
  /** The key Azure requests must carry as `api-key`. */
  azureApiKey?: string;
}

function openAiError(message: string, type: string, code: string | null, param: string | null) {
  return { error: { message, type, param, code } };
}

function masked(key: string): string {
  return `${'*'.repeat(Math.max(0, key.length - 4))}${key.slice(-4)}`;
}

/** The text of every message, where the magic words are looked for. */
function promptText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const texts = messages.map((m) => {
    const content = (m as { content?: unknown }).content;
    return typeof content === 'string' ? content : JSON.stringify(content ?? '');
  });
  if (typeof body.prompt === 'string') texts.push(body.prompt);
  return texts.join('\n');
}

export function completionBody(model: string) {
  return {
    id: COMPLETION_ID,
    object: 'chat.completion',
    created: CREATED,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: COMPLETION_TEXT, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: USAGE,
    system_fingerprint: 'fp_simulated',
  };
}

function chunk(model: string, choices: unknown[], extra: Record<string, unknown> = {}) {
  return {
    id: COMPLETION_ID,
    object: 'chat.completion.chunk',
    created: CREATED,
    model,
    system_fingerprint: 'fp_simulated',
    choices,
    ...extra,
  };
}

/** The server-sent events of one streamed completion, as the simulator writes them. */
export function streamEvents(model: string, includeUsage: boolean): string[] {
  const events = [
    chunk(model, [
      { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
    ]),
    ...STREAM_PIECES.map((text) =>
      chunk(model, [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }]),
    ),
    chunk(model, [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]),
    ...(includeUsage ? [chunk(model, [], { usage: USAGE })] : []),
  ].map((event) => `data: ${JSON.stringify(event)}\n\n`);
  return [...events, 'data: [DONE]\n\n'];
}

const GATEWAY_PAGE =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';

/** OpenAI's error body for each scripted status (a 429 with Retry-After is a rate limit). */
function openAiFailure(status: number, model: string, retryAfter: boolean): unknown {
  switch (status) {
    case 400:
      return openAiError(
        "This model's maximum context length is 8192 tokens. However, your messages resulted in 11036 tokens. Please reduce the length of the messages.",
        'invalid_request_error',
        'context_length_exceeded',
        'messages',
      );
    case 401:
      return openAiError(
        'Incorrect API key provided: ****wxyz. You can find your API key at https://platform.openai.com/account/api-keys.',
        'invalid_request_error',
        'invalid_api_key',
        null,
      );
    case 404:
      return openAiError(
        `The model \`${model}\` does not exist or you do not have access to it.`,
        'invalid_request_error',
        'model_not_found',
        null,
      );
    case 422:
      return openAiError(
        'The model `bad model` does not exist',
        'invalid_request_error',
        null,
        null,
      );
    case 429:
      return retryAfter
        ? openAiError(
            `Rate limit reached for ${model} on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 30s.`,
            'requests',
            'rate_limit_exceeded',
            null,
          )
        : openAiError(
            'You exceeded your current quota, please check your plan and billing details.',
            'insufficient_quota',
            'insufficient_quota',
            null,
          );
    case 500:
      return openAiError(
        'The server had an error while processing your request. Sorry about that!',
        'server_error',
        null,
        null,
      );
    case 503:
      return openAiError(
        'The engine is currently overloaded, please try again later',
        'server_error',
        null,
        null,
      );
    default:
      return undefined;
  }
}

/** The magic words as OpenAI fails; a timeout finally answers `late`. */
function openAiScript(res: ServerResponse, model: string, late: () => void): MagicScript {
  return {
    fail: (status, headers) => {
      if (status === 502) {
        return sendText(res, 502, GATEWAY_PAGE, { 'content-type': 'text/html; charset=UTF-8' });
      }
      const body = openAiFailure(status, model, headers['retry-after'] !== undefined);
      if (body === undefined) return false;
      sendJson(res, status, body, headers);
    },
    late,
  };
}

export async function startOpenAISimulator(
  options: OpenAISimulatorOptions,
): Promise<OpenAISimulator> {
  const holds = createHolds();

  const answer = (req: RecordedRequest, res: ServerResponse, model: string, azure: boolean) => {
    const body = req.json as Record<string, unknown>;
    const text = promptText(body);
    const late = () => sendJson(res, 200, completionBody(model));
    if (answerMagic(magicIn(text), res, openAiScript(res, model, late))) return;
    if (text.includes('respond-with-bad-shape')) {
      const { usage: _usage, ...rest } = completionBody(model);
      return sendJson(res, 200, rest);
    }
    if (body.stream !== true) return sendJson(res, 200, completionBody(model));
    const includeUsage =
      (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const [first, ...rest] = streamEvents(model, includeUsage);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      ...(azure ? { 'apim-request-id': 'simulated' } : { 'openai-processing-ms': '12' }),
    });
    res.write(first);
    holds.finish(res, text.includes('hold-stream'), () => {
      for (const event of rest) res.write(event);
      res.end();
    });
  };

  const handle = (req: RecordedRequest, res: ServerResponse) => {
    const azurePath = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(req.path);
    const openAiPath = req.path === '/v1/chat/completions';
    if (req.method !== 'POST' || (azurePath === null && !openAiPath)) {
      return sendJson(
        res,
        404,
        openAiError(`Invalid URL (${req.method} ${req.path})`, 'invalid_request_error', null, null),
      );
    }
    if (azurePath !== null) {
      if (!req.query.get('api-version')) {
        return sendJson(res, 404, { error: { code: '404', message: 'Resource not found' } });
      }
      if (req.headers['api-key'] !== options.azureApiKey) {
        return sendJson(res, 401, {
          error: {
            code: '401',
            message:
              'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
          },
        });
      }
    } else {
      const auth = req.headers.authorization;
      if (auth === undefined) {
        return sendJson(
          res,
          401,
          openAiError(
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            'invalid_request_error',
            null,
            null,
          ),
        );
      }
      if (auth !== `Bearer ${options.apiKey}`) {
        const given = auth.replace(/^Bearer /, '');
        return sendJson(
          res,
          401,
          openAiError(
            `Incorrect API key provided: ${masked(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
            'invalid_request_error',
            'invalid_api_key',
            null,
          ),
        );
      }
    }
    const body = req.json;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendJson(
        res,
        400,
        openAiError(
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
          'invalid_request_error',
          null,
          null,
        ),
      );
    }
    const json = body as Record<string, unknown>;
    const model = typeof json.model === 'string' ? json.model : (azurePath?.[1] ?? '');
    if (azurePath === null && model === '') {
      return sendJson(
        res,
        400,
        openAiError('you must provide a model parameter', 'invalid_request_error', null, null),
      );
    }
    if (!Array.isArray(json.messages)) {
      return sendJson(
        res,
        400,
        openAiError(
          "Missing required parameter: 'messages'.",
          'invalid_request_error',
          'missing_required_parameter',
          'messages',
        ),
      );
    }
    answer(req, res, model, azurePath !== null);
  };

  return withHolds(await startSimulator(handle, options), holds);
}
