/**
 * A small mustache renderer with mustache.js semantics, for the templated URLs and JSON bodies of
 * the cases webhook: `{{name}}` (HTML-escaped, as mustache.js escapes by default), `{{{name}}}`
 * and `{{& name}}` (raw), dotted names looked up through the context stack, sections `{{#x}}`
 * and inverted sections `{{^x}}` (lists, objects, truthy values), comments `{{! }}`, delimiter
 * changes `{{=<% %>=}}`, partials (there are none: they render nothing), and the removal of
 * lines that hold only a standalone tag. Parse errors carry mustache.js's texts
 * (`Unclosed tag at 12`, `Unclosed section "x" at 3`, `Unopened section "x" at 3`).
 *
 * Kibana never lets a rendering error escape: renderNoEscape answers
 * `error rendering mustache template "<template>": <reason>` instead, which then fails the URL or
 * JSON checks that follow.
 */

type TagType = '#' | '^' | '/' | '>' | '&' | '!' | '=' | 'name';

interface TextToken {
  kind: 'text';
  value: string;
}
interface TagToken {
  kind: 'tag';
  type: TagType;
  name: string;
  start: number;
  children: Token[];
}
type Token = TextToken | TagToken;

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '/': '&#x2F;',
  '`': '&#x60;',
  '=': '&#x3D;',
};

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`=/]/g, (c) => HTML_ESCAPES[c] ?? c);
}

const escapeRegExp = (text: string) => text.replace(/[-[\]{}()*+?.,\\^$|#\s]/g, '\\$&');
const WHITE = /\s*/;
const SPACE = /\s+/;
const EQUALS = /\s*=/;
const CURLY = /\s*\}/;
const TAG = /#|\^|\/|>|\{|&|=|!/;

class Scanner {
  tail: string;
  pos = 0;
  constructor(text: string) {
    this.tail = text;
  }
  eos(): boolean {
    return this.tail === '';
  }
  /** Consumes the match of `re` at the current position, or nothing. */
  scan(re: RegExp): string {
    const match = re.exec(this.tail);
    if (match === null || match.index !== 0) return '';
    const text = match[0];
    this.tail = this.tail.slice(text.length);
    this.pos += text.length;
    return text;
  }
  /** Consumes everything up to the next match of `re` (or to the end). */
  scanUntil(re: RegExp): string {
    const index = this.tail.search(re);
    let text: string;
    if (index === -1) {
      text = this.tail;
      this.tail = '';
    } else {
      text = this.tail.slice(0, index);
      this.tail = this.tail.slice(index);
    }
    this.pos += text.length;
    return text;
  }
}

interface Delimiters {
  opening: RegExp;
  closing: RegExp;
  closingCurly: RegExp;
}

function delimiters(tags: readonly [string, string]): Delimiters {
  return {
    opening: new RegExp(`${escapeRegExp(tags[0])}\\s*`),
    closing: new RegExp(`\\s*${escapeRegExp(tags[1])}`),
    closingCurly: new RegExp(`\\s*${escapeRegExp(`}${tags[1]}`)}`),
  };
}

function parseTags(value: string): [string, string] {
  const tags = value.split(SPACE);
  if (tags.length !== 2 || tags[0] === undefined || tags[1] === undefined) {
    throw new Error(`Invalid tags: ${value}`);
  }
  return [tags[0], tags[1]];
}

function parse(template: string): Token[] {
  let tags = delimiters(['{{', '}}']);
  const scanner = new Scanner(template);
  const flat: Array<Token | undefined> = [];
  const sections: TagToken[] = [];
  let spaces: number[] = [];
  let hasTag = false;
  let nonSpace = false;

  // A line holding only whitespace and one non-value tag disappears entirely.
  const stripSpace = () => {
    if (hasTag && !nonSpace) {
      for (const index of spaces) flat[index] = undefined;
    }
    spaces = [];
    hasTag = false;
    nonSpace = false;
  };

  while (!scanner.eos()) {
    const text = scanner.scanUntil(tags.opening);
    for (const chr of text) {
      if (/\s/.test(chr)) spaces.push(flat.length);
      else nonSpace = true;
      flat.push({ kind: 'text', value: chr });
      if (chr === '\n') stripSpace();
    }
    const start = scanner.pos;
    if (!scanner.scan(tags.opening)) break;
    hasTag = true;
    let type = (scanner.scan(TAG) || 'name') as TagType | '{';
    scanner.scan(WHITE);
    let value: string;
    if (type === '=') {
      value = scanner.scanUntil(EQUALS);
      scanner.scan(EQUALS);
      scanner.scanUntil(tags.closing);
    } else if (type === '{') {
      value = scanner.scanUntil(tags.closingCurly);
      scanner.scan(CURLY);
      scanner.scanUntil(tags.closing);
      type = '&';
    } else {
      value = scanner.scanUntil(tags.closing);
    }
    if (!scanner.scan(tags.closing)) throw new Error(`Unclosed tag at ${scanner.pos}`);
    const token: TagToken = { kind: 'tag', type, name: value, start, children: [] };
    flat.push(token);
    if (type === '#' || type === '^') {
      sections.push(token);
    } else if (type === '/') {
      const open = sections.pop();
      if (open === undefined) throw new Error(`Unopened section "${value}" at ${start}`);
      if (open.name !== value) throw new Error(`Unclosed section "${open.name}" at ${start}`);
    } else if (type === 'name' || type === '&') {
      nonSpace = true;
    } else if (type === '=') {
      tags = delimiters(parseTags(value));
    }
  }
  stripSpace();
  const open = sections.pop();
  if (open !== undefined) throw new Error(`Unclosed section "${open.name}" at ${scanner.pos}`);
  return nest(flat);
}

function nest(flat: ReadonlyArray<Token | undefined>): Token[] {
  const root: Token[] = [];
  const stack: TagToken[] = [];
  let collector = root;
  for (const token of flat) {
    if (token === undefined) continue;
    if (token.kind === 'text') {
      const last = collector.at(-1);
      if (last?.kind === 'text') last.value += token.value;
      else collector.push({ ...token });
      continue;
    }
    if (token.type === '#' || token.type === '^') {
      collector.push(token);
      stack.push(token);
      collector = token.children;
    } else if (token.type === '/') {
      stack.pop();
      const parent = stack.at(-1);
      collector = parent === undefined ? root : parent.children;
    } else {
      collector.push(token);
    }
  }
  return root;
}

class Context {
  constructor(
    readonly view: unknown,
    readonly parent?: Context,
  ) {}

  push(view: unknown): Context {
    return new Context(view, this);
  }

  lookup(name: string): unknown {
    if (name === '.') return this.view;
    for (let context: Context | undefined = this; context; context = context.parent) {
      const found = resolve(context.view, name);
      if (found.hit) return found.value;
    }
    return undefined;
  }
}

/** A name's value in one view; only own properties are seen, functions count as absent. */
function resolve(view: unknown, name: string): { hit: boolean; value?: unknown } {
  const names = name.split('.');
  let current: unknown = view;
  for (const [index, key] of names.entries()) {
    if (current === null || current === undefined) return { hit: false };
    const holder = typeof current === 'object' ? current : Object(current);
    const own = Object.hasOwn(holder as object, key);
    if (index === names.length - 1 && !own) return { hit: false };
    current = own ? (holder as Record<string, unknown>)[key] : undefined;
  }
  return typeof current === 'function' ? { hit: false } : { hit: true, value: current };
}

function renderTokens(tokens: readonly Token[], context: Context): string {
  let out = '';
  for (const token of tokens) {
    if (token.kind === 'text') {
      out += token.value;
      continue;
    }
    const value = token.type === '!' || token.type === '>' ? undefined : context.lookup(token.name);
    switch (token.type) {
      case '#':
        if (!value) break;
        if (Array.isArray(value)) {
          for (const item of value) out += renderTokens(token.children, context.push(item));
        } else if (
          typeof value === 'object' ||
          typeof value === 'string' ||
          typeof value === 'number'
        ) {
          out += renderTokens(token.children, context.push(value));
        } else {
          out += renderTokens(token.children, context);
        }
        break;
      case '^':
        if (!value || (Array.isArray(value) && value.length === 0)) {
          out += renderTokens(token.children, context);
        }
        break;
      case '&':
        if (value !== null && value !== undefined) out += String(value);
        break;
      case 'name':
        if (value !== null && value !== undefined) {
          out += typeof value === 'number' ? String(value) : escapeHtml(value);
        }
        break;
      default:
        break;
    }
  }
  return out;
}

/** Renders, throwing mustache.js's parse errors. */
export function render(template: string, view: Record<string, unknown>): string {
  return renderTokens(parse(template), new Context(view));
}

/** Kibana's renderMustacheStringNoEscape: values are pre-stringified; errors become text. */
export function renderNoEscape(template: string, view: Record<string, unknown>): string {
  try {
    return render(template, view);
  } catch (err) {
    return `error rendering mustache template "${template}": ${(err as Error).message}`;
  }
}
