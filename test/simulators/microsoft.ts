import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  type RecordedRequest,
  type Simulator,
  sendJson,
  sendText,
  startSimulator,
} from './base.js';
import { answerMagic } from './magic.js';

/**
 * Microsoft's identity platform token endpoint (`POST /{tenant}/oauth2/v2.0/token`, client
 * credentials grant) and Microsoft Graph's `POST /v1.0/users/{id}/sendMail`, on one server.
 * One app is registered (tenant, client id, client secret); tokens it issues are bearer tokens
 * Graph accepts until `revokeTokens()`. Graph answers 202 with no body, as Graph does.
 *
 * Magic inputs, in the local part of the first `to` recipient of a sendMail request:
 * `respond-with-<status>` (400, 401, 403, 404, 429, 500, 502, 503; 429 carries Retry-After: 30),
 * `respond-with-429-no-retry-after`, `respond-with-timeout` (answers after 2 s),
 * `respond-with-reset` (drops the connection), `respond-with-large` (a 64 KiB answer).
 * A tenant named `respond-with-<status>` makes the token endpoint fail the same way.
 */

export interface MicrosoftApp {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

export interface MicrosoftSimulator extends Simulator {
  app: MicrosoftApp;
  /** The requests made to the token endpoint, and those made to Graph. */
  tokenRequests(): RecordedRequest[];
  graphRequests(): RecordedRequest[];
  /** Tokens issued so far, in order. */
  issued: string[];
  /** Graph stops accepting every token issued so far. */
  revokeTokens(): void;
}

export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
/** Seconds a token lives, as the identity platform usually grants. */
export const TOKEN_LIFETIME = 3599;

const TRACE = {
  trace_id: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
  correlation_id: '11111111-2222-3333-4444-555555555555',
  timestamp: '2026-01-01 00:00:00Z',
};

function identityError(error: string, code: number, description: string) {
  return {
    error,
    error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${TRACE.trace_id}\r\nCorrelation ID: ${TRACE.correlation_id}\r\nTimestamp: ${TRACE.timestamp}`,
    error_codes: [code],
    ...TRACE,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  };
}

function graphError(code: string, message: string) {
  return {
    error: {
      code,
      message,
      innerError: {
        date: '2026-01-01T00:00:00',
        'request-id': '6d0e0e0e-1111-2222-3333-444444444444',
        'client-request-id': '6d0e0e0e-1111-2222-3333-444444444444',
      },
    },
  };
}

const GRAPH_ERRORS: Record<number, { code: string; message: string }> = {
  400: { code: 'ErrorInvalidRecipients', message: 'At least one recipient is not valid.' },
  401: { code: 'InvalidAuthenticationToken', message: 'Access token validation failure.' },
  403: { code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' },
  404: { code: 'ErrorInvalidUser', message: "The requested user 'nobody' is invalid." },
  429: {
    code: 'ApplicationThrottled',
    message: 'Application is over its MailboxConcurrency limit.',
  },
  500: { code: 'generalException', message: 'General exception while processing.' },
  503: { code: 'ServiceNotAvailable', message: 'Service is temporarily unavailable.' },
};

/** Failures both endpoints script the same way (a value starting `respond-with-<word>`). */
function scripted(
  value: string | undefined,
  res: ServerResponse,
  errorBody: (status: number) => unknown,
): boolean {
  return answerMagic(/^respond-with-([a-z0-9-]+)/.exec(value ?? '')?.[1], res, {
    fail: (status, headers) =>
      status === 502
        ? sendText(res, 502, 'Bad Gateway')
        : sendJson(res, status, errorBody(status), headers),
    late: () => sendJson(res, 500, errorBody(500)),
    retryAfterOn429: true,
  });
}

export async function startMicrosoftSimulator(
  app: MicrosoftApp = {
    tenantId: 'tenant-0001',
    clientId: 'client-0001',
    clientSecret: 'client-secret-Zx81',
  },
): Promise<MicrosoftSimulator> {
  const issued: string[] = [];
  const valid = new Set<string>();

  const token = (req: RecordedRequest, res: ServerResponse, tenant: string) => {
    const form = new URLSearchParams(req.text);
    const failure = () =>
      identityError('temporarily_unavailable', 50000, 'There was an error issuing a token.');
    const refuse = (status: number, error: string, code: number, description: string) =>
      sendJson(res, status, identityError(error, code, description));
    if (scripted(tenant, res, failure)) return;
    if (tenant !== app.tenantId) {
      return refuse(
        400,
        'invalid_request',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return refuse(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'grant_type'.",
      );
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return refuse(
        400,
        'unsupported_grant_type',
        70003,
        'The app requested an unsupported grant type.',
      );
    }
    if (form.get('client_id') !== app.clientId) {
      return refuse(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${form.get('client_id')}' was not found in the directory '${tenant}'.`,
      );
    }
    if (form.get('client_secret') !== app.clientSecret) {
      return refuse(
        401,
        'invalid_client',
        7000215,
        'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
      );
    }
    if (form.get('scope') !== GRAPH_SCOPE) {
      return refuse(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${form.get('scope')} is not valid.`,
      );
    }
    const accessToken = `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.${randomBytes(12).toString('hex')}`;
    issued.push(accessToken);
    valid.add(accessToken);
    sendJson(res, 200, {
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME,
      ext_expires_in: TOKEN_LIFETIME,
      access_token: accessToken,
    });
  };

  const sendMail = (req: RecordedRequest, res: ServerResponse) => {
    const auth = String(req.headers.authorization ?? '');
    const bearer = /^Bearer (.+)$/.exec(auth)?.[1];
    if (bearer === undefined || !valid.has(bearer)) {
      return sendJson(
        res,
        401,
        graphError('InvalidAuthenticationToken', 'Access token is empty or invalid.'),
      );
    }
    const body = req.json as
      | { message?: { toRecipients?: Array<{ emailAddress?: { address?: string } }> } }
      | undefined;
    if (body?.message === undefined) {
      return sendJson(
        res,
        400,
        graphError('ErrorInvalidRequest', 'Empty Payload. JSON content expected.'),
      );
    }
    const first = body.message.toRecipients?.[0]?.emailAddress?.address;
    const failure = (status: number) => {
      const known = GRAPH_ERRORS[status] ?? { code: 'UnknownError', message: '' };
      return graphError(known.code, known.message);
    };
    if (scripted(first, res, failure)) return;
    res.writeHead(202, { 'content-length': 0 });
    res.end();
  };

  const sim = await startSimulator((req, res) => {
    const tokenPath = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(req.path);
    if (req.method === 'POST' && tokenPath?.[1] !== undefined) {
      return token(req, res, decodeURIComponent(tokenPath[1]));
    }
    if (req.method === 'POST' && /^\/v1\.0\/users\/[^/]+\/sendMail$/.test(req.path)) {
      return sendMail(req, res);
    }
    sendJson(res, 404, graphError('UnknownError', ''));
  });
  return Object.assign(sim, {
    app,
    issued,
    tokenRequests: () => sim.requests.filter((r) => r.path.endsWith('/oauth2/v2.0/token')),
    graphRequests: () => sim.requests.filter((r) => r.path.startsWith('/v1.0/')),
    revokeTokens: () => valid.clear(),
  });
}
