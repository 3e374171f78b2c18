import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import {
  type RecordedRequest,
  type Simulator,
  sendJson,
  sendText,
  startSimulator,
} from './base.js';
import { createHolds, type HoldingSimulator, withHolds } from './hold.js';
import { answerMagic, type MagicScript, magicIn } from './magic.js';

/**
 * Amazon Bedrock's runtime API: `POST /model/{modelId}/invoke`, `/invoke-with-response-stream`,
 * `/converse` and `/converse-stream`. Like AWS it first checks the SigV4 signature, recomputing
 * it from the request as received with the secret of the access key (an unknown key, a wrong
 * scope, a stale date or any signed byte changed gives AWS's 403), then answers Anthropic
 * Messages, legacy text completions and Converse bodies, streams as AWS event-stream frames, and
 * fails with AWS's JSON errors and `x-amzn-ErrorType` header.
 *
 * Magic words anywhere in the messages (or prompt) script failures: `respond-with-400`, `-401`,
 * `-404`, `-422`, `-429`, `-429-retry-after` (Retry-After: 30), `-500`, `-502`, `-503`,
 * `-timeout` (answers after 2 s), `-reset`, `-large` (64 KiB), `-bad-shape` (a 200 without
 * content). `hold-stream` sends the first frame of a stream and waits for `release()`.
 */

export const COMPLETION_TEXT = 'Hello there! How may I assist you today?';
export const MESSAGE_ID = 'msg_bdrk_01E7D3vTBHdNdKWCe6zALmLH';
export const USAGE = { input_tokens: 41, output_tokens: 64 };
const STREAM_PIECES = ['Hello', ' there!', ' How may I', ' assist you today?'];
/** AWS pads event payloads with a field of arbitrary letters; a fixed one keeps tests exact. */
const PADDING = 'abcdefghij';
const FIVE_MINUTES = 5 * 60 * 1000;

export interface BedrockSimulatorOptions {
  /** Access key id → secret access key. */
  credentials: Record<string, string>;
  /** The region signatures must be scoped to. */
  region?: string;
}

export type BedrockSimulator = Simulator & HoldingSimulator;

// --- SigV4 verification, written from AWS's description of the canonical request ----------

const encode = (text: string) =>
  encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/**
 * The path as received, each segment URI-encoded once more: AWS signs every service but S3 over
 * the doubly encoded path (once for the wire, once to sign).
 */
function canonicalPath(rawPath: string): string {
  return rawPath.split('/').map(encode).join('/') || '/';
}

