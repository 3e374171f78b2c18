import { describe, expect, it } from 'vitest';
import {
  createConnector,
  type ExecuteEnvelope,
  execute,
  expectCreateRefused,
  expectListedType,
  expectNoSecrets,
  failureClassTests,
  retryAt,
} from '../helpers/connectors.js';
import { connectorHarness, type Settings } from '../helpers/harness.js';
import { startServer, withServer } from '../helpers/server.js';
import { type SlackSimulator, startSlackSimulator } from '../simulators/slack.js';

const TOKEN = 'xoxb-4711-test-bot-token-Zq8';
const BRANCHES = [
  'validChannelId',
  'postMessage',
  'postBlockkit',
  'getConversationsList',
  'getConversationsHistory',
  'getConversationsReplies',
  'getUsersList',
  'getChannelDigest',
];

/** config-schema's union message: every branch's first failure, one given as `detail`. */
function unionFailure(index: number, detail: string): string {
  const lines = BRANCHES.map((name, i) =>
    i === index ? `- [${i}.${detail}` : `- [${i}.subAction]: expected value to equal [${name}]`,
  );
  return `error validating action params: types that failed validation:\n${lines.join('\n')}`;
}

function settingsFor(slack: SlackSimulator, settings: Settings = {}): Settings {
  return {
    'connectors.baseUrls': { '.slack_api': slack.apiUrl },
    'xpack.actions.responseTimeout': '300ms',
    'xpack.actions.maxResponseContentLength': '4kb',
    ...settings,
  };
}

