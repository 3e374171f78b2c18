/**
 * Email address checks as Kibana makes them: each entry is read as an RFC 5322 address list
 * (`a@b.c`, `Name <a@b.c>`, `a@b.c, d@e.f`, `team: a@b.c;`); one that does not parse is "not
 * valid", one whose domain is missing from xpack.actions.email.domain_allowlist is "not allowed".
 */

/** `{{...}}` anywhere in an address: a template a rule renders later, so it cannot be judged yet. */
const MUSTACHE = /\{\{((.|\n)*)\}\}/;

export function hasMustacheTemplate(value: string): boolean {
  return MUSTACHE.test(value);
}

export function withoutMustacheTemplate(values: readonly string[]): string[] {
  return values.filter((v) => !hasMustacheTemplate(v));
}

export interface ValidateOptions {
  treatMustacheTemplatesAsValid?: boolean;
}

/**
 * `not valid emails: a, b; not allowed emails: c`, or undefined when every address passes.
 * `allowlist` null means every domain is allowed (the setting is unset).
 */
export function invalidEmailsMessage(
  allowlist: readonly string[] | null | undefined,
  addresses: readonly string[],
  options: ValidateOptions = {},
): string | undefined {
  const allowed = allowlist == null ? null : new Set(allowlist);
  const invalid: string[] = [];
  const notAllowed: string[] = [];
  for (const address of addresses) {
    if (options.treatMustacheTemplatesAsValid && hasMustacheTemplate(address)) continue;
    const parsed = parseAddressList(address);
    if (parsed === null) {
      invalid.push(address);
      continue;
    }
    if (allowed !== null && parsed.some((domain) => !allowed.has(domain))) {
      notAllowed.push(address);
    }
  }
  const parts: string[] = [];
  if (invalid.length > 0) parts.push(`not valid emails: ${invalid.join(', ')}`);
  if (notAllowed.length > 0) parts.push(`not allowed emails: ${notAllowed.join(', ')}`);
  return parts.length === 0 ? undefined : parts.join('; ');
}

const ATEXT = /[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]/;

/**
 * The domains of every mailbox in an RFC 5322 address list, or null when the text is not one.
 * The obsolete forms (a phrase with dots, a local part of quoted words) are accepted, as lenient
 * parsers do; comments in parentheses count as white space.
 */
export function parseAddressList(text: string): string[] | null {
  const parser = new AddressParser(text);
  try {
    const domains = parser.addressList();
    parser.skipCfws();
    return parser.atEnd() ? domains : null;
  } catch (err) {
    if (err instanceof SyntaxFailure) return null;
    throw err;
  }
}

class SyntaxFailure extends Error {}

class AddressParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private peek(): string {
    return this.text[this.pos] ?? '';
  }

  private fail(): never {
    throw new SyntaxFailure();
  }

  private expect(char: string): void {
    if (this.peek() !== char) this.fail();
    this.pos += 1;
  }

  skipCfws(): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
        this.pos += 1;
      } else if (c === '(') {
        this.comment();
      } else {
        return;
      }
    }
  }

  private comment(): void {
    this.expect('(');
    let depth = 1;
    while (depth > 0) {
      const c = this.peek();
      if (c === '') this.fail();
      if (c === '\\') this.pos += 1;
      else if (c === '(') depth += 1;
      else if (c === ')') depth -= 1;
      this.pos += 1;
    }
  }

  private atom(): string | undefined {
    this.skipCfws();
    const start = this.pos;
    while (ATEXT.test(this.peek())) this.pos += 1;
    if (this.pos === start) return undefined;
    const value = this.text.slice(start, this.pos);
    this.skipCfws();
    return value;
  }

  private quotedString(): string | undefined {
    this.skipCfws();
    if (this.peek() !== '"') return undefined;
    this.pos += 1;
    let value = '';
    for (;;) {
      const c = this.peek();
      if (c === '') this.fail();
      this.pos += 1;
      if (c === '"') break;
      if (c === '\\') {
        const next = this.peek();
        if (next === '') this.fail();
        value += next;
        this.pos += 1;
      } else {
        value += c;
      }
    }
    this.skipCfws();
    return `"${value}"`;
  }

  private word(): string | undefined {
    return this.atom() ?? this.quotedString();
  }

  /** Words (and, in the obsolete form, dots) up to what follows a display name. */
  private phrase(): string | undefined {
    const first = this.word();
    if (first === undefined) return undefined;
    const words = [first];
    for (;;) {
      if (this.peek() === '.') {
        this.pos += 1;
        words.push('.');
        continue;
      }
      const next = this.word();
      if (next === undefined) return words.join(' ');
      words.push(next);
    }
  }

  /** local-part "@" domain; returns the domain. */
  private addrSpec(): string {
    const first = this.word();
    if (first === undefined) this.fail();
    while (this.peek() === '.') {
      this.pos += 1;
      if (this.word() === undefined) this.fail();
    }
    this.expect('@');
    return this.domain();
  }

  private domain(): string {
    this.skipCfws();
    if (this.peek() === '[') {
      const start = this.pos;
      this.pos += 1;
      while (this.peek() !== ']') {
        const c = this.peek();
        if (c === '' || c === '[' || c === '\\') this.fail();
        this.pos += 1;
      }
      this.pos += 1;
      const literal = this.text.slice(start, this.pos);
      this.skipCfws();
      return literal;
    }
    const labels: string[] = [];
    const first = this.atom();
    if (first === undefined) this.fail();
    labels.push(first);
    while (this.peek() === '.') {
      this.pos += 1;
      const label = this.atom();
      if (label === undefined) this.fail();
      labels.push(label);
    }
    return labels.join('.');
  }

  private angleAddr(): string {
    this.skipCfws();
    this.expect('<');
    const domain = this.addrSpec();
    this.expect('>');
    this.skipCfws();
    return domain;
  }

  /** One mailbox (its domain), trying `Name <a@b>` before a bare `a@b`. */
  private mailbox(): string {
    const start = this.pos;
    try {
      this.phrase();
      return this.angleAddr();
    } catch (err) {
      if (!(err instanceof SyntaxFailure)) throw err;
      this.pos = start;
    }
    return this.addrSpec();
  }

  private address(): string[] {
    const start = this.pos;
    const name = this.phrase();
    if (name !== undefined && this.peek() === ':') {
      this.pos += 1;
      const domains: string[] = [];
      this.skipCfws();
      if (this.peek() !== ';') {
        domains.push(this.mailbox());
        while (this.peek() === ',') {
          this.pos += 1;
          domains.push(this.mailbox());
        }
      }
      this.expect(';');
      this.skipCfws();
      return domains;
    }
    this.pos = start;
    return [this.mailbox()];
  }

  addressList(): string[] {
    const domains = this.address();
    while (this.peek() === ',') {
      this.pos += 1;
      domains.push(...this.address());
    }
    return domains;
  }
}
