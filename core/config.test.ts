import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, USAGE, defaultConfig, parseCli, type AxonConfig } from './config.js';
import { tmpDir } from './test/fixtures.js';

const PEER = '/ip4/192.168.1.20/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA';

function run(args: string[], file?: object): AxonConfig {
  const data = tmpDir('axon-config-');
  if (file) fs.writeFileSync(path.join(data, 'config.json'), JSON.stringify(file));
  const r = parseCli(['--data', data, ...args]);
  if (r.kind !== 'run') throw new Error(r.kind);
  return r.config;
}

describe('p2p settings', () => {
  it('defaults: default listen addresses, no bootstrap peers, mDNS on, not a relay', () => {
    expect(run([]).p2p).toEqual({ listen: [], peers: [], mdns: true, relay: false });
    expect(defaultConfig(tmpDir()).p2p).toEqual({ listen: [], peers: [], mdns: true, relay: false });
  });

  it('reads repeatable --p2p and --peer, --no-mdns and --relay', () => {
    const c = run(['--p2p', '/ip4/0.0.0.0/tcp/4001', '--p2p', '/ip4/0.0.0.0/tcp/4002/ws', '--peer', PEER, '--no-mdns', '--relay']);
    expect(c.p2p).toEqual({ listen: ['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws'], peers: [PEER], mdns: false, relay: true });
  });

  it('reads the same keys from config.json, and flags win', () => {
    const file = { p2p: ['/ip4/127.0.0.1/tcp/4001'], peer: PEER, mdns: false, relay: true };
    expect(run([], file).p2p).toEqual({ listen: ['/ip4/127.0.0.1/tcp/4001'], peers: [PEER], mdns: false, relay: true });
    expect(run(['--mdns', '--p2p', '/ip4/127.0.0.1/tcp/5001'], file).p2p).toMatchObject({ listen: ['/ip4/127.0.0.1/tcp/5001'], mdns: true });
  });

  it.each([
    [['--p2p', 'not-a-multiaddr'], undefined, /--p2p must be a multiaddr/],
    [['--p2p', '/ip4/999.1.1.1/tcp/1'], undefined, /--p2p must be a multiaddr/],
    [['--peer', '/ip4/10.0.0.1/tcp/4001'], undefined, /--peer must end in \/p2p\//],
    [['--peer', '/ip4/10.0.0.1/tcp/4001/p2p/notapeerid'], undefined, /--peer must end in \/p2p\//],
    [['--mdns=yes'], undefined, /--mdns/],
    [[], { mdns: 'no' }, /"mdns" must be true or false/],
    [[], { relay: 1 }, /"relay" must be true or false/],
    [[], { peer: [PEER, 3] }, /"peer" must be a string or a list of strings/],
    [[], { p2p: ['/nope'] }, /--p2p must be a multiaddr/],
  ])('rejects %j %j with a ConfigError', (args, file, message) => {
    expect(() => run(args, file)).toThrow(ConfigError);
    expect(() => run(args, file)).toThrow(message);
  });

  it('documents the flags', () => {
    for (const flag of ['--p2p MULTIADDR', '--peer MULTIADDR', '--no-mdns', '--relay']) expect(USAGE).toContain(flag);
  });
});

describe('presence setting', () => {
  it('is on by default, off with --no-presence or "presence": false, and flags win', () => {
    expect(run([]).presence).toBe(true);
    expect(defaultConfig(tmpDir()).presence).toBe(true);
    expect(run(['--no-presence']).presence).toBe(false);
    expect(run([], { presence: false }).presence).toBe(false);
    expect(run(['--presence'], { presence: false }).presence).toBe(true);
    expect(() => run([], { presence: 'no' })).toThrow(ConfigError);
    expect(USAGE).toContain('--no-presence');
  });
});

describe('TURN settings', () => {
  it('are off by default; take URIs with a shared secret or a username and password, from flags or config.json', () => {
    expect(run([]).turn).toBeUndefined();
    expect(run(['--turn-uri', 'turn:turn.example:3478?transport=udp', '--turn-uri', 'turns:turn.example:5349', '--turn-shared-secret', 's3cret']).turn).toEqual({
      uris: ['turn:turn.example:3478?transport=udp', 'turns:turn.example:5349'],
      sharedSecret: 's3cret',
      ttlSeconds: 86400,
    });
    expect(run([], { 'turn-uri': 'turn:t.example', 'turn-username': 'u', 'turn-password': 'p', 'turn-ttl': 3600 }).turn).toEqual({
      uris: ['turn:t.example'],
      username: 'u',
      password: 'p',
      ttlSeconds: 3600,
    });
    for (const flag of ['--turn-uri URI', '--turn-shared-secret', '--turn-username', '--turn-password', '--turn-ttl']) expect(USAGE).toContain(flag);
  });

  it.each([
    [['--turn-uri', 'http://turn.example'], /turn:, turns: or stun:/],
    [['--turn-uri', 'turn:t.example'], /needs --turn-shared-secret/],
    [['--turn-uri', 'turn:t.example', '--turn-username', 'u'], /needs --turn-shared-secret/],
    [['--turn-uri', 'turn:t.example', '--turn-shared-secret', 's', '--turn-username', 'u'], /exclude each other/],
    [['--turn-shared-secret', 's'], /need --turn-uri/],
    [['--turn-uri', 'turn:t.example', '--turn-shared-secret', 's', '--turn-ttl', '5'], /--turn-ttl/],
  ])('rejects %j with a ConfigError', (args, message) => {
    expect(() => run(args)).toThrow(ConfigError);
    expect(() => run(args)).toThrow(message);
  });
});

describe('upload limit', () => {
  it('is 50 MiB unless set, and must be a whole number of at least 1024', () => {
    expect(run([]).maxUploadBytes).toBe(50 * 1024 * 1024);
    expect(run(['--max-upload-bytes', '1048576']).maxUploadBytes).toBe(1048576);
    expect(run([], { 'max-upload-bytes': 2048 }).maxUploadBytes).toBe(2048);
    expect(() => run(['--max-upload-bytes', '10'])).toThrow(/--max-upload-bytes/);
    expect(USAGE).toContain('--max-upload-bytes N');
    expect(run([]).remoteMediaCacheBytes).toBe(1024 * 1024 * 1024);
    expect(run(['--remote-media-cache-bytes', '0']).remoteMediaCacheBytes).toBe(0);
    expect(() => run(['--remote-media-cache-bytes', '-1'])).toThrow(/--remote-media-cache-bytes/);
  });
});
