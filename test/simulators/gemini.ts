import { randomBytes, verify } from 'node:crypto';
import type { ServerResponse } from 'node:http';
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
 * Google's OAuth token endpoint and Vertex AI's Gemini API on one server.
 *
 * `POST /token` takes the JWT bearer grant as Google does: the assertion must be RS256-signed by
 * the private key of a known service account (checked against its public key), name this
 * endpoint as audience, ask for the cloud-platform scope and live at most an hour; it answers an
 * access token or Google's `invalid_grant` errors.
 *
 * `POST /v1/projects/{project}/locations/{region}/publishers/google/models/{model}:generateContent`
 * and `:streamGenerateContent?alt=sse` need a bearer token this server issued and has not
 * revoked; they answer Gemini's JSON or server-sent events and its `{error: {code, message,
 * status}}` bodies.
 *
 * Magic words in the contents script failures: `respond-with-400`, `-401`, `-403`, `-404`,
 * `-429`, `-429-retry-after` (Retry-After: 30), `-500`, `-502`, `-503`, `-timeout` (answers after
 * 2 s), `-reset`, `-large` (64 KiB), `-bad-shape` (a 200 without usageMetadata). `hold-stream`
 * sends the first event of a stream and waits for `release()`.
 */

export const COMPLETION_TEXT = 'Hello there! How may I assist you today?';
export const USAGE_METADATA = {
  promptTokenCount: 5,
  candidatesTokenCount: 10,
  totalTokenCount: 15,
  trafficType: 'ON_DEMAND',
};
const STREAM_PIECES = ['Hello', ' there!', ' How may I', ' assist you today?'];
const CREATE_TIME = '2025-06-01T10:00:00.000000Z';
const RESPONSE_ID = 'sim-response-1';
const TOKEN_LIFETIME_S = 3599;
const CLOCK_SKEW_S = 300;

export interface GeminiSimulatorOptions {
  /** Service-account email → its public key (PEM). */
  accounts: Record<string, string>;
}

export interface GeminiSimulator extends Simulator, HoldingSimulator {
  /** The token endpoint, which assertions must name as audience. */
  tokenUrl: string;
  /** Tokens issued so far, in order. */
  issued: string[];
  /** Make every issued token invalid, as a revoked key would. */
  revokeAll(): void;
}

function googleError(
  res: ServerResponse,
  code: number,
  status: string,
  message: string,
  headers: Record<string, string> = {},
) {
  sendJson(res, code, { error: { code, message, status } }, headers);
}

function grantError(res: ServerResponse, error: string, description: string, status = 400) {
  sendJson(res, status, { error, error_description: description });
}

export function generateAnswer(model: string) {
  return {
    candidates: [
      {
        content: { role: 'model', parts: [{ text: COMPLETION_TEXT }] },
        finishReason: 'STOP',
        avgLogprobs: -0.12,
      },
    ],
    usageMetadata: USAGE_METADATA,
    modelVersion: model,
    createTime: CREATE_TIME,
    responseId: RESPONSE_ID,
  };
}

/** The server-sent events of one streamed answer, as the simulator writes them. */
export function streamEvents(model: string): string[] {
  return STREAM_PIECES.map((text, i) => {
    const last = i === STREAM_PIECES.length - 1;
    const event = {
      candidates: [
        {
          content: { role: 'model', parts: [{ text }] },
          ...(last ? { finishReason: 'STOP' } : {}),
        },
      ],
      usageMetadata: last ? USAGE_METADATA : { trafficType: 'ON_DEMAND' },
      modelVersion: model,
      createTime: CREATE_TIME,
      responseId: RESPONSE_ID,
    };
    return `data: ${JSON.stringify(event)}\r\n\r\n`;
  });
}

const GATEWAY_PAGE =
  '<!DOCTYPE html>\n<html lang=en>\n<title>Error 502 (Server Error)!!1</title>\n<p><b>502.</b> That’s an error.\n';

/** Vertex AI's error for each scripted status: its status name and message. */
function geminiFailure(status: number, resource: string): readonly [string, string] | undefined {
  switch (status) {
    case 400:
      return ['INVALID_ARGUMENT', 'Request contains an invalid argument.'];
    case 401:
      return [
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
      ];
    case 403:
      return [
        'PERMISSION_DENIED',
        `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/${resource}' (or it may not exist).`,
      ];
    case 404:
      return ['NOT_FOUND', `Publisher Model \`${resource}\` not found.`];
    case 429:
      return ['RESOURCE_EXHAUSTED', 'Resource exhausted. Please try again later.'];
    case 500:
      return ['INTERNAL', 'Internal error encountered.'];
    case 503:
      return ['UNAVAILABLE', 'The service is currently unavailable.'];
    default:
      return undefined;
  }
}

