/**
 * The HTML part of an email, rendered from its markdown text the way Kibana's markdown-it does
 * (CommonMark, raw HTML escaped, bare links turned into links). This covers what alert messages
 * use: paragraphs, headings, rules, lists, quotes, code, emphasis, links, images and linkified
 * URLs and addresses; reference-style links and HTML blocks stay plain text.
 */

export function renderMarkdown(markdown: string): string {
  const lines = markdown.replace(/\r\n?/g, '\n').replace(/\t/g, '    ').split('\n');
  return renderBlocks(lines);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ESCAPES[c] ?? c);
}

const BLANK = /^[ ]*$/;
const THEMATIC_BREAK = /^ {0,3}(?:(?:\*[ ]*){3,}|(?:-[ ]*){3,}|(?:_[ ]*){3,})$/;
const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ ]+(.*))?$/;
const FENCE_OPEN = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const BLOCKQUOTE = /^ {0,3}> ?/;
const BULLET = /^( {0,3})([-+*])( {1,4}|$)/;
const ORDERED = /^( {0,3})(\d{1,9})([.)])( {1,4}|$)/;
const SETEXT = /^ {0,3}(=+|-+)[ ]*$/;

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

interface ListMarker {
  ordered: boolean;
  /** The bullet character, or the ordered delimiter. */
  char: string;
  start: number;
  /** Columns before the item's content. */
  contentIndent: number;
  empty: boolean;
}

function listMarker(line: string): ListMarker | undefined {
  const bullet = BULLET.exec(line);
  if (bullet) {
    const [whole, lead = '', char = '', space = ''] = bullet;
    const empty = line.slice(whole.length).trim() === '';
    const gap = space.length === 0 || space.length > 4 ? 1 : space.length;
    return { ordered: false, char, start: 1, contentIndent: lead.length + 1 + gap, empty };
  }
  const ordered = ORDERED.exec(line);
  if (ordered) {
    const [whole, lead = '', digits = '', char = '', space = ''] = ordered;
    const empty = line.slice(whole.length).trim() === '';
    const gap = space.length === 0 || space.length > 4 ? 1 : space.length;
    return {
      ordered: true,
      char,
      start: Number(digits),
      contentIndent: lead.length + digits.length + 1 + gap,
      empty,
    };
  }
  return undefined;
}

/** Whether a line starts a block that ends an open paragraph. */
function interruptsParagraph(line: string): boolean {
  if (THEMATIC_BREAK.test(line) || ATX_HEADING.test(line) || FENCE_OPEN.test(line)) return true;
  if (BLOCKQUOTE.test(line)) return true;
  const marker = listMarker(line);
  return marker !== undefined && !marker.empty && (!marker.ordered || marker.start === 1);
}

interface Block {
  html: string;
  /** A paragraph of a tight list item: its text without <p>. */
  hidden: boolean;
}

function renderBlocks(lines: readonly string[], tight = false): string {
  return joinBlocks(readBlocks(lines, tight));
}

/** A line break goes between a bare paragraph and the block after it, as markdown-it writes it. */
function joinBlocks(blocks: readonly Block[]): string {
  let html = '';
  for (const [k, block] of blocks.entries()) {
    if (k > 0 && !block.hidden && blocks[k - 1]?.hidden) html += '\n';
    html += block.html;
  }
  return html;
}