function canonicalQueryOf(query: URLSearchParams): string {
  return [...query]
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort(([ka, va], [kb, vb]) => (ka === kb ? (va < vb ? -1 : 1) : ka < kb ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ');
}

const hmac = (key: Buffer | string, data: string) =>
  createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

export type SignatureCheck =
  | { ok: true; accessKeyId: string }
  | { ok: false; status: number; type: string; message: string };

/** AWS's verdict on a request's SigV4 Authorization header. */
export function verifySigV4(
  req: Pick<RecordedRequest, 'method' | 'path' | 'query' | 'headers' | 'body'>,
  credentials: Record<string, string>,
  expected: { region: string; service: string; now?: number },
): SignatureCheck {
  const deny = (type: string, message: string, status = 403): SignatureCheck => ({
    ok: false,
    status,
    type,
    message,
  });
  const auth = headerValue(req.headers, 'authorization');
  if (auth === '')
    return deny('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const parts =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (parts === null) {
    return deny(
      'IncompleteSignatureException',
      `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${auth.split(' ')[0]}`,
    );
  }
  const [, keyId = '', day = '', region = '', service = '', signedList = '', signature = ''] =
    parts;
  const secret = credentials[keyId];
  if (secret === undefined) {
    return deny(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }
  if (region !== expected.region || service !== expected.service) {
    return deny('InvalidSignatureException', `Credential should be scoped to a valid region. `);
  }
  const stamp = headerValue(req.headers, 'x-amz-date');
  const at = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (at === null || !stamp.startsWith(day)) {
    return deny('IncompleteSignatureException', "Date must be in ISO-8601 'basic format'.");
  }
  const when = Date.UTC(
    +(at[1] ?? 0),
    +(at[2] ?? 1) - 1,
    +(at[3] ?? 0),
    +(at[4] ?? 0),
    +(at[5] ?? 0),
    +(at[6] ?? 0),
  );
  const now = expected.now ?? Date.now();
  if (Math.abs(now - when) > FIVE_MINUTES) {
    return deny(
      'InvalidSignatureException',
      `Signature expired: ${stamp} is now earlier than ${new Date(now - FIVE_MINUTES).toISOString().replace(/[:-]|\.\d{3}/g, '')} (${new Date(now).toISOString().replace(/[:-]|\.\d{3}/g, '')} - 5 min.)`,
    );
  }
  const signedNames = signedList.split(';');
  if (!signedNames.includes('host') || !signedNames.includes('x-amz-date')) {
    return deny(
      'InvalidSignatureException',
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }
  const canonical = [
    req.method,
    canonicalPath(req.path),
    canonicalQueryOf(req.query),
    ...signedNames.map((name) => `${name}:${headerValue(req.headers, name)}`),
    '',
    signedList,
    sha256(req.body),
  ].join('\n');
  const toSign = [
    'AWS4-HMAC-SHA256',
    stamp,
    `${day}/${region}/${service}/aws4_request`,
    sha256(canonical),
  ].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
  const computed = createHmac('sha256', key).update(toSign).digest();
  if (!timingSafeEqual(computed, Buffer.from(signature, 'hex'))) {
    return deny(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
  return { ok: true, accessKeyId: keyId };
}

// --- AWS event stream (application/vnd.amazon.eventstream) ----------------------------------

export interface EventFrame {
  headers: Record<string, string>;
  payload: Buffer;
}

/** One binary frame: prelude (lengths + CRC), string headers, payload, message CRC. */
export function encodeFrame(headers: Record<string, string>, payload: Buffer): Buffer {
  const headerBytes = Buffer.concat(
    Object.entries(headers).map(([name, value]) => {
      const n = Buffer.from(name);
      const v = Buffer.from(value);
      const head = Buffer.alloc(1 + n.length + 1 + 2);
      head.writeUInt8(n.length, 0);
      n.copy(head, 1);
      head.writeUInt8(7, 1 + n.length);
      head.writeUInt16BE(v.length, 2 + n.length);
      return Buffer.concat([head, v]);
    }),
  );
  const total = 12 + headerBytes.length + payload.length + 4;
  const prelude = Buffer.alloc(12);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(headerBytes.length, 4);
  prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
  const body = Buffer.concat([prelude, headerBytes, payload]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body), 0);
  return Buffer.concat([body, crc]);
}

/** Frames read back from bytes, both CRCs checked. */
export function decodeFrames(bytes: Buffer): EventFrame[] {
  const frames: EventFrame[] = [];
  let at = 0;
  while (at < bytes.length) {
    const total = bytes.readUInt32BE(at);
    const headersLength = bytes.readUInt32BE(at + 4);
    if (crc32(bytes.subarray(at, at + 8)) !== bytes.readUInt32BE(at + 8)) {
      throw new Error('prelude CRC mismatch');
    }
    if (crc32(bytes.subarray(at, at + total - 4)) !== bytes.readUInt32BE(at + total - 4)) {
      throw new Error('message CRC mismatch');
    }
    const headers: Record<string, string> = {};
    let h = at + 12;
    const end = h + headersLength;
    while (h < end) {
      const nameLength = bytes.readUInt8(h);
      const name = bytes.subarray(h + 1, h + 1 + nameLength).toString();
      const valueLength = bytes.readUInt16BE(h + 2 + nameLength);
      headers[name] = bytes
        .subarray(h + 4 + nameLength, h + 4 + nameLength + valueLength)
        .toString();
      h += 4 + nameLength + valueLength;
    }
    frames.push({ headers, payload: bytes.subarray(end, at + total - 4) });
    at += total;
  }
  return frames;
}

function chunkFrame(event: unknown): Buffer {
  const bytes = Buffer.from(JSON.stringify(event)).toString('base64');
  return encodeFrame(
    { ':event-type': 'chunk', ':content-type': 'application/json', ':message-type': 'event' },
    Buffer.from(JSON.stringify({ bytes, p: PADDING })),
  );
}

function converseFrame(type: string, event: Record<string, unknown>): Buffer {
  return encodeFrame(
    { ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' },
    Buffer.from(JSON.stringify({ ...event, p: PADDING })),
  );
}

/** The Anthropic stream events of one answer, in Bedrock's order. */
export function messageStreamEvents(model: string): unknown[] {
  return [
    {
      type: 'message_start',
      message: {
        id: MESSAGE_ID,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: USAGE.input_tokens, output_tokens: 1 },
      },
    },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    ...STREAM_PIECES.map((text) => ({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text },
    })),
    { type: 'content_block_stop', index: 0 },
    {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: USAGE.output_tokens },
    },
    {
      type: 'message_stop',
      'amazon-bedrock-invocationMetrics': {
        inputTokenCount: USAGE.input_tokens,
        outputTokenCount: USAGE.output_tokens,
        invocationLatency: 1200,
        firstByteLatency: 300,
      },
    },
  ];
}

/** The frames the simulator sends for `invoke-with-response-stream`. */
export function messageStreamFrames(model: string): Buffer[] {
  return messageStreamEvents(model).map(chunkFrame);
}

/** The frames the simulator sends for `converse-stream`. */
export function converseStreamFrames(): Buffer[] {
  return [
    converseFrame('messageStart', { role: 'assistant' }),
    ...STREAM_PIECES.map((text) =>
      converseFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text } }),
    ),
    converseFrame('contentBlockStop', { contentBlockIndex: 0 }),
    converseFrame('messageStop', { stopReason: 'end_turn' }),
    converseFrame('metadata', {
      usage: { inputTokens: 41, outputTokens: 64, totalTokens: 105 },
      metrics: { latencyMs: 1200 },
    }),
  ];
}

