/**
 * The top level of a `.guest` file: `machine`, `domain`, `const`, `proc` and `vcpu` declarations
 * (`guest-language.md` § Top-level declarations). Statements found at the top level are reported
 * and skipped whole, blocks included, so that their `end` is not reported a second time.
 */
import type { Decl, NameToken, SizeValue, SourceFile, Stmt } from './ast';
import type { Diagnostic } from './diagnostic';
import { scan } from './scanner';
import { LINE_DECLARATIONS, StatementParser } from './parser';
import { describeToken, isKeyword } from './token';
import type { Token } from './token';

const SIZE_MULTIPLIER = { K: 1n << 10n, M: 1n << 20n, G: 1n << 30n } as const;
const MAX_U64 = (1n << 64n) - 1n;
/** A generous bound that keeps per-vCPU state finite. */
const MAX_VCPUS = 1024;

export interface ParseResult {
  readonly file: SourceFile;
  readonly diagnostics: Diagnostic[];
}

export class Parser extends StatementParser {
  parse(): { file: SourceFile; diagnostics: Diagnostic[] } {
    const declarations: Decl[] = [];
    while (!this.check('eof')) {
      if (this.match('newline')) continue;
      try {
        const decl = this.declaration();
        if (decl) declarations.push(decl);
      } catch (error) {
        this.recover(error);
      }
    }
    return { file: { declarations }, diagnostics: this.diagnostics };
  }

  private declaration(): Decl | null {
    const token = this.peek();
    const at = { line: token.line, column: token.column };
    switch (token.type) {
      case 'machine': {
        this.advance();
        const memory = this.sizeOption('memory');
        this.endOfLine();
        return { kind: 'machine', memory, ...at };
      }
      case 'domain':
        this.advance();
        return this.domain(at);
      case 'const': {
        this.advance();
        const name = this.nameToken('a const name');
        this.consume('=', "'='");
        let value = null;
        try {
          value = this.expression();
          this.endOfLine();
        } catch (error) {
          // The const is still declared, so its uses are not reported as unknown.
          this.recover(error);
          value = null;
        }
        return { kind: 'const', name, value, ...at };
      }
      case 'proc':
        this.advance();
        return this.proc(token);
      case 'vcpu':
        this.advance();
        return this.vcpu(token);
      case 'end':
      case 'else':
        throw this.errorAt(token, `'${token.lexeme}' without a block to close`);
      default:
        if ((token.type === 'name' && this.peek(1).type === '=') || isKeyword(token.type)) {
          this.errorAt(token, "statements belong inside a 'vcpu' or 'proc' block");
          this.skipStatement();
          return null;
        }
        throw this.errorAt(
          token,
          `expected a declaration (machine, domain, const, proc or vcpu), found ${describeToken(token)}`,
        );
    }
  }

  /** Skips a statement at the top level; a block statement is skipped up to its `end`. */
  private skipStatement(): void {
    let depth = 0;
    do {
      const first = this.peek().type;
      if (first === 'if' || first === 'for' || first === 'while') depth++;
      else if (first === 'else' && this.peek(1).type === 'if') depth++;
      else if (first === 'end') depth--;
      this.synchronize();
      while (this.match('newline'));
    } while (
      depth > 0 &&
      !this.check('eof') &&
      !LINE_DECLARATIONS.has(this.peek().type) &&
      !this.check('proc') &&
      !this.check('vcpu')
    );
  }

  /** `WORD=SIZE`: a number with an optional K/M/G suffix, a positive multiple of 4K. */
  private sizeOption(word: string): SizeValue {
    const key = this.peek();
    if (key.type !== 'name' || key.lexeme !== word) {
      throw this.errorAt(key, `expected ${word}=SIZE, found ${describeToken(key)}`);
    }
    this.advance();
    this.consume('=', "'='");
    return this.size();
  }

  private size(): SizeValue {
    const token = this.consume('number', 'a size such as 16M');
    const bytes = (token.value ?? 0n) * (token.suffix ? SIZE_MULTIPLIER[token.suffix] : 1n);
    const at = { line: token.line, column: token.column };
    if (bytes > MAX_U64) {
      this.errorAt(token, `size ${token.lexeme} is above 2^64-1 bytes`);
      return { bytes: null, ...at };
    }
    if (bytes === 0n || bytes % 4096n !== 0n) {
      this.errorAt(token, `size ${token.lexeme} is not a positive multiple of 4K`);
      return { bytes: null, ...at };
    }
    return { bytes, ...at };
  }

  private domain(at: { line: number; column: number }): Decl {
    const name = this.nameToken('a domain name');
    try {
      return this.domainDetails(at, name);
    } catch (error) {
      // The name stays known, so blocks and references naming it are not reported as unknown too.
      this.recover(error);
      const memory = { bytes: null, ...at };
      return {
        kind: 'domain',
        name,
        domainKind: 'pv',
        memory,
        vcpus: 1,
        privileged: false,
        paging: null,
        broken: true,
        ...at,
      };
    }
  }

