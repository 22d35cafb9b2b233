import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../src/errors.js';
import { assertHubUrl, isLoopbackHost, sameOrigin } from '../src/hub-url.js';

describe('assertHubUrl', () => {
  it.each([
    ['https://huggingface.co', 'https://huggingface.co'],
    ['https://huggingface.co/', 'https://huggingface.co'],
    ['https://hf-mirror.example.org/hub/', 'https://hf-mirror.example.org/hub'],
    ['HTTPS://HuggingFace.co', 'https://huggingface.co'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://127.4.5.6:1/', 'http://127.4.5.6:1'],
    ['http://localhost:3000', 'http://localhost:3000'],
    ['http://[::1]:9000/', 'http://[::1]:9000'],
  ])('accepts %p as %p', (input, out) => {
    expect(assertHubUrl(input)).toBe(out);
  });

  it.each([
    'http://huggingface.co',
    'http://10.0.0.5:8080',
    'http://128.0.0.1',
    'http://[::2]',
    'http://localhost.evil.com',
    'ftp://127.0.0.1',
    'file:///etc/passwd',
    'huggingface.co',
    '',
    'https://user:pass@huggingface.co',
    'https://huggingface.co/?x=1',
  ])('refuses %p with a UsageError (exit 2) and a fix', (input) => {
    let err: UsageError | undefined;
    try {
      assertHubUrl(input);
    } catch (e) {
      err = e as UsageError;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect(err?.exitCode).toBe(2);
    expect(err?.hint).toBeTruthy();
  });

  it('suggests the https form for a plain http remote host', () => {
    expect(() => assertHubUrl('http://hub.example.org/x/')).toThrow(/loopback/);
    try {
      assertHubUrl('http://hub.example.org/x/');
    } catch (e) {
      expect((e as UsageError).hint).toBe('use https://hub.example.org/x');
    }
  });
});

describe('isLoopbackHost / sameOrigin', () => {
  it('knows loopback hosts', () => {
    expect(['127.0.0.1', '127.255.0.9', 'localhost', '[::1]', '::1'].every(isLoopbackHost)).toBe(true);
    expect(['10.0.0.1', '0.0.0.0', 'example.com', '[::]', '1.127.0.0'].some(isLoopbackHost)).toBe(false);
  });

  it('compares scheme, host and port', () => {
    expect(sameOrigin('https://huggingface.co/api/x', 'https://huggingface.co')).toBe(true);
    expect(sameOrigin('https://huggingface.co:443/a', 'https://huggingface.co/b')).toBe(true);
    expect(sameOrigin('https://cdn-lfs.hf.co/x', 'https://huggingface.co')).toBe(false);
    expect(sameOrigin('http://huggingface.co', 'https://huggingface.co')).toBe(false);
    expect(sameOrigin('http://127.0.0.1:8001/x', 'http://127.0.0.1:8000')).toBe(false);
    expect(sameOrigin('https://huggingface.co.evil.com', 'https://huggingface.co')).toBe(false);
    expect(sameOrigin('not a url', 'https://huggingface.co')).toBe(false);
  });
});
