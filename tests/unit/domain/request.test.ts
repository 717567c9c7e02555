import { MAX_CALIBRATOR_FIELDS } from '../../../lib/domain/identifiers';
import {
  isCycle0,
  isEmailAddress,
  isProjectCode,
  MAX_MOUS_PER_REQUEST,
  mousRequest,
  normaliseMousUid,
  parseTicketRequest,
  triggerName,
  type Parsed,
  type TicketRequest,
  type ValidationProblem,
} from '../../../lib/domain/request';
import { EXECUTION_NAME, SEED_TICKET, SEED_TIME, seedRequestBody } from '../fakes';

/** The problem of a rejected body; fails the test if the body was accepted. */
function problemOf(result: Parsed<TicketRequest>): ValidationProblem {
  if (result.ok) throw new Error(`expected a validation problem, got ${JSON.stringify(result.value)}`);
  return result.problem;
}

function parsedValue(result: Parsed<TicketRequest>): TicketRequest {
  if (!result.ok) throw new Error(`expected the body to be accepted, got ${JSON.stringify(result.problem)}`);
  return result.value;
}

/** A body without `field`. */
function without(field: string): Record<string, unknown> {
  const body = seedRequestBody();
  delete body[field];
  return body;
}

/** `count` distinct MOUS UIDs of one project. */
function mousList(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `uid://A001/X1296/X${(0x675 + index).toString(16)}`);
}