function readBlocks(lines: readonly string[], tight: boolean): Block[] {
  const out: Block[] = [];
  const push = (html: string) => out.push({ html, hidden: false });
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (BLANK.test(line)) {
      i += 1;
      continue;
    }
    const fence = FENCE_OPEN.exec(line);
    if (fence && !(fence[2]?.startsWith('`') && fence[3]?.includes('`'))) {
      const [, lead = '', marks = '', info = ''] = fence;
      const body: string[] = [];
      i += 1;
      while (i < lines.length) {
        const next = lines[i] ?? '';
        const close = /^ {0,3}(`{3,}|~{3,})[ ]*$/.exec(next);
        if (close?.[1]?.[0] === marks[0] && (close?.[1]?.length ?? 0) >= marks.length) {
          i += 1;
          break;
        }
        body.push(next.slice(Math.min(lead.length, indentOf(next))));
        i += 1;
      }
      const language = info.trim().split(/\s+/)[0] ?? '';
      const attr = language === '' ? '' : ` class="language-${escapeHtml(unescapeText(language))}"`;
      const content = body.map((l) => `${l}\n`).join('');
      push(`<pre><code${attr}>${escapeHtml(content)}</code></pre>\n`);
      continue;
    }
    if (indentOf(line) >= 4) {
      const body: string[] = [];
      while (i < lines.length && (indentOf(lines[i] ?? '') >= 4 || BLANK.test(lines[i] ?? ''))) {
        body.push((lines[i] ?? '').slice(4));
        i += 1;
      }
      while (body.length > 0 && BLANK.test(body.at(-1) ?? '')) body.pop();
      push(`<pre><code>${escapeHtml(body.map((l) => `${l}\n`).join(''))}</code></pre>\n`);
      continue;
    }
    if (THEMATIC_BREAK.test(line)) {
      push('<hr>\n');
      i += 1;
      continue;
    }
    const heading = ATX_HEADING.exec(line);
    if (heading) {
      const level = heading[1]?.length ?? 1;
      const text = (heading[2] ?? '')
        .trim()
        .replace(/(^|[ ]+)#+[ ]*$/, '')
        .trim();
      push(`<h${level}>${renderInline(text)}</h${level}>\n`);
      i += 1;
      continue;
    }
    if (BLOCKQUOTE.test(line)) {
      const inner: string[] = [];
      while (i < lines.length) {
        const next = lines[i] ?? '';
        if (BLOCKQUOTE.test(next)) inner.push(next.replace(BLOCKQUOTE, ''));
        else if (!BLANK.test(next) && !interruptsParagraph(next) && inner.length > 0) {
          inner.push(next);
        } else break;
        i += 1;
      }
      push(`<blockquote>\n${renderBlocks(inner)}</blockquote>\n`);
      continue;
    }
    const marker = listMarker(line);
    if (marker) {
      const list = readList(lines, i, marker);
      push(list.html);
      i = list.end;
      continue;
    }
    const paragraph: string[] = [];
    let setext = 0;
    while (i < lines.length) {
      const next = lines[i] ?? '';
      if (BLANK.test(next)) break;
      if (paragraph.length > 0) {
        const underline = SETEXT.exec(next);
        if (underline && indentOf(next) < 4) {
          setext = underline[1]?.startsWith('=') ? 1 : 2;
          i += 1;
          break;
        }
        if (interruptsParagraph(next)) break;
      }
      paragraph.push(next.trimStart());
      i += 1;
    }
    const text = paragraph.join('\n').trimEnd();
    if (setext > 0) push(`<h${setext}>${renderInline(text)}</h${setext}>\n`);
    else if (tight) out.push({ html: renderInline(text), hidden: true });
    else push(`<p>${renderInline(text)}</p>\n`);
  }
  return out;
}

function readList(
  lines: readonly string[],
  from: number,
  first: ListMarker,
): { html: string; end: number } {
  const items: string[][] = [];
  let loose = false;
  let i = from;
  let marker: ListMarker | undefined = first;
  while (marker !== undefined) {
    const head = lines[i] ?? '';
    const item = [head.slice(Math.min(marker.contentIndent, head.length))];
    const indent = marker.contentIndent;
    i += 1;
    let sawBlank = false;
    while (i < lines.length) {
      const next = lines[i] ?? '';
      if (BLANK.test(next)) {
        sawBlank = true;
        item.push('');
        i += 1;
        continue;
      }
      if (indentOf(next) >= indent) {
        if (sawBlank && item.some((l) => !BLANK.test(l))) loose = true;
        sawBlank = false;
        item.push(next.slice(indent));
        i += 1;
        continue;
      }
      if (!sawBlank && !interruptsParagraph(next) && listMarker(next) === undefined) {
        item.push(next.trimStart());
        i += 1;
        continue;
      }
      break;
    }
    while (item.length > 0 && BLANK.test(item.at(-1) ?? '')) item.pop();
    items.push(item);
    const next = listMarker(lines[i] ?? '');
    if (next && next.ordered === marker.ordered && next.char === marker.char) {
      if (sawBlank) loose = true;
      marker = next;
    } else {
      marker = undefined;
    }
  }
  const tag = first.ordered ? 'ol' : 'ul';
  const start = first.ordered && first.start !== 1 ? ` start="${first.start}"` : '';
  let html = `<${tag}${start}>\n`;
  for (const item of items) {
    const blocks = readBlocks(item, !loose);
    if (blocks.length === 0) html += '<li></li>\n';
    else if (blocks[0]?.hidden) html += `<li>${joinBlocks(blocks)}</li>\n`;
    else html += `<li>\n${joinBlocks(blocks)}</li>\n`;
  }
  return { html: `${html}</${tag}>\n`, end: i };
}

const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/;
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~\p{P}\p{S}]/u;
const WHITESPACE = /\s/u;

function unescapeText(text: string): string {
  return text.replace(/\\([!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~])/g, '$1');
}

type Node =
  | { kind: 'html'; html: string }
  | { kind: 'text'; text: string }
  | { kind: 'delim'; char: string; count: number; canOpen: boolean; canClose: boolean };

/** Inline markdown of one block (already trimmed) to HTML. */
export function renderInline(text: string, inLink = false): string {
  const nodes: Node[] = [];
  let buffer = '';
  const flush = () => {
    if (buffer !== '') nodes.push({ kind: 'text', text: buffer });
    buffer = '';
  };
  const html = (value: string) => {
    flush();
    nodes.push({ kind: 'html', html: value });
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === '\\') {
      const next = text[i + 1] ?? '';
      if (next === '\n') {
        html('<br>\n');
        i += 2;
        continue;
      }
      if (ASCII_PUNCTUATION.test(next) && next !== '') {
        buffer += next;
        i += 2;
        continue;
      }
    }
    if (c === '\n') {
      const hard = / {2,}$/.test(buffer);
      buffer = buffer.replace(/ +$/, '');
      html(hard ? '<br>\n' : '\n');
      i += 1;
      while (text[i] === ' ') i += 1;
      continue;
    }
    if (c === '`') {
      const run = /^`+/.exec(text.slice(i))?.[0] ?? '`';
      const close = findCodeClose(text, i + run.length, run.length);
      if (close >= 0) {
        let code = text.slice(i + run.length, close).replace(/\n/g, ' ');
        if (/^ .*[^ ].* $/.test(code) || (/^ [^ ]/.test(code) && / $/.test(code))) {
          code = code.slice(1, -1);
        }
        html(`<code>${escapeHtml(code)}</code>`);
        i = close + run.length;
        continue;
      }
      buffer += run;
      i += run.length;
      continue;
    }
    if (c === '<') {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: an autolink ends at any control character.
      const auto = /^<([a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^<>\u0000-\u0020]*)>/.exec(text.slice(i));
      const mail =
        /^<([a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*)>/.exec(
          text.slice(i),
        );
      const target = auto?.[1] ?? (mail?.[1] !== undefined ? `mailto:${mail[1]}` : undefined);
      if (!inLink && target !== undefined && isSafeLink(target)) {
        const shown = auto?.[1] ?? mail?.[1] ?? '';
        html(`<a href="${escapeHtml(normalizeLink(target))}">${escapeHtml(shown)}</a>`);
        i += (auto ?? mail)?.[0].length ?? 1;
        continue;
      }
    }
    if (c === '[' || (c === '!' && text[i + 1] === '[')) {
      const image = c === '!';
      const link = parseLink(text, image ? i + 1 : i);
      if (link && (image || !inLink) && isSafeLink(link.destination)) {
        const href = escapeHtml(normalizeLink(link.destination));
        const title = link.title === undefined ? '' : ` title="${escapeHtml(link.title)}"`;
        if (image) {
          const alt = plainText(renderInline(link.label, true));
          html(`<img src="${href}" alt="${escapeHtml(alt)}"${title}>`);
        } else {
          html(`<a href="${href}"${title}>${renderInline(link.label, true)}</a>`);
        }
        i = link.end;
        continue;
      }
    }
    if (c === '&') {
      const entity = /^&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});/.exec(
        text.slice(i),
      );
      const decoded = entity?.[1] !== undefined ? decodeEntity(entity[1]) : undefined;
      if (entity && decoded !== undefined) {
        buffer += decoded;
        i += entity[0].length;
        continue;
      }
    }
    if (c === '*' || c === '_') {
      const run =
        c === '*' ? (/^\*+/.exec(text.slice(i))?.[0] ?? c) : (/^_+/.exec(text.slice(i))?.[0] ?? c);
      const before = i === 0 ? ' ' : (text[i - 1] ?? ' ');
      const after = text[i + run.length] ?? ' ';
      const leftFlanking =
        !WHITESPACE.test(after) &&
        (!PUNCTUATION.test(after) || WHITESPACE.test(before) || PUNCTUATION.test(before));
      const rightFlanking =
        !WHITESPACE.test(before) &&
        (!PUNCTUATION.test(before) || WHITESPACE.test(after) || PUNCTUATION.test(after));
      const canOpen =
        c === '*' ? leftFlanking : leftFlanking && (!rightFlanking || PUNCTUATION.test(before));
      const canClose =
        c === '*' ? rightFlanking : rightFlanking && (!leftFlanking || PUNCTUATION.test(after));
      flush();
      nodes.push({ kind: 'delim', char: c, count: run.length, canOpen, canClose });
      i += run.length;
      continue;
    }
    buffer += c;
    i += 1;
  }
  flush();
  return renderNodes(resolveEmphasis(nodes), inLink);
}

