import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tmpDir as tmpDirWithPrefix } from '../core/test/fixtures.js';

const tmpDir = (): string => tmpDirWithPrefix('axon-cli-');

const CLI = path.resolve(__dirname, '../dist/src-main/cli.js');
const children: ChildProcess[] = [];

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function run(args: string[]): Run {
  // libp2p stays on loopback with mDNS off: tests do not touch the host's network.
  const child = spawn(process.execPath, [CLI, ...args, '--no-mdns', '--p2p', '/ip4/127.0.0.1/tcp/0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function waitReady(r: Run): Promise<{ url: string; serverName: string }> {
  for (let i = 0; i < 400; i++) {
    const m = /ready: client URL (\S+) server name ([0-9a-f]{64})/.exec(r.stdout());
    if (m) return { url: m[1]!, serverName: m[2]! };
    if (r.child.exitCode !== null) throw new Error(`exited early: ${r.stderr()}`);
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`no ready line; stderr: ${r.stderr()}`);
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('axon CLI', () => {
  it('starts, answers /versions and /_axon/status, keeps its server name, and stops cleanly', async () => {
    const data = tmpDir();
    const a = run(['--data', data, '--http', '127.0.0.1:0']);
    const first = await waitReady(a);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const versions = await (await fetch(`${first.url}/_matrix/client/versions`)).json();
    expect(versions.versions).toContain('v1.1');
    const status = await (await fetch(`${first.url}/_axon/status`)).json();
    expect(status.serverName).toBe(first.serverName);
    expect(status.http.port).toBe(Number(new URL(first.url).port));
    expect(typeof status.version).toBe('string');
    expect(status.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(Array.isArray(status.topics)).toBe(true);

    const keyFile = path.join(data, 'identity.key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);

    a.child.kill('SIGTERM');
    expect(await a.exit).toBe(0);

    const b = run(['--data', data, '--http', '127.0.0.1:0']);
    const second = await waitReady(b);
    expect(second.serverName).toBe(first.serverName);
    b.child.kill('SIGINT');
    expect(await b.exit).toBe(0);
  });

  it('prints a login link on the ready line that logs the owner in once', async () => {
    const r = run(['--data', tmpDir(), '--http', '127.0.0.1:0']);
    const { url, serverName } = await waitReady(r);
    const m = /login link (\S+)/.exec(r.stdout());
    expect(m?.[1]).toMatch(new RegExp(`^${url}/#login_token=`));
    const token = decodeURIComponent(new URL(m![1]!).hash.slice('#login_token='.length));
    const login = () =>
      fetch(`${url}/_matrix/client/v3/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'm.login.token', token }) });
    const first = await login();
    expect(first.status).toBe(200);
    expect(((await first.json()) as { user_id: string }).user_id).toBe(`@owner:${serverName}`);
    expect((await login()).status).toBe(403);
    r.child.kill('SIGTERM');
    expect(await r.exit).toBe(0);
  });

  it('reads settings from the data folder config file, and flags win', async () => {
    const data = tmpDir();
    fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify({ http: '127.0.0.1:1', 'log-level': 'error' }));
    const r = run(['--data', data, '--http', '127.0.0.1:0']);
    const { url } = await waitReady(r);
    expect(Number(new URL(url).port)).toBeGreaterThan(1);
    r.child.kill('SIGTERM');
    expect(await r.exit).toBe(0);
  });

  it.each([
    [['--no-such-flag'], /Unknown option '--no-such-flag'/],
    [['--http', 'nonsense'], /--http must be HOST:PORT/],
    [['--log-level', 'loud'], /--log-level must be one of/],
    [['--registration', 'shared-secret'], /needs --registration-shared-secret/],
    [['--registration-token', 'bad token'], /--registration-token must be/],
    [['--rate-limit', 'lots'], /--rate-limit must be/],
  ])('rejects bad flags %j with exit code 2 and one line', async (args, message) => {
    const r = run(['--data', tmpDir(), ...args]);
    expect(await r.exit).toBe(2);
    expect(r.stderr()).toMatch(message);
    expect(r.stderr()).not.toMatch(/\n\s+at /);
  });

  it('fails with one line on an unwritable data folder', async () => {
    const file = path.join(tmpDir(), 'a-file');
    fs.writeFileSync(file, '');
    const r = run(['--data', path.join(file, 'sub'), '--http', '127.0.0.1:0']);
    expect(await r.exit).toBe(1);
    expect(r.stderr().trim().split('\n')).toHaveLength(1);
    expect(r.stderr()).toMatch(/data folder .* is not writable/);
  });

  it('fails with one line when the port is in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = run(['--data', tmpDir(), '--http', `127.0.0.1:${port}`]);
      expect(await r.exit).toBe(1);
      expect(r.stderr().trim()).toBe(`axon: cannot listen on 127.0.0.1:${port}: address already in use`);
    } finally {
      blocker.close();
    }
  });
});
