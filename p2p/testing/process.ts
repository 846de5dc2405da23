/** Test helper: drives dist/p2p/testing/host-script.js in a child process (see there). */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HOST_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/p2p/testing/host-script.js');

export interface ScriptEvent {
  event: string;
  [k: string]: unknown;
}

export class HostProcess {
  readonly events: ScriptEvent[] = [];
  readonly exit: Promise<number | null>;
  private stderr = '';

  constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          this.events.push(JSON.parse(line) as ScriptEvent);
        } catch {
          // Not ours (a library printing): ignore.
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Runs the script with `prefix` (e.g. `ip netns exec NS`) in front of node. */
  static start(opts: object, prefix: string[] = []): HostProcess {
    if (!fs.existsSync(HOST_SCRIPT)) throw new Error(`${HOST_SCRIPT} is missing: run npm run build`);
    const argv = [...prefix, process.execPath, HOST_SCRIPT, JSON.stringify(opts)];
    return new HostProcess(spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  send(cmd: object): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  async waitFor(pred: (e: ScriptEvent) => boolean, ms = 15_000, what = 'event'): Promise<ScriptEvent> {
    const end = Date.now() + ms;
    for (;;) {
      const e = this.events.find(pred);
      if (e) return e;
      if (this.child.exitCode !== null) throw new Error(`host script exited (${this.child.exitCode}) before ${what}: ${this.stderr}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; stderr: ${this.stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
