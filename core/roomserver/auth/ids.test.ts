import { describe, expect, it } from 'vitest';
import { domainOf, isValidServerName, isValidUserId } from './ids.js';

describe('isValidUserId', () => {
  const valid = ['@alice:example.org', '@a.b_c=d-e/f+g:example.org:8448', '@x:1.2.3.4', '@x:[::1]:80', '@:empty.example', '@Ünïcode:example.org'];
  const invalid = ['alice:example.org', '@alice', '@alice:', '@alice:exa mple.org', '@alice:1.2.3.256', '@a\u0000b:example.org', `@${'a'.repeat(250)}:example.org`, '@a\uD800:example.org'];
  for (const id of valid) it(`accepts ${JSON.stringify(id)}`, () => expect(isValidUserId(id)).toBe(true));
  for (const id of invalid) it(`rejects ${JSON.stringify(id)}`, () => expect(isValidUserId(id)).toBe(false));
});

describe('isValidServerName', () => {
  it('accepts DNS names, IPv4 and bracketed IPv6 literals with optional ports', () => {
    for (const name of ['example.org', 'localhost:8008', '127.0.0.1', '[1234:5678::abcd]', '[::1]:8448']) expect(isValidServerName(name)).toBe(true);
    for (const name of ['', 'exa_mple.org', 'example.org:', 'example.org:123456', '::1', '[zz::1]']) expect(isValidServerName(name)).toBe(false);
  });
});

describe('domainOf', () => {
  it('is everything after the first colon', () => {
    expect(domainOf('@a:example.org:8448')).toBe('example.org:8448');
    expect(domainOf('$abc:example.org')).toBe('example.org');
    expect(domainOf('!opaque')).toBeUndefined();
  });
});
