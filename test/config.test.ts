import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { envName, loadSettings } from '../src/config/load.js';
import { startServer, tempDir } from './helpers/server.js';

const dir = tempDir('kcs-config-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function yamlFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('settings', () => {
  it('has Kibana defaults', () => {
    const s = loadSettings();
    expect(s['server.port']).toBe(5601);
    expect(s['server.host']).toBe('localhost');
    expect(s['server.maxPayload']).toBe(1048576);
    expect(s['path.data']).toBe('./data');
    expect(s['xpack.actions.allowedHosts']).toEqual(['*']);
    expect(s['xpack.actions.enabledActionTypes']).toEqual(['*']);
    expect(s['xpack.actions.preconfigured']).toEqual([]);
    expect(s['xpack.actions.maxResponseContentLength']).toBe(1024 * 1024);
    expect(s['xpack.actions.responseTimeout']).toBe(60_000);
    expect(s['store.engine']).toBe('sqlite');
    expect(s['xpack.encryptedSavedObjects.encryptionKey']).toBeUndefined();
  });

  it('reads nested maps and flat dotted keys alike', () => {
    const nested = yamlFile(
      'nested.yml',
      [
        'server:',
        '  port: 7000',
        '  host: 0.0.0.0',
        'xpack:',
        '  actions:',
        '    allowedHosts: [hooks.slack.com, example.org]',
        '    responseTimeout: 5s',
        '    maxResponseContentLength: 2mb',
        '    preconfigured:',
        '      my-log:',
        '        name: My log',
        '        actionTypeId: .server-log',
        'connectors:',
        '  baseUrls:',
        '    .slack_api: http://127.0.0.1:9000/api/',
      ].join('\n'),
    );
    const flat = yamlFile(
      'flat.yml',
      [
        'server.port: 7000',
        'server.host: 0.0.0.0',
        'xpack.actions.allowedHosts: [hooks.slack.com, example.org]',
        'xpack.actions.responseTimeout: 5s',
        'xpack.actions.maxResponseContentLength: 2mb',
        'xpack.actions.preconfigured:',
        '  my-log: { name: My log, actionTypeId: .server-log }',
        'connectors.baseUrls: { .slack_api: "http://127.0.0.1:9000/api/" }',
      ].join('\n'),
    );
    for (const configPath of [nested, flat]) {
      const s = loadSettings({ configPath });
      expect(s['server.port']).toBe(7000);
      expect(s['server.host']).toBe('0.0.0.0');
      expect(s['xpack.actions.allowedHosts']).toEqual(['hooks.slack.com', 'example.org']);
      expect(s['xpack.actions.responseTimeout']).toBe(5000);
      expect(s['xpack.actions.maxResponseContentLength']).toBe(2 * 1024 * 1024);
      expect(s['xpack.actions.preconfigured']).toEqual([
        {
          id: 'my-log',
          name: 'My log',
          actionTypeId: '.server-log',
          config: {},
          secrets: {},
          exposeConfig: false,
        },
      ]);
      expect(s['connectors.baseUrls']).toEqual({ '.slack_api': 'http://127.0.0.1:9000/api/' });
    }
  });

  it('lets environment variables in Kibana Docker names win over the file', () => {
    expect(envName('xpack.actions.allowedHosts')).toBe('XPACK_ACTIONS_ALLOWEDHOSTS');
    const configPath = yamlFile('env.yml', 'server.port: 7000\nserver.name: from-file\n');
    const s = loadSettings({
      configPath,
      env: {
        SERVER_PORT: '8123',
        SERVER_NAME: '12345',
        XPACK_ACTIONS_ALLOWEDHOSTS: 'a.example.com, b.example.com',
        XPACK_ACTIONS_ENABLEDACTIONTYPES: '[".index"]',
        DATABASE_URL: 'postgres://localhost/test',
        UNRELATED: 'x',
      },
    });
    expect(s['server.port']).toBe(8123);
    expect(s['server.name']).toBe('12345');
    expect(s['xpack.actions.allowedHosts']).toEqual(['a.example.com', 'b.example.com']);
    expect(s['xpack.actions.enabledActionTypes']).toEqual(['.index']);
    expect(s['store.postgres.url']).toBe('postgres://localhost/test');
  });

  it('names an unknown setting or a bad value', () => {
    const unknown = yamlFile('unknown.yml', 'server.prot: 1\nxpack.actions.nope: true\n');
    expect(() => loadSettings({ configPath: unknown })).toThrow(
      'Unknown configuration key(s): "server.prot", "xpack.actions.nope". Check for spelling errors and ensure that expected plugins are installed.',
    );
    const bad = yamlFile('bad.yml', 'server.port: "high"\n');
    expect(() => loadSettings({ configPath: bad })).toThrow(
      '[server.port]: expected value of type [number] but got [string]',
    );
    const badDuration = yamlFile('duration.yml', 'xpack.actions.responseTimeout: soon\n');
    expect(() => loadSettings({ configPath: badDuration })).toThrow(
      '[xpack.actions.responseTimeout]: expected a duration such as "60s" or "5m", got [soon]',
    );
    const shortKey = yamlFile('key.yml', 'xpack.encryptedSavedObjects.encryptionKey: short\n');
    expect(() => loadSettings({ configPath: shortKey })).toThrow(
      '[xpack.encryptedSavedObjects.encryptionKey]: value has length [5] but it must have a minimum length of [32].',
    );
    const badPre = yamlFile(
      'pre.yml',
      'xpack.actions.preconfigured:\n  x: { name: "", actionTypeId: .index }\n',
    );
    expect(() => loadSettings({ configPath: badPre })).toThrow(
      '[xpack.actions.preconfigured.x.name]: value has length [0] but it must have a minimum length of [1].',
    );
    const proto = yamlFile(
      'proto.yml',
      'xpack.actions.preconfigured:\n  constructor: { name: x, actionTypeId: .index }\n',
    );
    expect(() => loadSettings({ configPath: proto })).toThrow(
      'invalid preconfigured action id "constructor"',
    );
  });

  it('parses YAML with the safe core schema only', () => {
    const tagged = yamlFile(
      'tagged.yml',
      'server.name: !!js/function "function () { return 1 }"\n',
    );
    expect(() => loadSettings({ configPath: tagged })).toThrow(
      `Invalid YAML in ${tagged}: Unresolved tag: tag:yaml.org,2002:js/function at line 1, column 14:`,
    );
  });

  it('stops the process with one clear line and exit code 1', () => {
    const bad = yamlFile('cli.yml', 'server.port: "high"\n');
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', '-c', bad], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'FATAL  [server.port]: expected value of type [number] but got [string]',
    ]);
  });
});

