/** `calms` run against a scripted fetch, its output collected: what the CLI tests share. */
import { PassThrough, Writable } from 'node:stream';
import type { FetchFunction } from '../../../lib/cli/api';
import { runCli } from '../../../lib/cli/main';

export const API_KEY = 'test-key-0123456789';
export const ENV = { CALMS_API_URL: 'http://calms.test/dev', CALMS_API_KEY: API_KEY };

/** A JSON body, a raw text, or what fetch throws. */
export type Answer = { status: number; body: unknown } | { status: number; text: string } | Error;

/** A fetch that gives one scripted answer, every time, and remembers the calls. */
export function fakeFetch(answer: Answer) {
  const calls: { url: string; method?: string; headers: Record<string, string> }[] = [];
  const fetch: FetchFunction = async (input, init) => {
    calls.push({ url: String(input), method: init?.method, headers: { ...(init?.headers as Record<string, string>) } });
    if (!('status' in answer)) throw answer;
    const text = 'text' in answer ? answer.text : JSON.stringify(answer.body);
    return new Response(text, { status: answer.status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch, calls };
}

export class Collected extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** `calms <argv>` with ENV, stdin a closed pipe. */
export async function run(argv: string[], fetch: FetchFunction) {
  const stdout = new Collected();
  const stderr = new Collected();
  const stdin = new PassThrough();
  stdin.end();
  const code = await runCli({ argv, env: ENV, stdin, stdout, stderr, fetch });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
