// `npm run package`: builds the bundles, then packs them into pagewalk-<version>.vsix with vsce.
// The VSIX holds only `package.json#files` (bundles, grammar, examples, codicons): the extension
// bundle already contains the engine and the adapter, so no node_modules are needed at run time.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const out = process.argv[2] ?? `${pkg.name}-${pkg.version}.vsix`;
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit', cwd: new URL('..', import.meta.url) });

run('node', ['scripts/build.mjs']);
// vsce leaves node_modules out, so the webviews' codicon font travels in dist/ (webviewPanel.ts looks there first).
const root = new URL('..', import.meta.url);
mkdirSync(new URL('dist/codicons/', root), { recursive: true });
for (const f of ['codicon.css', 'codicon.ttf'])
  copyFileSync(new URL(`node_modules/@vscode/codicons/dist/${f}`, root), new URL(`dist/codicons/${f}`, root));
run('npx', [
  'vsce',
  'package',
  '--no-dependencies',
  '--allow-missing-repository',
  '--skip-license',
  '--no-rewrite-relative-links',
  '-o',
  out,
]);
console.log(`packaged ${out}`);
