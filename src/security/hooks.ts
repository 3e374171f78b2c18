import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Settings } from '../config/settings.js';
import { badRequest, HttpError, unauthorized } from '../errors.js';
import { type AuditLogger, type AuditRequest, loginFailureEvent } from './audit.js';
import { AuthenticationError, type Authenticator } from './authenticator.js';
import type { Principal } from './principal.js';

/**
 * Authentication (onRequest, after routing: an unknown route answers 404 first) and the XSRF and
 * kbn-version checks (preValidation, after authentication and before body validation), the
 * order Kibana's HTTP server runs them in.
 */

export type AuthMode = 'required' | 'optional' | 'none';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'optional': anonymous callers get through with no principal. Default 'required'. */
    auth?: AuthMode;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
    spaceId: string;
  }
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

export const XSRF_MISSING = 'Request must contain a kbn-xsrf header.';

/** The request as audit records describe it. */
export function auditRequestOf(request: FastifyRequest): AuditRequest {
  const query = request.url.indexOf('?');
  return {
    id: request.id,
    ip: request.ip,
    method: request.method,
    path: query < 0 ? request.url : request.url.slice(0, query),
    spaceId: request.spaceId,
  };
}

export function registerSecurityHooks(
  app: FastifyInstance,
  options: {
    authenticator: Authenticator;
    settings: Settings;
    version: string;
    publicPrefixes: readonly string[];
    audit: AuditLogger;
  },
): void {
  const { authenticator, settings, version, publicPrefixes, audit } = options;
  const xsrfOff = settings['server.xsrf.disableProtection'];
  const xsrfAllowlist = new Set(settings['server.xsrf.allowlist']);

  const fail = (request: FastifyRequest, err: unknown): Error => {
    if (!(err instanceof AuthenticationError)) return err as Error;
    audit.log(loginFailureEvent(err.response, err.claimed.username), {
      request: auditRequestOf(request),
    });
    return err.response;
  };

  // Callback-style hooks: most requests are answered from the credential cache without a promise.
  const authHook = (mode: 'required' | 'optional') =>
    function authenticate(
      request: FastifyRequest,
      _reply: FastifyReply,
      done: (err?: Error) => void,
    ): void {
      const header = request.headers.authorization;
      const admit = (principal: Principal | undefined): Error | undefined => {
        if (principal === undefined && mode === 'required') return unauthorized();
        request.principal = principal;
        return undefined;
      };
      const recalled = authenticator.recall(header, request.raw.socket);
      if (recalled !== null) {
        done(admit(recalled));
        return;
      }
      authenticator.authenticate(header).then(
        (principal) => done(admit(principal)),
        (err: unknown) => done(fail(request, err)),
      );
    };
  const authHooks = { required: authHook('required'), optional: authHook('optional') };
  const outOfDate = (got: string) =>
    new HttpError(
      400,
      `Browser client is out of date, please refresh the page ("kbn-version" header was "${got}" but should be "${version}")`,
      { expected: version, got },
    );
  // A kbn-version header must name this version; where XSRF protection applies, an unsafe
  // method needs kbn-xsrf (any value) or kbn-version.
  const headerCheck = (xsrf: boolean) =>
    function checkHeaders(
      request: FastifyRequest,
      _reply: FastifyReply,
      done: (err?: Error) => void,
    ): void {
      const versionHeader = request.headers['kbn-version'];
      if (
        xsrf &&
        versionHeader === undefined &&
        request.headers['kbn-xsrf'] === undefined &&
        UNSAFE_METHODS.has(request.method)
      ) {
        done(badRequest(XSRF_MISSING));
        return;
      }
      done(
        typeof versionHeader === 'string' && versionHeader !== version
          ? outOfDate(versionHeader)
          : undefined,
      );
    };
  const headerChecks = { xsrf: headerCheck(true), versionOnly: headerCheck(false) };

  // What each route needs is settled when it is declared, so a request runs only the checks its
  // route has, and none of them has to look the route's options up. The hooks go first in the
  // route's own lists: anything a plugin adds per route (the rate limiter) runs after them. An
  // unknown route has none of them: it answers 404 first, as Kibana does.
  app.addHook('onRoute', (route) => {
    const mode = route.config?.auth ?? 'required';
    if (mode !== 'none' && !publicPrefixes.some((p) => route.url.startsWith(p))) {
      const own = authHooks[mode];
      const hooks = listOf(route.onRequest);
      if (!hooks.includes(own)) route.onRequest = [own, ...hooks];
    }
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const xsrf =
      !xsrfOff && methods.some((m) => UNSAFE_METHODS.has(m)) && !xsrfAllowlist.has(route.url);
    const own = xsrf ? headerChecks.xsrf : headerChecks.versionOnly;
    const hooks = listOf(route.preValidation);
    if (!hooks.includes(own)) route.preValidation = [own, ...hooks];
  });
}

/** A route's hooks of one kind as a list: fastify takes one function or an array. */
function listOf<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}
