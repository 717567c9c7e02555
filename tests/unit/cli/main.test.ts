/**
 * The whole CLI against a fake fetch and fake streams: every answer of `POST /requests` it can get.
 * Response bodies follow lib/intake/submitRequest.ts.
 */
import { PassThrough } from 'node:stream';
import type { FetchFunction, RequestBody } from '../../../lib/cli/api';
import { DUPLICATE_QUESTION, ExitCode, runCli } from '../../../lib/cli/main';
import { CYCLE0_MESSAGE } from '../../../lib/intake/submitRequest';
import { NO_QA0_PASS_MESSAGE } from '../../../lib/domain/intakeChecks';
import { API_KEY, Collected } from './harness';

const API_URL = 'http://calms.test/dev';
const ENV = { CALMS_API_URL: API_URL, CALMS_API_KEY: API_KEY };
const MOUS = 'uid___A001_X1296_X675';
const SEED_ARGV = [
  'request',
  '2017.1.00727.S',
  'Judit Szulagyi',
  'judits@phys.ethz.ch',
  '16140',
  'uid://A001/X1296/X675',
  '--arc-contact',
  'evkampe@eso.org',
];

const ACCEPTED = {
  mous: MOUS,
  outcome: 'accepted',
  requestId: 't16140-uid___A001_X1296_X675-20240501T100000Z-ab12',
  executionArn: 'arn:aws:states:us-east-1:000000000000:execution:calms-local:t16140-uid___A001_X1296_X675-20240501T100000Z-ab12',
  triggerName: 'trigger-uid___A001_X1296_X675-2024-05-01T10-00-00.txt',
};
const DUPLICATE = {
  mous: MOUS,
  outcome: 'rejected',
  error: {
    code: 'DUPLICATE_TRIGGER',
    message:
      'A request for uid___A001_X1296_X675 is still being processed: trigger trigger-uid___A001_X1296_X675-2024-04-30T08-15-00.txt made 2024-04-30T08:15:00.000Z. Send it again with force to create a second one.',
    existingTrigger: {
      name: 'trigger-uid___A001_X1296_X675-2024-04-30T08-15-00.txt',
      createdAt: '2024-04-30T08:15:00.000Z',
      requestId: 't16140-uid___A001_X1296_X675-20240430T081500Z-zz99',
    },
  },
};

/** A JSON body, a raw text, or what fetch throws. */
type Answer = { status: number; body: unknown } | { status: number; text: string } | Error | DOMException;

