import { setTimeout as sleep } from 'node:timers/promises';
import type { OutboundResponse } from '../../http/client.js';
import {
  SLACK_TEXTS,
  slackRetryAt,
  slackRetryLater,
  slackServiceError,
  slackUnexpectedHttpMessage,
} from '../lib/slack.js';
import { parseData } from '../lib/vendor-request.js';
import { fail, ok, retryAfterSeconds } from '../result.js';
import type { ConnectorResult, ExecuteContext } from '../types.js';
import type {
  SlackApiConfig,
  SlackApiParams,
  SlackApiSecrets,
  SubActionParamsOf,
} from './schema.js';

export const SLACK_API_CONNECTOR_ID = '.slack_api';
export const SLACK_API_DEFAULT_URL = 'https://slack.com/api/';

/** Default page sizes Kibana asks Slack for. */
const CONVERSATIONS_PAGE = 200;
const HISTORY_PAGE = 100;
const USERS_PAGE = 200;

/**
 * The digest spaces its calls to stay under Slack's per-method limits (Tier 3, about 50 a
 * minute per method): https://api.slack.com/apis/rate-limits
 */
const DIGEST_THROTTLE_MS = 150;
/** Kibana waits this long after a "retry later" without a Retry-After. */
const DIGEST_DEFAULT_WAIT_MS = 5000;
const DIGEST_MIN_WAIT_MS = 1000;
/** A Retry-After longer than this is not waited out within one run (Kibana has no bound). */
const DIGEST_MAX_WAIT_MS = 60_000;
/** Retries of one rate-limited digest call before that channel (or type) is skipped. */
const DIGEST_RETRIES = 2;
const DIGEST_MAX_LIST_PAGES = 50;
const DIGEST_MAX_HISTORY_PAGES = 100;

export type SlackApiContext = ExecuteContext<SlackApiConfig, SlackApiSecrets, SlackApiParams>;

interface SlackAnswer {
  ok?: boolean;
  error?: unknown;
  response_metadata?: { next_cursor?: string };
  [key: string]: unknown;
}

interface SlackChannelInfo {
  id: string;
  name: string;
  is_channel?: boolean;
  is_archived?: boolean;
  is_private?: boolean;
}

interface ThreadReply {
  user: string;
  text: string | undefined;
  ts: string;
}

interface SlackMessage {
  text?: string;
  user?: string;
  ts: string;
  thread_ts?: string;
  reply_count?: number;
}

/** Every Slack API result names the type, not the connector, as its connector_id (Kibana does). */
function stamp(result: ConnectorResult): ConnectorResult {
  return { ...result, connectorId: SLACK_API_CONNECTOR_ID };
}

function serviceMessageOf(error: unknown): string | undefined {
  if (typeof error === 'string') return error;
  return error == null ? undefined : JSON.stringify(error);
}

function answerOf(result: ConnectorResult): SlackAnswer | undefined {
  return result.status === 'ok' ? (result.data as SlackAnswer) : undefined;
}

export class SlackApiService {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly allowedIds: string[];
  private readonly allowedNames: string[];

  constructor(private readonly ctx: SlackApiContext) {
    const base = ctx.env.baseUrl(SLACK_API_CONNECTOR_ID, SLACK_API_DEFAULT_URL);
    this.base = base.endsWith('/') ? base : `${base}/`;
    this.headers = {
      Authorization: `Bearer ${ctx.secrets.token}`,
      'Content-type': 'application/json; charset=UTF-8',
    };
    const allowed = ctx.config.allowedChannels ?? [];
    this.allowedIds = allowed.flatMap((c) => (c.id === undefined ? [] : [c.id]));
    this.allowedNames = allowed.map((c) => c.name);
  }

  /** One Web API call, its answer mapped as Kibana maps it. */
  private async call(
    method: 'GET' | 'POST',
    apiMethod: string,
    query?: URLSearchParams,
    body?: unknown,
  ): Promise<ConnectorResult> {
    const search = query === undefined ? '' : `?${query.toString()}`;
    let response: OutboundResponse;
    try {
      response = await this.ctx.http.request({
        url: `${this.base}${apiMethod}${search}`,
        method,
        headers: this.headers,
        ...(body !== undefined ? { json: body } : {}),
      });
    } catch (err) {
      return stamp(slackServiceError((err as Error).message));
    }
    const { status, statusText } = response;
    if (status < 200 || status >= 300) {
      if (status >= 500) return stamp(slackRetryLater());
      if (status === 429) {
        const seconds = retryAfterSeconds(response.headers);
        return stamp(
          seconds === undefined
            ? slackRetryLater()
            : slackRetryAt(seconds, `Request failed with status code ${status}`),
        );
      }
      const message = slackUnexpectedHttpMessage(status, statusText);
      this.ctx.log.error(`error on ${SLACK_API_CONNECTOR_ID} slack action: ${message}`);
      return stamp(fail(message));
    }
    const data = parseData(response.text());
    if (!data) return stamp(fail(SLACK_TEXTS.nullResponse));
    const answer: SlackAnswer = typeof data === 'object' ? (data as SlackAnswer) : {};
    if (!answer.ok) return stamp(slackServiceError(serviceMessageOf(answer.error)));
    return stamp(ok(data));
  }

