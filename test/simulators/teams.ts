import type { ServerResponse } from 'node:http';
import {
  type RecordedRequest,
  type Simulator,
  sendJson,
  sendText,
  startSimulator,
} from './base.js';
import { answerMagic, magicIn, RETRY_AFTER_SECONDS } from './magic.js';

/**
 * Microsoft Teams webhooks, both kinds Kibana's .teams connector posts to:
 * - an Office 365 incoming webhook, `/webhookb2/<group>@<tenant>/IncomingWebhook/<id>/<owner>`,
 *   answering 200 with the text `1`, or 400 `Summary or Text is required.`;
 * - a Power Automate Workflows trigger, `/workflows/<id>/triggers/manual/paths/invoke` with its
 *   `sig` query value as the secret, answering 202 with no body, or 401 for a wrong signature.
 *
 * Magic message texts:
 * - `respond-with-throttled`: Teams' rate limiting, a 200 whose body carries
 *   `ErrorCode:ApplicationThrottled`, with `Retry-After: 30`; `-no-retry-after` without it;
 * - `respond-with-<status>` (400, 401, 404, 429, 500, 502...): that status;
 * - `respond-with-timeout` (answers after 2 s), `respond-with-reset`, `respond-with-large` (256 KiB).
 */

export const TEAMS_GROUP =
  '6b4b5e2c-0000-4000-8000-00000000a11c@72f988bf-86f1-41af-91ab-2d7cd011db47';
export const WORKFLOW_ID = '0f1e2d3c4b5a49687766554433221100';

export const THROTTLED_BODY =
  'Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0,server=msgapi-production-eus-azsc2-4-170,cv=deadbeef=2. ErrorCode:ApplicationThrottled';

export interface TeamsSimulator extends Simulator {
  /** An incoming-webhook URL; its last segments are the secret. */
  webhookUrl: string;
  /** A Workflows trigger URL; its `sig` is the secret. */
  workflowUrl: string;
  /** Texts accepted, in order. */
  messages: string[];
}

function magic(text: string, res: ServerResponse): boolean {
  return answerMagic(magicIn(text), res, {
    fail: (status, headers, word) =>
      sendJson(
        res,
        status,
        { error: { code: status === 429 ? 'TooManyRequests' : 'Simulated', message: word } },
        headers,
      ),
    late: () => sendText(res, 200, '1'),
    largeBytes: 256 * 1024,
    retryAfterOn429: true,
    words: {
      throttled: () =>
        sendText(res, 200, THROTTLED_BODY, { 'retry-after': String(RETRY_AFTER_SECONDS) }),
      'throttled-no-retry-after': () => sendText(res, 200, THROTTLED_BODY),
    },
  });
}

export async function startTeamsSimulator(
  options: { webhookSecret?: string; signature?: string } = {},
): Promise<TeamsSimulator> {
  const secret = options.webhookSecret ?? 'b3c1f0de9a8e4d2f8c7b6a5d4e3f2a1b';
  const signature = options.signature ?? 'sIgNaTuRe-Teams-0123456789abcdefABCDEF';
  const webhookPath = `/webhookb2/${TEAMS_GROUP}/IncomingWebhook/${secret}/0e2ff5c1-0000-4000-8000-000000000042`;
  const workflowPath = `/workflows/${WORKFLOW_ID}/triggers/manual/paths/invoke`;
  const messages: string[] = [];

  const handle = (req: RecordedRequest, res: ServerResponse) => {
    const isWebhook = req.path === webhookPath;
    const isWorkflow = req.path === workflowPath;
    if (!isWebhook && !isWorkflow) {
      return sendText(res, 404, 'Webhook not found');
    }
    if (isWorkflow && req.query.get('sig') !== signature) {
      return sendJson(res, 401, {
        error: {
          code: 'DirectApiAuthorizationRequired',
          message: 'The request must be authenticated only by Shared Access scheme.',
        },
      });
    }
    if (req.method !== 'POST') return sendText(res, 405, 'Method Not Allowed');
    const body = req.json as { text?: unknown } | undefined;
    const text = typeof body?.text === 'string' ? body.text : undefined;
    if (text !== undefined && magic(text, res)) return;
    if (text === undefined || text === '') {
      return sendText(res, 400, 'Summary or Text is required.');
    }
    messages.push(text);
    if (isWorkflow) {
      res.writeHead(202, { 'content-length': 0 });
      res.end();
      return;
    }
    sendText(res, 200, '1');
  };

  const sim = await startSimulator(handle);
  return Object.assign(sim, {
    webhookUrl: `${sim.url}${webhookPath}`,
    workflowUrl: `${sim.url}${workflowPath}?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${signature}`,
    messages,
  });
}
