import { Client } from '@elastic/elasticsearch';
import type { Settings } from '../config/settings.js';
import type { BulkResponse, IndexService } from '../connectors/types.js';

type ClientOptions = ConstructorParameters<typeof Client>[0];

/** The .index connector's target when elasticsearch.hosts is set: the official client. */
export class ElasticsearchIndex implements IndexService {
  private readonly client: Client;

  constructor(settings: Settings) {
    const hosts = settings['elasticsearch.hosts'] ?? [];
    const options: ClientOptions = {
      nodes: hosts,
      requestTimeout: settings['elasticsearch.requestTimeout'],
      tls: { rejectUnauthorized: settings['elasticsearch.ssl.verificationMode'] !== 'none' },
    };
    const apiKey = settings['elasticsearch.apiKey'];
    const username = settings['elasticsearch.username'];
    const password = settings['elasticsearch.password'];
    if (apiKey !== undefined) options.auth = { apiKey };
    else if (username !== undefined && password !== undefined)
      options.auth = { username, password };
    this.client = new Client(options);
  }

  async bulkCreate(
    index: string,
    documents: readonly Record<string, unknown>[],
    options: { refresh: boolean; signal: AbortSignal },
  ): Promise<BulkResponse> {
    // One create per document, as Kibana sends it, so data streams accept the writes too.
    const operations = documents.flatMap((doc) => [{ index: { op_type: 'create' as const } }, doc]);
    const response = await this.client.bulk(
      { index, operations, refresh: options.refresh },
      { signal: options.signal },
    );
    return response as unknown as BulkResponse;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
