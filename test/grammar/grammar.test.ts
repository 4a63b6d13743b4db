// Runs the TextMate grammar's assertion files (`*.guest` with `; ^^^ scope` lines) through
// vscode-tmgrammar-test, which tokenizes with the same vscode-textmate engine VS Code uses, and checks
// the language configuration and snippets are well-formed JSON with the shapes VS Code expects.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const languageDir = join(root, 'extension', 'language');
const readJson = (name: string): unknown => JSON.parse(readFileSync(join(languageDir, name), 'utf8'));

describe('guest.tmLanguage.json', () => {
  const cases = readdirSync(__dirname).filter((f) => f.endsWith('.guest'));

  it('has assertion files to run', () => {
    expect(cases.length).toBeGreaterThanOrEqual(2);
  });

  it('passes every assertion of test/grammar/*.guest', () => {
    const cli = join(root, 'node_modules', 'vscode-tmgrammar-test', 'dist', 'unit.js');
    const grammar = join(languageDir, 'guest.tmLanguage.json');
    const run = spawnSync(
      process.execPath,
      [cli, '-c', '-g', grammar, ...cases.map((f) => join(__dirname, f))],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(run.stdout + run.stderr).not.toMatch(/ERROR|failed/);
    expect(run.status).toBe(0);
  });

  it('is scoped source.guest', () => {
    expect(readJson('guest.tmLanguage.json')).toMatchObject({ scopeName: 'source.guest' });
  });
});

describe('language-configuration.json', () => {
  const config = readJson('language-configuration.json') as {
    comments: { lineComment: string };
    indentationRules: { increaseIndentPattern: string; decreaseIndentPattern: string };
    folding: { markers: { start: string; end: string } };
  };
  const increase = new RegExp(config.indentationRules.increaseIndentPattern);
  const decrease = new RegExp(config.indentationRules.decreaseIndentPattern);

  it('uses ; line comments', () => {
    expect(config.comments.lineComment).toBe(';');
  });

  it('indents after every block opener and not after a one-line block', () => {
    for (const line of [
      'vcpu web',
      'proc map(a, b)',
      '  if rc != 0',
      'else',
      'for i in 0..4',
      'while x ; loop',
    ])
      expect(increase.test(line), line).toBe(true);
    for (const line of ['let x = 1', 'end', '; if this is a comment', 'verify()'])
      expect(increase.test(line), line).toBe(false);
  });

  it('outdents end and else', () => {
    expect(decrease.test('    end')).toBe(true);
    expect(decrease.test('  else')).toBe(true);
    expect(decrease.test('  endless = 1')).toBe(false);
  });

  it('folds blocks from their opener to end', () => {
    expect(new RegExp(config.folding.markers.start).test('  while fault != NOFAULT')).toBe(true);
    expect(new RegExp(config.folding.markers.end).test('  end ; loop')).toBe(true);
  });
});

describe('guest.snippets.json', () => {
  const snippets = readJson('guest.snippets.json') as Record<string, { prefix: string; body: string[] }>;

  it('offers the table-building snippets', () => {
    const prefixes = Object.values(snippets).map((s) => s.prefix);
    expect(prefixes).toEqual(
      expect.arrayContaining(['pv-tables', 'hvm-tables', 'pin', 'switch-cr3', 'proc']),
    );
  });

  it('closes every block it opens', () => {
    for (const [name, { body }] of Object.entries(snippets)) {
      const opens = body.filter((l) => /^\s*(vcpu|proc|if|for|while)\b/.test(l)).length;
      const ends = body.filter((l) => /^\s*end\b/.test(l)).length;
      expect(ends, name).toBe(opens);
    }
  });
});
