import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  defaultSettings,
  isSettingKey,
  SettingError,
  type SettingKey,
  type Settings,
  SPEC,
  specOf,
} from './settings.js';

export { SettingError };

/**
 * Settings come from, in rising priority: defaults, the YAML file (flat dotted keys or nested
 * maps, as kibana.yml), then environment variables named as in Kibana's Docker image
 * (SERVER_PORT → server.port, XPACK_ACTIONS_ALLOWEDHOSTS → xpack.actions.allowedHosts).
 */
export interface LoadOptions {
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Values that win over everything else (tests, embedding). */
  overrides?: Partial<Record<SettingKey, unknown>>;
}

/** The YAML parser is loaded only when there is YAML to read (a settings file or variable). */
let yaml: typeof import('yaml') | undefined;
function yamlLibrary(): typeof import('yaml') {
  yaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml;
}

/**
 * The core schema knows only plain scalars, maps and lists; an unknown tag (`!!js/function`,
 * `!!binary`, ...) is refused rather than read as text, and alias expansion is bounded.
 */
function parseYamlSafely(text: string): unknown {
  const doc = yamlLibrary().parseDocument(text, { schema: 'core', uniqueKeys: true, merge: false });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) throw new Error(problem.message.split('\n')[0]);
  return doc.toJS({ maxAliasCount: 100 });
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Flatten nested maps into dotted keys, stopping at known settings (some are maps themselves). */
function flatten(source: Record<string, unknown>, prefix: string, out: Map<string, unknown>): void {
  for (const [part, value] of Object.entries(source)) {
    const key = prefix === '' ? part : `${prefix}.${part}`;
    if (isSettingKey(key) || !isMap(value)) out.set(key, value);
    else flatten(value, key, out);
  }
}

export function envName(key: string): string {
  return key.toUpperCase().replace(/\./g, '_');
}

const ENV_TO_KEY = new Map(Object.keys(SPEC).map((key) => [envName(key), key as SettingKey]));

/** Plain words and numbers are read as they are; anything else (lists, maps, quoted text) as YAML. */
function parseEnvValue(text: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^[\w.:/@%+-]*$/.test(text) && text !== '' && !/^(null|~|yes|no|on|off)$/i.test(text))
    return text;
  return parseYamlSafely(text);
}

function fromEnv(env: NodeJS.ProcessEnv, out: Map<string, unknown>): void {
  for (const [name, text] of Object.entries(env)) {
    const key = ENV_TO_KEY.get(name);
    if (key === undefined || text === undefined) continue;
    let value: unknown;
    try {
      value = parseEnvValue(text);
    } catch {
      value = text;
    }
    if (specOf(key).list && typeof value === 'string') {
      value = value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    }
    // A bare string that YAML read as a number or boolean stays text for string settings.
    if (typeof value !== 'string' && !Array.isArray(value) && !isMap(value) && specOf(key).text) {
      value = text;
    }
    out.set(key, value);
  }
  if (env.DATABASE_URL && !out.has('store.postgres.url'))
    out.set('store.postgres.url', env.DATABASE_URL);
}

export function loadSettings(options: LoadOptions = {}): Settings {
  const raw = new Map<string, unknown>();
  if (options.configPath !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.configPath, 'utf8');
    } catch (err) {
      throw new Error(
        `Unable to read the settings file ${options.configPath}: ${(err as Error).message}`,
      );
    }
    let doc: unknown;
    try {
      doc = parseYamlSafely(text);
    } catch (err) {
      throw new Error(
        `Invalid YAML in ${options.configPath}: ${(err as Error).message.split('\n')[0]}`,
      );
    }
    if (doc !== null && doc !== undefined) {
      if (!isMap(doc))
        throw new Error(`The settings file ${options.configPath} must hold a map of settings`);
      flatten(doc, '', raw);
    }
  }
  fromEnv(options.env ?? {}, raw);
  for (const [key, value] of Object.entries(options.overrides ?? {})) raw.set(key, value);

  const unknown = [...raw.keys()].filter((key) => !isSettingKey(key));
  if (unknown.length > 0) {
    const list = unknown.map((k) => `"${k}"`).join(', ');
    throw new Error(
      `Unknown configuration key(s): ${list}. Check for spelling errors and ensure that expected plugins are installed.`,
    );
  }

  const settings: Record<string, unknown> = { ...defaultSettings() };
  for (const [key, value] of raw) {
    if (value === null || value === undefined) continue;
    settings[key] = specOf(key as SettingKey).parse(value, key);
  }
  return settings as Settings;
}
