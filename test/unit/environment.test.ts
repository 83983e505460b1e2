import { describe, expect, it } from 'vitest';
import { describeEnvironment, parseEnvironment } from '#lib/environment.ts';

describe('parseEnvironment', () => {
  it('reads the three kinds', () => {
    expect(parseEnvironment('mwaa://my-env?region=us-east-1')).toEqual({
      kind: 'mwaa',
      name: 'my-env',
      region: 'us-east-1',
      auth: 'rest',
    });
    expect(
      parseEnvironment('mwaa://My_Env?region=eu-west-1&auth=session&endpoint=http://127.0.0.1:9'),
    ).toEqual({
      kind: 'mwaa',
      name: 'My_Env',
      region: 'eu-west-1',
      auth: 'session',
      endpoint: 'http://127.0.0.1:9',
    });
    expect(parseEnvironment('dms://af-123?region=cn-hangzhou')).toEqual({
      kind: 'dms',
      airflowId: 'af-123',
      region: 'cn-hangzhou',
      endpoint: 'https://dms.cn-hangzhou.aliyuncs.com',
    });
    expect(parseEnvironment('dms://af-123?region=cn-beijing&vpc=true')).toMatchObject({
      endpoint: 'https://dms-vpc.cn-beijing.aliyuncs.com',
    });
    expect(parseEnvironment('https://admin@airflow.example.com:8080/', 'pw')).toEqual({
      kind: 'self-hosted',
      baseUrl: 'https://airflow.example.com:8080',
      username: 'admin',
      password: 'pw',
    });
  });

  it.each([
    ['gopher://u:ab:cd@host', 'gopher://u:***@host'],
    ['gopher://u:p@ss@host/x', 'gopher://u:***@host/x'],
    ['gopher://u:plain-pass@host?api=v2', 'gopher://u:***@host?api=v2'],
  ])('masks a password holding : or @ (%s)', (text, shown) => {
    expect(() => parseEnvironment(text)).toThrow(`environment "${shown}": unknown scheme "gopher:"`);
  });

  it('names what is wrong, without the password', () => {
    expect(() => parseEnvironment('mwaa://env')).toThrow(/region is required/);
    expect(() => parseEnvironment('mwaa://env?region=x&auth=magic')).toThrow(/auth must be/);
    expect(() => parseEnvironment('mwaa://env?region=x&regoin=y')).toThrow(/unknown option "regoin"/);
    expect(() => parseEnvironment('ftp://x')).toThrow(/unknown scheme "ftp:"/);
    expect(() => parseEnvironment('not a url')).toThrow(/expected mwaa:\/\//);
    let message = '';
    try {
      parseEnvironment('gopher://admin:s3cret-pass@host');
    } catch (error) {
      message = String(error);
    }
    expect(message).toMatch(/unknown scheme/);
    expect(message).not.toContain('s3cret-pass');
  });

  it('describes an environment without credentials', () => {
    expect(describeEnvironment(parseEnvironment('https://u:secret@h:1/x'))).toBe('https://h:1/x');
  });
});
