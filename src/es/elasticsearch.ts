import type { Client } from '@elastic/elasticsearch';
import type { Settings } from '../config/settings.js';
import type { BulkResponse, IndexService } from '../connectors/types.js';

type ClientOptions = ConstructorParameters<typeof Client>[0];

/**
 * The .index connector's target when elasticsearch.hosts is set: the official client. The client
 * is a large module, so it is loaded on the first write rather than at start-up.
 */
export class ElasticsearchIndex implements IndexService {
  private client: Promise<Client> | undefined;

  constructor(private readonly settings: Settings) {}

  private connect(): Promise<Client> {
    this.client ??= import('@elastic/elasticsearch').then(({ Client }) => {
      const s = this.settings;
      const options: ClientOptions = {
        nodes: s['elasticsearch.hosts'] ?? [],
        requestTimeout: s['elasticsearch.requestTimeout'],
        tls: { rejectUnauthorized: s['elasticsearch.ssl.verificationMode'] !== 'none' },
      };
      const apiKey = s['elasticsearch.apiKey'];
      const username = s['elasticsearch.username'];
      const password = s['elasticsearch.password'];
      if (apiKey !== undefined) options.auth = { apiKey };
      else if (username !== undefined && password !== undefined)
        options.auth = { username, password };
      return new Client(options);
    });
    return this.client;
  }

  async bulkCreate(
    index: string,
    documents: readonly Record<string, unknown>[],
    options: { refresh: boolean; signal: AbortSignal },
  ): Promise<BulkResponse> {
    const client = await this.connect();
    // One create per document, as Kibana sends it, so data streams accept the writes too.
    const operations = documents.flatMap((doc) => [{ index: { op_type: 'create' as const } }, doc]);
    const response = await client.bulk(
      { index, operations, refresh: options.refresh },
      { signal: options.signal },
    );
    return response as unknown as BulkResponse;
  }

  async close(): Promise<void> {
    if (this.client !== undefined) await (await this.client).close();
  }
}
