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
  app.addHook(
    'onRequest',
    (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
      if (request.is404) return done();
      const mode = request.routeOptions.config.auth ?? 'required';
      if (mode === 'none' || publicPrefixes.some((p) => request.url.startsWith(p))) return done();
      const header = request.headers.authorization;
      const admit = (principal: Principal | undefined): Error | undefined => {
        if (principal === undefined && mode === 'required') return unauthorized();
        request.principal = principal;
        return undefined;
      };
      const recalled = authenticator.recall(header);
      if (recalled !== null) return done(admit(recalled));
      authenticator.authenticate(header).then(
        (principal) => done(admit(principal)),
        (err: unknown) => done(fail(request, err)),
      );
    },
  );

  app.addHook(
    'preValidation',
    (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
      const versionHeader = request.headers['kbn-version'];
      if (UNSAFE_METHODS.has(request.method) && !xsrfOff) {
        const path = request.routeOptions.url ?? '';
        if (
          request.headers['kbn-xsrf'] === undefined &&
          versionHeader === undefined &&
          !xsrfAllowlist.has(path)
        ) {
          return done(badRequest(XSRF_MISSING));
        }
      }
      if (typeof versionHeader === 'string' && versionHeader !== version) {
        return done(
          new HttpError(
            400,
            `Browser client is out of date, please refresh the page ("kbn-version" header was "${versionHeader}" but should be "${version}")`,
            { expected: version, got: versionHeader },
          ),
        );
      }
      done();
    },
  );
}
