import type { IncomingMessage } from 'node:http';
import { DEFAULT_SPACE_ID, splitSpaceUrl } from './path.js';

/**
 * The `/s/{space_id}` prefix is removed before routing (Fastify's rewriteUrl, Kibana's
 * onPreRouting), and the space is remembered on the raw request for the handlers.
 */
const SPACE = Symbol('spaceId');

type WithSpace = IncomingMessage & { [SPACE]?: string };

export function rewriteSpaceUrl(req: IncomingMessage): string {
  const { spaceId, url } = splitSpaceUrl(req.url ?? '/');
  if (spaceId !== DEFAULT_SPACE_ID || url !== req.url) (req as WithSpace)[SPACE] = spaceId;
  return url;
}

export function spaceIdOf(req: IncomingMessage): string {
  return (req as WithSpace)[SPACE] ?? DEFAULT_SPACE_ID;
}