describe('.slack_api', () => {
  const h = connectorHarness({
    type: '.slack_api',
    simulator: () => startSlackSimulator({ token: TOKEN }),
    settings: (slack) => settingsFor(slack),
    connector: () => ({ name: 'slack api', secrets: { token: TOKEN } }),
  });
  const run = (params: unknown, connector?: string): Promise<ExecuteEnvelope> =>
    h.run(params, connector);
  const post = (text: string, channelIds = ['C123ABC456']) =>
    run({ subAction: 'postMessage', subActionParams: { text, channelIds } });

  it('is listed among the connector types as Kibana lists it', async () => {
    await expectListedType(h.server, {
      id: '.slack_api',
      name: 'Slack API',
      minimum_license_required: 'gold',
      supported_feature_ids: ['uptime', 'alerting', 'siem'],
    });
  });

  it('runs the docs example and answers with chat.postMessage data', async () => {
    const res = await run({
      subAction: 'postMessage',
      subActionParams: { text: 'A test message.', channelIds: ['C123ABC456'] },
    });
    const ts = (res.data as { ts: string }).ts;
    expect(ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(res).toEqual({
      status: 'ok',
      connector_id: '.slack_api',
      data: {
        ok: true,
        channel: 'C123ABC456',
        ts,
        message: {
          user: 'U0SIMBOT01',
          type: 'message',
          ts,
          bot_id: 'B0SIMBOT01',
          app_id: 'A0SIMAPP01',
          text: 'A test message.',
          team: 'T0SIMTEAM1',
          bot_profile: {
            id: 'B0SIMBOT01',
            app_id: 'A0SIMAPP01',
            name: 'Kibana',
            icons: { image_36: 'https://a.slack-edge.com/80588/img/plugins/app/bot_36.png' },
            deleted: false,
            updated: 1_700_000_000,
            team_id: 'T0SIMTEAM1',
          },
          blocks: [
            {
              type: 'rich_text',
              block_id: 'sImB1',
              elements: [
                {
                  type: 'rich_text_section',
                  elements: [{ type: 'text', text: 'A test message.' }],
                },
              ],
            },
          ],
        },
      },
    });
    const sent = h.sim.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/api/chat.postMessage');
    expect([...sent.query.keys()]).toEqual([]);
    expect(sent.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(sent.json).toEqual({ channel: 'C123ABC456', text: 'A test message.' });
  });

  it('prefers channelNames, then channelIds, then the legacy channels', async () => {
    await run({
      subAction: 'postMessage',
      subActionParams: {
        text: 'by name',
        channelNames: ['#random'],
        channelIds: ['C123ABC456'],
        channels: ['general'],
      },
    });
    expect(h.sim.last().json).toEqual({ channel: '#random', text: 'by name' });
    await run({
      subAction: 'postMessage',
      subActionParams: { text: 'by id', channelIds: ['C0SIMRAND1'], channels: ['general'] },
    });
    expect(h.sim.last().json).toEqual({ channel: 'C0SIMRAND1', text: 'by id' });
    const legacy = await run({
      subAction: 'postMessage',
      subActionParams: { text: 'legacy', channels: ['general'] },
    });
    expect(h.sim.last().json).toEqual({ channel: 'general', text: 'legacy' });
    expect((legacy.data as { channel: string }).channel).toBe('C123ABC456');
  });

  it('refuses a message without a channel, before calling Slack', async () => {
    const before = h.sim.requests.length;
    expect(await run({ subAction: 'postMessage', subActionParams: { text: 'x' } })).toEqual({
      status: 'error',
      connector_id: '.slack_api',
      message: 'error posting slack message',
      service_message:
        'One of channels, channelIds, or channelNames is required and cannot be empty',
      errorSource: 'user',
    });
    expect(h.sim.requests.length).toBe(before);
  });

  it('keeps messages to the allowed channels when they are configured', async () => {
    const limited = await h.create({
      config: { allowedChannels: [{ id: 'C123ABC456', name: '#general' }, { name: 'random' }] },
      secrets: { token: TOKEN },
    });
    const before = h.sim.requests.length;
    const refused = {
      status: 'error',
      connector_id: '.slack_api',
      message: 'error posting slack message',
      service_message:
        'One or more provided channels are not included in the allowed channels list',
      errorSource: 'user',
    };
    expect(
      await run(
        { subAction: 'postMessage', subActionParams: { text: 'x', channelIds: ['C0SIMRAND1'] } },
        limited,
      ),
    ).toEqual(refused);
    expect(
      await run(
        { subAction: 'postMessage', subActionParams: { text: 'x', channelNames: ['#secret-ops'] } },
        limited,
      ),
    ).toEqual(refused);
    expect(h.sim.requests.length).toBe(before);
    const byName = await run(
      { subAction: 'postMessage', subActionParams: { text: 'ok', channelNames: ['#random'] } },
      limited,
    );
    expect(byName.status).toBe('ok');
    const byId = await run(
      { subAction: 'postMessage', subActionParams: { text: 'ok', channelIds: ['C123ABC456'] } },
      limited,
    );
    expect(byId.status).toBe('ok');
  });

  it('posts Block Kit blocks', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Alert* fired' } }];
    const res = await run({
      subAction: 'postBlockkit',
      subActionParams: { channelIds: ['C123ABC456'], text: JSON.stringify({ blocks }) },
    });
    expect(res.status).toBe('ok');
    expect((res.data as { message: { blocks: unknown } }).message.blocks).toEqual(blocks);
    const sent = h.sim.last();
    expect(sent.path).toBe('/api/chat.postMessage');
    expect(sent.json).toEqual({ channel: 'C123ABC456', blocks });
  });

  it('refuses Block Kit text that is not JSON with blocks', async () => {
    expect(
      await run({
        subAction: 'postBlockkit',
        subActionParams: { channelIds: ['C1'], text: 'nope' },
      }),
    ).toEqual({
      status: 'error',
      connector_id: h.id,
      message: unionFailure(
        2,
        `subActionParams.text]: block kit body is not valid JSON - Unexpected token 'o', "nope" is not valid JSON`,
      ),
      retry: false,
      errorSource: 'user',
    });
    const noBlocks = await run({
      subAction: 'postBlockkit',
      subActionParams: { channelIds: ['C1'], text: '{"text":"x"}' },
    });
    expect(noBlocks.message).toBe(
      unionFailure(2, 'subActionParams.text]: block kit body must contain field "blocks"'),
    );
  });

  it('validates a channel id with conversations.info', async () => {
    const res = await run({
      subAction: 'validChannelId',
      subActionParams: { channelId: 'C123ABC456' },
    });
    expect(res).toEqual({
      status: 'ok',
      connector_id: '.slack_api',
      data: {
        ok: true,
        channel: {
          id: 'C123ABC456',
          name: 'general',
          is_channel: true,
          is_group: false,
          is_im: false,
          is_mpim: false,
          is_private: false,
          created: 1_700_000_000,
          is_archived: false,
          is_general: true,
          name_normalized: 'general',
          is_member: true,
          topic: { value: '', creator: '', last_set: 0 },
          purpose: { value: '', creator: '', last_set: 0 },
        },
      },
    });
    const sent = h.sim.last();
    expect(sent.method).toBe('GET');
    expect(sent.path).toBe('/api/conversations.info');
    expect(sent.query.toString()).toBe('channel=C123ABC456');
    expect(sent.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent.text).toBe('');
  });

  it("reports Slack's {ok:false} answers with their error", async () => {
    expect(
      await run({ subAction: 'validChannelId', subActionParams: { channelId: 'CUNKNOWN01' } }),
    ).toEqual({
      status: 'error',
      connector_id: '.slack_api',
      message: 'error posting slack message',
      service_message: 'channel_not_found',
      errorSource: 'user',
    });
    expect(await run({ subAction: 'validChannelId', subActionParams: {} })).toEqual({
      status: 'error',
      connector_id: '.slack_api',
      message: 'error posting slack message',
      service_message: 'The channel id is empty',
      errorSource: 'user',
    });
  });

  it('answers invalid_auth when Slack does not know the token', async () => {
    const wrong = await h.create({
      secrets: { token: 'xoxb-not-the-right-one' },
    });
    expect(
      await run(
        { subAction: 'postMessage', subActionParams: { text: 'x', channelIds: ['C123ABC456'] } },
        wrong,
      ),
    ).toEqual({
      status: 'error',
      connector_id: '.slack_api',
      message: 'error posting slack message',
      service_message: 'invalid_auth',
      errorSource: 'user',
    });
    expect(h.sim.last().headers.authorization).toBe('Bearer xoxb-not-the-right-one');
  });

  describe('vendor failures', () => {
    // Other 4xx are unexpected http responses; 429 is retried at the Retry-After moment, or
    // later without one, as are 500 and 502; a timeout, a reset and an oversized answer give
    // the client message, and a 2xx answer that is not Slack JSON none.
    const unexpected = (status: number, text: string) => ({
      status: 'error',
      connector_id: '.slack_api',
      message: `unexpected http response from slack: ${status} ${text}`,
      errorSource: 'user',
    });
    const retryLater = () => ({
      status: 'error',
      connector_id: '.slack_api',
      message: 'error posting a slack message, retry later',
      retry: true,
      errorSource: 'user',
    });
    const clientError = (serviceMessage: string) => ({
      status: 'error',
      connector_id: '.slack_api',
      message: 'error posting slack message',
      service_message: serviceMessage,
      errorSource: 'user',
    });
    failureClassTests(post, {
      'respond-with-400': () => unexpected(400, 'Bad Request'),
      'respond-with-401': () => unexpected(401, 'Unauthorized'),
      'respond-with-404': () => unexpected(404, 'Not Found'),
      'respond-with-429': retryAt(30, (at) => ({
        status: 'error',
        connector_id: '.slack_api',
        message: `error posting a slack message, retry at ${at}`,
        service_message: 'Request failed with status code 429',
        retry: at,
        errorSource: 'user',
      })),
      'respond-with-429-no-retry-after': retryLater,
      'respond-with-500': retryLater,
      'respond-with-502': retryLater,
      'respond-with-timeout': () => clientError('timeout of 300ms exceeded'),
      'respond-with-reset': () => clientError('socket hang up'),
      'respond-with-large': () => clientError('maxContentLength size of 4096 exceeded'),
      'respond-with-text': () => ({
        status: 'error',
        connector_id: '.slack_api',
        message: 'error posting slack message',
        errorSource: 'user',
      }),
    });
  });

  it('lists conversations with Kibana defaults, and pages with a cursor', async () => {
    const first = await run({ subAction: 'getConversationsList', subActionParams: {} });
    expect(h.sim.last().path).toBe('/api/conversations.list');
    expect(h.sim.last().query.toString()).toBe('exclude_archived=true&limit=200');
    expect(first.status).toBe('ok');
    expect((first.data as { channels: Array<{ id: string }> }).channels.map((c) => c.id)).toEqual([
      'C123ABC456',
      'C0SIMRAND1',
    ]);

    const paged = await run({
      subAction: 'getConversationsList',
      subActionParams: {
        types: 'public_channel,private_channel',
        excludeArchived: false,
        limit: 2,
      },
    });
    expect(h.sim.last().query.toString()).toBe('types=public_channel%2Cprivate_channel&limit=2');
    const data = paged.data as {
      channels: Array<{ id: string }>;
      response_metadata: { next_cursor: string };
    };
    expect(data.channels.map((c) => c.id)).toEqual(['C123ABC456', 'C0SIMRAND1']);
    const next = await run({
      subAction: 'getConversationsList',
      subActionParams: {
        types: 'public_channel,private_channel',
        excludeArchived: false,
        limit: 2,
        cursor: data.response_metadata.next_cursor,
      },
    });
    expect(h.sim.last().query.get('cursor')).toBe(data.response_metadata.next_cursor);
    expect((next.data as { channels: Array<{ id: string }> }).channels.map((c) => c.id)).toEqual([
      'G0SIMPRIV1',
      'C0SIMARCH1',
    ]);
  });

  it('reads history, replies and users with the query Kibana sends', async () => {
    h.sim.addMessage('G0SIMPRIV1', {
      text: 'root',
      ts: '1600000001.000100',
      replies: [{ text: 'first reply', ts: '1600000002.000100' }],
    });
    const history = await run({
      subAction: 'getConversationsHistory',
      subActionParams: { channel: 'G0SIMPRIV1', oldest: 1_600_000_000, limit: 5 },
    });
    expect(h.sim.last().query.toString()).toBe('channel=G0SIMPRIV1&oldest=1600000000&limit=5');
    expect(history).toMatchObject({ status: 'ok', connector_id: '.slack_api' });
    expect(history.data).toEqual({
      ok: true,
      messages: [
        {
          type: 'message',
          user: 'U0SIMUSER1',
          text: 'root',
          ts: '1600000001.000100',
          thread_ts: '1600000001.000100',
          reply_count: 1,
        },
      ],
      has_more: false,
      pin_count: 0,
      response_metadata: { next_cursor: '' },
    });

    const thread = await run({
      subAction: 'getConversationsReplies',
      subActionParams: { channel: 'G0SIMPRIV1', ts: '1600000001.000100' },
    });
    expect(h.sim.last().path).toBe('/api/conversations.replies');
    expect(h.sim.last().query.toString()).toBe('channel=G0SIMPRIV1&ts=1600000001.000100');
    expect(
      (thread.data as { messages: Array<{ text: string }> }).messages.map((m) => m.text),
    ).toEqual(['root', 'first reply']);

    const users = await run({ subAction: 'getUsersList', subActionParams: {} });
    expect(h.sim.last().path).toBe('/api/users.list');
    expect(h.sim.last().query.toString()).toBe('limit=200');
    expect((users.data as { members: Array<{ name: string }> }).members.map((m) => m.name)).toEqual(
      ['ada', 'alan', 'grace'],
    );
  });

  it('reports a failed look-up like any other Slack failure', async () => {
    expect(
      await run({
        subAction: 'getConversationsHistory',
        subActionParams: { channel: 'respond-with-503' },
      }),
    ).toEqual({
      status: 'error',
      connector_id: '.slack_api',
      message: 'error posting a slack message, retry later',
      retry: true,
      errorSource: 'user',
    });
  });

  it('refuses params outside the schema with config-schema texts', async () => {
    expect(await run({ subAction: 'getAllowedChannels', subActionParams: {} })).toEqual({
      status: 'error',
      connector_id: h.id,
      message: unionFailure(7, 'subAction]: expected value to equal [getChannelDigest]'),
      retry: false,
      errorSource: 'user',
    });
    expect(
      (await run({ subAction: 'postMessage', subActionParams: { channelIds: ['C1'] } })).message,
    ).toBe(
      unionFailure(1, 'subActionParams.text]: expected value of type [string] but got [undefined]'),
    );
    expect(
      (
        await run({
          subAction: 'postMessage',
          subActionParams: { text: 'x', channelNames: ['general'] },
        })
      ).message,
    ).toBe(unionFailure(1, 'subActionParams.channelNames.0]: Channel name must start with #'));
    expect(
      (
        await run({
          subAction: 'getConversationsList',
          subActionParams: { limit: 1001 },
        })
      ).message,
    ).toBe(unionFailure(3, 'subActionParams.limit]: Value must be equal to or lower than [1000].'));
  });

  it('refuses bad secrets and config on create', async () => {
    const tooMany = Array.from({ length: 501 }, (_, i) => ({ name: `c${i}` }));
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { secrets: {} },
        'error validating connector type secrets: [token]: expected value of type [string] but got [undefined]',
      ],
      // Kibana's route refuses empty strings in a connector body before the type sees them.
      [{ secrets: { token: '' } }, "[request body.secrets.token]: value '' is not valid"],
      [
        { config: { allowedChannels: [{ id: 'C1' }] }, secrets: { token: TOKEN } },
        'error validating connector type config: [allowedChannels.0.name]: expected value of type [string] but got [undefined]',
      ],
      [
        { config: { allowedChannels: [{ name: 'a', topic: 'b' }] }, secrets: { token: TOKEN } },
        'error validating connector type config: [allowedChannels.0.topic]: definition for this key is missing',
      ],
      [
        { config: { allowedChannels: tooMany }, secrets: { token: TOKEN } },
        'error validating connector type config: [allowedChannels]: array size is [501], but cannot be greater than [500]',
      ],
    ];
    for (const [body, message] of cases) {
      await expectCreateRefused(
        h.server.api,
        { name: 'bad', connector_type_id: '.slack_api', ...body },
        message,
      );
    }
  });

  it('never shows the token in a reply or a log line', async () => {
    const got = await h.server.api('GET', `/api/actions/connector/${h.id}`);
    h.replies.push(got.body);
    expect(got.body).toMatchObject({ id: h.id, connector_type_id: '.slack_api', config: {} });
    expect(h.replies.length).toBeGreaterThan(20);
    expectNoSecrets(h.server, [TOKEN], h.replies);
  });
});

