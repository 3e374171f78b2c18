import type { ServerResponse } from 'node:http';
import {
  type RecordedRequest,
  type Simulator,
  sendJson,
  sendText,
  startSimulator,
} from './base.js';
import { answerMagic, magicIn } from './magic.js';

/**
 * Slack, as the .slack and .slack_api connectors use it: one incoming webhook and the Web API
 * methods they call, under /api/ (https://api.slack.com/web).
 *
 * The webhook answers like Slack's (https://api.slack.com/messaging/webhooks#handling_errors):
 * plain-text `ok`, or `no_text`, `invalid_payload`, `invalid_token`, `no_service`. The Web API
 * checks the bot token on every call and answers HTTP 200 with `{ok:false, error}` for a missing
 * (`not_authed`) or wrong (`invalid_auth`) one, as Slack does.
 *
 * Magic inputs, found anywhere in a request's body or query (message text, channel id...):
 * - Kibana's own simulator words in the webhook text: `success`, `no_text`, `invalid_payload`,
 *   `invalid_token`, `status_500`, `rate_limit`;
 * - `respond-with-<status>` (e.g. 400, 401, 403, 404, 429, 500, 502, 503): that status with
 *   Slack's error body; 429 carries `Retry-After: 30`, `respond-with-429-no-retry-after` none;
 * - `respond-with-timeout` (answers after 2 s), `respond-with-reset` (drops the connection),
 *   `respond-with-large` (a 256 KiB body), `respond-with-text` (200 with a body other than ok).
 */

export const SLACK_TEAM_ID = 'T0SIMTEAM1';
export const SLACK_BOT_ID = 'B0SIMBOT01';
export const SLACK_BOT_USER = 'U0SIMBOT01';
export const SLACK_APP_ID = 'A0SIMAPP01';

/** A message to add to a channel's history, with its thread's replies. */
export interface NewMessage {
  text: string;
  user?: string;
  ts: string;
  replies?: Array<{ text: string; user?: string; ts: string }>;
}

export interface SlackChannel {
  id: string;
  name: string;
  isPrivate: boolean;
  isArchived: boolean;
}

export interface SlackMessage {
  type: 'message';
  user: string;
  text: string;
  ts: string;
  thread_ts?: string;
  reply_count?: number;
  blocks?: unknown[];
}

export interface SlackUser {
  id: string;
  name: string;
  real_name: string;
}

export interface SlackSimulator extends Simulator {
  token: string;
  /** The incoming webhook's full URL (its last path segment is the secret). */
  webhookUrl: string;
  /** The Web API base, as connectors.baseUrls['.slack_api'] takes it. */
  apiUrl: string;
  /** Webhook texts received. */
  webhookMessages: string[];
  channels: SlackChannel[];
  /** Messages by channel id, oldest first; replies sit beside their parent. */
  history: Map<string, SlackMessage[]>;
  users: SlackUser[];
  /** Make the next call of a Web API method answer this instead (Retry-After in seconds). */
  failNext(method: string, failure: { status: number; body?: unknown; retryAfter?: string }): void;
  /** Add a message (and optional replies) to a channel's history. */
  addMessage(channel: string, message: NewMessage): void;
}

export const DEFAULT_CHANNELS: readonly SlackChannel[] = [
  { id: 'C123ABC456', name: 'general', isPrivate: false, isArchived: false },
  { id: 'C0SIMRAND1', name: 'random', isPrivate: false, isArchived: false },
  { id: 'G0SIMPRIV1', name: 'secret-ops', isPrivate: true, isArchived: false },
  { id: 'C0SIMARCH1', name: 'old-stuff', isPrivate: false, isArchived: true },
];

const CREATED = 1_700_000_000;

const WEBHOOK_ERRORS: Readonly<Record<number, string>> = {
  400: 'invalid_payload',
  401: 'invalid_token',
  403: 'invalid_token',
  404: 'no_service',
  410: 'channel_is_archived',
  429: 'rate_limited',
  500: 'rollup_error',
};

