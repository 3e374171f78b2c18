/**
 * Kibana's space URL grammar: `/s/{space_id}` in front of any path selects that space, and the
 * rest of the path is routed as usual (`/s/marketing/api/actions/connectors` is
 * `/api/actions/connectors` in space `marketing`). Without the prefix the space is `default`.
 */
export const DEFAULT_SPACE_ID = 'default';

const SPACE_PREFIX = /^\/s\/([a-z0-9_-]+)(?=[/?#]|$)/;

export function splitSpaceUrl(url: string): { spaceId: string; url: string } {
  const match = SPACE_PREFIX.exec(url);
  if (match === null) return { spaceId: DEFAULT_SPACE_ID, url };
  const rest = url.slice(match[0].length);
  return { spaceId: match[1] as string, url: rest === '' || rest[0] !== '/' ? `/${rest}` : rest };
}

/** A space id: lower case letters, digits, '_' and '-'. */
export const SPACE_ID_PATTERN = /^[a-z0-9_-]+$/;