export function messagesAnswer(model: string) {
  return {
    id: MESSAGE_ID,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: COMPLETION_TEXT }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: USAGE,
  };
}

export const LEGACY_ANSWER = {
  completion: ` ${COMPLETION_TEXT}`,
  stop_reason: 'stop_sequence',
  stop: '\n\nHuman:',
};

export const CONVERSE_ANSWER = {
  output: { message: { role: 'assistant', content: [{ text: COMPLETION_TEXT }] } },
  stopReason: 'end_turn',
  usage: { inputTokens: 41, outputTokens: 64, totalTokens: 105 },
  metrics: { latencyMs: 1200 },
};

function awsError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
) {
  sendJson(
    res,
    status,
    { message },
    {
      'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      'x-amzn-requestid': 'b2b1f1a0-0000-4000-8000-simulated',
      ...headers,
    },
  );
}

const MESSAGES_KEYS = new Set([
  'anthropic_version',
  'anthropic_beta',
  'messages',
  'system',
  'max_tokens',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'thinking',
  'metadata',
]);

const malformed = (detail: string) =>
  `Malformed input request: #: ${detail}, please reformat your input and try again.`;

/** Bedrock's error for each scripted status: its exception type and message. */
const FAILURES: Readonly<Record<number, readonly [string, string]>> = {
  400: ['ValidationException', 'The provided model identifier is invalid.'],
  401: ['UnauthorizedException', 'Unauthorized'],
  404: [
    'ResourceNotFoundException',
    'Could not resolve the foundation model from the provided model identifier.',
  ],
  422: [
    'ValidationException',
    'Malformed input request: extraneous key [ooooo] is not permitted, please reformat your input and try again.',
  ],
  429: ['ThrottlingException', 'Too many requests, please wait before trying again.'],
  500: [
    'InternalServerException',
    'The system encountered an unexpected error during processing. Try your request again.',
  ],
  503: ['ServiceUnavailableException', 'Bedrock is unable to process your request.'],
};