const API_ERRORS: Readonly<Record<number, string>> = {
  400: 'invalid_arguments',
  401: 'not_authed',
  403: 'access_denied',
  404: 'unknown_method',
  429: 'ratelimited',
  500: 'internal_error',
};

function channelObject(c: SlackChannel) {
  return {
    id: c.id,
    name: c.name,
    is_channel: !c.isPrivate,
    is_group: c.isPrivate,
    is_im: false,
    is_mpim: false,
    is_private: c.isPrivate,
    created: CREATED,
    is_archived: c.isArchived,
    is_general: c.name === 'general',
    name_normalized: c.name,
    is_member: true,
    topic: { value: '', creator: '', last_set: 0 },
    purpose: { value: '', creator: '', last_set: 0 },
  };
}

function userObject(u: SlackUser) {
  return {
    id: u.id,
    team_id: SLACK_TEAM_ID,
    name: u.name,
    deleted: false,
    real_name: u.real_name,
    profile: { real_name: u.real_name, display_name: u.name },
    is_bot: false,
  };
}

/** Slack cursors are opaque base64 strings. */
function cursorFor(index: number): string {
  return Buffer.from(`next:${index}`).toString('base64');
}

function indexOf(cursor: string | null): number {
  if (!cursor) return 0;
  const match = /^next:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  return match ? Number(match[1]) : 0;
}

function page<T>(items: readonly T[], cursor: string | null, limit: number) {
  const start = indexOf(cursor);
  const slice = items.slice(start, start + limit);
  const next = start + limit < items.length ? cursorFor(start + limit) : '';
  return { slice, next };
}

/** Handles a magic word in the body or query; true when it answered. */
function magic(
  req: RecordedRequest,
  res: ServerResponse,
  errors: Readonly<Record<number, string>>,
  asJson: boolean,
): boolean {
  return answerMagic(magicIn(req.text, req.query.toString()), res, {
    fail: (status, headers) => {
      if (status === 502 || status === 503) {
        sendText(res, status, status === 502 ? 'Bad Gateway' : 'Service Unavailable', headers);
      } else if (asJson) {
        sendJson(res, status, { ok: false, error: errors[status] ?? 'fatal_error' }, headers);
      } else {
        sendText(res, status, errors[status] ?? 'fatal_error', headers);
      }
    },
    late: () => sendText(res, 200, 'ok'),
    largeBytes: 256 * 1024,
    retryAfterOn429: true,
    words: { text: () => sendText(res, 200, 'message accepted with warnings') },
  });
}

