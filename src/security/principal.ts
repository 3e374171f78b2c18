/** Who is calling, once authenticated. */
export interface Principal {
  username: string;
  roles: readonly string[];
  authenticationType: 'basic' | 'api_key';
  /** Set when the caller used an API key. */
  apiKey?: { id: string; name: string };
}

export const SUPERUSER_ROLE = 'superuser';