describe('the encryption key', () => {
  it('is generated once under path.data, with one warning, when not configured', async () => {
    const dataDir = tempDir('kcs-key-');
    const first = await startServer({
      dataDir,
      settings: { 'xpack.encryptedSavedObjects.encryptionKey': undefined },
    });
    const keyFile = join(dataDir, 'encryption.key');
    expect(existsSync(keyFile)).toBe(true);
    const key = readFileSync(keyFile, 'utf8');
    const warnings = first.logs.filter((l) =>
      l.includes('xpack.encryptedSavedObjects.encryptionKey is not set'),
    );
    expect(warnings).toHaveLength(1);
    const created = await first.api<{ id: string }>('POST', '/api/actions/connector', {
      body: { name: 'x', connector_type_id: '.server-log' },
    });
    await first.close();

    const second = await startServer({
      dataDir,
      settings: { 'xpack.encryptedSavedObjects.encryptionKey': undefined },
    });
    expect(readFileSync(keyFile, 'utf8')).toBe(key);
    const run = await second.api<{ status: string }>(
      'POST',
      `/api/actions/connector/${created.body.id}/_execute`,
      {
        body: { params: { message: 'still readable' } },
      },
    );
    expect(run.body.status).toBe('ok');
    await second.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('warns while the elastic password is the default', async () => {
    const server = await startServer({ env: {} });
    const res = await server.api('GET', '/api/actions/connectors', {
      auth: `Basic ${Buffer.from('elastic:changeme').toString('base64')}`,
    });
    await server.close();
    expect(res.status).toBe(200);
    expect(server.logs.some((l) => l.includes('uses the default password'))).toBe(true);
  });
});
