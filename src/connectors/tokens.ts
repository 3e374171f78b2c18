/**
 * OAuth access tokens a connector fetched (Kibana's connector_token objects), kept in memory.
 * A token belongs to one connector in one space: a connector only ever sees its own scope, and
 * updating or deleting the connector (on this instance or, with a shared store, another) forgets
 * its tokens.
 */

export interface CachedToken {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** The tokens of one connector in one space; `kind` tells several tokens of one connector apart. */
export interface ConnectorTokenScope {
  get(kind?: string): CachedToken | undefined;
  set(token: string, expiresAt: number, kind?: string): void;
  delete(kind?: string): void;
}

const DEFAULT_KIND = 'access_token';

export class ConnectorTokens {
  private readonly tokens = new Map<string, Map<string, CachedToken>>();

  private static key(spaceId: string, connectorId: string): string {
    return JSON.stringify([spaceId, connectorId]);
  }

  scope(spaceId: string, connectorId: string): ConnectorTokenScope {
    const key = ConnectorTokens.key(spaceId, connectorId);
    return {
      get: (kind = DEFAULT_KIND) => {
        const token = this.tokens.get(key)?.get(kind);
        if (token === undefined) return undefined;
        if (token.expiresAt <= Date.now()) {
          this.tokens.get(key)?.delete(kind);
          return undefined;
        }
        return token;
      },
      set: (token, expiresAt, kind = DEFAULT_KIND) => {
        let byKind = this.tokens.get(key);
        if (byKind === undefined) {
          byKind = new Map();
          this.tokens.set(key, byKind);
        }
        byKind.set(kind, { token, expiresAt });
      },
      delete: (kind = DEFAULT_KIND) => {
        this.tokens.get(key)?.delete(kind);
      },
    };
  }

  forget(spaceId: string, connectorId: string): void {
    this.tokens.delete(ConnectorTokens.key(spaceId, connectorId));
  }

  /** Forget the tokens of every connector of a space (the space was deleted). */
  forgetSpace(spaceId: string): void {
    for (const key of this.tokens.keys()) {
      if ((JSON.parse(key) as [string, string])[0] === spaceId) this.tokens.delete(key);
    }
  }

  forgetAll(): void {
    this.tokens.clear();
  }
}