describe('parseTicketRequest', () => {
  describe('a valid request', () => {
    it('accepts the seed example and normalises the MOUS to the file-name form', () => {
      // Prepare
      const body = seedRequestBody();

      // Act
      const result = parseTicketRequest(body);

      // Assess
      expect(result).toEqual({ ok: true, value: SEED_TICKET });
    });

    it('accepts the seed calibrator example, keeping the fields in the order given', () => {
      // Prepare
      const body = seedRequestBody({
        projectCode: '2021.1.01582.S',
        userName: 'Franco Nero',
        userEmail: 'franco@gmail.com',
        helpdeskTicket: '12345',
        mous: ['uid://A001/X159a/X6b'],
        calibratorFields: ['J0510+1800', 'J0321+1234'],
      });

      // Act
      const value = parsedValue(parseTicketRequest(body));

      // Assess
      expect(value.mous).toEqual(['uid___A001_X159a_X6b']);
      expect(value.calibratorFields).toEqual(['J0510+1800', 'J0321+1234']);
    });

    it('trims every text field', () => {
      // Prepare
      const body = seedRequestBody({
        projectCode: ' 2017.1.00727.S ',
        userName: '  Judit Szulagyi\n',
        userEmail: '\tjudits@phys.ethz.ch ',
        helpdeskTicket: ' 16140 ',
        arcContact: ' evkampe@eso.org',
        mous: [' uid://A001/X1296/X675 '],
        calibratorFields: [' J0510+1800 '],
      });

      // Act
      const value = parsedValue(parseTicketRequest(body));

      // Assess
      expect(value).toEqual({ ...SEED_TICKET, calibratorFields: ['J0510+1800'] });
    });

    it(`accepts up to ${MAX_MOUS_PER_REQUEST} MOUS in either notation and keeps their order`, () => {
      // Prepare
      const uids = mousList(MAX_MOUS_PER_REQUEST).map((uid, index) => (index % 2 ? uid.replace('uid://', 'uid___').replace(/\//g, '_') : uid));

      // Act
      const value = parsedValue(parseTicketRequest(seedRequestBody({ mous: uids })));

      // Assess
      expect(value.mous).toHaveLength(MAX_MOUS_PER_REQUEST);
      expect(value.mous[0]).toBe('uid___A001_X1296_X675');
      expect(value.mous[1]).toBe('uid___A001_X1296_X676');
      expect(value.mous[9]).toBe('uid___A001_X1296_X67e');
    });

    it('takes force true, and treats absent or null force and calibratorFields as "not given"', () => {
      // Act
      const forced = parsedValue(parseTicketRequest(seedRequestBody({ force: true })));
      const nulls = parsedValue(parseTicketRequest(seedRequestBody({ force: null, calibratorFields: null })));

      // Assess
      expect(forced.force).toBe(true);
      expect(nulls.force).toBe(false);
      expect(nulls.calibratorFields).toEqual([]);
    });

    it.each(['2019.A.00034.S', '2018.1.01406.T', '2016.1.00001.V', '2013.1.00002.L', '2023.1.00003.P'])(
      'accepts the project code %s (DDT letter and every proposal type)',
      (projectCode) => {
        // Act
        const result = parseTicketRequest(seedRequestBody({ projectCode }));

        // Assess
        expect(parsedValue(result).projectCode).toBe(projectCode);
      },
    );

    it('accepts a user name with non-ASCII letters, apostrophes and hyphens', () => {
      // Act
      const result = parseTicketRequest(seedRequestBody({ userName: "Zoë O'Brien-Ångström" }));

      // Assess
      expect(parsedValue(result).userName).toBe("Zoë O'Brien-Ångström");
    });

    it('ignores fields it does not know', () => {
      // Act
      const result = parseTicketRequest(seedRequestBody({ comment: 'urgent' }));

      // Assess
      expect(parsedValue(result)).not.toHaveProperty('comment');
    });
  });

  describe('the body', () => {
    it.each([
      ['null', null],
      ['undefined', undefined],
      ['an array', [seedRequestBody()]],
      ['a string', JSON.stringify(seedRequestBody())],
      ['a number', 16140],
      ['a boolean', true],
    ])('rejects %s as the body', (_, body) => {
      // Act
      const problem = problemOf(parseTicketRequest(body));

      // Assess
      expect(problem).toEqual({ field: 'body', message: 'the request body must be a JSON object' });
    });

    it('reports the first problem in field order', () => {
      // Prepare
      const body = seedRequestBody({ projectCode: 'nope', userEmail: 'nope', mous: [] });

      // Act
      const problem = problemOf(parseTicketRequest(body));

      // Assess
      expect(problem.field).toBe('projectCode');
    });
  });

  describe.each(['projectCode', 'userName', 'userEmail', 'helpdeskTicket', 'arcContact'])('the required text field %s', (field) => {
    it('is required', () => {
      // Act
      const problem = problemOf(parseTicketRequest(without(field)));

      // Assess
      expect(problem).toEqual({ field, message: `${field} is required` });
    });

    it('is required when null', () => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ [field]: null })));

      // Assess
      expect(problem).toEqual({ field, message: `${field} is required` });
    });

    it.each([
      ['a number', 16140],
      ['a boolean', true],
      ['an array', ['x']],
      ['an object', { value: 'x' }],
    ])('must be a string, not %s', (_, value) => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ [field]: value })));

      // Assess
      expect(problem).toEqual({ field, message: `${field} must be a string` });
    });

    it.each([
      ['empty', ''],
      ['blank', ' \t\n '],
    ])('must not be %s', (_, value) => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ [field]: value })));

      // Assess
      expect(problem).toEqual({ field, message: `${field} must not be empty` });
    });
  });

  describe('projectCode', () => {
    it.each([
      '2017.1.00727',
      '17.1.00727.S',
      '2017.1.0727.S',
      '2017.1.007270.S',
      '2017.10.00727.S',
      '2017.1.00727.X',
      '2017.1.00727.s',
      '2017.a.00727.S',
      '2017-1-00727-S',
      '2017.1.00727.S.S',
      '2017.1.00727.S; rm -rf /',
      '$(id).1.00727.S',
      '2017.1.00727.S\n2018.1.00001.S',
      'uid://A001/X1296/X675',
    ])('rejects %j naming the pattern', (projectCode) => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ projectCode })));

      // Assess
      expect(problem.field).toBe('projectCode');
      expect(problem.message).toBe('projectCode must look like 2017.1.00727.S (year.cycle.number.type, type one of S T V L P)');
    });
  });

  describe('userName', () => {
    it.each([
      ['a line feed', 'Judit\nSzulagyi'],
      ['a carriage return', 'Judit\rSzulagyi'],
      ['a header injection', 'Judit Szulagyi\r\nBcc: attacker@example.org'],
      ['a tab', 'Judit\tSzulagyi'],
      ['a NUL', 'Judit\u0000Szulagyi'],
      ['an escape sequence', 'Judit\u001b[31mSzulagyi'],
      ['a DEL', 'Judit\u007fSzulagyi'],
      ['a C1 next-line', 'Judit\u0085Szulagyi'],
      ['a line separator', 'Judit\u2028Szulagyi'],
      ['a paragraph separator', 'Judit\u2029Szulagyi'],
    ])('rejects a name with %s', (_, userName) => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ userName })));

      // Assess
      expect(problem).toEqual({ field: 'userName', message: 'userName must be one line of at most 200 characters' });
    });

    it.each([
      ['a right-to-left override (U+202E)', 'Judit \u202Eiygaluzs'],
      ['a left-to-right isolate (U+2066)', 'Judit \u2066Szulagyi'],
      ['a zero-width space (U+200B)', 'Judit\u200BSzulagyi'],
      ['a zero-width joiner (U+200D)', 'Judit\u200DSzulagyi'],
      ['a zero-width no-break space (U+FEFF)', 'Judit\uFEFFSzulagyi'],
      ['a soft hyphen (U+00AD)', 'Judit Szu\u00ADlagyi'],
    ])('rejects a name with %s: Unicode format characters make it read as something else', (_, userName) => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ userName })));

      // Assess
      expect(problem).toEqual({
        field: 'userName',
        message: 'userName must not contain invisible formatting characters (bidirectional overrides, zero-width characters)',
      });
    });

    it('accepts 200 characters and rejects 201', () => {
      // Act
      const longest = parseTicketRequest(seedRequestBody({ userName: 'J'.repeat(200) }));
      const tooLong = parseTicketRequest(seedRequestBody({ userName: 'J'.repeat(201) }));

      // Assess
      expect(parsedValue(longest).userName).toHaveLength(200);
      expect(problemOf(tooLong)).toEqual({ field: 'userName', message: 'userName must be one line of at most 200 characters' });
    });
  });

  describe.each(['userEmail', 'arcContact'])('the email address %s', (field) => {
    it.each([
      'judits',
      'judits@',
      '@phys.ethz.ch',
      'judits@phys',
      'judits@@phys.ethz.ch',
      'judit s@phys.ethz.ch',
      'Judit Szulagyi <judits@phys.ethz.ch>',
      '"judits"@phys.ethz.ch',
      'judits@phys.ethz.ch (Judit)',
      'judits@phys.ethz.ch, attacker@example.org',
      'judits@phys.ethz.ch;attacker@example.org',
      'judits@phys.ethz.ch\nBcc: attacker@example.org',
      'judits@-phys.ethz.ch',
      'judits@phys_ethz.ch',
      'judits@phys..ch',
      `${'a'.repeat(250)}@x.ch`,
    ])('rejects %j', (address) => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ [field]: address })));

      // Assess
      expect(problem).toEqual({ field, message: `${field} must be a plain email address like name@example.org` });
    });

    it.each(['judits@phys.ethz.ch', 'Judit.Szulagyi+alma@PHYS.ethz.ch', 'evkampe@eso.org', 'o.brien@sub-domain.example.co.uk'])(
      'accepts %j',
      (address) => {
        // Act
        const value = parsedValue(parseTicketRequest(seedRequestBody({ [field]: address })));

        // Assess
        expect(value[field as 'userEmail' | 'arcContact']).toBe(address);
      },
    );
  });

  describe('helpdeskTicket', () => {
    it.each(['16140a', 'abc', '#16140', '-16140', '161.40', '16 140', '16140; rm -rf /', '16140$(id)', '16140\n16141', '12345678901'])(
      'rejects %j: digits only',
      (helpdeskTicket) => {
        // Act
        const problem = problemOf(parseTicketRequest(seedRequestBody({ helpdeskTicket })));

        // Assess
        expect(problem).toEqual({ field: 'helpdeskTicket', message: 'helpdeskTicket must be the ticket number: digits only' });
      },
    );
  });

  describe('mous', () => {
    it.each([
      ['absent', undefined],
      ['null', null],
    ])('is required (%s)', (_, mous) => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ mous })));

      // Assess
      expect(problem).toEqual({ field: 'mous', message: 'mous is required: a list of 1 to 10 MOUS UIDs' });
    });

    it.each([
      ['a string', 'uid://A001/X1296/X675'],
      ['an object', { 0: 'uid://A001/X1296/X675' }],
      ['a number', 675],
    ])('must be a list, not %s', (_, mous) => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ mous })));

      // Assess
      expect(problem).toEqual({ field: 'mous', message: 'mous must be a list of MOUS UIDs' });
    });

    it.each([0, MAX_MOUS_PER_REQUEST + 1])('rejects %i entries, naming the count', (count) => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ mous: mousList(count) })));

      // Assess
      expect(problem).toEqual({ field: 'mous', message: `mous must list 1 to 10 MOUS UIDs, got ${count}` });
    });

    it.each([
      'uid://A001/X1296',
      'uid://A001/X1296/X675/X1',
      'uid:/A001/X1296/X675',
      'uid://A001//X1296/X675',
      'uid___A001_X1296',
      'uid__A001_X1296_X675',
      'A001/X1296/X675',
      'uid://B001/X1296/X675',
      'uid://A01/X1296/X675',
      'uid://A001/1296/X675',
      'uid://A001/X12G6/X675',
      'uid://A001/X/X675',
      'uid://A001/X1296/X675; rm -rf /',
      'uid___A001_X1296_X675$(id)',
      'uid://A001/X1296/X675\nuid://A001/X1296/X676',
      '',
      42,
      null,
      { uid: 'uid://A001/X1296/X675' },
    ])('rejects the entry %j, naming its index and the two notations', (bad) => {
      // Prepare
      const mous = ['uid://A001/X1296/X675', bad];

      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ mous })));

      // Assess
      expect(problem.field).toBe('mous[1]');
      expect(problem.message).toBe(
        'mous[1] must be a MOUS UID like uid://A001/X1296/X675 or uid___A001_X1296_X675 (at most 16 hex digits after each X)',
      );
    });

    it('rejects a hex part of more than 16 digits, which the cluster would refuse', () => {
      // Prepare
      const mous = ['uid://A001/X1296/X675', `uid://A001/X${'a'.repeat(17)}/X675`];

      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ mous })));

      // Assess
      expect(problem).toEqual({
        field: 'mous[1]',
        message: 'mous[1] must be a MOUS UID like uid://A001/X1296/X675 or uid___A001_X1296_X675 (at most 16 hex digits after each X)',
      });
    });

    it('rejects a MOUS that would make, with a 10-digit ticket, a request id longer than the cluster and Step Functions allow', () => {
      // Prepare: 70 characters is the limit; this MOUS makes 72 with ticket 9999999999 and 67 with 16140.
      const mous = ['uid://A001/X1296/X675', `uid://A001/X${'a'.repeat(10)}/X${'b'.repeat(10)}`];

      // Act
      const longTicket = problemOf(parseTicketRequest(seedRequestBody({ helpdeskTicket: '9999999999', mous })));
      const seedTicket = parseTicketRequest(seedRequestBody({ mous }));

      // Assess
      expect(longTicket).toEqual({
        field: 'mous[1]',
        message:
          'mous[1] is too long for helpdesk ticket 9999999999: its request id would have 72 characters, more than the 70 the cluster and Step Functions allow',
      });
      expect(parsedValue(seedTicket).mous[1]).toBe(`uid___A001_X${'a'.repeat(10)}_X${'b'.repeat(10)}`);
    });

    it.each([
      ['the same notation', ['uid://A001/X1296/X675', 'uid://A001/X1296/X676', 'uid://A001/X1296/X675']],
      ['URI, then file name', ['uid://A001/X1296/X675', 'uid://A001/X1296/X676', 'uid___A001_X1296_X675']],
      ['file name, then URI', ['uid___A001_X1296_X675', 'uid://A001/X1296/X676', 'uid://A001/X1296/X675']],
    ])('rejects a repeated MOUS in %s, naming both entries', (_, mous) => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ mous })));

      // Assess
      expect(problem).toEqual({ field: 'mous[2]', message: 'mous[2] repeats mous[0] (uid___A001_X1296_X675)' });
    });
  });

  describe('calibratorFields', () => {
    it.each([
      ['one comma-joined string', 'J0510+1800,J0321+1234'],
      ['an object', { field: 'J0510+1800' }],
      ['a number', 1],
      ['a boolean', true],
    ])('must be a list, not %s', (_, calibratorFields) => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ calibratorFields })));

      // Assess
      expect(problem).toEqual({ field: 'calibratorFields', message: 'calibratorFields must be a list of field names' });
    });

    it.each([
      ['empty', ''],
      ['blank', '   '],
      ['a number', 510],
      ['null', null],
      ['a list', ['J0510+1800']],
    ])('rejects an entry that is %s', (_, entry) => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ calibratorFields: ['J0510+1800', entry] })));

      // Assess
      expect(problem).toEqual({ field: 'calibratorFields[1]', message: 'calibratorFields[1] must be a field name' });
    });

    it.each([
      ['a space', 'J0510 +1800'],
      ['a comma', 'J0510+1800,J0321+1234'],
      ['a tab', 'J0510\t+1800'],
      ['a newline', 'J0510+1800\nJ0321+1234'],
      ['quotes and a command', 'x"; touch /tmp/pwned; "'],
    ])('rejects an entry with %s: no spaces or commas', (_, entry) => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ calibratorFields: [entry] })));

      // Assess
      expect(problem).toEqual({ field: 'calibratorFields[0]', message: 'calibratorFields[0] must not contain spaces or commas' });
    });

    it.each([
      '$(id)',
      '`id`',
      'J0510+1800;id',
      'J0510+1800|id',
      'J0510+1800&id',
      'J0510+1800>out',
      "J0510'1800",
      'J0510"1800',
      'J0510\\1800',
      '../../etc/passwd',
      '*',
      'J0510+1800\u0000',
      'J0510+1800\u001b',
      'J0510\u00b11800',
      'F'.repeat(65),
      '-J0510+1800',
      '+J0510',
      '.hidden',
      '_J0510',
    ])('rejects %j: only letters, digits and + - _ ., starting with a letter or digit', (entry) => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ calibratorFields: ['J0510+1800', entry] })));

      // Assess
      expect(problem).toEqual({
        field: 'calibratorFields[1]',
        message: 'calibratorFields[1] may only use letters, digits and + - _ ., must start with a letter or digit, and has at most 64 characters',
      });
    });

    it('rejects a repeated field name', () => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ calibratorFields: ['J0510+1800', 'J0321+1234', ' J0510+1800'] })));

      // Assess
      expect(problem).toEqual({ field: 'calibratorFields[2]', message: 'calibratorFields[2] repeats "J0510+1800"' });
    });

    it(`accepts ${MAX_CALIBRATOR_FIELDS} fields and rejects ${MAX_CALIBRATOR_FIELDS + 1}, naming the count`, () => {
      // Prepare
      const fields = (count: number) => Array.from({ length: count }, (_, index) => `J${String(index).padStart(4, '0')}+1800`);

      // Act
      const most = parseTicketRequest(seedRequestBody({ calibratorFields: fields(MAX_CALIBRATOR_FIELDS) }));
      const tooMany = problemOf(parseTicketRequest(seedRequestBody({ calibratorFields: fields(MAX_CALIBRATOR_FIELDS + 1) })));

      // Assess
      expect(parsedValue(most).calibratorFields).toHaveLength(64);
      expect(tooMany).toEqual({ field: 'calibratorFields', message: 'calibratorFields may name at most 64 fields, got 65' });
    });

    it('accepts names the archive uses: signs, underscores, dots and 64 characters', () => {
      // Prepare
      const calibratorFields = ['J0510+1800', 'J0238-0820', 'HL_Tau', 'Ceres.2', 'F'.repeat(64)];

      // Act
      const value = parsedValue(parseTicketRequest(seedRequestBody({ calibratorFields })));

      // Assess
      expect(value.calibratorFields).toEqual(calibratorFields);
    });
  });

  describe('force', () => {
    it.each([
      ['the string "true"', 'true'],
      ['the string "false"', 'false'],
      ['1', 1],
      ['0', 0],
      ['an empty string', ''],
      ['a list', [true]],
    ])('must be a boolean, not %s', (_, force) => {
      // Act
      const problem = problemOf(parseTicketRequest(seedRequestBody({ force })));

      // Assess
      expect(problem).toEqual({ field: 'force', message: 'force must be true or false' });
    });
  });
});