/** The magic words as Bedrock fails; a timeout finally answers `late`. */
function bedrockScript(res: ServerResponse, late: () => void): MagicScript {
  return {
    fail: (status, headers) => {
      if (status === 502) return sendText(res, 502, 'Bad Gateway');
      const failure = FAILURES[status];
      if (failure === undefined) return false;
      awsError(res, status, failure[0], failure[1], headers);
    },
    late,
  };
}

const EVENT_STREAM = 'application/vnd.amazon.eventstream';

export async function startBedrockSimulator(
  options: BedrockSimulatorOptions,
): Promise<BedrockSimulator> {
  const holds = createHolds();
  const region = options.region ?? 'us-east-1';

  const stream = (res: ServerResponse, frames: Buffer[], hold: boolean) => {
    res.writeHead(200, {
      'content-type': EVENT_STREAM,
      'x-amzn-requestid': 'b2b1f1a0-0000-4000-8000-simulated',
      'x-amzn-bedrock-content-type': 'application/json',
    });
    const [first, ...rest] = frames;
    if (first !== undefined) res.write(first);
    holds.finish(res, hold, () => {
      for (const frame of rest) res.write(frame);
      res.end();
    });
  };

  const handle = (req: RecordedRequest, res: ServerResponse) => {
    const route =
      /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream|converse|converse-stream)$/.exec(
        req.path,
      );
    if (req.method !== 'POST' || route === null) {
      return awsError(
        res,
        400,
        'UnknownOperationException',
        'The requested operation is not recognized by the service.',
      );
    }
    const verdict = verifySigV4(req, options.credentials, { region, service: 'bedrock' });
    if (!verdict.ok) return awsError(res, verdict.status, verdict.type, verdict.message);
    const model = decodeURIComponent(route[1] ?? '');
    const operation = route[2];
    const body = req.json;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return awsError(
        res,
        400,
        'ValidationException',
        malformed('expected type: JSONObject, found: String'),
      );
    }
    const json = body as Record<string, unknown>;
    const text = JSON.stringify(json.messages ?? '') + JSON.stringify(json.prompt ?? '');
    const late = () => sendJson(res, 200, messagesAnswer(model));
    if (answerMagic(magicIn(text), res, bedrockScript(res, late))) return;
    const hold = text.includes('hold-stream');
    if (operation === 'converse' || operation === 'converse-stream') {
      if (!Array.isArray(json.messages)) {
        return awsError(res, 400, 'ValidationException', 'Required parameter messages is missing.');
      }
      if (operation === 'converse-stream') return stream(res, converseStreamFrames(), hold);
      return sendJson(res, 200, CONVERSE_ANSWER);
    }
    if (typeof json.prompt === 'string') {
      return sendJson(res, 200, LEGACY_ANSWER);
    }
    const extra = Object.keys(json).find((key) => !MESSAGES_KEYS.has(key));
    if (extra !== undefined) {
      return awsError(
        res,
        400,
        'ValidationException',
        malformed(`extraneous key [${extra}] is not permitted`),
      );
    }
    for (const key of ['anthropic_version', 'max_tokens', 'messages']) {
      if (json[key] === undefined) {
        return awsError(
          res,
          400,
          'ValidationException',
          malformed(`required key [${key}] not found`),
        );
      }
    }
    if (operation === 'invoke-with-response-stream')
      return stream(res, messageStreamFrames(model), hold);
    if (text.includes('respond-with-bad-shape')) {
      const { content: _content, ...rest } = messagesAnswer(model);
      return sendJson(res, 200, rest);
    }
    sendJson(res, 200, messagesAnswer(model), {
      'x-amzn-bedrock-input-token-count': String(USAGE.input_tokens),
      'x-amzn-bedrock-output-token-count': String(USAGE.output_tokens),
    });
  };

  return withHolds(await startSimulator(handle), holds);
}