export async function startSlackSimulator(
  options: { token?: string; webhookSecret?: string } = {},
): Promise<SlackSimulator> {
  const token = options.token ?? 'xoxb-simulated-bot-token-4711';
  const webhookPath = `/services/${SLACK_TEAM_ID}/${SLACK_BOT_ID}/${options.webhookSecret ?? 'hOoKsEcReT0123456789abcd'}`;
  const webhookMessages: string[] = [];
  const channels = DEFAULT_CHANNELS.map((c) => ({ ...c }));
  const history = new Map<string, SlackMessage[]>();
  const users: SlackUser[] = [
    { id: 'U0SIMUSER1', name: 'ada', real_name: 'Ada Lovelace' },
    { id: 'U0SIMUSER2', name: 'alan', real_name: 'Alan Turing' },
    { id: 'U0SIMUSER3', name: 'grace', real_name: 'Grace Hopper' },
  ];
  let clock = 1_700_000_100;
  const failures = new Map<string, { status: number; body?: unknown; retryAfter?: string }>();

  const findChannel = (ref: string | undefined) =>
    ref === undefined
      ? undefined
      : channels.find((c) => c.id === ref || c.name === ref.replace(/^#/, ''));

  const webhook = (req: RecordedRequest, res: ServerResponse) => {
    if (req.path !== webhookPath) {
      const sameTeam = req.path.startsWith(`/services/${SLACK_TEAM_ID}/${SLACK_BOT_ID}/`);
      return sameTeam ? sendText(res, 403, 'invalid_token') : sendText(res, 404, 'no_service');
    }
    if (req.method !== 'POST') return sendText(res, 400, 'invalid_payload');
    if (magic(req, res, WEBHOOK_ERRORS, false)) return;
    const body = req.json as { text?: unknown; blocks?: unknown } | undefined;
    if (typeof body !== 'object' || body === null) return sendText(res, 400, 'invalid_payload');
    if (typeof body.text !== 'string' || body.text === '') return sendText(res, 400, 'no_text');
    switch (body.text) {
      case 'no_text':
      case 'invalid_payload':
        return sendText(res, 400, body.text);
      case 'invalid_token':
        return sendText(res, 403, 'invalid_token');
      case 'status_500':
        return sendText(res, 500, 'simulated slack 500 response');
      case 'rate_limit':
        return sendJson(
          res,
          429,
          { retry_after: 1, ok: false, error: 'rate_limited' },
          { 'retry-after': '1' },
        );
      default:
        webhookMessages.push(body.text);
        return sendText(res, 200, 'ok', { 'content-type': 'text/html' });
    }
  };

  const api = (method: string, req: RecordedRequest, res: ServerResponse) => {
    const auth = req.headers.authorization;
    if (auth === undefined || !auth.startsWith('Bearer ')) {
      return sendJson(res, 200, { ok: false, error: 'not_authed' });
    }
    if (auth.slice('Bearer '.length) !== token) {
      return sendJson(res, 200, { ok: false, error: 'invalid_auth' });
    }
    if (magic(req, res, API_ERRORS, true)) return;
    const failure = failures.get(method);
    if (failure !== undefined) {
      failures.delete(method);
      return sendJson(
        res,
        failure.status,
        failure.body ?? { ok: false, error: API_ERRORS[failure.status] ?? 'fatal_error' },
        failure.retryAfter === undefined ? {} : { 'retry-after': failure.retryAfter },
      );
    }
    const q = req.query;
    const limitOf = (fallback: number) => Number(q.get('limit') ?? fallback);
    switch (method) {
      case 'chat.postMessage': {
        if (req.method !== 'POST')
          return sendJson(res, 200, { ok: false, error: 'invalid_arguments' });
        const body = req.json as { channel?: string; text?: string; blocks?: unknown } | undefined;
        if (body === undefined) return sendJson(res, 200, { ok: false, error: 'invalid_json' });
        const channel = findChannel(body.channel);
        if (channel === undefined)
          return sendJson(res, 200, { ok: false, error: 'channel_not_found' });
        if (channel.isArchived) return sendJson(res, 200, { ok: false, error: 'is_archived' });
        if (body.blocks !== undefined && !Array.isArray(body.blocks)) {
          return sendJson(res, 200, { ok: false, error: 'invalid_blocks' });
        }
        if (!body.text && body.blocks === undefined) {
          return sendJson(res, 200, { ok: false, error: 'no_text' });
        }
        clock += 1;
        const ts = `${clock}.000100`;
        const text = body.text ?? '';
        const blocks = (body.blocks as unknown[] | undefined) ?? [
          {
            type: 'rich_text',
            block_id: 'sImB1',
            elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text }] }],
          },
        ];
        const message: SlackMessage = { type: 'message', user: SLACK_BOT_USER, text, ts, blocks };
        history.set(channel.id, [...(history.get(channel.id) ?? []), message]);
        return sendJson(res, 200, {
          ok: true,
          channel: channel.id,
          ts,
          message: {
            user: SLACK_BOT_USER,
            type: 'message',
            ts,
            bot_id: SLACK_BOT_ID,
            app_id: SLACK_APP_ID,
            text,
            team: SLACK_TEAM_ID,
            bot_profile: {
              id: SLACK_BOT_ID,
              app_id: SLACK_APP_ID,
              name: 'Kibana',
              icons: { image_36: 'https://a.slack-edge.com/80588/img/plugins/app/bot_36.png' },
              deleted: false,
              updated: CREATED,
              team_id: SLACK_TEAM_ID,
            },
            blocks,
          },
        });
      }
      case 'conversations.info': {
        const channel = findChannel(q.get('channel') ?? undefined);
        if (channel === undefined)
          return sendJson(res, 200, { ok: false, error: 'channel_not_found' });
        return sendJson(res, 200, { ok: true, channel: channelObject(channel) });
      }
      case 'conversations.list': {
        const types = (q.get('types') ?? 'public_channel').split(',');
        const listed = channels.filter(
          (c) =>
            types.includes(c.isPrivate ? 'private_channel' : 'public_channel') &&
            !(q.get('exclude_archived') === 'true' && c.isArchived),
        );
        const { slice, next } = page(listed, q.get('cursor'), limitOf(100));
        return sendJson(res, 200, {
          ok: true,
          channels: slice.map(channelObject),
          response_metadata: { next_cursor: next },
        });
      }
      case 'conversations.history': {
        const channel = findChannel(q.get('channel') ?? undefined);
        if (channel === undefined)
          return sendJson(res, 200, { ok: false, error: 'channel_not_found' });
        const oldest = Number(q.get('oldest') ?? 0);
        const top = (history.get(channel.id) ?? [])
          .filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts)
          .filter((m) => Number(m.ts) > oldest)
          .sort((a, b) => Number(b.ts) - Number(a.ts));
        const { slice, next } = page(top, q.get('cursor'), limitOf(100));
        return sendJson(res, 200, {
          ok: true,
          messages: slice,
          has_more: next !== '',
          pin_count: 0,
          response_metadata: { next_cursor: next },
        });
      }
      case 'conversations.replies': {
        const channel = findChannel(q.get('channel') ?? undefined);
        if (channel === undefined)
          return sendJson(res, 200, { ok: false, error: 'channel_not_found' });
        const ts = q.get('ts');
        const thread = (history.get(channel.id) ?? []).filter(
          (m) => m.ts === ts || m.thread_ts === ts,
        );
        if (thread.length === 0)
          return sendJson(res, 200, { ok: false, error: 'thread_not_found' });
        return sendJson(res, 200, { ok: true, messages: thread, has_more: false });
      }
      case 'users.list': {
        const { slice, next } = page(users, q.get('cursor'), limitOf(200));
        return sendJson(res, 200, {
          ok: true,
          members: slice.map(userObject),
          cache_ts: CREATED,
          response_metadata: { next_cursor: next },
        });
      }
      default:
        return sendJson(res, 404, { ok: false, error: 'unknown_method', req_method: method });
    }
  };

  const sim = await startSimulator((req, res) => {
    if (req.path.startsWith('/api/')) return api(req.path.slice('/api/'.length), req, res);
    return webhook(req, res);
  });

  return Object.assign(sim, {
    token,
    webhookUrl: `${sim.url}${webhookPath}`,
    apiUrl: `${sim.url}/api/`,
    webhookMessages,
    channels,
    history,
    users,
    failNext(method: string, failure: { status: number; body?: unknown; retryAfter?: string }) {
      failures.set(method, failure);
    },
    addMessage(channel: string, message: NewMessage) {
      const list = history.get(channel) ?? [];
      const replies = message.replies ?? [];
      list.push({
        type: 'message',
        user: message.user ?? 'U0SIMUSER1',
        text: message.text,
        ts: message.ts,
        ...(replies.length > 0 ? { thread_ts: message.ts, reply_count: replies.length } : {}),
      });
      for (const r of replies) {
        list.push({
          type: 'message',
          user: r.user ?? 'U0SIMUSER2',
          text: r.text,
          ts: r.ts,
          thread_ts: message.ts,
        });
      }
      history.set(channel, list);
    },
  });
}