  async validChannelId({
    channelId = '',
  }: SubActionParamsOf<'validChannelId'>): Promise<ConnectorResult> {
    if (channelId.length === 0) return stamp(slackServiceError('The channel id is empty'));
    return this.call('GET', 'conversations.info', new URLSearchParams({ channel: channelId }));
  }

  /** The one channel a message goes to: a name first, then an id, then the legacy list. */
  private channelToUse({
    channels = [],
    channelIds = [],
    channelNames = [],
  }: {
    channels?: string[];
    channelIds?: string[];
    channelNames?: string[];
  }): string {
    const first = channelNames[0] ?? channelIds[0] ?? channels[0];
    if (first === undefined) {
      throw new Error(
        'One of channels, channelIds, or channelNames is required and cannot be empty',
      );
    }
    if (channelNames.length > 0) this.ensureAllowed(channelNames, this.allowedNames);
    else if (channelIds.length > 0) this.ensureAllowed(channelIds, this.allowedIds);
    return first;
  }

  private ensureAllowed(channels: string[], allowed: string[]): void {
    if (allowed.length === 0) return;
    const bare = (name: string) => name.replace(/^#/, '');
    if (channels.some((c) => !allowed.some((a) => bare(a) === bare(c)))) {
      throw new Error(
        'One or more provided channels are not included in the allowed channels list',
      );
    }
  }

  async postMessage(params: SubActionParamsOf<'postMessage'>): Promise<ConnectorResult> {
    let channel: string;
    try {
      channel = this.channelToUse(params);
    } catch (err) {
      return stamp(slackServiceError((err as Error).message));
    }
    return this.call('POST', 'chat.postMessage', undefined, { channel, text: params.text });
  }

  async postBlockkit(params: SubActionParamsOf<'postBlockkit'>): Promise<ConnectorResult> {
    let channel: string;
    let blocks: unknown;
    try {
      channel = this.channelToUse(params);
      blocks = (JSON.parse(params.text) as { blocks?: unknown }).blocks;
    } catch (err) {
      return stamp(slackServiceError((err as Error).message));
    }
    return this.call('POST', 'chat.postMessage', undefined, { channel, blocks });
  }

  async getConversationsList({
    types,
    cursor,
    excludeArchived = true,
    limit = CONVERSATIONS_PAGE,
  }: SubActionParamsOf<'getConversationsList'>): Promise<ConnectorResult> {
    const query = new URLSearchParams();
    if (types) query.append('types', types);
    if (cursor) query.append('cursor', cursor);
    if (excludeArchived) query.append('exclude_archived', 'true');
    query.append('limit', String(limit));
    return this.call('GET', 'conversations.list', query);
  }

  async getConversationsHistory({
    channel,
    oldest,
    cursor,
    limit = HISTORY_PAGE,
  }: SubActionParamsOf<'getConversationsHistory'>): Promise<ConnectorResult> {
    const query = new URLSearchParams({ channel });
    if (oldest !== undefined) query.append('oldest', String(oldest));
    if (cursor) query.append('cursor', cursor);
    query.append('limit', String(limit));
    return this.call('GET', 'conversations.history', query);
  }

  async getConversationsReplies({
    channel,
    ts,
  }: SubActionParamsOf<'getConversationsReplies'>): Promise<ConnectorResult> {
    return this.call('GET', 'conversations.replies', new URLSearchParams({ channel, ts }));
  }

  async getUsersList({
    cursor,
    limit = USERS_PAGE,
  }: SubActionParamsOf<'getUsersList'>): Promise<ConnectorResult> {
    const query = new URLSearchParams();
    if (cursor) query.append('cursor', cursor);
    query.append('limit', String(limit));
    return this.call('GET', 'users.list', query);
  }

  /**
   * A paced call for the digest: waits before it, and when Slack says to retry, waits as told
   * (or Kibana's default) and tries again a few times.
   */
  private async paced(call: () => Promise<ConnectorResult>): Promise<ConnectorResult> {
    for (let attempt = 0; ; attempt++) {
      await sleep(DIGEST_THROTTLE_MS, undefined, { signal: this.ctx.signal });
      const result = await call();
      if (result.status === 'ok' || !result.retry || attempt >= DIGEST_RETRIES) return result;
      const wait =
        result.retry instanceof Date
          ? Math.max(DIGEST_MIN_WAIT_MS, result.retry.getTime() - Date.now())
          : DIGEST_DEFAULT_WAIT_MS;
      if (wait > DIGEST_MAX_WAIT_MS) return result;
      this.ctx.log.warn(`Slack asked to retry later; waiting ${Math.ceil(wait / 1000)} s`);
      await sleep(wait, undefined, { signal: this.ctx.signal });
    }
  }

  /** Channels the digest reads: the allowed ones the token can read, else every listed one. */
  private async digestChannels(
    types: SubActionParamsOf<'getChannelDigest'>['types'],
    since: number,
  ): Promise<SlackChannelInfo[]> {
    const found: SlackChannelInfo[] = [];
    if (this.allowedIds.length > 0) {
      for (const channelId of this.allowedIds) {
        const info = answerOf(await this.paced(() => this.validChannelId({ channelId })));
        const channel = info?.ok ? (info.channel as SlackChannelInfo | undefined) : undefined;
        if (channel === undefined) continue;
        // conversations.info answers for channels the token cannot read; a history call tells.
        const probe = answerOf(
          await this.paced(() =>
            this.getConversationsHistory({ channel: channelId, oldest: since, limit: 1 }),
          ),
        );
        if (!probe?.ok) continue;
        found.push({
          id: channel.id,
          name: channel.name,
          is_channel: channel.is_channel,
          is_archived: channel.is_archived,
          is_private: channel.is_private,
        });
      }
      return found;
    }
    for (const type of types) {
      let cursor: string | undefined;
      for (let page = 0; page < DIGEST_MAX_LIST_PAGES; page++) {
        const answer = answerOf(
          await this.paced(() =>
            this.getConversationsList({
              types: type,
              excludeArchived: true,
              limit: CONVERSATIONS_PAGE,
              ...(cursor ? { cursor } : {}),
            }),
          ),
        );
        if (!answer?.ok || !Array.isArray(answer.channels)) break;
        found.push(...(answer.channels as SlackChannelInfo[]));
        cursor = answer.response_metadata?.next_cursor;
        if (!cursor) break;
      }
    }
    return found;
  }

  private async threadReplies(channel: string, ts: string): Promise<ThreadReply[] | undefined> {
    const answer = answerOf(await this.paced(() => this.getConversationsReplies({ channel, ts })));
    if (!answer?.ok || !Array.isArray(answer.messages)) return undefined;
    // The thread's first message is its parent.
    return (answer.messages as SlackMessage[]).slice(1).map((reply) => ({
      user: reply.user || 'unknown',
      text: reply.text,
      ts: reply.ts,
    }));
  }

  /**
   * Messages since a moment across channels, optionally only those naming a keyword, each with
   * its thread's replies: Kibana's getChannelDigest.
   */
  async getChannelDigest({
    since,
    types,
    keywords,
  }: SubActionParamsOf<'getChannelDigest'>): Promise<ConnectorResult> {
    const channels = await this.digestChannels(types, since);
    const wanted = (keywords ?? []).map((k) => k.toLowerCase());
    const repliesCache = new Map<string, ThreadReply[] | undefined>();
    const messages: Array<Record<string, unknown>> = [];

    for (const channel of channels) {
      let cursor: string | undefined;
      for (let page = 0; page < DIGEST_MAX_HISTORY_PAGES; page++) {
        const answer = answerOf(
          await this.paced(() =>
            this.getConversationsHistory({
              channel: channel.id,
              oldest: since,
              limit: HISTORY_PAGE,
              ...(cursor ? { cursor } : {}),
            }),
          ),
        );
        if (!answer?.ok || !Array.isArray(answer.messages)) {
          this.ctx.log.warn(`Slack digest skipped a channel: ${serviceMessageOf(answer?.error)}`);
          break;
        }
        const page = answer.messages as SlackMessage[];
        // Slack answers newest first: a page older than `since` ends this channel.
        const tooOld = page.length > 0 && page.every((m) => Number.parseFloat(m.ts) < since);
        const matching =
          wanted.length === 0
            ? page
            : page.filter((m) => wanted.some((k) => (m.text ?? '').toLowerCase().includes(k)));
        for (const message of matching) {
          if (Number.parseFloat(message.ts) < since) continue;
          let replies: ThreadReply[] | undefined;
          if (message.thread_ts && message.reply_count && message.reply_count > 0) {
            const key = `${channel.id}:${message.thread_ts}`;
            if (!repliesCache.has(key)) {
              repliesCache.set(key, await this.threadReplies(channel.id, message.thread_ts));
            }
            replies = repliesCache.get(key);
          }
          messages.push({
            channel: channel.name,
            channel_id: channel.id,
            text: message.text,
            user: message.user || 'unknown',
            user_name: message.user || 'unknown',
            timestamp: new Date(Number.parseFloat(message.ts) * 1000).toISOString(),
            thread_replies_count: message.reply_count || 0,
            thread_replies: (replies ?? []).map((r) => ({ ...r, user_name: r.user })),
          });
        }
        cursor = answer.response_metadata?.next_cursor;
        if (tooOld || !answer.has_more || !cursor) break;
      }
    }

    return stamp(
      ok({
        ok: true,
        total: messages.length,
        since: new Date(since * 1000).toISOString(),
        keywords: keywords ?? [],
        channels_searched: channels.length,
        messages,
      }),
    );
  }
}