/** The magic words as Vertex AI fails; a timeout finally answers `late`. */
function geminiScript(res: ServerResponse, resource: string, late: () => void): MagicScript {
  return {
    fail: (status, headers) => {
      if (status === 502) {
        return sendText(res, 502, GATEWAY_PAGE, { 'content-type': 'text/html; charset=UTF-8' });
      }
      const failure = geminiFailure(status, resource);
      if (failure === undefined) return false;
      googleError(res, status, failure[0], failure[1], headers);
    },
    late,
  };
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export async function startGeminiSimulator(
  options: GeminiSimulatorOptions,
): Promise<GeminiSimulator> {
  const holds = createHolds();
  const issued: string[] = [];
  const valid = new Map<string, number>();
  let tokenUrl = '';

  const token = (req: RecordedRequest, res: ServerResponse) => {
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return grantError(
        res,
        'invalid_request',
        'Invalid Content-Type. Expected application/x-www-form-urlencoded.',
      );
    }
    const form = new URLSearchParams(req.text);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return grantError(
        res,
        'unsupported_grant_type',
        `Invalid grant_type: ${form.get('grant_type') ?? ''}`,
      );
    }
    const [headerPart = '', claimsPart = '', signaturePart = '', ...extra] = (
      form.get('assertion') ?? ''
    ).split('.');
    const header = decodeSegment(headerPart);
    const claims = decodeSegment(claimsPart);
    if (
      header === undefined ||
      claims === undefined ||
      extra.length > 0 ||
      header.alg !== 'RS256'
    ) {
      return grantError(res, 'invalid_grant', 'Invalid JWT Signature.');
    }
    const publicKey = typeof claims.iss === 'string' ? options.accounts[claims.iss] : undefined;
    if (publicKey === undefined)
      return grantError(res, 'invalid_grant', 'Invalid grant: account not found');
    const signed = verify(
      'RSA-SHA256',
      Buffer.from(`${headerPart}.${claimsPart}`),
      publicKey,
      Buffer.from(signaturePart, 'base64url'),
    );
    if (!signed) return grantError(res, 'invalid_grant', 'Invalid JWT Signature.');
    if (claims.aud !== tokenUrl) {
      return grantError(
        res,
        'invalid_grant',
        `Invalid JWT: Failed audience check. The right audience is ${tokenUrl}`,
      );
    }
    const now = Math.floor(Date.now() / 1000);
    const { iat, exp } = claims as { iat?: unknown; exp?: unknown };
    if (
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      exp - iat > 3600 ||
      iat > now + CLOCK_SKEW_S ||
      exp < now - CLOCK_SKEW_S
    ) {
      return grantError(
        res,
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
      );
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    if (!scopes.includes('https://www.googleapis.com/auth/cloud-platform')) {
      return grantError(res, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    }
    const accessToken = `ya29.c.sim-${randomBytes(12).toString('hex')}`;
    issued.push(accessToken);
    valid.set(accessToken, Date.now() + TOKEN_LIFETIME_S * 1000);
    sendJson(res, 200, {
      access_token: accessToken,
      expires_in: TOKEN_LIFETIME_S,
      token_type: 'Bearer',
    });
  };

  const generate = (req: RecordedRequest, res: ServerResponse, match: RegExpExecArray) => {
    const [, project = '', region = '', model = '', method = ''] = match;
    const resource = `projects/${project}/locations/${region}/publishers/google/models/${model}`;
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const expires = bearer === undefined ? undefined : valid.get(bearer);
    if (expires === undefined || expires < Date.now()) {
      return googleError(
        res,
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
      );
    }
    const body = req.json as { contents?: unknown } | undefined;
    if (typeof body !== 'object' || body === null) {
      return googleError(
        res,
        400,
        'INVALID_ARGUMENT',
        `Invalid JSON payload received. Unexpected token.`,
      );
    }
    if (!Array.isArray(body.contents) || body.contents.length === 0) {
      return googleError(
        res,
        400,
        'INVALID_ARGUMENT',
        'Unable to submit request because it must include at least one parts field, which describes the prompt input. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini',
      );
    }
    const text = JSON.stringify(body.contents);
    const late = () => sendJson(res, 200, generateAnswer(model));
    if (answerMagic(magicIn(text), res, geminiScript(res, resource, late))) return;
    if (method === 'generateContent') {
      if (text.includes('respond-with-bad-shape')) {
        const { usageMetadata: _usage, ...rest } = generateAnswer(model);
        return sendJson(res, 200, rest);
      }
      return sendJson(res, 200, generateAnswer(model));
    }
    if (req.query.get('alt') !== 'sse') {
      return googleError(
        res,
        400,
        'INVALID_ARGUMENT',
        'This simulator streams server-sent events only (alt=sse).',
      );
    }
    const [first, ...rest] = streamEvents(model);
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'x-vertex-ai-llm-request-type': 'shared',
    });
    res.write(first);
    holds.finish(res, text.includes('hold-stream'), () => {
      for (const event of rest) res.write(event);
      res.end();
    });
  };

  const handle = (req: RecordedRequest, res: ServerResponse) => {
    if (req.method === 'POST' && req.path === '/token') return token(req, res);
    const match =
      /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(
        req.path,
      );
    if (req.method === 'POST' && match !== null) return generate(req, res, match);
    sendText(
      res,
      404,
      `<!DOCTYPE html>\n<p>The requested URL <code>${req.path}</code> was not found on this server.`,
      {
        'content-type': 'text/html; charset=UTF-8',
      },
    );
  };

  const sim = await startSimulator(handle);
  tokenUrl = `${sim.url}/token`;
  return Object.assign(withHolds(sim, holds), {
    tokenUrl,
    issued,
    revokeAll: () => valid.clear(),
  });
}