describe('.slack_api getChannelDigest', () => {
  const SINCE = 1_700_000_000;
  const h = connectorHarness({
    type: '.slack_api',
    simulator: async () => {
      const slack = await startSlackSimulator({ token: TOKEN });
      slack.addMessage('C123ABC456', { text: 'old deploy', ts: '1699999990.000100' });
      slack.addMessage('C123ABC456', {
        text: 'Deploy started',
        ts: '1700000010.000100',
        replies: [{ text: 'Deploy ok', ts: '1700000020.000100' }],
      });
      slack.addMessage('C123ABC456', { text: 'lunch?', ts: '1700000030.000100' });
      slack.addMessage('C0SIMRAND1', {
        text: 'deploy the cat pics',
        user: 'U0SIMUSER3',
        ts: '1700000040.000100',
      });
      slack.addMessage('G0SIMPRIV1', { text: 'rotate keys', ts: '1700000050.000200' });
      return slack;
    },
    settings: (slack) => settingsFor(slack, { 'xpack.actions.maxResponseContentLength': '1mb' }),
  });

  it('gathers matching messages and their threads from every listed channel', async () => {
    const id = await h.create({
      secrets: { token: TOKEN },
    });
    const res = await execute(h.server.api, id, {
      subAction: 'getChannelDigest',
      subActionParams: { since: SINCE, types: ['public_channel'], keywords: ['DEPLOY'] },
    });
    expect(res).toEqual({
      status: 'ok',
      connector_id: '.slack_api',
      data: {
        ok: true,
        total: 2,
        since: '2023-11-14T22:13:20.000Z',
        keywords: ['DEPLOY'],
        channels_searched: 2,
        messages: [
          {
            channel: 'general',
            channel_id: 'C123ABC456',
            text: 'Deploy started',
            user: 'U0SIMUSER1',
            user_name: 'U0SIMUSER1',
            timestamp: '2023-11-14T22:13:30.000Z',
            thread_replies_count: 1,
            thread_replies: [
              {
                user: 'U0SIMUSER2',
                text: 'Deploy ok',
                ts: '1700000020.000100',
                user_name: 'U0SIMUSER2',
              },
            ],
          },
          {
            channel: 'random',
            channel_id: 'C0SIMRAND1',
            text: 'deploy the cat pics',
            user: 'U0SIMUSER3',
            user_name: 'U0SIMUSER3',
            timestamp: '2023-11-14T22:14:00.000Z',
            thread_replies_count: 0,
            thread_replies: [],
          },
        ],
      },
    });
    expect(h.sim.requests.map((r) => `${r.path}?${r.query.toString()}`)).toEqual([
      '/api/conversations.list?types=public_channel&exclude_archived=true&limit=200',
      '/api/conversations.history?channel=C123ABC456&oldest=1700000000&limit=100',
      '/api/conversations.replies?channel=C123ABC456&ts=1700000010.000100',
      '/api/conversations.history?channel=C0SIMRAND1&oldest=1700000000&limit=100',
    ]);
  });

  it('reads only the allowed channels the token can read', async () => {
    const id = await h.create({
      config: {
        allowedChannels: [
          { id: 'G0SIMPRIV1', name: 'secret-ops' },
          { id: 'CNOPE00001', name: 'nope' },
        ],
      },
      secrets: { token: TOKEN },
    });
    const before = h.sim.requests.length;
    const res = await execute(h.server.api, id, {
      subAction: 'getChannelDigest',
      subActionParams: { since: SINCE, types: ['private_channel'] },
    });
    expect(res.data).toEqual({
      ok: true,
      total: 1,
      since: '2023-11-14T22:13:20.000Z',
      keywords: [],
      channels_searched: 1,
      messages: [
        {
          channel: 'secret-ops',
          channel_id: 'G0SIMPRIV1',
          text: 'rotate keys',
          user: 'U0SIMUSER1',
          user_name: 'U0SIMUSER1',
          timestamp: '2023-11-14T22:14:10.000Z',
          thread_replies_count: 0,
          thread_replies: [],
        },
      ],
    });
    expect(h.sim.requests.slice(before).map((r) => `${r.path}?${r.query.toString()}`)).toEqual([
      '/api/conversations.info?channel=G0SIMPRIV1',
      '/api/conversations.history?channel=G0SIMPRIV1&oldest=1700000000&limit=1',
      '/api/conversations.info?channel=CNOPE00001',
      '/api/conversations.history?channel=G0SIMPRIV1&oldest=1700000000&limit=100',
    ]);
  });

  it('waits out a rate limit and skips a channel it cannot read', async () => {
    const id = await h.create({
      secrets: { token: TOKEN },
    });
    h.sim.failNext('conversations.list', { status: 429, retryAfter: '1' });
    h.sim.failNext('conversations.history', {
      status: 200,
      body: { ok: false, error: 'not_in_channel' },
    });
    const before = h.sim.requests.length;
    const started = Date.now();
    const res = await execute(h.server.api, id, {
      subAction: 'getChannelDigest',
      subActionParams: { since: SINCE, types: ['public_channel'], keywords: ['deploy'] },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(res.status).toBe('ok');
    const data = res.data as { channels_searched: number; messages: Array<{ channel: string }> };
    expect(data.channels_searched).toBe(2);
    expect(data.messages.map((m) => m.channel)).toEqual(['random']);
    expect(h.sim.requests.slice(before).map((r) => r.path)).toEqual([
      '/api/conversations.list',
      '/api/conversations.list',
      '/api/conversations.history',
      '/api/conversations.history',
    ]);
  });

  it('refuses an empty types list', async () => {
    const id = await h.create({
      secrets: { token: TOKEN },
    });
    const res = await execute(h.server.api, id, {
      subAction: 'getChannelDigest',
      subActionParams: { since: SINCE, types: [] },
    });
    expect(res.message).toBe(
      unionFailure(7, 'subActionParams.types]: array size is [0], but cannot be smaller than [1]'),
    );
  });
});

describe('.slack_api with xpack.actions.allowedHosts', () => {
  it('checks the Web API URL against the allowed hosts, with Kibana text', async () => {
    await withServer(
      {
        settings: { 'xpack.actions.allowedHosts': ['hooks.slack.com'] },
      },
      async (server) => {
        const refusal = await expectCreateRefused(
          server.api,
          { name: 'x', connector_type_id: '.slack_api', secrets: { token: TOKEN } },
          'error validating connector type secrets: error configuring slack action: target url "https://slack.com/api/" is not added to the Kibana config xpack.actions.allowedHosts',
        );
        expectNoSecrets(server, [TOKEN], [refusal]);
      },
    );
  });

  it('accepts the overridden Web API URL when its host is allowed', async () => {
    const slack = await startSlackSimulator({ token: TOKEN });
    const server = await startServer({
      settings: settingsFor(slack, { 'xpack.actions.allowedHosts': ['127.0.0.1'] }),
    });
    try {
      const id = await createConnector(server.api, {
        connector_type_id: '.slack_api',
        secrets: { token: TOKEN },
      });
      const res = await execute(server.api, id, {
        subAction: 'validChannelId',
        subActionParams: { channelId: 'C0SIMRAND1' },
      });
      expect(res.status).toBe('ok');
      expect(slack.requests).toHaveLength(1);
    } finally {
      await server.close();
      await slack.close();
    }
  });
});
