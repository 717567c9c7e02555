import { parseCommandLine, splitFields, type RequestArguments, YES_REMOVED } from '../../../lib/cli/args';

const SEED = ['2017.1.00727.S', 'Judit Szulagyi', 'judits@phys.ethz.ch', '16140', 'uid://A001/X1296/X675'];
const CONTACT = ['--arc-contact', 'evkampe@eso.org'];

function requestOf(argv: string[]): RequestArguments {
  const parsed = parseCommandLine(argv);
  if (!parsed.ok) throw new Error(`expected a request, got the usage error: ${parsed.message}`);
  if (parsed.command.kind !== 'request') throw new Error(`expected a request, got ${parsed.command.kind}`);
  return parsed.command.request;
}

function usageErrorOf(argv: string[]): { message: string; topic: string } {
  const parsed = parseCommandLine(argv);
  if (parsed.ok) throw new Error(`expected a usage error, got ${JSON.stringify(parsed.command)}`);
  return parsed;
}

describe('parseCommandLine: calms request', () => {
  it('reads the seed example in the old script order, keeping the uid:// form for the server to normalise', () => {
    // Prepare
    const argv = ['request', ...SEED, ...CONTACT];

    // Act
    const request = requestOf(argv);

    // Assess
    expect(request).toEqual({
      projectCode: '2017.1.00727.S',
      userName: 'Judit Szulagyi',
      userEmail: 'judits@phys.ethz.ch',
      helpdeskTicket: '16140',
      mous: 'uid://A001/X1296/X675',
      calibratorFields: [],
      arcContact: 'evkampe@eso.org',
      force: false,
      abortOnDuplicate: false,
    });
  });

  it('takes the file-name form of the MOUS UID as given', () => {
    // Prepare
    const argv = ['request', '2018.1.01406.S', 'A User', 'a@example.org', '16267', 'uid___A001_X133d_X3cf3', ...CONTACT];

    // Act
    const request = requestOf(argv);

    // Assess
    expect(request.mous).toBe('uid___A001_X133d_X3cf3');
  });

  it('splits the optional sixth argument into calibrator fields at commas', () => {
    // Prepare
    const argv = [
      'request',
      '2021.1.01582.S',
      'Franco Nero',
      'franco@gmail.com',
      '12345',
      'uid://A001/X159a/X6b',
      'J0510+1800,J0321+1234',
      ...CONTACT,
    ];

    // Act
    const request = requestOf(argv);

    // Assess
    expect(request.calibratorFields).toEqual(['J0510+1800', 'J0321+1234']);
    expect(request.mous).toBe('uid://A001/X159a/X6b');
  });

  it('treats a blank sixth argument as no calibrator fields', () => {
    // Prepare
    const argv = ['request', ...SEED, '  ', ...CONTACT];

    // Act
    const request = requestOf(argv);

    // Assess
    expect(request.calibratorFields).toEqual([]);
  });

  it('accepts options before, between and after the arguments, and --opt=value', () => {
    // Prepare
    const argv = ['request', '--force', SEED[0]!, SEED[1]!, '--arc-contact=evkampe@eso.org', ...SEED.slice(2)];

    // Act
    const request = requestOf(argv);

    // Assess
    expect(request).toMatchObject({ projectCode: SEED[0], mous: SEED[4], arcContact: 'evkampe@eso.org', force: true, abortOnDuplicate: false });
  });

  it('reads -f as --force, and --abort-on-duplicate', () => {
    // Prepare
    const abortArgv = ['request', ...SEED, ...CONTACT, '--abort-on-duplicate'];
    const forceArgv = ['request', ...SEED, ...CONTACT, '-f'];

    // Act
    const abort = requestOf(abortArgv);
    const force = requestOf(forceArgv);

    // Assess
    expect([abort.abortOnDuplicate, abort.force]).toEqual([true, false]);
    expect([force.abortOnDuplicate, force.force]).toEqual([false, true]);
  });

  it.each([['--yes'], ['-y'], ['--yes=true']])(
    'refuses the old %s, which aborted on a duplicate, with a hint at the two flags that say what they do',
    (flag) => {
      // Prepare
      const argv = ['request', ...SEED, ...CONTACT, flag];

      // Act
      const error = usageErrorOf(argv);

      // Assess
      expect(error.message).toBe(YES_REMOVED);
      expect(error.message).toContain('--abort-on-duplicate');
      expect(error.message).toContain('--force');
    },
  );

  it.each([
    [0, 'missing <proj code> "<user name>" "<user email>" <ticket> <MOUS UID>'],
    [3, 'missing <ticket> <MOUS UID>'],
    [4, 'missing <MOUS UID>'],
  ])('refuses %i arguments, naming the missing ones', (count, missing) => {
    // Prepare
    const argv = ['request', ...SEED.slice(0, count), ...CONTACT];

    // Act
    const error = usageErrorOf(argv);

    // Assess
    expect(error.message).toBe(`calms request: expected 5 or 6 arguments, got ${count}: ${missing}`);
    expect(error.topic).toBe('request');
  });

  it('refuses 7 arguments, hinting at quoting the user name and joining the fields', () => {
    // Prepare: the user name and the fields typed without quotes
    const argv = ['request', '2021.1.01582.S', 'Franco', 'Nero', 'franco@gmail.com', '12345', 'uid://A001/X159a/X6b', 'J0510+1800', ...CONTACT];

    // Act
    const error = usageErrorOf(argv);

    // Assess
    expect(error.message).toMatch(/^calms request: expected 5 or 6 arguments, got 7\. Quote the user name/);
    expect(error.message).toContain('"J0510+1800,J0321+1234"');
  });

  it('leaves the ARC contact unset without --arc-contact, for CALMS_ARC_CONTACT to give it', () => {
    // Prepare
    const argv = ['request', ...SEED];

    // Act
    const request = requestOf(argv);

    // Assess
    expect(request).not.toHaveProperty('arcContact');
  });

  it('refuses an empty --arc-contact', () => {
    // Prepare
    const argv = ['request', ...SEED, '--arc-contact', ' '];

    // Act
    const error = usageErrorOf(argv);

    // Assess
    expect(error.message).toBe('calms request: --arc-contact is empty: give your own address');
  });

  it('refuses --arc-contact without a value', () => {
    // Prepare
    const argv = ['request', ...SEED, '--arc-contact'];

    // Act
    const error = usageErrorOf(argv);

    // Assess
    expect(error.message).toMatch(/^calms request: .*--arc-contact/);
  });

  it('refuses an unknown option', () => {
    // Prepare
    const argv = ['request', ...SEED, ...CONTACT, '--calfield', 'J0510+1800'];

    // Act
    const error = usageErrorOf(argv);

    // Assess
    expect(error.message).toMatch(/^calms request: .*--calfield/);
  });

  it('refuses --force together with --abort-on-duplicate', () => {
    // Prepare
    const argv = ['request', ...SEED, ...CONTACT, '--force', '--abort-on-duplicate'];

    // Act
    const error = usageErrorOf(argv);

    // Assess
    expect(error.message).toContain('--force and --abort-on-duplicate contradict each other');
  });

  it('answers help for request --help, even with other arguments', () => {
    // Prepare
    const argv = ['request', '2017.1.00727.S', '--help'];

    // Act
    const parsed = parseCommandLine(argv);

    // Assess
    expect(parsed).toEqual({ ok: true, command: { kind: 'help', topic: 'request' } });
  });
});