function findCodeClose(text: string, from: number, length: number): number {
  let i = from;
  while (i < text.length) {
    const at = text.indexOf('`', i);
    if (at < 0) return -1;
    const run = /^`+/.exec(text.slice(at))?.[0].length ?? 1;
    if (run === length) return at;
    i = at + run;
  }
  return -1;
}

interface ParsedLink {
  label: string;
  destination: string;
  title?: string;
  end: number;
}

/** `[label](destination "title")` starting at `[`; undefined when it is not one. */
function parseLink(text: string, open: number): ParsedLink | undefined {
  let depth = 0;
  let i = open;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      i += 1;
      continue;
    }
    if (c === '`') {
      const run = /^`+/.exec(text.slice(i))?.[0].length ?? 1;
      const close = findCodeClose(text, i + run, run);
      if (close >= 0) i = close + run - 1;
      continue;
    }
    if (c === '[') depth += 1;
    if (c === ']') {
      depth -= 1;
      if (depth === 0) break;
    }
  }
  if (depth !== 0 || text[i + 1] !== '(') return undefined;
  const label = text.slice(open + 1, i);
  const rest = text.slice(i + 2);
  const inline =
    /^[ \n]*(?:<([^<>\n]*)>|((?:[^\s()\\]|\\.|\((?:[^\s()\\]|\\.)*\))*))(?:[ \n]+(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|\(((?:[^()\\]|\\.)*)\)))?[ \n]*\)/.exec(
      rest,
    );
  if (!inline) return undefined;
  const destination = unescapeText(inline[1] ?? inline[2] ?? '');
  const rawTitle = inline[3] ?? inline[4] ?? inline[5];
  return {
    label,
    destination: decodeEntities(destination),
    ...(rawTitle !== undefined ? { title: decodeEntities(unescapeText(rawTitle)) } : {}),
    end: i + 2 + inline[0].length,
  };
}

/** markdown-it refuses these schemes, except images in a few raster formats. */
function isSafeLink(url: string): boolean {
  const trimmed = url.trim().toLowerCase();
  if (/^data:image\/(gif|png|jpeg|webp);/.test(trimmed)) return true;
  return !/^(vbscript|javascript|file|data):/.test(trimmed);
}

/** Percent-encode what a URL may not carry, keeping existing escapes (as mdurl does). */
function normalizeLink(url: string): string {
  let out = '';
  for (let i = 0; i < url.length; i++) {
    const c = url[i] ?? '';
    if (c === '%' && /^[0-9a-fA-F]{2}$/.test(url.slice(i + 1, i + 3))) {
      out += url.slice(i, i + 3);
      i += 2;
    } else if (/[A-Za-z0-9;/?:@&=+$,\-_.!~*'()#]/.test(c)) {
      out += c;
    } else {
      const code = url.codePointAt(i) ?? 0;
      const char = String.fromCodePoint(code);
      if (code > 0xffff) i += 1;
      out += encodeURIComponent(char);
    }
  }
  return out;
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  laquo: '«',
  raquo: '»',
  euro: '€',
};

function decodeEntity(name: string): string | undefined {
  if (name.startsWith('#')) {
    const code =
      name[1] === 'x' || name[1] === 'X'
        ? Number.parseInt(name.slice(2), 16)
        : Number(name.slice(1));
    if (!Number.isFinite(code) || code === 0 || code > 0x10ffff) return '\uFFFD';
    return String.fromCodePoint(code);
  }
  return NAMED_ENTITIES[name];
}

function decodeEntities(text: string): string {
  return text.replace(
    /&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});/g,
    (whole, name: string) => decodeEntity(name) ?? whole,
  );
}

/** CommonMark's emphasis pass: pair `*`/`_` runs into <em> and <strong>. */
function resolveEmphasis(nodes: Node[]): Node[] {
  const out = [...nodes];
  for (let closer = 0; closer < out.length; closer++) {
    const close = out[closer];
    if (close?.kind !== 'delim' || !close.canClose) continue;
    let matched = false;
    for (let opener = closer - 1; opener >= 0; opener--) {
      const open = out[opener];
      if (open?.kind !== 'delim' || open.char !== close.char || !open.canOpen) continue;
      const oddMatch =
        (open.canClose || close.canOpen) &&
        (open.count + close.count) % 3 === 0 &&
        (open.count % 3 !== 0 || close.count % 3 !== 0);
      if (oddMatch) continue;
      const use = open.count >= 2 && close.count >= 2 ? 2 : 1;
      const tag = use === 2 ? 'strong' : 'em';
      const inner = out.slice(opener + 1, closer);
      // Unmatched delimiters inside a pair are literal text.
      const innerNodes: Node[] = inner.map((n) =>
        n.kind === 'delim' ? { kind: 'text', text: n.char.repeat(n.count) } : n,
      );
      open.count -= use;
      close.count -= use;
      const wrapped: Node[] = [
        { kind: 'html', html: `<${tag}>` },
        ...innerNodes,
        { kind: 'html', html: `</${tag}>` },
      ];
      const before = open.count > 0 ? [open] : [];
      const after = close.count > 0 ? [close] : [];
      out.splice(opener, closer - opener + 1, ...before, ...wrapped, ...after);
      closer = opener + before.length + wrapped.length - 1;
      matched = true;
      break;
    }
    if (!matched && !close.canOpen) {
      out[closer] = { kind: 'text', text: close.char.repeat(close.count) };
    }
  }
  return out;
}

function renderNodes(nodes: readonly Node[], inLink: boolean): string {
  let html = '';
  let text = '';
  const flushText = () => {
    html += inLink ? escapeHtml(text) : linkify(text);
    text = '';
  };
  for (const node of nodes) {
    if (node.kind === 'html') {
      flushText();
      html += node.html;
    } else if (node.kind === 'text') {
      text += node.text;
    } else {
      text += node.char.repeat(node.count);
    }
  }
  flushText();
  return html;
}

function plainText(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Top-level domains a bare host may end with to be linked (generic ones, then country codes). */
const FUZZY_TLDS = [
  'biz com edu gov net org pro web xxx aero asia coop info museum name shop рф',
  'ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs',
  'bt bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee',
  'eg er es et eu fi fj fk fm fo fr ga gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm',
  'hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb',
  'lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz',
  'na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs',
  'ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj tk tl',
  'tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw',
]
  .join(' ')
  .split(' ')
  .join('|');

const LINK_CANDIDATE = new RegExp(
  [
    String.raw`(?<![\w@.-])((?:https?|ftp):\/\/[^\s<>]+)`,
    String.raw`(?<![\w@./-])(mailto:[^\s<>@]+@[^\s<>]+)`,
    String.raw`(?<![\w@./-])([a-zA-Z0-9.!#$%&'*+=?^_\x60{|}~-]+@(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.)+(?:${FUZZY_TLDS})(?![\w-]))`,
    String.raw`(?<![\w@./:-])((?:www\.)?(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.)+(?:${FUZZY_TLDS})(?::\d{1,5})?(?![\w-])(?:[/?#][^\s<>]*)?)`,
  ].join('|'),
  'giu',
);

/** Trailing punctuation is not part of a bare link; a closing bracket only when unbalanced. */
function trimLink(url: string): string {
  let end = url.length;
  for (;;) {
    const last = url[end - 1] ?? '';
    if ('.,;:!?\'"*'.includes(last)) {
      end -= 1;
      continue;
    }
    if (last === ')' || last === ']' || last === '}') {
      const open = last === ')' ? '(' : last === ']' ? '[' : '{';
      const slice = url.slice(0, end);
      if (slice.split(open).length < slice.split(last).length) {
        end -= 1;
        continue;
      }
    }
    break;
  }
  return url.slice(0, end);
}

/** Escaped text with bare URLs, `www.` hosts, known domains and email addresses made links. */
function linkify(text: string): string {
  let html = '';
  let last = 0;
  for (const match of text.matchAll(LINK_CANDIDATE)) {
    const raw = match[0];
    const url = trimLink(raw);
    if (url === '') continue;
    const at = match.index ?? 0;
    let href: string;
    if (match[1] !== undefined || match[2] !== undefined) href = url;
    else if (match[3] !== undefined) href = `mailto:${url}`;
    else href = `http://${url}`;
    html += escapeHtml(text.slice(last, at));
    html += `<a href="${escapeHtml(normalizeLink(href))}">${escapeHtml(safeDecode(url))}</a>`;
    last = at + url.length;
  }
  return html + escapeHtml(text.slice(last));
}

function safeDecode(url: string): string {
  try {
    return decodeURI(url);
  } catch {
    return url;
  }
}