  private domainDetails(at: { line: number; column: number }, name: NameToken): Decl {
    const kindToken = this.peek();
    if (kindToken.type !== 'name' || (kindToken.lexeme !== 'pv' && kindToken.lexeme !== 'hvm')) {
      throw this.errorAt(kindToken, `expected 'pv' or 'hvm', found ${describeToken(kindToken)}`);
    }
    this.advance();
    const domainKind = kindToken.lexeme;
    let memory: SizeValue | null = null;
    let vcpus: number | null = null;
    let privileged: boolean | null = null;
    let paging: 'shadow' | 'hap' | null = null;
    const given = new Set<string>();
    while (!this.check('newline') && !this.check('eof')) {
      const option = this.peek();
      const word = option.type === 'name' ? option.lexeme : '';
      if (given.has(word)) throw this.errorAt(option, `'${word}' is given twice`);
      given.add(word);
      if (word === 'memory') {
        memory = this.sizeOption('memory');
      } else if (word === 'vcpus') {
        this.advance();
        this.consume('=', "'='");
        vcpus = this.vcpuCount();
      } else if (word === 'privileged') {
        if (domainKind !== 'pv') throw this.errorAt(option, "'privileged' applies only to pv domains");
        this.advance();
        privileged = true;
      } else if (word === 'paging') {
        if (domainKind !== 'hvm') throw this.errorAt(option, "'paging' applies only to hvm domains");
        this.advance();
        this.consume('=', "'='");
        const mode = this.peek();
        if (mode.type !== 'name' || (mode.lexeme !== 'shadow' && mode.lexeme !== 'hap')) {
          throw this.errorAt(mode, `expected 'shadow' or 'hap', found ${describeToken(mode)}`);
        }
        this.advance();
        paging = mode.lexeme;
      } else {
        const expected = domainKind === 'pv' ? 'memory=, vcpus= or privileged' : 'memory=, vcpus= or paging=';
        throw this.errorAt(option, `expected ${expected}, found ${describeToken(option)}`);
      }
    }
    if (memory === null) throw this.errorAt(this.peek(), `domain '${name.name}' needs memory=SIZE`);
    this.endOfLine();
    return {
      kind: 'domain',
      name,
      domainKind,
      memory,
      vcpus: vcpus ?? 1,
      privileged: privileged ?? false,
      paging: domainKind === 'hvm' ? (paging ?? 'shadow') : null,
      ...at,
    };
  }

  private vcpuCount(): number {
    const token = this.consume('number', 'a number of vCPUs');
    const value = token.value ?? 0n;
    if (token.suffix || value < 1n || value > BigInt(MAX_VCPUS)) {
      throw this.errorAt(token, `vcpus must be a number from 1 to ${MAX_VCPUS}, found ${token.lexeme}`);
    }
    return Number(value);
  }

  /** The header may be malformed; the body is still parsed so that its `end` closes it. */
  private proc(keyword: Token): Decl {
    let name: NameToken | null = null;
    const params: NameToken[] = [];
    let headerOk = false;
    try {
      name = this.nameToken('a proc name');
      this.consume('(', "'('");
      if (!this.match(')')) {
        do params.push(this.nameToken('a parameter name'));
        while (this.match(','));
        this.consume(')', "',' or ')'");
      }
      this.endOfLine();
      headerOk = true;
    } catch (error) {
      this.recover(error);
    }
    const body = this.block(keyword, false).body;
    return { kind: 'proc', name, params, body, headerOk, line: keyword.line, column: keyword.column };
  }

  private vcpu(keyword: Token): Decl {
    let domain: NameToken | null = null;
    let index = 0;
    try {
      domain = this.nameToken('a domain name');
      if (this.match('.')) {
        const n = this.consume('number', 'a vCPU number');
        if (n.suffix || (n.value ?? 0n) >= BigInt(MAX_VCPUS))
          throw this.errorAt(n, `invalid vCPU number ${n.lexeme}`);
        index = Number(n.value ?? 0n);
      }
      this.endOfLine();
    } catch (error) {
      this.recover(error);
      domain = null;
    }
    const body: Stmt[] = this.block(keyword, false).body;
    return { kind: 'vcpu', domain, index, body, line: keyword.line, column: keyword.column };
  }
}

export function parseSource(source: string): ParseResult {
  const scanned = scan(source);
  const parser = new Parser(source, scanned.tokens);
  const { file, diagnostics } = parser.parse();
  return { file, diagnostics: [...scanned.diagnostics, ...diagnostics] };
}