/** A fetch that answers from a script and remembers every call. */
function fakeFetch(...answers: Answer[]) {
  const calls: { url: string; method?: string; headers: Record<string, string>; body: RequestBody }[] = [];
  const fetch: FetchFunction = async (input, init) => {
    calls.push({
      url: String(input),
      method: init?.method,
      headers: { ...(init?.headers as Record<string, string>) },
      body: JSON.parse(String(init?.body)) as RequestBody,
    });
    const answer = answers.shift();
    if (answer === undefined) throw new Error('the fake fetch was called more often than scripted');
    if (!('status' in answer)) throw answer;
    const text = 'text' in answer ? answer.text : JSON.stringify(answer.body);
    return new Response(text, { status: answer.status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch, calls };
}

/** stdin as a terminal with `typed` already typed, or a pipe when `typed` is undefined. */
function stdinOf(typed?: string): PassThrough & { isTTY?: boolean } {
  const stdin: PassThrough & { isTTY?: boolean } = new PassThrough();
  if (typed === undefined) {
    stdin.end();
    return stdin;
  }
  stdin.isTTY = true;
  stdin.write(typed);
  return stdin;
}

async function run(argv: string[], fetch: FetchFunction, options: { typed?: string; env?: Record<string, string | undefined> } = {}) {
  const stdout = new Collected();
  const stderr = new Collected();
  const code = await runCli({ argv, env: options.env ?? ENV, stdin: stdinOf(options.typed), stdout, stderr, fetch });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('calms request: what it sends', () => {
  it('POSTs the seed example as JSON to <CALMS_API_URL>/requests with the API key, force false', async () => {
    // Prepare
    const api = fakeFetch({ status: 202, body: { helpdeskTicket: '16140', results: [ACCEPTED] } });

    // Act
    await run(SEED_ARGV, api.fetch);

    // Assess
    expect(api.calls).toHaveLength(1);
    expect(api.calls[0]).toEqual({
      url: 'http://calms.test/dev/requests',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: {
        projectCode: '2017.1.00727.S',
        userName: 'Judit Szulagyi',
        userEmail: 'judits@phys.ethz.ch',
        helpdeskTicket: '16140',
        arcContact: 'evkampe@eso.org',
        mous: ['uid://A001/X1296/X675'],
        force: false,
      },
    });
  });

  it('takes the ARC contact from CALMS_ARC_CONTACT when --arc-contact is not given; --arc-contact overrides it', async () => {
    // Prepare
    const api = fakeFetch(
      { status: 202, body: { helpdeskTicket: '16140', results: [ACCEPTED] } },
      { status: 202, body: { helpdeskTicket: '16140', results: [ACCEPTED] } },
    );
    const env = { ...ENV, CALMS_ARC_CONTACT: 'staff.default@eso.org' };
    const withoutOption = SEED_ARGV.slice(0, -2);

    // Act
    await run(withoutOption, api.fetch, { env });
    await run(SEED_ARGV, api.fetch, { env });

    // Assess
    expect(api.calls.map((call) => (call.body as { arcContact: string }).arcContact)).toEqual(['staff.default@eso.org', 'evkampe@eso.org']);
  });

  it('without --arc-contact or CALMS_ARC_CONTACT: a usage error naming both ways, exit 2, nothing sent', async () => {
    // Prepare
    const api = fakeFetch();

    // Act
    const result = await run(SEED_ARGV.slice(0, -2), api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('calms request: no ARC contact: give --arc-contact <email>');
    expect(result.stderr).toContain('CALMS_ARC_CONTACT in the environment or in ~/.config/calms/config');
    expect(api.calls).toHaveLength(0);
  });

  it('sends the calibrator fields as a list, and force true with --force', async () => {
    // Prepare
    const api = fakeFetch({ status: 202, body: { helpdeskTicket: '12345', results: [{ ...ACCEPTED, mous: 'uid___A001_X159a_X6b' }] } });
    const argv = [
      'request',
      '2021.1.01582.S',
      'Franco Nero',
      'franco@gmail.com',
      '12345',
      'uid://A001/X159a/X6b',
      'J0510+1800,J0321+1234',
      '--arc-contact',
      'evkampe@eso.org',
      '--force',
    ];

    // Act
    await run(argv, api.fetch);

    // Assess
    expect(api.calls[0]!.body).toMatchObject({ mous: ['uid://A001/X159a/X6b'], calibratorFields: ['J0510+1800', 'J0321+1234'], force: true });
  });

  it('uses the default local URL of lib/config.ts when CALMS_API_URL is unset, without a trailing slash', async () => {
    // Prepare
    const api = fakeFetch({ status: 202, body: { results: [ACCEPTED] } });

    // Act
    await run(SEED_ARGV, api.fetch, { env: { CALMS_API_KEY: API_KEY } });

    // Assess
    expect(api.calls[0]!.url).toBe('http://127.0.0.1:3000/local/requests');
  });
});

describe('calms request: the answers', () => {
  it('prints request id, trigger and execution of an accepted MOUS on stdout, exit 0', async () => {
    // Prepare
    const api = fakeFetch({ status: 202, body: { helpdeskTicket: '16140', results: [ACCEPTED] } });

    // Act
    const result = await run(SEED_ARGV, api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toBe(
      [
        'Request accepted for MOUS uid___A001_X1296_X675 (project 2017.1.00727.S, helpdesk ticket 16140).',
        `  request id: ${ACCEPTED.requestId}`,
        `  trigger:    ${ACCEPTED.triggerName}`,
        `  execution:  ${ACCEPTED.executionArn}`,
        'CalMS now emails the request to AOG, CC evkampe@eso.org.',
        '',
      ].join('\n'),
    );
    expect(result.stderr).toBe('');
  });

  it('prints the two seed lines for NO_QA0_PASS and exits 1', async () => {
    // Prepare
    const rejected = { mous: 'uid___A001_X2f1e_X106', outcome: 'rejected', error: { code: 'NO_QA0_PASS', message: NO_QA0_PASS_MESSAGE } };
    const api = fakeFetch({ status: 422, body: { helpdeskTicket: '16140', results: [rejected] } });

    // Act
    const result = await run(SEED_ARGV, api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.REFUSED);
    expect(result.stderr.split('\n').slice(0, 2)).toEqual([
      'ERROR: No QA0_PASS data found for this MOUS. Please double-check MOUS UID.',
      'If confirmed, please inform the user that ALMA cannot offer calibrated data for this MOUS.',
    ]);
    expect(result.stderr).toContain('NO_QA0_PASS: nothing was triggered for MOUS uid___A001_X2f1e_X106 and AOG was not contacted.');
    expect(result.stdout).toBe('');
  });

  it.each(['WRONG_PROJECT', 'UNKNOWN_CALIBRATOR_FIELD', 'NOT_A_CALIBRATOR'])('prints the server message of %s and exits 1', async (code) => {
    // Prepare
    const message = `The server's own words about ${code}.`;
    const api = fakeFetch({ status: 422, body: { results: [{ mous: MOUS, outcome: 'rejected', error: { code, message } }] } });

    // Act
    const result = await run(SEED_ARGV, api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.REFUSED);
    expect(result.stderr.split('\n')[0]).toBe(message);
  });

  it('prints a SERVICE_UNAVAILABLE rejection and exits 4', async () => {
    // Prepare
    const message = 'Nothing was triggered: S3 did not answer while claiming MOUS uid___A001_X1296_X675';
    const api = fakeFetch({ status: 503, body: { results: [{ mous: MOUS, outcome: 'rejected', error: { code: 'SERVICE_UNAVAILABLE', message } }] } });

    // Act
    const result = await run(SEED_ARGV, api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.UNAVAILABLE);
    expect(result.stderr).toBe(`${message}\n`);
  });

  it('prints the field, as the argument that supplied it, and the message of a VALIDATION_ERROR, exit 2', async () => {
    // Prepare
    const api = fakeFetch({
      status: 400,
      body: { error: { code: 'VALIDATION_ERROR', field: 'userEmail', message: 'userEmail must be a plain email address like name@example.org' } },
    });

    // Act
    const result = await run(SEED_ARGV, api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toBe('Invalid request: <user email> (userEmail): userEmail must be a plain email address like name@example.org\n');
  });

  it('names an indexed field such as calibratorFields[1] by its argument too', async () => {
    // Prepare
    const api = fakeFetch({
      status: 400,
      body: { error: { code: 'VALIDATION_ERROR', field: 'calibratorFields[1]', message: 'calibratorFields[1] must be a field name' } },
    });

    // Act
    const result = await run(SEED_ARGV, api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toBe('Invalid request: <calibrator fields> (calibratorFields[1]): calibratorFields[1] must be a field name\n');
  });

  it('prints the CYCLE0 message and exits 1', async () => {
    // Prepare
    const api = fakeFetch({ status: 422, body: { error: { code: 'CYCLE0', field: 'projectCode', message: CYCLE0_MESSAGE } } });

    // Act
    const result = await run(SEED_ARGV, api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.REFUSED);
    expect(result.stderr).toBe(`${CYCLE0_MESSAGE}\n(CYCLE0: nothing was triggered and AOG was not contacted.)\n`);
  });

  it('prints an error-shaped 503 and exits 4', async () => {
    // Prepare
    const api = fakeFetch({
      status: 503,
      body: { error: { code: 'SERVICE_UNAVAILABLE', message: 'The archive did not answer; nothing was triggered.' } },
    });

    // Act
    const result = await run(SEED_ARGV, api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.UNAVAILABLE);
    expect(result.stderr).toBe('The archive did not answer; nothing was triggered.\n');
  });

  it('says the API key was refused on 403, exit 4', async () => {
    // Prepare
    const api = fakeFetch({ status: 403, body: { message: 'Forbidden' } });

    // Act
    const result = await run(SEED_ARGV, api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.UNAVAILABLE);
    expect(result.stderr).toBe('The CalMS API at http://calms.test/dev/requests refused the API key (HTTP 403). Check CALMS_API_KEY.\n');
  });

  it('says there is no API at the URL on 404, exit 4', async () => {
    // Prepare
    const api = fakeFetch({ status: 404, text: 'Not Found' });

    // Act
    const result = await run(SEED_ARGV, api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.UNAVAILABLE);
    expect(result.stderr).toBe('There is no CalMS API at http://calms.test/dev/requests (HTTP 404). Check CALMS_API_URL.\n');
  });

  it('shows status and text of an answer it does not understand, exit 4', async () => {
    // Prepare
    const api = fakeFetch({ status: 502, text: '<html>Bad Gateway</html>' });

    // Act
    const result = await run(SEED_ARGV, api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.UNAVAILABLE);
    expect(result.stderr).toBe('Unexpected answer from the CalMS API at http://calms.test/dev/requests: HTTP 502: <html>Bad Gateway</html>\n');
  });

  it('names the URL and the reason when the API cannot be reached, exit 4', async () => {
    // Prepare
    const refused = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:3000') });
    const api = fakeFetch(refused);

    // Act
    const result = await run(SEED_ARGV, api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.UNAVAILABLE);
    expect(result.stderr).toBe(
      'Could not reach the CalMS API at http://calms.test/dev/requests: fetch failed (connect ECONNREFUSED 127.0.0.1:3000)\n' +
        'Check CALMS_API_URL and that the CalMS service is running. Nothing was triggered.\n',
    );
  });

  it('says when the API did not answer in time, exit 4', async () => {
    // Prepare
    const api = fakeFetch(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));

    // Act
    const result = await run(SEED_ARGV, api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.UNAVAILABLE);
    expect(result.stderr).toContain('Could not reach the CalMS API at http://calms.test/dev/requests: no answer within 60 s');
  });
});

describe('calms request: a trigger for the MOUS is still active', () => {
  it('without a terminal: names the trigger and when it was made, aborts with exit 3 and does not ask', async () => {
    // Prepare
    const api = fakeFetch({ status: 409, body: { results: [DUPLICATE] } });

    // Act
    const result = await run(SEED_ARGV, api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.DUPLICATE_ABORTED);
    expect(api.calls).toHaveLength(1);
    expect(result.stderr).toContain(
      'A request for MOUS uid___A001_X1296_X675 is still active: trigger trigger-uid___A001_X1296_X675-2024-04-30T08-15-00.txt, made 2024-04-30T08:15:00.000Z.',
    );
    expect(result.stderr).not.toContain(DUPLICATE_QUESTION);
    expect(result.stderr).toContain('Aborted: stdin is not a terminal');
  });

  it('with --abort-on-duplicate on a terminal: aborts without asking, exit 3', async () => {
    // Prepare
    const api = fakeFetch({ status: 409, body: { results: [DUPLICATE] } });

    // Act
    const result = await run([...SEED_ARGV, '--abort-on-duplicate'], api.fetch, { typed: 'n\n' });

    // Assess
    expect(result.code).toBe(ExitCode.DUPLICATE_ABORTED);
    expect(api.calls).toHaveLength(1);
    expect(result.stderr).not.toContain(DUPLICATE_QUESTION);
  });

  it.each([['\n'], ['y\n'], ['YES\n']])('on a terminal: asks, and %j aborts with exit 3', async (typed) => {
    // Prepare
    const api = fakeFetch({ status: 409, body: { results: [DUPLICATE] } });

    // Act
    const result = await run(SEED_ARGV, api.fetch, { typed });

    // Assess
    expect(result.code).toBe(ExitCode.DUPLICATE_ABORTED);
    expect(api.calls).toHaveLength(1);
    expect(result.stderr).toContain(DUPLICATE_QUESTION);
    expect(result.stderr).toContain('Aborted: no second trigger was created.');
  });

  it('on a terminal: the end of input counts as the default, abort', async () => {
    // Prepare
    const api = fakeFetch({ status: 409, body: { results: [DUPLICATE] } });
    const stdout = new Collected();
    const stderr = new Collected();
    const stdin: PassThrough & { isTTY?: boolean } = new PassThrough();
    stdin.isTTY = true;
    stdin.end();

    // Act
    const code = await runCli({ argv: SEED_ARGV, env: ENV, stdin, stdout, stderr, fetch: api.fetch });

    // Assess
    expect(code).toBe(ExitCode.DUPLICATE_ABORTED);
    expect(api.calls).toHaveLength(1);
  });

  it('on a terminal: "n" sends the same request again with force and reports the acceptance, exit 0', async () => {
    // Prepare
    const api = fakeFetch({ status: 409, body: { results: [DUPLICATE] } }, { status: 202, body: { results: [ACCEPTED] } });

    // Act
    const result = await run(SEED_ARGV, api.fetch, { typed: 'n\n' });

    // Assess
    expect(result.code).toBe(ExitCode.OK);
    expect(api.calls.map((call) => call.body.force)).toEqual([false, true]);
    expect(api.calls[1]!.body).toEqual({ ...api.calls[0]!.body, mous: [MOUS], force: true });
    expect(result.stdout).toContain(`  trigger:    ${ACCEPTED.triggerName}`);
  });

  it('on a terminal: asks again after an answer that is neither yes nor no', async () => {
    // Prepare
    const api = fakeFetch({ status: 409, body: { results: [DUPLICATE] } }, { status: 202, body: { results: [ACCEPTED] } });

    // Act
    const result = await run(SEED_ARGV, api.fetch, { typed: 'maybe\nno\n' });

    // Assess
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stderr).toContain(`Please answer y or n. ${DUPLICATE_QUESTION}`);
    expect(api.calls).toHaveLength(2);
  });

  it('with --force a duplicate cannot arise: one call, force true, nothing asked', async () => {
    // Prepare
    const api = fakeFetch({ status: 202, body: { results: [ACCEPTED] } });

    // Act
    const result = await run([...SEED_ARGV, '--force'], api.fetch, { typed: '' });

    // Assess
    expect(result.code).toBe(ExitCode.OK);
    expect(api.calls.map((call) => call.body.force)).toEqual([true]);
    expect(result.stderr).not.toContain(DUPLICATE_QUESTION);
  });
});

describe('calms: usage and help', () => {
  it('prints the main help on stdout for --help, exit 0, without calling the API', async () => {
    // Prepare
    const api = fakeFetch();

    // Act
    const result = await run(['--help'], api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toContain('calms request <proj code> "<user name>" "<user email>" <ticket> <MOUS UID> ["<calibrator fields>"]');
    expect(result.stdout).toContain('CALMS_API_URL');
    expect(api.calls).toHaveLength(0);
  });

  it('prints the request help with arguments, options, exit codes and the seed examples', async () => {
    // Prepare
    const api = fakeFetch();

    // Act
    const result = await run(['request', '--help'], api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toContain('--arc-contact <email>');
    expect(result.stdout).toContain('Exit status:');
    expect(result.stdout).toContain('"J0510+1800,J0321+1234"');
  });

  it('prints a usage error on stderr with a pointer to the help, exit 2, without calling the API', async () => {
    // Prepare
    const api = fakeFetch();

    // Act
    const result = await run(['request', '2017.1.00727.S', 'Judit Szulagyi', '--arc-contact', 'evkampe@eso.org'], api.fetch);

    // Assess
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toBe(
      'calms request: expected 5 or 6 arguments, got 2: missing "<user email>" <ticket> <MOUS UID>\nRun "calms request --help" for usage.\n',
    );
    expect(api.calls).toHaveLength(0);
  });

  it('refuses a CALMS_API_URL that is not a URL, exit 2', async () => {
    // Prepare
    const api = fakeFetch();

    // Act
    const result = await run(SEED_ARGV, api.fetch, { env: { CALMS_API_URL: 'calms.example.org', CALMS_API_KEY: API_KEY } });

    // Assess
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toBe(
      'calms: configuration problem: CALMS_API_URL must be an http(s) URL such as http://127.0.0.1:3000/local, got "calms.example.org"\n',
    );
    expect(api.calls).toHaveLength(0);
  });
});
