/**
 * A minimal DAP client for the benchmark: spawns the real adapter (`node dist/debugAdapter.js`) and
 * speaks the protocol over its stdio with the Content-Length framing. Written here rather than taken
 * from `@vscode/debugadapter-testsupport` because the bench is bundled as ESM, where that CommonJS
 * package cannot load Node's built-ins. `PAGEWALK_ADAPTER_NODE_ARGS` adds node flags to the adapter
 * process (profiling: `PAGEWALK_ADAPTER_NODE_ARGS="--cpu-prof --cpu-prof-dir=prof" npm run bench`).
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { DebugProtocol } from '@vscode/debugprotocol';

export class DapStdioClient extends EventEmitter {
  private readonly child: ChildProcessWithoutNullStreams;
  private seq = 1;
  private readonly pending = new Map<number, (r: DebugProtocol.Response) => void>();
  private buffer = Buffer.alloc(0);

  constructor(adapter: string) {
    super();
    this.child = spawn(
      process.execPath,
      [...(process.env.PAGEWALK_ADAPTER_NODE_ARGS ?? '').split(' ').filter(Boolean), adapter],
      { stdio: 'pipe' },
    );
    this.child.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    this.child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  }

  /** Sends a request; resolves with its response, rejects with an error response's message. */
  send<R extends DebugProtocol.Response = DebugProtocol.Response>(
    command: string,
    args: unknown,
  ): Promise<R> {
    const seq = this.seq++;
    const json = JSON.stringify({ seq, type: 'request', command, arguments: args });
    this.child.stdin.write(`Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`);
    return new Promise((resolve, reject) =>
      this.pending.set(seq, (r) =>
        r.success ? resolve(r as R) : reject(new Error(`${command}: ${r.message ?? 'failed'}`)),
      ),
    );
  }

  /** The next event of this name. */
  next<E extends DebugProtocol.Event = DebugProtocol.Event>(event: string): Promise<E> {
    return new Promise((resolve) => this.once(event, resolve));
  }

  /** The adapter's resident memory in MiB (Linux /proc), or null where it cannot be read. */
  residentMiB(): number | null {
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status);
      return kb ? Number(kb[1]) / 1024 : null;
    } catch {
      return null;
    }
  }

  stop(): void {
    this.child.kill();
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const header = this.buffer.indexOf('\r\n\r\n');
      if (header < 0) return;
      const length = /Content-Length: (\d+)/.exec(this.buffer.subarray(0, header).toString('ascii'));
      if (!length) throw new Error('DAP message without Content-Length');
      const end = header + 4 + Number(length[1]);
      if (this.buffer.length < end) return;
      const message = JSON.parse(
        this.buffer.subarray(header + 4, end).toString('utf8'),
      ) as DebugProtocol.ProtocolMessage;
      this.buffer = this.buffer.subarray(end);
      if (message.type === 'response') {
        const r = message as DebugProtocol.Response;
        this.pending.get(r.request_seq)?.(r);
        this.pending.delete(r.request_seq);
      } else if (message.type === 'event') {
        const e = message as DebugProtocol.Event;
        this.emit(e.event, e);
      }
    }
  }
}