describe('parseCommandLine: calms queue', () => {
  it.each([
    [['queue'], false],
    [['queue', '--json'], true],
  ])('reads %j as the queue, json %s', (argv, json) => {
    // Prepare: nothing beyond the arguments

    // Act
    const parsed = parseCommandLine(argv);

    // Assess
    expect(parsed).toEqual({ ok: true, command: { kind: 'queue', json } });
  });

  it.each([[['queue', '--help']], [['queue', '-h']], [['help', 'queue']]])('answers the queue help for %j', (argv) => {
    // Prepare: nothing beyond the arguments

    // Act
    const parsed = parseCommandLine(argv);

    // Assess
    expect(parsed).toEqual({ ok: true, command: { kind: 'help', topic: 'queue' } });
  });

  it.each([[['queue', '16140']], [['queue', '--all']]])('refuses %j with a usage error pointing at the queue help', (argv) => {
    // Prepare: nothing beyond the arguments

    // Act
    const error = usageErrorOf(argv);

    // Assess
    expect(error.message).toMatch(/^calms queue: /);
    expect(error.topic).toBe('queue');
  });
});

describe('parseCommandLine: the command', () => {
  it.each([[['--help']], [['-h']], [['help']]])('answers the main help for %j', (argv) => {
    // Prepare: nothing beyond the arguments

    // Act
    const parsed = parseCommandLine(argv);

    // Assess
    expect(parsed).toEqual({ ok: true, command: { kind: 'help', topic: 'main' } });
  });

  it('answers the request help for "help request"', () => {
    // Prepare
    const argv = ['help', 'request'];

    // Act
    const parsed = parseCommandLine(argv);

    // Assess
    expect(parsed).toEqual({ ok: true, command: { kind: 'help', topic: 'request' } });
  });

  it.each([
    [[], 'calms: no command given'],
    [['trigger'], 'calms: unknown command "trigger". Did you mean "calms triggers"?'],
    [['stauts'], 'calms: unknown command "stauts". Did you mean "calms status"?'],
    [['Cancle'], 'calms: unknown command "Cancle". Did you mean "calms cancel"?'],
    [['requset'], 'calms: unknown command "requset". Did you mean "calms request"?'],
    [['deploy'], 'calms: unknown command "deploy"'],
    [['x'], 'calms: unknown command "x"'],
    [['--force', 'request'], 'calms: unknown option "--force" (options go after the command)'],
    [['help', 'nothing'], 'calms help: unknown topic "nothing"'],
  ])('refuses %j with a usage error', (argv, message) => {
    // Prepare: nothing beyond the arguments

    // Act
    const error = usageErrorOf(argv);

    // Assess
    expect(error).toEqual({ ok: false, message, topic: 'main' });
  });
});

describe('splitFields', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['J0510+1800', ['J0510+1800']],
    ['J0510+1800,J0321+1234', ['J0510+1800', 'J0321+1234']],
    [' J0510+1800 , J0321+1234 ', ['J0510+1800', 'J0321+1234']],
    ['A,,B', ['A', '', 'B']],
  ])('splits %j into %j', (text, fields) => {
    // Prepare: nothing beyond the text

    // Act
    const result = splitFields(text);

    // Assess
    expect(result).toEqual(fields);
  });
});
