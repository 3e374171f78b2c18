import { type Static, Type } from '@sinclair/typebox';
import { StrictObject, StringEnum } from '../../schemas/common.js';
import { withCheck } from '../../schemas/validate.js';

/** Kibana's own cap on the channels a connector may be limited to. */
export const MAX_ALLOWED_CHANNELS = 500;
/** Slack pages hold at most 1000 items: https://api.slack.com/apis/pagination */
export const MAX_PAGE_LIMIT = 1000;
/** Kibana's bounds for a channel name, "#" included. */
export const CHANNEL_NAME_MIN_LENGTH = 2;
export const CHANNEL_NAME_MAX_LENGTH = 200;

export const CONVERSATION_TYPES = ['public_channel', 'private_channel', 'im', 'mpim'] as const;

export const ConfigSchema = StrictObject({
  allowedChannels: Type.Optional(
    Type.Array(
      StrictObject({
        id: Type.Optional(Type.String({ minLength: 1 })),
        name: Type.String({ minLength: 1 }),
      }),
      { maxItems: MAX_ALLOWED_CHANNELS },
    ),
  ),
});

export const SecretsSchema = StrictObject({
  token: Type.String({ minLength: 1 }),
});

function channelNameRule(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return 'Channel name cannot be empty';
  return value.startsWith('#') ? undefined : 'Channel name must start with #';
}

function blockKitRule(value: unknown): string | undefined {
  try {
    const parsed: unknown = JSON.parse(String(value));
    if (!Object.hasOwn(parsed as object, 'blocks')) {
      return 'block kit body must contain field "blocks"';
    }
  } catch (err) {
    return `block kit body is not valid JSON - ${(err as Error).message}`;
  }
  return undefined;
}

/** Only one channel per message for now; the arrays leave room for more. */
const channelList = () => Type.Optional(Type.Array(Type.String(), { maxItems: 1 }));
const pageLimit = () => Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT }));

const subAction = <N extends string, P extends ReturnType<typeof StrictObject>>(
  name: N,
  params: P,
) => StrictObject({ subAction: Type.Literal(name), subActionParams: params });

export const ParamsSchema = Type.Union([
  subAction('validChannelId', StrictObject({ channelId: Type.Optional(Type.String()) })),
  subAction(
    'postMessage',
    StrictObject({
      /** Deprecated in Kibana in favour of channelIds and channelNames. */
      channels: channelList(),
      channelIds: channelList(),
      channelNames: Type.Optional(
        Type.Array(
          withCheck(
            Type.String({
              minLength: CHANNEL_NAME_MIN_LENGTH,
              maxLength: CHANNEL_NAME_MAX_LENGTH,
            }),
            channelNameRule,
          ),
          { maxItems: 1 },
        ),
      ),
      text: Type.String({ minLength: 1 }),
    }),
  ),
  subAction(
    'postBlockkit',
    StrictObject({
      channels: channelList(),
      channelIds: channelList(),
      channelNames: Type.Optional(
        Type.Array(withCheck(Type.String(), channelNameRule), { maxItems: 1 }),
      ),
      text: withCheck(Type.String(), blockKitRule),
    }),
  ),
  subAction(
    'getConversationsList',
    StrictObject({
      types: Type.Optional(Type.String()),
      cursor: Type.Optional(Type.String()),
      excludeArchived: Type.Optional(Type.Boolean()),
      limit: pageLimit(),
    }),
  ),
  subAction(
    'getConversationsHistory',
    StrictObject({
      channel: Type.String({ minLength: 1 }),
      oldest: Type.Optional(Type.Number()),
      cursor: Type.Optional(Type.String()),
      limit: pageLimit(),
    }),
  ),
  subAction(
    'getConversationsReplies',
    StrictObject({
      channel: Type.String({ minLength: 1 }),
      ts: Type.String({ minLength: 1 }),
    }),
  ),
  subAction(
    'getUsersList',
    StrictObject({ cursor: Type.Optional(Type.String()), limit: pageLimit() }),
  ),
  subAction(
    'getChannelDigest',
    StrictObject({
      since: Type.Integer({ minimum: 0 }),
      types: Type.Array(StringEnum(CONVERSATION_TYPES), { minItems: 1 }),
      keywords: Type.Optional(Type.Array(Type.String())),
    }),
  ),
]);

export type SlackApiConfig = Static<typeof ConfigSchema>;
export type SlackApiSecrets = Static<typeof SecretsSchema>;
export type SlackApiParams = Static<typeof ParamsSchema>;
export type SlackApiSubAction = SlackApiParams['subAction'];
export type SubActionParamsOf<N extends SlackApiSubAction> = Extract<
  SlackApiParams,
  { subAction: N }
>['subActionParams'];