describe('normaliseMousUid', () => {
  it.each([
    ['uid://A001/X1296/X675', 'uid___A001_X1296_X675'],
    ['uid___A001_X1296_X675', 'uid___A001_X1296_X675'],
    ['uid://A001/X133d/X1244', 'uid___A001_X133d_X1244'],
    ['uid://A002/Xd33a12/X15be', 'uid___A002_Xd33a12_X15be'],
  ])('turns %s into %s', (text, expected) => {
    // Act
    const uid = normaliseMousUid(text);

    // Assess
    expect(uid).toBe(expected);
  });

  it.each(['', 'uid://A001/X1296', 'uid___A001/X1296_X675', 'uid://A001/X1296/X675 ', 'xuid://A001/X1296/X675'])(
    'answers undefined for %j',
    (text) => {
      // Act
      const uid = normaliseMousUid(text);

      // Assess
      expect(uid).toBeUndefined();
    },
  );
});

describe('isCycle0, isProjectCode, isEmailAddress', () => {
  it.each([
    ['2011.0.00001.S', true],
    ['2011.0.00367.S', true],
    ['2012.1.00001.S', false],
    ['2017.1.00727.S', false],
    ['2021.0.00001.S', false],
    ['12011.0.00001.S', false],
  ])('isCycle0(%s) is %s', (code, expected) => {
    // Act
    const answer = isCycle0(code);

    // Assess
    expect(answer).toBe(expected);
  });

  it('isProjectCode follows the validation rule', () => {
    // Act
    const answers = ['2017.1.00727.S', '2017.1.00727.Q'].map(isProjectCode);

    // Assess
    expect(answers).toEqual([true, false]);
  });

  it('isEmailAddress refuses addresses longer than 254 characters', () => {
    // Prepare
    const longest = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(58)}.ch`;

    // Act
    const answers = [longest, `a${longest}`].map(isEmailAddress);

    // Assess
    expect(longest).toHaveLength(254);
    expect(answers).toEqual([true, false]);
  });
});

describe('triggerName', () => {
  it('names the seed example exactly', () => {
    // Act
    const name = triggerName('uid___A001_X1296_X675', new Date('2019-09-02T14:00:27Z'));

    // Assess
    expect(name).toBe('trigger-uid___A001_X1296_X675-2019-09-02T14-00-27.txt');
  });

  it('uses UTC and drops the milliseconds', () => {
    // Act
    const name = triggerName('uid___A001_X133d_X1244', new Date('2019-09-02T16:00:27.999+02:00'));

    // Assess
    expect(name).toBe('trigger-uid___A001_X133d_X1244-2019-09-02T14-00-27.txt');
  });
});

describe('mousRequest', () => {
  it('carries the ticket, one MOUS, the trigger name and a Message-ID built from the request id', () => {
    // Prepare
    const ticket: TicketRequest = { ...SEED_TICKET, calibratorFields: ['J0510+1800'] };

    // Act
    const request = mousRequest(ticket, 'uid___A001_X1296_X675', SEED_TIME, 'ab12', 'alma.example.org');

    // Assess
    expect(request).toEqual({
      requestId: 't16140-uid___A001_X1296_X675-20190902T140027Z-ab12',
      projectCode: '2017.1.00727.S',
      userName: 'Judit Szulagyi',
      userEmail: 'judits@phys.ethz.ch',
      helpdeskTicket: '16140',
      arcContact: 'evkampe@eso.org',
      mous: 'uid___A001_X1296_X675',
      calibratorFields: ['J0510+1800'],
      requestedAt: '2019-09-02T14:00:27.000Z',
      triggerName: 'trigger-uid___A001_X1296_X675-2019-09-02T14-00-27.txt',
      requestMessageId: '<t16140-uid___A001_X1296_X675-20190902T140027Z-ab12@alma.example.org>',
    });
  });

  it('keeps two requests of the same second apart by their suffix', () => {
    // Act
    const first = mousRequest(SEED_TICKET, 'uid___A001_X1296_X675', SEED_TIME, 'ab12', 'alma.example.org');
    const second = mousRequest(SEED_TICKET, 'uid___A001_X1296_X675', SEED_TIME, 'cd34', 'alma.example.org');

    // Assess
    expect(first.requestId).not.toBe(second.requestId);
    expect(first.requestMessageId).not.toBe(second.requestMessageId);
    expect(first.triggerName).toBe(second.triggerName);
  });

  it('gives a request id Step Functions accepts as an execution name for the longest realistic request', () => {
    // Prepare
    const ticket = parsedValue(parseTicketRequest(seedRequestBody({ helpdeskTicket: '9999999999', mous: ['uid://A001/Xffffffff/Xffffffff'] })));

    // Act
    const request = mousRequest(ticket, ticket.mous[0]!, SEED_TIME, 'ffff', 'alma.example.org');

    // Assess
    expect(request.requestId).toMatch(EXECUTION_NAME);
  });

  it('never accepts a MOUS UID whose request id Step Functions would refuse as an execution name', () => {
    // Prepare
    const longUid = `uid://A001/X${'1'.repeat(30)}/X${'2'.repeat(30)}`;
    const parsed = parseTicketRequest(seedRequestBody({ helpdeskTicket: '9999999999', mous: [longUid] }));

    // Act
    const requestId = parsed.ok ? mousRequest(parsed.value, parsed.value.mous[0]!, SEED_TIME, 'ffff', 'alma.example.org').requestId : undefined;

    // Assess
    expect(requestId === undefined || EXECUTION_NAME.test(requestId)).toBe(true);
  });
});
