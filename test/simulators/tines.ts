import type { ServerResponse } from 'node:http';
import { type RecordedRequest, type Simulator, sendJson, startSimulator } from './base.js';
import { answerMagic, type MagicScript, magicWord } from './magic.js';

/**
 * A Tines tenant: `GET /api/v1/stories`, `GET /api/v1/agents?story_id=`, `GET /api/v1/actions/<id>`
 * (all need `x-user-email` / `x-user-token`, else 401), and `POST /webhook/<path>/<secret>` (no
 * auth; 404 for an unknown path or secret). Like Kibana's simulator, the agents list ignores
 * `action_type` and returns a non-webhook agent too.
 *
 * Scripted by the webhook body (`respond-with-<status>`, `respond-with-429-retry-after-<s>`,
 * `respond-with-timeout`, `respond-with-reset`, `respond-with-large`, `respond-with-text`) and by
 * the story id asked for in the agents list (a 3-digit id answers with that status; story 7 has
 * more than one page).
 */

export const TINES_EMAIL = 'tines-user@example.com';
export const TINES_TOKEN = 'tines-api-token-Lp6';
export const WEBHOOK_PATH = 'a1b2c3';
export const WEBHOOK_SECRET = 'tines-webhook-secret-Ws9';

const STORIES = [
  { id: 1, name: 'story 1', published: true, team_id: 5, tags: [] },
  { id: 2, name: 'story 2', published: false, team_id: 5, tags: [] },
];

const webhookAgent = (storyId: number) => ({
  id: 11,
  name: 'alert webhook',
  type: 'Agents::WebhookAgent',
  story_id: storyId,
  guid: 'f3b1',
  options: { path: WEBHOOK_PATH, secret: WEBHOOK_SECRET, verbs: 'post' },
});

const httpAgent = (storyId: number) => ({
  id: 12,
  name: 'send http',
  type: 'Agents::HTTPRequestAgent',
  story_id: storyId,
  options: { url: 'https://example.com' },
});

const meta = (pages = 1) => ({ current_page: 1, per_page: 500, pages, count: 2 });

export async function startTinesSimulator(): Promise<Simulator> {
  const handle = (req: RecordedRequest, res: ServerResponse) => {
    const hook = /^\/webhook\/([^/]+)\/([^/]+)$/.exec(req.path);
    if (hook) {
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' });
      if (hook[1] !== WEBHOOK_PATH || hook[2] !== WEBHOOK_SECRET) {
        return sendJson(res, 404, { error: 'Not found' });
      }
      const script: MagicScript = {
        fail: (status, headers) =>
          sendJson(
            res,
            status,
            { error: headers['retry-after'] ? 'rate limited' : `simulated ${status}` },
            headers,
          ),
        late: () => sendJson(res, 200, { status: 'ok' }),
        words: {
          text: () => {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.end('accepted');
          },
        },
      };
      if (answerMagic(magicWord(req.text.trim()), res, script)) return;
      return sendJson(res, 200, { status: 'ok' });
    }

    if (
      req.headers['x-user-email'] !== TINES_EMAIL ||
      req.headers['x-user-token'] !== TINES_TOKEN
    ) {
      return sendJson(res, 401, { error: 'Unauthorized' });
    }
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' });
    if (req.path === '/api/v1/stories')
      return sendJson(res, 200, { stories: STORIES, meta: meta() });
    if (req.path === '/api/v1/agents') {
      const storyId = Number(req.query.get('story_id'));
      if (storyId >= 100 && storyId <= 599) {
        return sendJson(res, storyId, { error: `simulated ${storyId}` });
      }
      return sendJson(res, 200, {
        agents: [webhookAgent(storyId), httpAgent(storyId)],
        meta: meta(storyId === 7 ? 2 : 1),
      });
    }
    const action = /^\/api\/v1\/actions\/(\d+)$/.exec(req.path);
    if (action) {
      const id = Number(action[1]);
      if (id === 11) return sendJson(res, 200, webhookAgent(1));
      if (id === 12) return sendJson(res, 200, httpAgent(1));
      return sendJson(res, 404, { error: 'Not found' });
    }
    sendJson(res, 404, { error: 'Not found' });
  };
  return startSimulator(handle);
}
