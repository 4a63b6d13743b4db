// The webview shell is pure string code: its CSP, nonce and escaping are checked without a browser.
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, escapeHtml, renderWebviewHtml } from '../../webview/html';
import { timelineLane } from '../../webview/protocol';

const options = {
  cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
  nonce: 'abc123',
  scriptUri: 'https://x/dist/webview/explorer.js?a=1&b="2"',
  codiconsUri: 'https://x/codicon.css',
};

describe('renderWebviewHtml', () => {
  it('allows only nonce scripts and the resource origin', () => {
    const csp = contentSecurityPolicy(options.cspSource, options.nonce);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'nonce-abc123'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:\/\/(?!file\+)/);
  });

  it.each(['explorer', 'frameMap', 'timeline'] as const)(
    'renders %s with its script under the nonce',
    (kind) => {
      const html = renderWebviewHtml(kind, options);
      expect(html).toContain(`data-view="${kind}"`);
      expect(html).toContain(
        '<script nonce="abc123" src="https://x/dist/webview/explorer.js?a=1&#38;b=&#34;2&#34;">',
      );
      expect(html).toContain('<style nonce="abc123">');
      expect(html.match(/<script/g)).toHaveLength(1);
    },
  );

  it('escapes markup', () => {
    expect(escapeHtml('<img src=x onerror="a">')).toBe('&#60;img src=x onerror=&#34;a&#34;&#62;');
  });
});

describe('timelineLane', () => {
  it('sorts event classes into traps, hypercalls and CR writes', () => {
    expect(timelineLane('fault')).toBe('trap');
    expect(timelineLane('npf')).toBe('trap');
    expect(timelineLane('hypercall_result')).toBe('hypercall');
    expect(timelineLane('cr_write')).toBe('cr');
    expect(timelineLane('ref_taken')).toBeNull();
  });
});
